"""The masked / per-entry-precision updates (batched second-moment sums) against the
straightforward per-feature computation they replace, to 1e-10 in float64."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from latentlab.mofa import inference
from latentlab.mofa.data import prepare_views
from latentlab.mofa.inference import Options, initial_state, sweep
from latentlab.mofa.nodes import (
    Precision,
    expected_squared_residuals,
    update_factors,
    update_weights,
)
from latentlab.mofa.simulate import simulate_mofa
from latentlab.mofa.weighted import feature_sums, pair_moments, residuals_from_sums

N, D, K = 23, 11, 4


def _entry_precision(P: Precision) -> np.ndarray:
    if P.full is not None:
        return P.full
    if P.mask is not None:
        return P.mask * P.tau
    return P.rows[:, None] * P.tau


def _reference_weights(
    Y,
    precision,
    Z_mean,
    Z_second,
    W_mean,
    alpha,
    log_theta_odds,
    *,
    scale=1.0,
    cross=None,
    pair_sums=None,
):
    """The per-feature update with a running residual (the pre-batched code)."""
    T = _entry_precision(precision)
    W_mean = W_mean.copy()
    mu, var, gamma = np.empty_like(W_mean), np.empty_like(W_mean), np.ones_like(W_mean)
    residual_products = T * (Y - Z_mean @ W_mean.T)
    for k in range(W_mean.shape[1]):
        z = Z_mean[:, k]
        lam = scale * (T.T @ Z_second[:, k]) + alpha[k]
        r = scale * (residual_products.T @ z + W_mean[:, k] * (T.T @ z**2))
        mu[:, k], var[:, k] = r / lam, 1.0 / lam
        if log_theta_odds is not None:
            gamma[:, k] = expit(
                log_theta_odds[k]
                + 0.5 * np.log(alpha[k])
                - 0.5 * np.log(lam)
                + 0.5 * r**2 / lam
            )
        new = gamma[:, k] * mu[:, k]
        residual_products -= T * np.outer(z, new - W_mean[:, k])
        W_mean[:, k] = new
    return mu, var, gamma


def _reference_factors(
    Ys, precisions, Z_mean, W_means, W_seconds, *, prior_precision=1.0
):
    Ts = [_entry_precision(P) for P in precisions]
    total = prior_precision + sum(T @ W2 for T, W2 in zip(Ts, W_seconds))
    residuals = [T * (Y - Z_mean @ W.T) for Y, T, W in zip(Ys, Ts, W_means)]
    Z, Z_var = Z_mean.copy(), 1.0 / total
    for k in range(Z.shape[1]):
        numerator = sum(
            R @ W[:, k] + Z[:, k] * (T @ W[:, k] ** 2)
            for R, T, W in zip(residuals, Ts, W_means)
        )
        new = Z_var[:, k] * numerator
        for R, T, W in zip(residuals, Ts, W_means):
            R -= T * np.outer(new - Z[:, k], W[:, k])
        Z[:, k] = new
    return Z, Z_var


def _reference_residuals(
    Y, observed, rows, row_wise, Z_mean, Z_second, W_mean, W_second, *args, **kwargs
):
    O = observed.astype(float)
    residual = O * (Y - Z_mean @ W_mean.T)
    return (
        (residual**2).sum(axis=0)
        + ((O.T @ Z_second) * W_second).sum(axis=1)
        - ((O.T @ Z_mean**2) * W_mean**2).sum(axis=1)
    )


def _moments(rng, n, k):
    mean = rng.normal(size=(n, k))
    return mean, mean**2 + rng.uniform(0.1, 0.5, size=(n, k))


def _problem(seed: int, form: str):
    rng = np.random.default_rng(seed)
    observed = rng.random((N, D)) > 0.25
    observed[:3] = False  # three samples missing from the view entirely
    Y = np.where(observed, rng.normal(size=(N, D)), 0.0)
    tau = rng.uniform(0.5, 2.0, size=D)
    rows = observed.any(axis=1)
    if form == "mask":
        precision = Precision(rows, tau=tau, mask=observed.astype(float))
    else:  # Bernoulli-like per-entry precision
        precision = Precision(
            rows, full=observed * rng.uniform(0.05, 0.25, size=(N, D))
        )
    return rng, Y, precision


@pytest.mark.parametrize("form", ["mask", "full"])
@pytest.mark.parametrize("spike_slab", [True, False])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_weight_update_equals_per_feature_residual_update(form, spike_slab, scale):
    rng, Y, precision = _problem(0, form)
    Zm, Z2 = _moments(rng, N, K)
    Wm = rng.normal(size=(D, K))
    alpha, odds = (
        rng.uniform(0.5, 3.0, size=K),
        rng.normal(size=K) if spike_slab else None,
    )
    expected = _reference_weights(Y, precision, Zm, Z2, Wm, alpha, odds, scale=scale)
    got = update_weights(Y, precision, Zm, Z2, Wm, alpha, odds, scale=scale)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert not np.allclose(
        got[0], _reference_weights(Y, precision, Zm, Z2, Wm, alpha, odds, scale=1.7)[0]
    )


def test_cached_mask_sums_give_the_same_weight_update():
    rng, Y, precision = _problem(1, "mask")
    Zm, Z2 = _moments(rng, N, K)
    Wm, alpha = rng.normal(size=(D, K)), rng.uniform(0.5, 3.0, size=K)
    cached = update_weights(
        Y,
        precision,
        Zm,
        Z2,
        Wm,
        alpha,
        None,
        cross=Y.T @ Zm,
        pair_sums=precision.mask.T @ pair_moments(Zm, Z2),
    )
    for a, b in zip(cached, update_weights(Y, precision, Zm, Z2, Wm, alpha, None)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_factor_update_mixing_row_wise_masked_and_full_views_equals_residual_update():
    rng = np.random.default_rng(2)
    _, Y1, P1 = _problem(3, "mask")
    _, Y2, P2 = _problem(4, "full")
    rows = np.ones(N, bool)
    rows[[4, 9]] = False
    Y3 = rng.normal(size=(N, 6)) * rows[:, None]
    P3 = Precision(rows, tau=rng.uniform(0.5, 2.0, size=6))
    Zm, _ = _moments(rng, N, K)
    Ws = [_moments(rng, d, K) for d in (D, D, 6)]
    args = ([Y1, Y2, Y3], [P1, P2, P3], Zm, [w[0] for w in Ws], [w[1] for w in Ws])
    expected = _reference_factors(*args, prior_precision=1.0)
    got = update_factors(*args)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_residuals_from_mask_sums_equal_direct_sum():
    rng, Y, precision = _problem(5, "mask")
    observed = precision.mask > 0
    Y = Y + 7.0 * ~observed  # junk in missing entries must not count
    Zm, Z2 = _moments(rng, N, K)
    Wm, W2 = _moments(rng, D, K)
    expected = np.zeros(D)
    for n, d in zip(*np.nonzero(observed)):
        pred = Zm[n] @ Wm[d]
        expected[d] += (
            Y[n, d] ** 2
            - 2 * Y[n, d] * pred
            + pred**2
            - np.sum(Zm[n] ** 2 * Wm[d] ** 2)
            + np.sum(Z2[n] * W2[d])
        )
    got = expected_squared_residuals(
        Y, observed, observed.any(axis=1), False, Zm, Z2, Wm, W2
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    Q, C = feature_sums(
        np.where(observed, Y, 0.0),
        Precision(precision.rows, tau=np.ones(D), mask=precision.mask),
        Zm,
        Z2,
    )
    clean = np.where(observed, Y, 0.0)
    np.testing.assert_allclose(
        residuals_from_sums((clean**2).sum(axis=0), C, Q, Wm, W2), expected, rtol=1e-10
    )


@pytest.mark.parametrize(
    "likelihoods", [["gaussian", "gaussian"], ["gaussian", "bernoulli", "poisson"]]
)
def test_sweeps_equal_the_straightforward_sweeps(monkeypatch, likelihoods):
    """Three whole sweeps (with the cached Yᵀ⟨Z⟩ and Mᵀ S reused across updates) against
    sweeps that run the straightforward per-feature updates."""
    activity = None if len(likelihoods) == 2 else np.ones((3, 3), bool)
    sim = simulate_mofa(
        n_samples=40,
        view_sizes=(9, 8, 7)[: len(likelihoods)],
        activity=activity,
        likelihoods=likelihoods,
        missing_fraction=0.15,
        rng=0,
    )
    sim.views[0][:5] = np.nan  # and samples missing the first view entirely
    data, _ = prepare_views(sim.views, likelihoods)
    assert not any(view.row_wise for view in data)
    states = []
    for straightforward in (False, True):
        if straightforward:
            monkeypatch.setattr(inference, "update_weights", _reference_weights)
            monkeypatch.setattr(inference, "update_factors", _reference_factors)
            monkeypatch.setattr(
                inference, "expected_squared_residuals", _reference_residuals
            )
        state = initial_state(data, 5, "pca", np.random.default_rng(0))
        for iteration in range(1, 4):
            sweep(data, state, Options(), iteration)
        states.append(
            (state, sum(inference.elbo_terms(data, state, Options()).values()))
        )
    (fast, elbo_fast), (slow, elbo_slow) = states
    np.testing.assert_allclose(fast.Z_mean, slow.Z_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.Z_var, slow.Z_var, rtol=1e-10)
    for a, b in zip(fast.views, slow.views):
        np.testing.assert_allclose(a.mu, b.mu, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.gamma, b.gamma, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.tau_b, b.tau_b, rtol=1e-10)
    assert elbo_fast == pytest.approx(elbo_slow, rel=1e-10)
