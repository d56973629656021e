"""The fused pseudo-data refresh and ELBO pieces agree with the plain bounds."""

import numpy as np
import pytest

from latentlab.mofa import likelihoods as lik
from latentlab.mofa.local_bounds import bernoulli_refresh, bound_sum, poisson_refresh


def _data(rng, kind):
    N, D = 40, 7
    observed = rng.random((N, D)) > 0.2
    if kind == "bernoulli":
        y = (rng.random((N, D)) > 0.5).astype(float)
    else:
        y = rng.poisson(3.0, size=(N, D)).astype(float)
    y = np.where(observed, y, 0.0)
    mean = rng.normal(scale=3.0, size=(N, D))
    mean[0, :3] = [0.0, 1e-8, -40.0]  # the small-ζ branch and a large |x|
    second = mean**2 + rng.gamma(1.0, size=(N, D))
    second[0, :2] = [0.0, 1e-16]
    return y, observed, mean, second


def test_bernoulli_refresh_matches_plain_bound():
    rng = np.random.default_rng(0)
    y, observed, mean, second = _data(rng, "bernoulli")
    mask = observed.astype(float)
    tau, pseudo, cache = bernoulli_refresh((2 * y - 1) * mask, second, mask)
    zeta, tau0, pseudo0 = lik.bernoulli_pseudodata(y, second, observed)
    np.testing.assert_allclose(cache.zeta, zeta, rtol=1e-14)
    np.testing.assert_allclose(tau, tau0, rtol=1e-13, atol=0)
    np.testing.assert_allclose(pseudo, pseudo0, rtol=1e-13, atol=0)
    # the ELBO at moments that moved after the refresh (as after the Z and W updates)
    mean2, second2 = mean + 0.3, second * 1.1 + 0.2
    expected = lik.bernoulli_term(y, mean2, second2, zeta, observed)
    assert bound_sum(cache, mean2, second2) == pytest.approx(expected, rel=1e-12)


def test_poisson_refresh_matches_plain_bound():
    rng = np.random.default_rng(1)
    y, observed, mean, second = _data(rng, "poisson")
    mask = observed.astype(float)
    curvature = lik.poisson_curvature(y, observed)
    pseudo, cache = poisson_refresh(y, mean, curvature, mask)
    plain = lik.poisson_pseudodata(y, mean, curvature, observed)
    np.testing.assert_allclose(pseudo, plain, rtol=1e-12, atol=1e-12)
    mean2, second2 = mean - 0.4, second * 0.9 + 0.5
    log_factorial = float(np.sum(lik.gammaln(y + 1.0)[observed]))
    expected = lik.poisson_term(y, mean2, second2, mean, curvature, observed)
    got = bound_sum(cache, mean2, second2) - log_factorial
    assert got == pytest.approx(expected, rel=1e-12)


def test_float32_refresh_agrees_with_the_plain_bounds_to_float32_round_off():
    """A fit refreshes in float32 (latentlab.mofa.inference.REFRESH_DTYPE)."""
    f32 = np.float32
    rng = np.random.default_rng(2)
    y, observed, mean, second = _data(rng, "bernoulli")
    mask = observed.astype(float)
    sign = ((2 * y - 1) * mask).astype(f32)
    tau, pseudo, cache = bernoulli_refresh(sign, second.astype(f32), mask.astype(f32))
    assert tau.dtype == pseudo.dtype == f32
    zeta, tau0, pseudo0 = lik.bernoulli_pseudodata(y, second, observed)
    np.testing.assert_allclose(tau, tau0, rtol=2e-6, atol=0)
    np.testing.assert_allclose(pseudo, pseudo0, rtol=2e-6, atol=0)
    mean2, second2 = mean + 0.3, second * 1.1 + 0.2
    expected = lik.bernoulli_term(y, mean2, second2, zeta, observed)
    assert bound_sum(cache, mean2, second2) == pytest.approx(expected, rel=1e-6)

    y, observed, mean, second = _data(rng, "poisson")
    mask = observed.astype(float)
    curvature = lik.poisson_curvature(y, observed)
    pseudo, cache = poisson_refresh(y.astype(f32), mean.astype(f32),
                                    curvature.astype(f32), mask.astype(f32))
    assert pseudo.dtype == f32
    plain = lik.poisson_pseudodata(y, mean, curvature, observed)
    np.testing.assert_allclose(pseudo, plain, rtol=1e-5, atol=1e-5)
    second2 = second * 0.9 + 0.5
    log_factorial = float(np.sum(lik.gammaln(y + 1.0)[observed]))
    zeta = mean.astype(f32).astype(float)  # the ζ the float32 refresh saw
    expected = lik.poisson_term(y, zeta - 0.4, second2, zeta, curvature, observed)
    got = bound_sum(cache, zeta - 0.4, second2) - log_factorial
    assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("x", [0.0, 1e-7, 1e-4, 0.05, 0.0999, 0.1, 0.5, 2.2, 2.4, 30.0])
def test_float32_transcendentals_match_float64(x):
    from latentlab.mofa.local_bounds import _expm1_negative, _log1p_small

    value = np.full(4, x, dtype=np.float32)
    exact = float(np.expm1(-np.float64(value[0])))
    assert float(_expm1_negative(value)[0]) == pytest.approx(exact, rel=3e-7, abs=1e-45)
    e = np.exp(-value)  # the argument _log1p_small gets in the Poisson refresh
    exact = float(np.log1p(np.float64(e[0])))
    assert float(_log1p_small(e)[0]) == pytest.approx(exact, rel=1e-6, abs=1e-45)
    assert _expm1_negative(value.astype(float))[0] == np.expm1(-value.astype(float))[0]


def test_float32_fit_follows_the_float64_fit(monkeypatch):
    import warnings

    from latentlab.mofa import MOFA, inference, simulate_mofa

    activity = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]], bool)
    sim = simulate_mofa(n_samples=80, view_sizes=(30, 30, 30), activity=activity,
                        likelihoods=["gaussian", "bernoulli", "poisson"],
                        missing_fraction=0.1, rng=4)
    fits = {}
    for dtype in (np.float64, np.float32):
        monkeypatch.setattr(inference, "REFRESH_DTYPE", dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[dtype] = MOFA(5, likelihoods=sim.likelihoods, max_iter=60,
                               verbose=False).fit(sim.views, rng=0)
    low, high = np.array(fits[np.float32].history), np.array(fits[np.float64].history)
    np.testing.assert_allclose(low, high, rtol=1e-7)
    np.testing.assert_allclose(fits[np.float32].factors, fits[np.float64].factors,
                               atol=1e-4)
