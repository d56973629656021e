"""The compiled per-age loop of the CPU kernel (signatures/_native.c) against the
same steps as torch operations, in float32 where it runs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from latentlab.signatures import _ages, _kernel, _native, _native_prior, signature_nll


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
    from latentlab.signatures import kernel_status

    assert kernel_status() == _native.status()


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


@pytest.mark.parametrize("case", ["leaving early", "both clamps"])
def test_portable_cells_loop_gives_the_same_bits(case, native, monkeypatch):
    """The plain C loop over an age's cells (LATENTLAB_PORTABLE: what a compiler
    without AVX2 builds) against the AVX2 one: every bit of the loss, the gradients
    and the clamp count, with blocks of 1-23 people (vector tails)."""
    if case == "leaving early":
        E, event, lam, phi = _problem(9, rng=11)
    else:
        E, event, lam, phi = _problem(12, N=19, rng=7)
        phi = phi + np.linspace(-20.0, 24.0, 12)
    portable, status = _native._load(("LATENTLAB_PORTABLE",))
    assert portable is not None, status
    results = []
    for lib in (native, portable):
        monkeypatch.setitem(_native._STATE, "lib", lib)
        for chunk in (1, 5, 23):
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                loss, *grads = _loss_and_grads(lam, phi, 1.0, E, event, True, chunk)
            results.append((loss, grads, [str(r.message) for r in record]))
    assert results[0][2] == [] if case == "leaving early" else results[0][2]
    for (l1, g1, w1), (l2, g2, w2) in zip(results[:3], results[3:]):
        assert l1 == l2 and w1 == w2
        assert all(torch.equal(a, b) for a, b in zip(g1, g2))


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


@pytest.mark.parametrize("T", [1, 2, 7, 52])
@pytest.mark.parametrize("beta", [None, 0.25])
def test_compiled_prior_matches_torch_pass(T, beta, native):
    """Q_λ, ∂Q/∂γ and the gradient update of the C pass (half-size products on the
    symmetric and antisymmetric parts of δ) against the torch pass, even and odd T."""
    from latentlab.signatures import GaussianProcessPrior, _centered

    generator = torch.Generator().manual_seed(T)
    N, K, Pc = 37, 3, 4

    def rand(*shape, dtype=torch.float64):
        return torch.randn(*shape, generator=generator, dtype=dtype, device="cpu")

    lam, gamma, G = rand(N, K + 1, T, dtype=torch.float32), rand(Pc, K), rand(N, Pc)
    reference = rand(K, T)
    precision = GaussianProcessPrior(T, max(T / 4, 1.0)).precision_tensor("cpu")
    start = rand(N, K + 1, T, dtype=torch.float32)
    results = []
    for flag in (True, False):
        grad = start.clone()  # β grad + α P δ, or α P δ (β None) overwriting it
        _ages.NATIVE = flag
        try:
            value, grad_gamma = _centered.prior_pass(
                lam, gamma, G, reference, -4.0, precision, grad, alpha=0.5, beta=beta
            )
        finally:
            _ages.NATIVE = True
        results.append((float(value), grad_gamma, grad))
    (v1, gg1, g1), (v2, gg2, g2) = results
    assert v1 == pytest.approx(v2, rel=1e-9)
    torch.testing.assert_close(gg1, gg2, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-3)


def test_precision_halves_rebuild_the_product():
    """P δ from the two half-size blocks equals P δ for odd and even T."""
    from latentlab.signatures import GaussianProcessPrior

    for T in (1, 2, 5, 6, 52):
        P = GaussianProcessPrior(T, max(T / 4, 1.0)).precision_tensor("cpu")
        Ps, Pa = _native_prior.halves(P)
        h = T // 2
        assert Ps.shape == (T - h, T - h) and Pa.shape == (h, h)
        delta = torch.randn(9, T, dtype=torch.float64,
                            generator=torch.Generator().manual_seed(T))
        flipped = delta.flip(1)
        s = 0.5 * (delta + flipped)[:, : T - h]
        a = 0.5 * (delta - flipped)[:, :h]
        u, v = s @ Ps.T, a @ Pa.T
        rebuilt = torch.empty_like(delta)
        rebuilt[:, :h] = u[:, :h] + v
        rebuilt[:, T - h:] = (u[:, :h] - v).flip(1)
        if T % 2:
            rebuilt[:, h] = u[:, h]
        expected = delta @ P
        assert float((rebuilt - expected).abs().max()) <= 1e-9 * float(expected.abs().max())


@pytest.mark.parametrize("K1, T, n, T_c", [(5, 9, 17, 6), (4, 8, 33, 8), (3, 8, 16, 8)])
def test_compiled_softmax_and_write_back(native, K1, T, n, T_c):
    """θ of the C softmax (its own exp) against torch.softmax, for people given as
    a slice and as an index, with λ spread far enough that exp underflows; and
    ∂/∂λ written back into the right rows with zeros after T_c (shapes with and
    without the 8 × 8 transpositions: groups of 16 people, K1 T a multiple of 8)."""
    N = 40
    lam = torch.randn(N, K1, T, generator=torch.Generator().manual_seed(0)) * 30
    lam[3, 2] = 200.0  # the other signatures of person 3 underflow
    theta_all = torch.empty(K1 + 1, T, n)
    rows = torch.randperm(N, generator=torch.Generator().manual_seed(1))[:n]
    for block_rows, people in ((slice(5, 5 + n), lam[5 : 5 + n]), (rows, lam[rows])):
        block = _ages.Block(0, n, block_rows, T, *([None] * 10))
        theta, none_low, none_high = _native.block_theta(native, lam, block, theta_all)
        assert none_low is None and none_high is None
        # torch's float32 softmax rounds x − max the same way; exp differs by ≤ 2 ulp
        expected = torch.softmax(people, dim=1).permute(1, 2, 0)
        torch.testing.assert_close(theta, expected, rtol=3e-7, atol=1e-37)
        assert bool((theta_all[K1] == 1).all())
        # the clamp check's bounds per age: least Σ_k θ low_k, largest Σ_k θ high_k
        low, high = torch.rand(K1, T, 1), torch.rand(K1, T, 1)
        _, low_min, high_max = _native.block_theta(native, lam, block, theta_all, low,
                                                   high)
        torch.testing.assert_close(low_min, (theta * low).sum(0).amin(1))
        torch.testing.assert_close(high_max, (theta * high).sum(0).amax(1))
        _, only_low, none_high = _native.block_theta(native, lam, block, theta_all, low)
        assert none_high is None and torch.equal(only_low, low_min)
        torch.testing.assert_close(theta_all[:K1], expected, rtol=3e-7, atol=1e-37)
        grad_theta = torch.randn(K1, T, n)
        grad_lam = torch.full((N, K1, T), float("nan"))
        block = block._replace(T_c=T_c)
        assert _native.block_grad_lam(native, grad_theta, block, grad_lam)
        written = grad_lam[block_rows]
        assert torch.equal(written[:, :, :T_c], grad_theta[:, :T_c].permute(2, 0, 1))
        assert bool((written[:, :, T_c:] == 0).all())
        untouched = torch.ones(N, dtype=torch.bool)
        untouched[block_rows] = False
        assert bool(grad_lam[untouched].isnan().all())


@pytest.mark.parametrize("threads", [1, 2])
def test_centered_objective_with_the_prior_in_the_workers(threads, native, monkeypatch):
    """float32 map_objective with the λ prior run in the kernel's workers (C) against
    the torch steps: value, parts and every gradient, blocks in the plan's order
    (people sorted by last age, so the prior sees index rows)."""
    from test_signatures_fit import _centered_problem

    from latentlab.signatures.objective import map_objective

    priors, E, event, values = _centered_problem()
    calls = []
    original = _native_prior.prior_rows

    def counted(*args, people=None, **kwargs):
        calls.append(people is not None)
        return original(*args, people=people, **kwargs)

    monkeypatch.setattr(_native_prior, "prior_rows", counted)
    previous = torch.get_num_threads()
    results = []
    try:
        torch.set_num_threads(threads)
        for flag in (True, False):
            params = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True)
                      for k, v in values.items()}
            _ages.NATIVE = flag
            try:
                terms = map_objective(params, E, event, priors, chunk_size=7)
            finally:
                _ages.NATIVE = True
            (2.5 * terms.loss).backward()
            results.append((float(terms.loss.detach()),
                            (terms.nll, terms.q_lambda, terms.q_phi),
                            {k: p.grad for k, p in params.items()}))
    finally:
        torch.set_num_threads(previous)
    assert calls and all(calls)  # the prior ran in the workers, on their people
    (l1, p1, g1), (l2, p2, g2) = results
    assert l1 == pytest.approx(l2, rel=1e-6)
    assert p1 == pytest.approx(p2, rel=1e-6)
    for name in values:
        torch.testing.assert_close(g1[name], g2[name], rtol=1e-4, atol=1e-5)
