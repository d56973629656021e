"""Checkpoint I/O, integrity and pooling (latentlab.hotstart.checkpoints)."""


import numpy as np
import pytest

import latentlab
from latentlab.hotstart import Checkpoint, load_checkpoint, pool_checkpoints, save_checkpoint


def make_checkpoint(seed=0, n_sig=4, n_dis=5, n_times=7, n_cov=3, lam=True):
    rng = np.random.default_rng(seed)
    return Checkpoint(
        phi=rng.normal(size=(n_sig, n_dis, n_times)),
        psi=rng.normal(size=(n_sig, n_dis)),
        gamma=rng.normal(size=(n_cov, n_sig - 1)),
        kappa=float(rng.uniform(1, 3)),
        prevalence_logit=rng.normal(size=(n_dis, n_times)),
        reference_logit=rng.normal(size=(n_sig - 1, n_times)),
        covariate_mean=np.arange(n_cov, dtype=float),
        covariate_scale=np.arange(1, n_cov + 1, dtype=float),
        signature_labels=tuple(f"sig{k}" for k in range(n_sig - 1)) + ("healthy",),
        lam=rng.normal(size=(2, n_sig, n_times)) if lam else None,
        metadata={"batch": seed},
    )


def assert_same(a: Checkpoint, b: Checkpoint):
    for name in ("phi", "psi", "gamma", "prevalence_logit", "reference_logit",
                 "covariate_mean", "covariate_scale"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.kappa == b.kappa and a.signature_labels == b.signature_labels


@pytest.mark.parametrize("suffix", [".npz", ".pt"])
def test_round_trip_is_exact(tmp_path, suffix):
    ckpt = make_checkpoint()
    path = tmp_path / f"batch0{suffix}"
    digest = save_checkpoint(ckpt, path)
    loaded = load_checkpoint(path, n_diseases=5, n_times=7, n_covariates=3, n_signatures=4)
    assert_same(ckpt, loaded)
    np.testing.assert_array_equal(ckpt.lam, loaded.lam)
    assert loaded.metadata == {"batch": 0}
    assert loaded.version == latentlab.__version__
    assert loaded.content_hash() == digest == ckpt.content_hash()


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "master.npz"
    save_checkpoint(make_checkpoint(0), path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(make_checkpoint(1), path)
    assert path.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.npz"]


def test_mismatched_dimensions_raise(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(make_checkpoint(), path)
    with pytest.raises(ValueError, match="n_diseases: checkpoint has 5, data has 6"):
        load_checkpoint(path, n_diseases=6)
    with pytest.raises(ValueError, match="n_times: checkpoint has 7, data has 8"):
        load_checkpoint(path, n_times=8)
    with pytest.raises(ValueError, match="n_signatures: checkpoint has 4, data has 3"):
        load_checkpoint(path, n_signatures=3)
    from latentlab.signatures import SurvivalData

    data = SurvivalData(E=np.zeros((2, 5), int), event=np.zeros((2, 5), bool), G=np.zeros((2, 2)), n_times=7)
    with pytest.raises(ValueError, match="n_covariates: checkpoint has 3, data has 2"):
        load_checkpoint(path, data=data)


def test_tampered_checkpoint_raises(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(make_checkpoint(), path)
    with np.load(path) as archive:
        content = {k: archive[k] for k in archive.files}
    content["phi"] = content["phi"].copy()
    content["phi"][0, 0, 0] += 1e-9  # an edit that keeps every shape valid
    np.savez(path, **content)
    with pytest.raises(ValueError, match="content-hash check"):
        load_checkpoint(path)


@pytest.mark.parametrize("suffix", [".npz", ".pt"])
def test_corrupted_file_raises(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    save_checkpoint(make_checkpoint(), path)
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[: len(raw) // 2]))  # truncated
    with pytest.raises(ValueError, match="unreadable or corrupted"):
        load_checkpoint(path)


def test_bad_path_and_fields_raise(tmp_path):
    with pytest.raises(ValueError, match="must end in .npz"):
        save_checkpoint(make_checkpoint(), tmp_path / "c.txt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="signature_labels must have one label per signature"):
        make_checkpoint().replace(signature_labels=("a",))
    with pytest.raises(ValueError, match="gamma must have shape"):
        make_checkpoint().replace(gamma=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="kappa must be a finite positive"):
        make_checkpoint().replace(kappa=-1.0)


def test_standardise_reuses_training_statistics():
    ckpt = make_checkpoint()
    G = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 5.0]])
    np.testing.assert_allclose(ckpt.standardise(G), [[0, 0, 0], [2, 1, 1]])
    # a single new person is NOT re-standardised to mean 0
    assert ckpt.standardise(G[1:]).tolist() == [[2.0, 1.0, 1.0]]
    with pytest.raises(ValueError, match="covariates must have 3 columns"):
        ckpt.standardise(np.zeros((2, 4)))


def test_pooling_identical_checkpoints_returns_the_same_checkpoint():
    ckpt = make_checkpoint(lam=False)
    pooled = pool_checkpoints([ckpt, ckpt, ckpt])
    assert_same(pooled, ckpt)
    assert pooled.lam is None and pooled.metadata["pooled_batches"] == [0, 1, 2]


def test_pooling_means_and_leave_one_out():
    batches = [make_checkpoint(seed) for seed in range(3)]
    master = pool_checkpoints(batches)
    np.testing.assert_allclose(master.phi, np.mean([c.phi for c in batches], axis=0), atol=1e-14)
    np.testing.assert_allclose(master.gamma, np.mean([c.gamma for c in batches], axis=0), atol=1e-14)
    assert master.kappa == pytest.approx(np.mean([c.kappa for c in batches]))
    loo = pool_checkpoints(batches, leave_out=1)
    np.testing.assert_allclose(loo.phi, (batches[0].phi + batches[2].phi) / 2, atol=1e-14)
    assert loo.metadata["pooled_batches"] == [0, 2]


def test_pooling_refuses_incompatible_batches():
    a = make_checkpoint(0)
    with pytest.raises(ValueError, match="different signature labels"):
        pool_checkpoints([a, a.replace(signature_labels=("x", "y", "z", "healthy"))])
    with pytest.raises(ValueError, match="different covariate standardisation"):
        pool_checkpoints([a, a.replace(covariate_mean=a.covariate_mean + 1)])
    with pytest.raises(ValueError, match="shape"):
        pool_checkpoints([a, make_checkpoint(1, n_times=8)])
    with pytest.raises(ValueError, match="leave_out removes the only"):
        pool_checkpoints([a], leave_out=0)
