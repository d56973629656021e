"""The Jaakkola and Seeger bounds: they are lower bounds, tight at ζ, and their pseudo-data are right."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import log_expit

from latentlab.mofa import likelihoods as L

X = np.linspace(-6, 6, 121)


@pytest.mark.parametrize("zeta", [0.0, 0.3, 2.0, 5.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_jaakkola_bound_is_below_log_sigmoid_and_tight_at_zeta(y, zeta):
    bound = np.array([L.bernoulli_term(np.array(y), np.array(x), np.array(x**2), np.array(zeta), np.array(True))
                      for x in X])
    exact = log_expit((2 * y - 1) * X)
    assert np.all(bound <= exact + 1e-12)
    at = L.bernoulli_term(np.array(y), np.array(zeta), np.array(zeta**2), np.array(zeta), np.array(True))
    assert at == pytest.approx(float(log_expit((2 * y - 1) * zeta)), abs=1e-12)


def test_jaakkola_pseudodata_is_the_gaussian_completing_the_square():
    # (y - 1/2) x - λ x² = -λ (x - ŷ)² + const with precision 2λ and mean ŷ
    y, zeta = np.array([[1.0, 0.0]]), np.array([[1.5, 0.4]])
    _, tau, pseudo = L.bernoulli_pseudodata(y, zeta**2, np.ones_like(y, bool))
    lam = L.jaakkola_lambda(zeta)
    np.testing.assert_allclose(tau, 2 * lam)
    np.testing.assert_allclose(pseudo * tau, y - 0.5)


def test_jaakkola_lambda_limit_is_continuous():
    assert float(L.jaakkola_lambda(np.array(1e-7))) == pytest.approx(float(L.jaakkola_lambda(np.array(1e-5))), rel=1e-8)


@pytest.mark.parametrize("y", [0.0, 1.0, 4.0, 9.0])
@pytest.mark.parametrize("zeta", [-2.0, 0.0, 1.5, 3.0])
def test_seeger_bound_is_below_poisson_loglik_and_tight_at_zeta(y, zeta):
    curvature = np.array([0.25 + 0.17 * 9.0])
    bound = np.array([L.poisson_term(np.array(y), np.array(x), np.array(x**2), np.array(zeta), curvature,
                                     np.array(True)) for x in X])
    exact = stats.poisson(L.poisson_rate(X)).logpmf(y)
    assert np.all(bound <= exact + 1e-10)
    at = L.poisson_term(np.array(y), np.array(zeta), np.array(zeta**2), np.array(zeta), curvature, np.array(True))
    assert at == pytest.approx(float(stats.poisson(L.poisson_rate(zeta)).logpmf(y)), abs=1e-10)


def test_seeger_pseudodata_is_a_newton_step_with_the_bounding_curvature():
    y, zeta, kappa = 3.0, 0.5, 0.9
    step = 1e-6
    nll = lambda x: -stats.poisson(L.poisson_rate(x)).logpmf(y)  # noqa: E731
    gradient = (nll(zeta + step) - nll(zeta - step)) / (2 * step)
    pseudo = L.poisson_pseudodata(np.array([[y]]), np.array([[zeta]]), np.array([kappa]), np.ones((1, 1), bool))
    assert float(pseudo[0, 0]) == pytest.approx(zeta - gradient / kappa, rel=1e-6)


def test_weighted_intercept_maximises_the_quadratic():
    rng = np.random.default_rng(0)
    pseudo, prediction, tau = rng.normal(size=(20, 3)), rng.normal(size=(20, 3)), rng.uniform(0.1, 1, (20, 3))
    b = L.weighted_intercept(pseudo, prediction, tau)
    objective = lambda c: -np.sum(tau * (pseudo - prediction - c) ** 2, axis=0)  # noqa: E731
    for shift in (-1e-3, 1e-3):
        assert np.all(objective(b) >= objective(b + shift))
