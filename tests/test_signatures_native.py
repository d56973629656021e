"""The compiled per-age loop of the CPU kernel (signatures/_native.c) against the
same steps as torch operations, in float32 where it runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentlab.signatures import _ages, _kernel, _native, signature_nll


def _problem(T, N=23, D=5, K1=4, rng=0, phi_shift=-1.0):
    generator = np.random.default_rng(rng)
    E = generator.integers(0, T, size=(N, D))
    E[: N // 3] = np.minimum(E[: N // 3], T // 3)  # some people leave early
    event = generator.uniform(size=(N, D)) < 0.4
    lam = generator.normal(size=(N, K1, T))
    phi = generator.normal(phi_shift, 1.0, size=(K1, D, T))
    return E, event, lam, phi


def _loss_and_grads(lam, phi, kappa_value, E, event, native, chunk=4):
    """float32 loss and gradients of the fused kernel, age-major layout."""
    lam_t = torch.tensor(lam, dtype=torch.float32, requires_grad=True)
    phi_t = torch.tensor(phi, dtype=torch.float32, requires_grad=True)
    kappa = torch.tensor(kappa_value, dtype=torch.float32, requires_grad=True)
    previous = _ages.NATIVE
    _ages.NATIVE = native
    try:
        loss = signature_nll(lam_t, phi_t, kappa, E, event, chunk_size=chunk)
    finally:
        _ages.NATIVE = previous
    loss.backward()
    return float(loss.detach()), lam_t.grad, phi_t.grad, kappa.grad


@pytest.fixture
def native(monkeypatch):
    """The compiled loop, loaded afresh (skips where this machine cannot build it)."""
    monkeypatch.setattr(_kernel, "CPU_LAYOUT", "ages")
    _native.reset()
    if _native.library() is None:
        pytest.skip(_native.status())
    yield _native.library()
    _native.reset()


def test_compiled_loop_is_used_where_a_compiler_exists():
    """No silent fallback: with a C compiler and torch's sgemm_, the loop is in use."""
    _native.reset()
    if _native._compiler() is None or _native._sgemm() is None:
        pytest.skip("no C compiler or no sgemm_ in torch here")
    assert "in use" in _native.status()


@pytest.mark.parametrize("T", [1, 2, 5, 9, 52])
@pytest.mark.parametrize("chunk", [1, 4, 64])
def test_compiled_loop_matches_torch_steps(T, chunk, native):
    E, event, lam, phi = _problem(T, rng=T)
    (l1, *g1) = _loss_and_grads(lam, phi, 0.7, E, event, native=True, chunk=chunk)
    (l2, *g2) = _loss_and_grads(lam, phi, 0.7, E, event, native=False, chunk=chunk)
    assert l1 == pytest.approx(l2, rel=1e-6)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_compiled_loop_with_clamp_at_some_ages(native):
    """π from ~1e-9 to 1 − 1e-10 across ages: both clamps bind at some ages (short
    groups of ages in the product), the warning counts the same cells. Near the
    upper clamp w = 1 − π cancels, so float32 is far from float64 there whichever
    steps compute it: the C loop must be as close to float64 as torch's steps."""
    E, event, lam, phi = _problem(12, N=19, rng=7)
    phi = phi + np.linspace(-20.0, 24.0, 12)
    lam64 = torch.tensor(lam, requires_grad=True)
    phi64 = torch.tensor(phi, requires_grad=True)
    kappa64 = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="clamp binds"):
        exact = signature_nll(lam64, phi64, kappa64, E, event, chunk_size=4)
    exact.backward()
    reference = (float(exact.detach()), lam64.grad, phi64.grad, kappa64.grad)
    counts, errors = [], []
    for flag in (True, False):
        with pytest.warns(RuntimeWarning, match="clamp binds") as record:
            result = _loss_and_grads(lam, phi, 1.0, E, event, native=flag)
        counts.append(str(record[0].message).split(" in ")[1])
        errors.append([abs(result[0] - reference[0])] + [
            float((a.double() - b).abs().max()) for a, b in zip(result[1:], reference[1:])
        ])
    assert counts[0] == counts[1]
    for mine, torchs, value in zip(errors[0], errors[1], reference):
        scale = abs(value) if isinstance(value, float) else float(value.abs().max())
        assert mine <= 1.5 * torchs + 1e-6 * scale


def test_compiled_loop_agrees_with_float64_reference(native):
    E, event, lam, phi = _problem(52, N=50, D=30, K1=5, rng=3, phi_shift=-5.0)
    exact = float(signature_nll(torch.tensor(lam), torch.tensor(phi), 1.0, E, event))
    (single, *_) = _loss_and_grads(lam, phi, 1.0, E, event, native=True, chunk=16)
    assert single == pytest.approx(exact, rel=1e-5)


def test_compiled_loop_without_gradient(native):
    E, event, lam, phi = _problem(9, rng=4)
    values = []
    for flag in (True, False):
        _ages.NATIVE = flag
        try:
            values.append(float(signature_nll(
                torch.tensor(lam, dtype=torch.float32),
                torch.tensor(phi, dtype=torch.float32), 0.8, E, event, chunk_size=5,
            )))
        finally:
            _ages.NATIVE = True
    assert values[0] == pytest.approx(values[1], rel=1e-6)


def test_compiled_loop_splits_over_threads_deterministically(native):
    E, event, lam, phi = _problem(11, N=40, D=6, rng=2)
    previous = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 2):
            torch.set_num_threads(threads)
            results.append(_loss_and_grads(lam, phi, 0.8, E, event, True, chunk=3))
    finally:
        torch.set_num_threads(previous)
    (l1, *g1), (l2, *g2), (l3, *g3) = results
    assert l2 == l3 and all(torch.equal(a, b) for a, b in zip(g2, g3))
    assert l1 == pytest.approx(l2, rel=1e-7)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv("LATENTLAB_NATIVE", "0")
    _native.reset()
    try:
        assert _native.library() is None
        assert "LATENTLAB_NATIVE=0" in _native.status()
        E, event, lam, phi = _problem(5)
        value = float(signature_nll(
            torch.tensor(lam, dtype=torch.float32),
            torch.tensor(phi, dtype=torch.float32), 0.8, E, event,
        ))
        assert np.isfinite(value)
    finally:
        _native.reset()


def test_a_failing_compiler_falls_back_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", "false")  # a compiler that always fails
    monkeypatch.setattr(_native, "_compiler", lambda: "false")
    monkeypatch.setenv("LATENTLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(_native.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    _native.reset()
    try:
        assert _native.library() is None
        assert "not compiled" in _native.status()
    finally:
        _native.reset()
