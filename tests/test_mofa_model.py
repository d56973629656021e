"""The MOFA estimator on simulated data with known truth (design note oracles 3, 4, 6–10)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from latentlab.mofa import MOFA, ELBODecreaseWarning, factor_recovery, fit_mofa, simulate_mofa
from latentlab.mofa import model as model_module
from latentlab.mofa.data import prepare_views
from latentlab.mofa.inference import Options, initial_state, sweep

DISTINCT = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [1, 1, 0, 0, 1]], bool)


@pytest.fixture(scope="module")
def small():
    return simulate_mofa(n_samples=200, view_sizes=(500, 300), rng=0)


@pytest.fixture(scope="module")
def small_fit(small):
    return MOFA(10, verbose=False).fit(small.views, rng=1)


def _relative_diffs(history):
    h = np.asarray(history)
    return np.diff(h) / np.abs(h[1:])


def test_spike_slab_elbo_is_monotone_and_recovers_factors(small, small_fit):
    assert small_fit.converged
    assert _relative_diffs(small_fit.history).min() >= -1e-5
    _, subspace = factor_recovery(small.factors, small_fit.factors[:, small_fit.active_factors()])
    assert subspace.min() > 0.99


def test_plain_ard_elbo_is_monotone_to_1e8():
    sim = simulate_mofa(n_samples=200, view_sizes=(500, 300), rng=1)
    fit = MOFA(10, spike_slab=False, verbose=False, tol=1e-7).fit(sim.views, rng=0)
    assert _relative_diffs(fit.history).min() >= -1e-8
    _, subspace = factor_recovery(sim.factors, fit.factors[:, fit.active_factors()])
    assert subspace.min() > 0.99


def test_distinct_activity_patterns_give_max_corr_above_095():
    sim = simulate_mofa(n_samples=200, view_sizes=(400, 300, 300), activity=DISTINCT, rng=1)
    fit = MOFA(10, verbose=False, tol=1e-7).fit(sim.views, rng=0)
    best, subspace = factor_recovery(sim.factors, fit.factors[:, fit.active_factors()])
    assert best.min() > 0.95
    assert subspace.min() > 0.99


def test_ard_switches_off_exactly_the_spare_factors(small_fit):
    max_r2 = small_fit.r2_per_factor.max(axis=0)
    assert int(np.sum(max_r2 > 0.01)) == 5
    assert np.sort(max_r2)[:5].max() < 0.005


def test_pruning_ends_at_the_true_k_with_a_higher_elbo(small, small_fit):
    pruned = MOFA(10, drop_r2=0.01, verbose=False).fit(small.views, rng=1)
    assert pruned.n_factors == 5
    assert pruned.n_factors_history[0] <= 10 and pruned.n_factors_history[-1] == 5
    assert pruned.elbo >= small_fit.elbo


def test_pruning_keeps_at_least_one_factor(small):
    fit = MOFA(3, drop_r2=0.99, verbose=False, max_iter=20).fit(small.views, rng=1)
    assert fit.n_factors == 1


def test_missing_entries_keep_recovery_and_count_only_observed(small, small_fit):
    mask_rng = np.random.default_rng(3)
    views = [np.where(mask_rng.random(v.shape) < 0.1, np.nan, v) for v in small.views]
    fit = MOFA(10, verbose=False, tol=1e-5).fit(views, rng=1)
    _, subspace = factor_recovery(small.factors, fit.factors[:, fit.active_factors()])
    assert subspace.min() > 0.99
    assert np.abs(100 * (fit.r2_total - small_fit.r2_total)).max() < 1.0
    data, _ = prepare_views(views)
    state = initial_state(data, 4, "pca", np.random.default_rng(0))
    sweep(data, state, Options(), iteration=1)
    for view, vs in zip(views, state.views):
        np.testing.assert_array_equal(vs.tau_a - 1e-3, 0.5 * (~np.isnan(view)).sum(axis=0))


def test_whole_missing_samples_use_the_fast_path_and_match_the_residual_path(small):
    views = [small.views[0].copy(), small.views[1].copy()]
    views[1][:40] = np.nan  # 40 samples without the second view
    data, _ = prepare_views(views)
    assert data[1].row_wise
    slow = [type(v)(v.name, v.likelihood, v.Y, v.observed, v.rows, False, v.offset) for v in data]
    states = []
    for prepared in (data, slow):
        state = initial_state(prepared, 6, "pca", np.random.default_rng(0))
        for iteration in range(1, 4):
            sweep(prepared, state, Options(), iteration)
        states.append(state)
    np.testing.assert_allclose(states[0].Z_mean, states[1].Z_mean, rtol=1e-9, atol=1e-11)
    fit = MOFA(6, verbose=False).fit(views, rng=0)
    imputed = fit.impute(views)
    assert not np.isnan(imputed["view1"]).any()
    np.testing.assert_array_equal(imputed["view1"][40:], views[1][40:])


def test_same_seed_bit_identical_and_thread_count_irrelevant(small):
    first = MOFA(6, verbose=False, max_iter=60, init="random").fit(small.views, rng=3)
    second = MOFA(6, verbose=False, max_iter=60, init="random").fit(small.views, rng=3)
    np.testing.assert_array_equal(first.factors, second.factors)
    with threadpool_limits(1):
        one = MOFA(6, verbose=False, max_iter=60).fit(small.views, rng=3)
    with threadpool_limits(2):
        two = MOFA(6, verbose=False, max_iter=60).fit(small.views, rng=3)
    np.testing.assert_allclose(one.factors, two.factors, rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_different_random_starts_differ(small):
    first = MOFA(6, verbose=False, max_iter=5, init="random").fit(small.views, rng=3)
    second = MOFA(6, verbose=False, max_iter=5, init="random").fit(small.views, rng=4)
    assert not np.allclose(first.factors, second.factors)


def test_mixed_likelihoods_recover_every_factor_with_monotone_elbo():
    sim = simulate_mofa(n_samples=200, view_sizes=(500, 300, 300), activity=DISTINCT,
                        likelihoods=["gaussian", "bernoulli", "poisson"], rng=1)
    fit = MOFA(10, likelihoods=sim.likelihoods, verbose=False).fit(sim.views, rng=1)
    best, _ = factor_recovery(sim.factors, fit.factors[:, fit.active_factors()])
    assert best.min() > 0.95
    assert _relative_diffs(fit.history).min() >= -1e-5
    probabilities = fit.reconstruct("view1")
    assert probabilities.min() > 0 and probabilities.max() < 1


def test_svi_is_deterministic_and_close_to_full_batch(small, small_fit):
    options = dict(stochastic=True, max_iter=150, verbose=False, batch_fraction=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = MOFA(10, **options).fit(small.views, rng=5)
        second = MOFA(10, **options).fit(small.views, rng=5)
        other = MOFA(10, **options).fit(small.views, rng=6)
    np.testing.assert_array_equal(first.factors, second.factors)
    assert not np.array_equal(first.factors, other.factors)
    assert first.elbo == pytest.approx(small_fit.elbo, rel=0.02)
    _, subspace = factor_recovery(small.factors, first.factors[:, first.active_factors()])
    assert subspace.min() > 0.98


def test_decreasing_elbo_warns(small, monkeypatch):
    original = model_module.sweep

    def faulty(data, state, options, iteration):
        original(data, state, options, iteration)
        if iteration == 4:  # a deliberate fault: scale Z after the sweep, dropping the cached sums
            state.Z_mean = state.Z_mean * 3.0
            for vs in state.views:
                vs.cross = vs.residuals = None

    monkeypatch.setattr(model_module, "sweep", faulty)
    with pytest.warns(ELBODecreaseWarning, match="decreased at 1 iteration"):
        MOFA(4, verbose=False, max_iter=8, spike_slab=False, tol=1e-12).fit(small.views, rng=0)


def test_max_iter_warns_and_reports_not_converged(small):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = MOFA(4, verbose=False, max_iter=3).fit(small.views, rng=0)
    assert not fit.converged and fit.n_iter == 3 and len(fit.history) == 3
    assert all(type(v) is float for v in fit.history)
    assert set(fit.elbo_terms[-1]) == {"Y", "Z", "W", "Tau", "AlphaW", "ThetaW"}
    assert sum(fit.elbo_terms[-1].values()) == pytest.approx(fit.elbo)


def test_result_is_frozen_and_tabulates(small_fit):
    with pytest.raises(AttributeError):
        small_fit.elbo = 0.0
    table = small_fit.r2_table()
    assert table.shape == (2, small_fit.n_factors)
    np.testing.assert_allclose(table.to_numpy(), 100 * small_fit.r2_per_factor)


def test_dataframes_and_dicts_are_accepted(small):
    pd = pytest.importorskip("pandas")
    frames = {"rna": pd.DataFrame(small.views[0][:, :20]), "atac": pd.DataFrame(small.views[1][:, :10])}
    fit = fit_mofa(frames, 3, rng=0, verbose=False, spike_slab=False)
    assert fit.view_names == ["rna", "atac"] and fit.weights["atac"].shape == (10, 3)


@pytest.mark.parametrize(
    ("views", "kwargs", "message"),
    [
        ([np.zeros((5, 3)), np.zeros((6, 2))], {}, "same number of samples"),
        ([np.zeros((5, 3)), np.full((5, 2), np.nan)], {}, "entirely NaN"),
        ([np.full((5, 3), 2.0)], {"likelihoods": ["bernoulli"]}, "other than 0 and 1"),
        ([np.full((5, 3), -1.0)], {"likelihoods": ["poisson"]}, "negative values"),
        ([np.full((5, 3), 1.5)], {"likelihoods": ["poisson"]}, "non-integer"),
        ([np.zeros((5, 3))], {"n_factors": 0}, "n_factors must be >= 1"),
        ([np.zeros((5, 3))], {"likelihoods": ["normal"]}, "likelihood of view"),
        ([np.zeros((5, 3))], {"likelihoods": ["gaussian", "gaussian"]}, "one entry per view"),
        ([np.zeros(5)], {}, "2-D array"),
        ([], {}, "at least one view"),
    ],
)
def test_bad_input_raises_clear_errors(views, kwargs, message):
    n_factors = kwargs.pop("n_factors", 2)
    with pytest.raises(ValueError, match=message):
        MOFA(n_factors, verbose=False, **kwargs).fit(views, rng=0)


def test_feature_names_are_kept_and_checked(small):
    views = [small.views[0][:, :4], small.views[1][:, :3]]
    names = {"view0": list("abcd"), "view1": list("xyz")}
    fit = MOFA(2, verbose=False, spike_slab=False, max_iter=400).fit(views, feature_names=names, rng=0)
    assert fit.feature_names["view1"] == ["x", "y", "z"]
    with pytest.raises(ValueError, match="must have 3 entries"):
        MOFA(2, verbose=False).fit(views, feature_names=[list("abcd"), list("xy")], rng=0)


def test_stochastic_refuses_non_gaussian_views():
    with pytest.raises(ValueError, match="Gaussian views only"):
        MOFA(2, stochastic=True, likelihoods=["bernoulli"], verbose=False).fit([np.eye(4)], rng=0)


def test_closed_form_hyperparameter_identities_after_sweeps(small):
    data, _ = prepare_views(small.views)
    state = initial_state(data, 6, "pca", np.random.default_rng(0))
    for iteration in range(1, 4):
        sweep(data, state, Options(start_sparsity=1), iteration)
    for view, vs in zip(data, state.views):
        D = view.Y.shape[1]
        np.testing.assert_allclose(vs.alpha_a, 1e-14 + D / 2, rtol=1e-15)
        np.testing.assert_allclose(vs.theta_a + vs.theta_b, 1.0 + 1.0 + D, rtol=1e-13)


@pytest.mark.parametrize("ard", [True, False])
def test_more_factors_than_samples_is_refused(ard):
    # 40 factors for 20 samples: without ARD this used to report R² ≈ 0 and converged=True
    sim = simulate_mofa(n_samples=20, view_sizes=(30, 20), rng=0)
    with pytest.raises(ValueError, match=r"n_factors must be at most the number of samples \(20\)"):
        MOFA(40, ard=ard, spike_slab=False, verbose=False).fit(sim.views, rng=0)
    result = MOFA(20, ard=ard, spike_slab=False, verbose=False).fit(sim.views, rng=0)
    assert result.n_factors <= 20 and result.r2_total.min() > 0.3
