"""One stochastic-VI step, whose minibatch rows are copied once and shared by the W,
Z and τ updates, against the step computed plainly from the full arrays (every
update slicing ``view.Y[batch]`` itself and τ from ``squared_residuals`` on the
batch rows), to 1e-10 in float64."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from latentlab.mofa.data import prepare_views
from latentlab.mofa.expansion import rescale
from latentlab.mofa.inference import (
    Options,
    elbo_terms,
    initial_state,
    refresh_likelihood,
    squared_residuals,
    sweep,
    update_view_priors,
    update_view_weights,
)
from latentlab.mofa.nodes import update_factors, update_noise
from latentlab.mofa.simulate import simulate_mofa
from latentlab.mofa.svi import minibatch, step_size, stochastic_step


def _plain_step(data, state, options, iteration, fraction, rate, forgetting, rng):
    N = state.Z_mean.shape[0]
    batch = minibatch(state, N, fraction, rng)
    scale = N / batch.size
    rho = step_size(iteration - 1, rate, forgetting)
    Zb, Z2b = state.Z_mean[batch], state.Z_second[batch]
    precisions = []
    for view, vs in zip(data, state.views):
        vs.residuals = vs.cross = vs.pair_sums = vs.moments = None
        refresh_likelihood(view, state, vs)
        precision = vs.precision.subset(batch)
        precisions.append(precision)
        mu, var, gamma = update_view_weights(vs, Zb, Z2b, options, iteration, scale=scale,
                                             Y=view.Y[batch], precision=precision)
        eta1 = (1 - rho) * vs.mu / vs.var + rho * mu / var
        eta2 = (1 - rho) / vs.var + rho / var
        vs.var = 1.0 / eta2
        vs.mu = eta1 * vs.var
        vs.gamma = (1 - rho) * vs.gamma + rho * gamma
        update_view_priors(vs, options, iteration)
    Z_mean, Z_var = update_factors([view.Y[batch] for view in data], precisions, Zb,
                                   [vs.mean for vs in state.views],
                                   [vs.second for vs in state.views])
    state.Z_mean[batch], state.Z_var[batch] = Z_mean, Z_var
    if options.rescale:
        rescale(state, options.ard, options.alpha_prior)
    for view, vs in zip(data, state.views):
        residuals = squared_residuals(view, state, vs, rows=batch)
        count = scale * view.observed[batch].sum(axis=0)
        a_hat, b_hat = update_noise(count, scale * residuals, *options.tau_prior)
        vs.tau_a = (1 - rho) * vs.tau_a + rho * a_hat
        vs.tau_b = (1 - rho) * vs.tau_b + rho * b_hat


@pytest.mark.parametrize("pattern", ["complete", "scattered", "rows"])
def test_stochastic_step_matches_plain_computation(pattern):
    sim = simulate_mofa(n_samples=40, view_sizes=(9, 7), rng=3,
                        missing_fraction=0.2 if pattern == "scattered" else 0.0)
    views = [v.copy() for v in sim.views]
    if pattern == "rows":
        views[0][:6] = np.nan
        views[1][30:37] = np.nan
    data, _ = prepare_views(views)
    assert [v.row_wise for v in data] == [pattern != "scattered"] * 2
    options = Options(start_sparsity=2)
    state = initial_state(data, 4, "pca", np.random.default_rng(0))
    plain = copy.deepcopy(state)
    fast_rng, plain_rng = np.random.default_rng(7), np.random.default_rng(7)
    for iteration in range(1, 6):  # three epochs of 0.4 batches, θ updates from step 2
        stochastic_step(data, state, options, iteration, 0.4, 0.5, 0.25, fast_rng)
        _plain_step(data, plain, options, iteration, 0.4, 0.5, 0.25, plain_rng)
    np.testing.assert_allclose(state.Z_mean, plain.Z_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state.Z_var, plain.Z_var, rtol=1e-10)
    assert not np.allclose(state.Z_mean, initial_state(data, 4, "pca",
                                                       np.random.default_rng(0)).Z_mean)
    for vs, ps in zip(state.views, plain.views):
        for name in ("mu", "var", "gamma", "tau_a", "tau_b", "alpha_b", "theta_a"):
            np.testing.assert_allclose(getattr(vs, name), getattr(ps, name), rtol=1e-10,
                                       atol=1e-12, err_msg=name)


def test_scale_step_brings_svi_to_the_full_batch_bound():
    """The scale step (on by default) is what lets SVI reach the full-batch bound:
    after 20 half-sample iterations the SVI ELBO is within 0.2 % of 40 full sweeps
    with it, and more than 1 % below without it (measured: 0.07 % and 1.7 %)."""
    sim = simulate_mofa(n_samples=1500, view_sizes=(40, 30), rng=1)
    data, _ = prepare_views(sim.views)

    def bound(state, options):
        return sum(elbo_terms(data, state, options).values())

    full = initial_state(data, 5, "pca", np.random.default_rng(0))
    for iteration in range(1, 41):
        sweep(data, full, Options(), iteration)
    reference = bound(full, Options())
    gaps = {}
    for rescale in (True, False):
        options = Options(rescale=rescale)
        state = initial_state(data, 5, "pca", np.random.default_rng(0))
        rng = np.random.default_rng(2)
        for iteration in range(1, 21):
            stochastic_step(data, state, options, iteration, 0.5, 0.5, 0.25, rng)
        gaps[rescale] = (reference - bound(state, options)) / abs(reference)
    assert abs(gaps[True]) < 2e-3
    assert gaps[False] > 1e-2
