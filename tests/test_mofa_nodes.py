"""The coordinate updates and ELBO terms against direct, loop-by-loop computations of the formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma, expit

from latentlab.mofa import elbo as E
from latentlab.mofa.nodes import (
    Precision,
    expected_squared_residuals,
    update_ard,
    update_factors,
    update_noise,
    update_sparsity,
    update_weights,
)

RNG = np.random.default_rng(42)
N, D, K = 13, 7, 3


def _problem(missing: bool):
    Y = RNG.normal(size=(N, D))
    observed = np.ones((N, D), bool)
    if missing:
        observed = RNG.random((N, D)) > 0.2
    Y = np.where(observed, Y, 0.0)
    Zm = RNG.normal(size=(N, K))
    Zv = RNG.uniform(0.1, 0.5, size=(N, K))
    Wm = RNG.normal(size=(D, K))
    W2 = Wm**2 + RNG.uniform(0.1, 0.5, size=(D, K))
    tau = RNG.uniform(0.5, 2.0, size=D)
    alpha = RNG.uniform(0.5, 3.0, size=K)
    odds = RNG.normal(size=K)
    return Y, observed, Zm, Zv, Wm, W2, tau, alpha, odds


def _direct_weights(Y, T, Zm, Z2, Wm, alpha, odds):
    """The W update exactly as written in the design note, with the full prediction rebuilt."""
    W = Wm.copy()
    mu, var, gamma = np.zeros((D, K)), np.zeros((D, K)), np.ones((D, K))
    for k in range(K):
        for d in range(D):
            lam = sum(T[n, d] * Z2[n, k] for n in range(N)) + alpha[k]
            r = 0.0
            for n in range(N):
                others = sum(Zm[n, j] * W[d, j] for j in range(K) if j != k)
                r += T[n, d] * Zm[n, k] * (Y[n, d] - others)
            mu[d, k], var[d, k] = r / lam, 1 / lam
            if odds is not None:
                gamma[d, k] = expit(odds[k] + 0.5 * np.log(alpha[k]) - 0.5 * np.log(lam) + 0.5 * r**2 / lam)
        W[:, k] = gamma[:, k] * mu[:, k]
    return mu, var, gamma


@pytest.mark.parametrize("spike_slab", [True, False])
@pytest.mark.parametrize("path", ["gram", "residual"])
def test_weight_update_equals_direct_formula(spike_slab, path):
    Y, observed, Zm, Zv, Wm, W2, tau, alpha, odds = _problem(missing=path == "residual")
    odds = odds if spike_slab else None
    T = observed * tau
    expected = _direct_weights(Y, T, Zm, Zm**2 + Zv, Wm, alpha, odds)
    rows = np.ones(N, bool)
    precision = Precision(rows, tau=tau) if path == "gram" else Precision(rows, full=T)
    got = update_weights(Y, precision, Zm, Zm**2 + Zv, Wm, alpha, odds)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def _direct_factors(Ys, Ts, Zm, Wms, W2s):
    Z = Zm.copy()
    var = np.zeros_like(Z)
    for k in range(K):
        for n in range(N):
            prec, num = 1.0, 0.0
            for Y, T, Wm, W2 in zip(Ys, Ts, Wms, W2s):
                for d in range(Y.shape[1]):
                    prec += T[n, d] * W2[d, k]
                    others = sum(Z[n, j] * Wm[d, j] for j in range(K) if j != k)
                    num += T[n, d] * Wm[d, k] * (Y[n, d] - others)
            var[n, k] = 1 / prec
            Z[n, k] = num / prec
    return Z, var


def test_factor_update_equals_direct_formula_mixing_both_paths():
    Y1, obs1, Zm, Zv, W1, W21, tau1, *_ = _problem(missing=False)
    Y2, obs2, _, _, W2m, W22, tau2, *_ = _problem(missing=True)
    rows = np.ones(N, bool)
    rows[[2, 5]] = False  # two samples missing from view 1 entirely
    Y1 = Y1 * rows[:, None]
    T1 = rows[:, None] * tau1
    T2 = obs2 * tau2
    expected = _direct_factors([Y1, Y2], [T1, T2], Zm, [W1, W2m], [W21, W22])
    got = update_factors([Y1, Y2], [Precision(rows, tau=tau1), Precision(rows, full=T2)], Zm,
                         [W1, W2m], [W21, W22])
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("row_wise", [True, False])
def test_expected_squared_residuals_equal_direct_sum(row_wise):
    Y, observed, Zm, Zv, Wm, W2, *_ = _problem(missing=not row_wise)
    rows = observed.any(axis=1)
    Z2 = Zm**2 + Zv
    expected = np.zeros(D)
    for n in range(N):
        for d in range(D):
            if observed[n, d]:
                pred = Zm[n] @ Wm[d]
                expected[d] += (Y[n, d] ** 2 - 2 * Y[n, d] * pred + pred**2
                                - np.sum(Zm[n] ** 2 * Wm[d] ** 2) + np.sum(Z2[n] * W2[d]))
    got = expected_squared_residuals(Y, observed, rows, row_wise, Zm, Z2, Wm, W2)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_hyperparameter_identities_after_a_sweep():
    gamma = RNG.random((D, K))
    a, b = update_ard(RNG.random((D, K)), a0=1e-14, b0=1e-14)
    np.testing.assert_allclose(a, 1e-14 + D / 2)
    a, b = update_sparsity(gamma, 1.0, 1.0)
    np.testing.assert_allclose(a + b, 1.0 + 1.0 + D)


def test_noise_shape_counts_only_observed_entries():
    observed = RNG.random((N, D)) > 0.3
    a, _ = update_noise(observed.sum(axis=0), np.ones(D), a0=1e-3)
    np.testing.assert_array_equal(a - 1e-3, 0.5 * observed.sum(axis=0))


def test_gamma_term_is_minus_kl_by_monte_carlo():
    a0, b0, a, b = 2.0, 1.5, 3.0, 0.7
    x = stats.gamma(a, scale=1 / b).rvs(size=400_000, random_state=1)
    mc = np.mean(stats.gamma(a0, scale=1 / b0).logpdf(x) - stats.gamma(a, scale=1 / b).logpdf(x))
    assert E.gamma_term(a0, b0, np.array([a]), np.array([b])) == pytest.approx(mc, abs=5e-3)


def test_beta_term_is_minus_kl_by_monte_carlo():
    x = stats.beta(4.0, 2.0).rvs(size=400_000, random_state=2)
    mc = np.mean(stats.beta(1.0, 1.0).logpdf(x) - stats.beta(4.0, 2.0).logpdf(x))
    assert E.beta_term(1.0, 1.0, np.array([4.0]), np.array([2.0])) == pytest.approx(mc, abs=5e-3)


def test_factors_term_by_monte_carlo():
    mean, var = np.array([[0.7]]), np.array([[0.3]])
    z = stats.norm(0.7, np.sqrt(0.3)).rvs(size=400_000, random_state=3)
    mc = np.mean(stats.norm(0, 1).logpdf(z) - stats.norm(0.7, np.sqrt(0.3)).logpdf(z))
    assert E.factors_term(mean, var) == pytest.approx(mc, abs=5e-3)


def test_gaussian_term_by_monte_carlo():
    rng = np.random.default_rng(4)
    a, b, y, m, v = 5.0, 2.0, 1.3, 0.4, 0.2  # q(tau) = Gamma(a, b), q(x) = N(m, v)
    tau = rng.gamma(a, 1 / b, size=400_000)
    x = rng.normal(m, np.sqrt(v), size=400_000)
    mc = np.mean(stats.norm(x, 1 / np.sqrt(tau)).logpdf(y))
    residual = (y - m) ** 2 + v
    got = E.gaussian_term(np.array([1]), np.array([a]), np.array([b]), np.array([residual]))
    assert got == pytest.approx(mc, abs=5e-3)


def test_weights_term_spike_slab_by_direct_formula():
    mu, var = RNG.normal(size=(D, K)), RNG.uniform(0.1, 1, size=(D, K))
    gamma = RNG.uniform(0.01, 0.99, size=(D, K))
    spike = RNG.uniform(0.5, 2, size=K)
    alpha_a, alpha_b = RNG.uniform(1, 5, size=K), RNG.uniform(1, 5, size=K)
    theta_a, theta_b = RNG.uniform(1, 5, size=K), RNG.uniform(1, 5, size=K)
    alpha_mean, alpha_log = alpha_a / alpha_b, digamma(alpha_a) - np.log(alpha_b)
    lt = digamma(theta_a) - digamma(theta_a + theta_b)
    l1 = digamma(theta_b) - digamma(theta_a + theta_b)
    expected = 0.0
    for d in range(D):
        for k in range(K):
            g = gamma[d, k]
            hat = g * (mu[d, k] ** 2 + var[d, k]) + (1 - g) * spike[k]
            expected += 0.5 * alpha_log[k] - 0.5 * alpha_mean[k] * hat + 0.5
            expected += 0.5 * (g * np.log(var[d, k]) + (1 - g) * np.log(1 / alpha_mean[k]))
            expected += g * lt[k] + (1 - g) * l1[k] - g * np.log(g) - (1 - g) * np.log(1 - g)
    got = E.weights_term(mu, var, gamma, spike, alpha_mean, alpha_log, theta_a, theta_b)
    assert got == pytest.approx(expected, rel=1e-10)


def test_weights_term_handles_gamma_exactly_zero_or_one():
    one = np.ones((2, 1))
    gamma = np.array([[0.0], [1.0]])
    value = E.weights_term(one, one, gamma, np.ones(1), np.ones(1), np.zeros(1), np.ones(1), np.ones(1))
    assert np.isfinite(value)


def test_gamma_and_beta_terms_equal_quadrature_plus_scipy_entropy():
    q = stats.gamma(3.5, scale=1 / 0.8)
    prior = stats.gamma(2.0, scale=1 / 1.5)
    expected = q.expect(prior.logpdf, epsabs=1e-13, epsrel=1e-13) + q.entropy()
    assert E.gamma_term(2.0, 1.5, np.array([3.5]), np.array([0.8])) == pytest.approx(expected, rel=1e-9)
    q = stats.beta(4.0, 2.5)
    prior = stats.beta(1.5, 3.0)
    expected = q.expect(prior.logpdf, epsabs=1e-13, epsrel=1e-13) + q.entropy()
    assert E.beta_term(1.5, 3.0, np.array([4.0]), np.array([2.5])) == pytest.approx(expected, rel=1e-9)
