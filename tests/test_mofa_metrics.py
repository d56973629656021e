"""Metrics and model selection for MOFA: definitions checked by direct computation."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from latentlab.mofa import (
    cv_reconstruction_error,
    enrichment_test,
    factor_activity,
    factor_recovery,
    fit_restarts,
    restart_reproducibility,
    simulate_mofa,
    variance_explained,
)
from latentlab.mofa.svi import step_size


def test_variance_explained_is_the_reference_definition_with_nans():
    rng = np.random.default_rng(0)
    Z, W = rng.normal(size=(30, 3)), rng.normal(size=(8, 3))
    Y = Z @ W.T + rng.normal(size=(30, 8))
    Y[rng.random(Y.shape) < 0.2] = np.nan
    per_factor, total = variance_explained([Y], Z, [W])
    ss = np.nansum(Y**2)
    for k in range(3):
        assert per_factor[0, k] == pytest.approx(1 - np.nansum((Y - np.outer(Z[:, k], W[:, k])) ** 2) / ss, rel=1e-12)
    assert total[0] == pytest.approx(1 - np.nansum((Y - Z @ W.T) ** 2) / ss, rel=1e-12)


def test_variance_explained_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="weights\\[0\\] must have shape"):
        variance_explained([np.zeros((4, 3))], np.zeros((4, 2)), [np.zeros((5, 2))])


def test_enrichment_p_value_equals_the_hypergeometric_tail_by_counting():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=40)
    in_set = np.zeros(40, bool)
    in_set[np.argsort(-np.abs(weights))[:4]] = True
    in_set[rng.choice(40, 6, replace=False)] = True
    overlap, p = enrichment_test(weights, in_set, n_top=8)
    D, S, n = 40, int(in_set.sum()), 8
    expected = sum(comb(S, x) * comb(D - S, n - x) for x in range(overlap, min(S, n) + 1)) / comb(D, n)
    assert overlap >= 4
    assert p == pytest.approx(expected, rel=1e-10)


def test_enrichment_rejects_bad_input():
    with pytest.raises(ValueError, match="n_top must be <= 3"):
        enrichment_test(np.ones(3), np.ones(3, bool), n_top=4)
    with pytest.raises(ValueError, match="in_set must have shape"):
        enrichment_test(np.ones(3), np.ones(2, bool), n_top=1)


def test_factor_activity_counts_switched_on_weights():
    gamma = np.array([[0.9, 0.2], [0.7, 0.6], [0.1, 0.4], [0.95, 0.3]])
    np.testing.assert_allclose(factor_activity(gamma), [0.75, 0.25])


def test_recovery_separates_rotation_from_loss():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(100, 2))
    rotation = np.array([[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]])
    best, subspace = factor_recovery(Z, Z @ rotation)
    assert best.max() < 0.9 and subspace.min() > 0.999999
    best, subspace = factor_recovery(Z, Z[:, :1])
    assert subspace[1] < 0.3


def test_restart_reproducibility_and_its_input_check():
    A = np.random.default_rng(3).normal(size=(50, 3))
    np.testing.assert_allclose(restart_reproducibility([A, -A[:, [2, 0, 1]]]), 1.0)
    with pytest.raises(ValueError, match="at least two"):
        restart_reproducibility([A])


def test_step_size_schedule():
    assert step_size(0, 1.0, 0.0) == 1.0
    assert step_size(3, 0.5, 1.0) == pytest.approx(0.5 / 4**0.75)


def test_cross_validation_prefers_the_true_number_of_factors():
    sim = simulate_mofa(n_samples=80, view_sizes=(40, 30), rng=4)
    errors = cv_reconstruction_error(sim.views, [1, 5], n_folds=3, rng=0, spike_slab=False, tol=1e-5)
    assert errors.shape == (2, 3)
    assert np.all(errors[1] < errors[0])


def test_restarts_find_the_same_factors_on_clean_data():
    sim = simulate_mofa(n_samples=150, view_sizes=(150, 100), rng=5,
                        activity=np.array([[1, 1, 0], [1, 0, 1]], bool))
    results, corr = fit_restarts(sim.views, 4, 3, rng=0)
    assert len(results) == 3
    assert corr.min() > 0.9
