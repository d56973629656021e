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
