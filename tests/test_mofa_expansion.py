"""The scale step (latentlab.mofa.expansion) and the varimax-rotated PCA start."""

import copy

import numpy as np
import pytest

from latentlab.mofa import inference as I
from latentlab.mofa import simulate_mofa
from latentlab.mofa.data import prepare_views
from latentlab.mofa.expansion import rescale, scale_terms
from latentlab.mofa.start import pca_start, varimax


def _state(likelihoods, spike_slab=True, ard=True, n_iter=6):
    """A state a few sweeps in (without the scale step), so Σ⟨z²⟩ is far from N."""
    sizes = (30, 20, 25)[: len(likelihoods)]
    activity = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]], bool)[: len(likelihoods)]
    sim = simulate_mofa(n_samples=50, view_sizes=sizes, activity=activity,
                        likelihoods=likelihoods, missing_fraction=0.1, rng=3)
    data, _ = prepare_views(sim.views, likelihoods)
    options = I.Options(ard=ard, spike_slab=spike_slab, start_sparsity=2, rescale=False)
    state = I.initial_state(data, 5, "pca", np.random.default_rng(0))
    for iteration in range(1, n_iter + 1):
        I.sweep(data, state, options, iteration)
    return data, state, options


def _views(state):
    return [(vs.mu, vs.var, vs.gamma, vs.spike_var, vs.alpha_a, vs.alpha_b)
            for vs in state.views]


def _plain_scalable_elbo(data, state, options):
    terms = I.elbo_terms(data, state, options)
    return terms["Z"] + terms["W"] + terms["AlphaW"]


@pytest.mark.parametrize("spike_slab,ard", [(True, True), (False, True), (True, False)])
def test_scale_terms_differences_match_the_elbo_per_factor(spike_slab, ard):
    data, state, options = _state(["gaussian", "gaussian"], spike_slab, ard)
    before = _plain_scalable_elbo(data, state, options)
    per_factor = scale_terms(state.Z_mean, state.Z_var, _views(state), ard,
                             options.alpha_prior)
    rng = np.random.default_rng(1)
    for k in range(state.Z_mean.shape[1]):  # change one factor's column at a time
        moved = copy.deepcopy(state)
        moved.Z_mean[:, k] *= 1.7
        moved.Z_var[:, k] *= rng.uniform(0.5, 2.0)
        for vs in moved.views:
            vs.mu[:, k] *= 0.6
            vs.var[:, k] *= 1.3
            vs.alpha_b[k] *= 1.4
            vs.spike_var[k] *= 0.8
        change = _plain_scalable_elbo(data, moved, options) - before
        moved_terms = scale_terms(moved.Z_mean, moved.Z_var, _views(moved), ard,
                                  options.alpha_prior)
        expected = np.zeros_like(per_factor)
        expected[k] = change
        np.testing.assert_allclose(moved_terms - per_factor, expected, rtol=1e-10,
                                   atol=1e-10 * abs(before))


@pytest.mark.parametrize("likelihoods", [["gaussian", "gaussian"],
                                         ["gaussian", "bernoulli", "poisson"]])
@pytest.mark.parametrize("ard", [True, False])
def test_rescale_keeps_the_predictor_and_raises_the_bound(likelihoods, ard):
    data, state, options = _state(likelihoods, ard=ard)
    moments = [I.linear_moments(state, vs) for vs in state.views]
    before = sum(I.elbo_terms(data, state, options).values())
    scales = rescale(state, ard, options.alpha_prior)
    assert np.any(np.abs(scales - 1) > 0.05)  # the state was off balance
    for vs, (mean, second) in zip(state.views, moments):
        new_mean, new_second = I.linear_moments(state, vs)
        np.testing.assert_allclose(new_mean, mean, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(new_second, second, rtol=1e-10, atol=1e-12)
    for view, vs in zip(data, state.views):  # residuals of Gaussian views recomputed
        vs.residuals = None
    after = sum(I.elbo_terms(data, state, options).values())
    assert after >= before - 1e-12 * abs(before)
    assert after > before + 1e-6 * abs(before)  # a real improvement on this state
    if ard:
        N = state.Z_mean.shape[0]
        moved = np.abs(scales - 1) > 0
        second = np.sum(state.Z_mean**2 + state.Z_var, axis=0)
        np.testing.assert_allclose(second[moved], N, rtol=1e-10)


@pytest.mark.parametrize("ard", [True, False])
def test_rescale_picks_the_best_scale(ard):
    _, state, options = _state(["gaussian", "gaussian"], ard=ard)
    rescale(state, ard, options.alpha_prior)
    best = scale_terms(state.Z_mean, state.Z_var, _views(state), ard,
                       options.alpha_prior)
    for factor in (0.97, 1.03):  # any further scale lowers every factor's terms
        moved = copy.deepcopy(state)
        rescale_by = np.full(state.Z_mean.shape[1], factor)
        moved.Z_mean = moved.Z_mean * rescale_by
        moved.Z_var = moved.Z_var * rescale_by**2
        for vs in moved.views:
            vs.mu, vs.var = vs.mu / rescale_by, vs.var / rescale_by**2
            vs.spike_var = vs.spike_var / rescale_by**2
            if ard:
                vs.alpha_a, vs.alpha_b = I.update_ard(vs.hat_second,
                                                      *options.alpha_prior)
        other = scale_terms(moved.Z_mean, moved.Z_var, _views(moved), ard,
                            options.alpha_prior)
        assert np.all(other <= best + 1e-9 * np.abs(best))


def test_rescale_leaves_a_balanced_state_alone():
    _, state, options = _state(["gaussian", "gaussian"])
    rescale(state, True, options.alpha_prior)
    again = rescale(state, True, options.alpha_prior)
    np.testing.assert_allclose(again, 1.0, rtol=1e-10)


def test_varimax_recovers_a_sparse_rotation():
    rng = np.random.default_rng(0)
    sparse = np.zeros((200, 4))  # simple structure: one non-zero loading per row
    sparse[np.arange(200), rng.integers(4, size=200)] = rng.normal(size=200)
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    found = varimax(sparse @ rotation)
    np.testing.assert_allclose(found.T @ found, np.eye(4), atol=1e-10)
    back = sparse @ rotation @ found
    corr = np.abs(np.corrcoef(sparse.T, back.T)[:4, 4:])
    assert corr.max(axis=1).min() > 0.999999  # every column again (up to order, sign)


def test_pca_start_separates_factors_of_a_mixed_fit():
    activity = np.array([[1, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1, 1]], bool)
    sim = simulate_mofa(n_samples=300, view_sizes=(100, 100, 100), activity=activity,
                        likelihoods=["gaussian", "bernoulli", "poisson"], rng=2)
    data, _ = prepare_views(sim.views, sim.likelihoods)
    Z = pca_start(data, 6, np.random.default_rng(0))
    corr = np.abs(np.corrcoef(sim.factors.T, Z.T)[:4, 4:])
    assert corr.max(axis=1).min() > 0.8  # every true factor already has its own column
