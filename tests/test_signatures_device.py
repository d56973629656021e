"""Device plumbing of the signature model: CPU options, bad devices, constructor scan,
the chunk kernel (odd T, clamp, worker split) and, where a GPU exists, GPU vs CPU."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.hotstart import Checkpoint, FixedSignaturePredictor, predict_hazards
from latentlab.signatures import (
    auto_chunk_size,
    fit_signatures,
    gpu_results,
    resolve_device,
    signature_nll,
    signature_pi,
    survival_nll_from_pi,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "latentlab"

#: Constructors that make a new tensor and take ``device=``.
CONSTRUCTORS = {
    "zeros",
    "ones",
    "empty",
    "full",
    "arange",
    "range",
    "tensor",
    "eye",
    "linspace",
    "logspace",
    "rand",
    "randn",
    "randint",
    "randperm",
    "as_tensor",
    "normal",
    "empty_strided",
    "scalar_tensor",
    "complex",
    "polar",
}
#: Modules that are CPU-only by design (each builds CPU tensors for a CPU-only purpose).
ALLOWED = {
    "nn/torch_check.py": "torch twin of the numpy network, a CPU cross-check",
    "sweep/models.py": "the sweep chapter's small CPU models",
    "datasets/signatures_sim.py": "the numpy simulator's one softmax on numpy input",
}


def _unplaced_constructors(path: Path, root: Path = SRC) -> list[str]:
    """``torch.<constructor>(...)`` calls lacking ``device=`` (not in docstrings)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        func = node.func
        if not (isinstance(func.value, ast.Name) and func.value.id == "torch"):
            continue
        if func.attr in CONSTRUCTORS and not any(
            k.arg == "device" for k in node.keywords
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: torch.{func.attr}")
    return found


def test_every_torch_constructor_names_its_device():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.relative_to(SRC).as_posix() not in ALLOWED:
            offenders += _unplaced_constructors(path)
    assert not offenders, (
        "torch constructors without device= (add device= or use *_like):\n"
        + "\n".join(offenders)
    )


def test_scan_catches_a_constructor_without_device(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""torch.zeros(3) in a docstring is fine."""\nimport torch\n'
        "a = torch.zeros(3)\nb = torch.ones(2, device='cpu')\nc = torch.zeros_like(b)\n"
    )
    assert _unplaced_constructors(probe, tmp_path) == ["probe.py:3: torch.zeros"]


# ---------------------------------------------------------------- device argument
@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), None])
def test_cpu_device_spellings_fit_identically(device):
    sim = simulate_signatures(
        n_individuals=30, n_diseases=5, n_times=8, n_signatures=2, rng=0
    )
    base = fit_signatures(sim.data, 2, n_epochs=4, rng=0, verbose=False)
    fit = fit_signatures(sim.data, 2, n_epochs=4, rng=0, verbose=False, device=device)
    assert isinstance(fit.lam, np.ndarray) and fit.lam.dtype == np.float64
    np.testing.assert_array_equal(fit.lam, base.lam)
    assert fit.history == base.history


@pytest.mark.parametrize("bad", ["gpu", "banana:0", "cuda:99", "mps", "meta"])
def test_bad_device_strings_raise_value_error(bad):
    if bad == "cuda:99" and torch.cuda.device_count() > 99:
        pytest.skip("this machine has 100 GPUs")
    sim = simulate_signatures(
        n_individuals=10, n_diseases=3, n_times=5, n_signatures=1, rng=0
    )
    with pytest.raises(ValueError, match="device"):
        fit_signatures(sim.data, 1, n_epochs=1, verbose=False, device=bad)
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


def test_device_of_wrong_type_raises_type_error():
    with pytest.raises(
        TypeError, match="device must be a str, a torch.device or None, got int"
    ):
        resolve_device(0)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without CUDA"
)
def test_cuda_without_gpu_says_so():
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        resolve_device("cuda")


def _checkpoint(K=1, D=3, T=6):
    phi = np.stack([np.full((D, T), -1.0)] * K + [np.full((D, T), -6.0)])
    return Checkpoint(
        phi=phi,
        psi=np.zeros((K + 1, D)),
        gamma=np.zeros((1, K)),
        kappa=1.0,
        prevalence_logit=np.zeros((D, T)),
        reference_logit=np.zeros((K, T)),
        covariate_mean=np.zeros(1),
        covariate_scale=np.ones(1),
        signature_labels=tuple(f"s{k}" for k in range(K)) + ("healthy",),
    )


def test_lambda_predictor_and_hazards_accept_cpu_device():
    from latentlab.signatures.data import SurvivalData

    ckpt = _checkpoint()
    generator = np.random.default_rng(0)
    data = SurvivalData(
        E=generator.integers(0, 6, (8, 3)),
        event=generator.uniform(size=(8, 3)) < 0.3,
        G=generator.normal(size=(8, 1)),
        n_times=6,
    )
    a = FixedSignaturePredictor(ckpt, n_epochs=5).fit(data, rng=0)
    b = FixedSignaturePredictor(ckpt, n_epochs=5, device=torch.device("cpu")).fit(
        data, rng=0
    )
    np.testing.assert_array_equal(a.lam, b.lam)
    assert (
        FixedSignaturePredictor(ckpt, device="cpu").frozen["phi"].device.type == "cpu"
    )
    pi = predict_hazards(ckpt, b.lam, device="cpu")
    assert isinstance(pi, np.ndarray) and pi.shape == (8, 3, 6)
    with pytest.raises(ValueError, match="device"):
        FixedSignaturePredictor(ckpt, device="gpu")


def test_auto_chunk_size_on_cpu():
    cpu = torch.device("cpu")
    assert auto_chunk_size(10_000, 348, 52, torch.float32, cpu) == 64
    assert auto_chunk_size(10, 348, 52, torch.float32, cpu) == 10


# ---------------------------------------------------------------- the chunk kernel
def _problem(T, N=7, D=4, K1=3, rng=0, phi_shift=-1.0):
    generator = np.random.default_rng(rng)
    E = generator.integers(0, T, size=(N, D))
    event = generator.uniform(size=(N, D)) < 0.4
    lam = generator.normal(size=(N, K1, T))
    phi = generator.normal(phi_shift, 1.0, size=(K1, D, T))
    return E, event, lam, phi


@pytest.fixture(params=["ages", "chunks"])
def layout(request, monkeypatch):
    """Both kernels on the CPU: age-major blocks (CPU default) and batched chunks
    (the GPU's), each with the sparse list of cells after E and without it."""
    from latentlab.signatures import _kernel

    monkeypatch.setattr(_kernel, "CPU_LAYOUT", request.param)
    return request.param


@pytest.mark.parametrize("sparse_share", [0.25, 0.0])
@pytest.mark.parametrize("T", [1, 2, 3, 5, 7, 9])
@pytest.mark.parametrize("phi_shift", [-1.0, -18.0])
def test_fused_nll_matches_dense_for_any_T_and_clamp(
    T, phi_shift, sparse_share, layout, monkeypatch
):
    """Odd T: leftover ages of the product of ages; phi_shift -18: lower clamp binds;
    sparse_share 0: the at-risk indicator instead of the list of cells after E."""
    from latentlab.signatures import _kernel

    monkeypatch.setattr(_kernel, "SPARSE_SHARE", sparse_share)
    E, event, lam, phi = _problem(T, phi_shift=phi_shift)
    pi = torch.tensor(signature_pi(lam, phi, 0.9))
    expected = float(survival_nll_from_pi(pi, E, event))
    for chunk in (1, 3, 64):
        fused = signature_nll(
            torch.tensor(lam), torch.tensor(phi), 0.9, E, event, chunk_size=chunk
        )
        assert float(fused) == pytest.approx(expected, rel=1e-12)


def _fused_and_dense(lam, phi, kappa_value, E, event, chunk):
    """(loss, ∂/∂λ, ∂/∂φ, ∂/∂κ) of the fused kernel, then of the dense autograd
    composition (π by one einsum, :func:`survival_nll_from_pi`), in float64."""
    out = []
    for fused in (True, False):
        lam_t = torch.tensor(lam, requires_grad=True)
        phi_t = torch.tensor(phi, requires_grad=True)
        kappa = torch.tensor(kappa_value, dtype=torch.float64, requires_grad=True)
        if fused:
            loss = signature_nll(lam_t, phi_t, kappa, E, event, chunk_size=chunk)
        else:
            pi = kappa * torch.einsum(
                "nkt,kdt->ndt", torch.softmax(lam_t, 1), torch.sigmoid(phi_t)
            )
            loss = survival_nll_from_pi(pi, E, event)
        loss.backward()
        out.append((float(loss.detach()), lam_t.grad, phi_t.grad, kappa.grad))
    return out


@pytest.mark.parametrize("sparse_share", [0.25, 0.0])
@pytest.mark.parametrize("phi_shift", [-1.0, -18.0])
def test_fused_gradients_match_autograd_in_both_layouts(
    phi_shift, sparse_share, layout, monkeypatch
):
    from latentlab.signatures import _kernel

    monkeypatch.setattr(_kernel, "SPARSE_SHARE", sparse_share)
    E, event, lam, phi = _problem(9, N=23, D=5, K1=4, rng=5, phi_shift=phi_shift)
    E[:8] = np.minimum(E[:8], 3)  # some people leave the risk set early
    (l1, *g1), (l2, *g2) = _fused_and_dense(lam, phi, 0.7, E, event, chunk=4)
    assert l1 == pytest.approx(l2, rel=1e-12)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_worker_split_gives_the_same_loss_and_gradients(layout):
    E, event, lam, phi = _problem(11, N=40, D=6, K1=4, rng=2)
    grads = []
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            lam_t = torch.tensor(lam, requires_grad=True)
            phi_t = torch.tensor(phi, requires_grad=True)
            kappa = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
            loss = signature_nll(lam_t, phi_t, kappa, E, event, chunk_size=3)
            loss.backward()
            grads.append((float(loss.detach()), lam_t.grad, phi_t.grad, kappa.grad))
            assert (
                torch.get_num_threads() == threads
            )  # the workers leave the setting alone
    finally:
        torch.set_num_threads(previous)
    (l1, *g1), (l2, *g2) = grads
    assert l1 == pytest.approx(l2, rel=1e-13)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_float32_nll_agrees_with_float64_to_round_off():
    E, event, lam, phi = _problem(52, N=50, D=30, K1=5, rng=3, phi_shift=-5.0)
    exact = float(signature_nll(torch.tensor(lam), torch.tensor(phi), 1.0, E, event))
    single = float(
        signature_nll(
            torch.tensor(lam, dtype=torch.float32),
            torch.tensor(phi, dtype=torch.float32),
            1.0,
            E,
            event,
        )
    )
    assert single == pytest.approx(exact, rel=1e-5)


# ------------------------------------------------------- GPU (skips without CUDA)
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_fit_matches_cpu_fit():
    sim = simulate_signatures(
        n_individuals=200, n_diseases=20, n_times=16, n_signatures=3, rng=1
    )
    kw = dict(n_epochs=20, rng=0, verbose=False, tol=None)
    # float64: the two devices agree to round-off along the whole Adam path
    cpu = fit_signatures(sim.data, 3, device="cpu", dtype=torch.float64, **kw)
    gpu = fit_signatures(sim.data, 3, device="cuda", dtype=torch.float64, **kw)
    assert isinstance(gpu.lam, np.ndarray) and gpu.lam.dtype == np.float64
    np.testing.assert_allclose(gpu.history, cpu.history, rtol=1e-9)
    np.testing.assert_allclose(gpu.phi, cpu.phi, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gpu.lam, cpu.lam, rtol=1e-6, atol=1e-6)
    # float32 (the default): same objective at the same parameters to round-off
    E, event = sim.data.E, sim.data.event
    lam = torch.tensor(cpu.lam, dtype=torch.float32)
    phi = torch.tensor(cpu.phi, dtype=torch.float32)
    on_cpu = float(signature_nll(lam, phi, cpu.kappa, E, event))
    on_gpu = float(signature_nll(lam.cuda(), phi.cuda(), cpu.kappa, E, event))
    assert on_gpu == pytest.approx(on_cpu, rel=1e-5)
    # float32 fits: the same start gives the same first loss to round-off; Adam at
    # lr 0.1 then amplifies float32 round-off (on an H200: 1.4e-4 relative by
    # epoch 3), so the paths agree to 1e-3, not to round-off
    single_cpu = fit_signatures(sim.data, 3, device="cpu", **kw)
    single_gpu = fit_signatures(sim.data, 3, device="cuda", **kw)
    assert single_gpu.history[0] == pytest.approx(single_cpu.history[0], rel=1e-5)
    np.testing.assert_allclose(single_gpu.history, single_cpu.history, rtol=1e-3)


# ------------------------------------------------------- GPU benchmark and results
def test_gpu_results_reads_the_file_or_returns_none(tmp_path):
    assert gpu_results(tmp_path / "missing.json") is None
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"runs": []}))
    assert gpu_results(empty) is None
    full = tmp_path / "full.json"
    full.write_text(
        json.dumps(
            {"device": "H100", "runs": [{"n_individuals": 10000, "fit_s": 12.5}]}
        )
    )
    assert gpu_results(full)["runs"][0]["fit_s"] == 12.5


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "signatures_gpu", ROOT / "benchmarks" / "signatures_gpu.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only path")
def test_gpu_benchmark_exits_cleanly_without_gpu(capsys, tmp_path):
    module = _load_benchmark()
    assert module.main(["--results", str(tmp_path)]) == 0
    assert "no CUDA GPU" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())  # nothing written without a GPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_lambda_fit_matches_cpu():
    from latentlab.signatures.data import SurvivalData

    ckpt = _checkpoint()
    generator = np.random.default_rng(1)
    data = SurvivalData(
        E=generator.integers(0, 6, (30, 3)),
        event=generator.uniform(size=(30, 3)) < 0.3,
        G=generator.normal(size=(30, 1)),
        n_times=6,
    )
    cpu = FixedSignaturePredictor(ckpt, n_epochs=10, device="cpu").fit(data, rng=0)
    gpu = FixedSignaturePredictor(ckpt, n_epochs=10, device="cuda").fit(data, rng=0)
    assert isinstance(gpu.lam, np.ndarray)
    np.testing.assert_allclose(gpu.lam, cpu.lam, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        predict_hazards(ckpt, gpu.lam, device="cuda"),
        predict_hazards(ckpt, cpu.lam),
        rtol=1e-10,
    )


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_clamp_at_some_ages_only_matches_dense(chunk, layout):
    """φ rising steeply with age: the lower clamp binds at early ages and the upper
    one at late ages only, so the age-major kernel clamps some ages of a block and
    not others (its bound on π decides); value and gradients match the dense
    straight-through clamp."""
    E, event, lam, phi = _problem(12, N=19, D=5, K1=3, rng=7)
    phi = phi + np.linspace(-20.0, 24.0, 12)  # ages: π from ~1e-9 to 1 − 1e-10
    with pytest.warns(RuntimeWarning, match="clamp binds"):
        (l1, *g1), (l2, *g2) = _fused_and_dense(lam, phi, 1.0, E, event, chunk=chunk)
    # the ages that clamp at 1 − eps add log(eps)-sized terms computed in a different
    # order: on an Intel host (torch 2.11, H200 machine) the two differed by 1.0e-12
    # relative, on this project's AMD VM by less
    assert l1 == pytest.approx(l2, rel=1e-11)
    # at the upper clamp ∂/∂π = 1/eps = 1e6, and the dense reference forms 1 − p with
    # p = fl(1 − eps), 1e−10 relative off: round-off of that size, then cancellation
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
