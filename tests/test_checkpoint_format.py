"""Checkpoints say what they promise (issue 17): format, version, keys, dimensions, messages, HMAC."""

import json

import numpy as np
import pytest
import torch

from latentlab.hotstart import load_checkpoint, save_checkpoint
from latentlab.hotstart.checkpoint_io import FORMAT_VERSION
from latentlab.signatures import SurvivalData
from test_hotstart_checkpoints import make_checkpoint


def rewrite(path, *, header=None, drop=(), rename=None, arrays=None, rehash=False):
    """Rewrite an npz checkpoint with header fields changed, keys dropped or renamed."""
    with np.load(path) as archive:
        content = {k: np.array(archive[k]) for k in archive.files}
    head = json.loads(str(content.pop("__header__")))
    for k, v in (header or {}).items():
        if v is KeyError:
            head.pop(k, None)
        else:
            head[k] = v
    content.update(arrays or {})
    for k in drop:
        content.pop(k)
    if rename:
        old, new = rename
        content[new] = content.pop(old)
    if rehash:
        from latentlab.hotstart import Checkpoint

        head["content_hash"] = Checkpoint(
            **{
                k: content[k]
                for k in (
                    "phi",
                    "psi",
                    "gamma",
                    "prevalence_logit",
                    "reference_logit",
                    "covariate_mean",
                    "covariate_scale",
                )
            },
            kappa=float(content["kappa"]),
            healthy_mean=float(content["healthy_mean"]),
            lam=content.get("lam"),
            signature_labels=tuple(head["signature_labels"]),
            metadata=head["metadata"],
            version=head["version"],
        ).content_hash()
    np.savez(path, __header__=np.array(json.dumps(head)), **content)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(make_checkpoint(), path)
    return path


@pytest.mark.parametrize("version", ["99.0.0", "0.2.0", "1.0.0"])
def test_newer_version_is_refused(saved, version):
    rewrite(saved, header={"version": version}, rehash=True)
    with pytest.raises(
        ValueError, match=f"written by latentlab {version}, newer than this one"
    ):
        load_checkpoint(saved)


@pytest.mark.parametrize("version", ["0.0.1-ancient", "banana", None])
def test_invalid_version_string_is_refused(saved, version):
    rewrite(saved, header={"version": version})
    with pytest.raises(ValueError, match="which is not a latentlab version"):
        load_checkpoint(saved)


def test_older_release_with_the_same_format_loads(saved):
    rewrite(saved, header={"version": "0.0.1"}, rehash=True)
    assert load_checkpoint(saved).version == "0.0.1"


@pytest.mark.parametrize(
    "fmt, message",
    [
        (KeyError, "has no 'format' field"),
        (999, "unknown format 999"),
        ("something-else-1", "unknown format 'something-else-1'"),
        (
            f"latentlab-checkpoint-{FORMAT_VERSION + 1}",
            f"format version {FORMAT_VERSION + 1}, newer",
        ),
    ],
)
def test_missing_unknown_or_newer_format_is_refused(saved, fmt, message):
    rewrite(saved, header={"format": fmt})
    with pytest.raises(ValueError, match=message):
        load_checkpoint(saved)


def test_renamed_key_is_named(saved):
    rewrite(saved, rename=("phi", "phi_renamed"))
    with pytest.raises(
        ValueError,
        match=r"missing key\(s\) \['phi'\] and unknown key\(s\) \['phi_renamed'\]",
    ):
        load_checkpoint(saved)


def test_missing_and_unknown_keys_are_named(saved):
    rewrite(saved, drop=("kappa",), header={"signature_labels": KeyError})
    with pytest.raises(
        ValueError, match=r"missing key\(s\) \['kappa', 'signature_labels'\]"
    ):
        load_checkpoint(saved)
    rewrite(saved, header={"kappa": 1.0}, arrays={"extra": np.zeros(2)})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['extra', 'kappa'\]"):
        load_checkpoint(saved)


def test_torch_format_is_checked_too(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(make_checkpoint(), path)
    payload = torch.load(path, weights_only=True)
    header = json.loads(payload["header"])
    header["version"] = "99.0.0"
    payload["header"] = json.dumps(header)
    torch.save(payload, path)
    with pytest.raises(ValueError, match="newer than this one"):
        load_checkpoint(path)


def test_dimension_arguments_must_be_integers(saved):
    with pytest.raises(TypeError, match="n_diseases must be an integer, got str"):
        load_checkpoint(saved, n_diseases="6")
    with pytest.raises(ValueError, match="n_times must be >= 1, got 0"):
        load_checkpoint(saved, n_times=0)
    with pytest.raises(TypeError, match="data must be a SurvivalData, got ndarray"):
        load_checkpoint(saved, data=np.zeros((2, 5)))
    with pytest.raises(TypeError, match="n_signatures must be an integer"):
        make_checkpoint().check_compatible(n_signatures=4.0)


def test_data_dimensions_are_always_checked(saved):
    data = SurvivalData(
        E=np.zeros((2, 6), int),
        event=np.zeros((2, 6), bool),
        G=np.zeros((2, 3)),
        n_times=7,
    )
    with pytest.raises(ValueError, match="n_diseases: checkpoint has 5, data has 6"):
        load_checkpoint(saved, data=data)
    good = SurvivalData(
        E=np.zeros((2, 5), int),
        event=np.zeros((2, 5), bool),
        G=np.zeros((2, 3)),
        n_times=7,
    )
    assert load_checkpoint(saved, data=good).shape["n_diseases"] == 5
    with pytest.raises(ValueError, match="n_times=8 disagrees with data, which has 7"):
        load_checkpoint(saved, data=good, n_times=8)


def test_invalid_values_in_a_well_formed_file_are_named(saved):
    rewrite(saved, arrays={"kappa": np.array(-1.0)})
    with pytest.raises(
        ValueError, match="holds invalid values: kappa must be a finite positive"
    ):
        load_checkpoint(saved)


def test_recomputed_hash_loads_without_key_but_hmac_refuses_it(tmp_path):
    path = tmp_path / "signed.npz"
    save_checkpoint(make_checkpoint(), path, key=b"secret")
    assert load_checkpoint(path, key=b"secret").kappa == make_checkpoint().kappa
    with np.load(path) as archive:
        phi = np.array(archive["phi"]) + 5
    rewrite(
        path, arrays={"phi": phi}, rehash=True
    )  # an attacker who recomputes the SHA-256
    assert np.allclose(load_checkpoint(path).phi, phi)  # the unkeyed hash cannot notice
    with pytest.raises(ValueError, match="failed its HMAC check"):
        load_checkpoint(path, key=b"secret")
    with pytest.raises(ValueError, match="failed its HMAC check"):
        save_checkpoint(make_checkpoint(), path, key=b"secret")
        load_checkpoint(path, key=b"other")


def test_key_on_an_unsigned_file_and_bad_keys(saved):
    with pytest.raises(ValueError, match="carries no HMAC tag"):
        load_checkpoint(saved, key="secret")
    with pytest.raises(TypeError, match="key must be non-empty bytes or str, got int"):
        load_checkpoint(saved, key=3)
    with pytest.raises(TypeError, match="key must be non-empty bytes or str"):
        save_checkpoint(make_checkpoint(), saved, key=b"")


def test_docstring_promises_corruption_detection_not_authenticity():
    from latentlab.hotstart import checkpoint_io, checkpoints

    assert "tampered file is refused" not in (
        checkpoints.__doc__ + checkpoint_io.__doc__
    )
    assert "does not prove **authenticity**" in " ".join(checkpoint_io.__doc__.split())
