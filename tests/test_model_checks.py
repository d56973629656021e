"""Tests for latentlab.model_checks and latentlab.mcmc.marginal (chapter 3)."""

import numpy as np
import pytest

from latentlab.lymph import LymphHMMComponent, predicted_involvement
from latentlab.mcmc import marginal_chains, rhat
from latentlab.mixture import BernoulliComponent, fit_em, simulate_mixture
from latentlab.model_checks import (
    heldout_logliks, information_criteria, n_free_parameters, replicated_prevalence,
    stratified_folds,
)


def test_stratified_folds_deal_every_subgroup_over_all_folds():
    index = np.repeat([0, 1, 2], [10, 7, 3])
    folds = stratified_folds(index, 3, rng=0)
    for s in range(3):
        counts = np.bincount(folds[index == s], minlength=3)
        assert counts.max() - counts.min() <= 1
    assert sorted(np.bincount(folds).tolist()) == [6, 7, 7]
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        stratified_folds(index, 1)


def test_heldout_loglik_of_one_bernoulli_component_is_the_training_frequency():
    comp = BernoulliComponent(1)
    X = np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [1.0]])
    groups = np.zeros(6, dtype=int)
    folds = np.array([0, 0, 0, 1, 1, 1])
    out = heldout_logliks(comp, X, groups, 1, folds)
    # fold 0 is scored with θ = 2/3 from fold 1, fold 1 with θ = 2/3 from fold 0
    expected = np.log(np.where(X[:, 0] == 1, 2 / 3, 1 / 3))
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_heldout_prefers_the_true_number_of_components():
    comp = BernoulliComponent(4)
    theta = np.array([[0.9, 0.9, 0.1, 0.1], [0.1, 0.1, 0.9, 0.9]])
    X, _, _ = simulate_mixture(comp, theta, [[0.8, 0.3], [0.2, 0.7]], [150, 150], rng=0)
    groups = np.repeat([0, 1], 150)
    folds = stratified_folds(groups, 3, rng=1)
    scores = {k: heldout_logliks(comp, X, groups, k, folds, rng=2, tol=1e-6).sum()
              for k in (1, 2)}
    assert scores[2] > scores[1] + 20


def test_information_criteria_and_parameter_count():
    hmm = LymphHMMComponent()
    assert n_free_parameters(hmm, 2, 10) == 2 * 10 + 10
    aic, bic = information_criteria(-100.0, 3, 50)
    assert aic == 206.0 and bic == pytest.approx(200 + 3 * np.log(50))


def test_replicated_prevalence_matches_the_model_prevalence():
    hmm = LymphHMMComponent(lnls=("II", "III"))
    theta = np.array([[0.5, 0.1, 0.4, 0.6], [0.1, 0.05, 0.1, 0.3]])
    weights = np.array([[0.7, 0.2], [0.3, 0.8]])
    index = np.repeat([0, 1], 400)
    stage = np.tile([0, 1], 400)
    X = np.zeros((800, 2))
    X[::3, 1] = np.nan  # reported or not, independently of the outcome
    reps = replicated_prevalence(hmm, [theta] * 300, [weights] * 300, X, index, stage, 2,
                                 rng=0)
    assert reps.shape == (300, 2, 2)
    expected = predicted_involvement(hmm, theta, weights, index, stage)
    np.testing.assert_allclose(reps.mean(axis=0), expected, atol=0.01)


def test_marginal_chains_sample_the_conjugate_posterior():
    # one Bernoulli component: θ | x ~ Beta(1 + k, 1 + n - k), weights trivially 1
    comp = BernoulliComponent(1)
    X = np.array([[1.0]] * 12 + [[0.0]] * 28 + [[np.nan]] * 5)
    res = marginal_chains(comp, X, np.zeros(45, dtype=int), [[0.5]], [[1.0]],
                          n_chains=4, n_iter=4000, theta_scale=0.6, rng=0)
    draws = res.thetas[:, 500:, 0, 0]
    a, b = 13, 29
    assert abs(draws.mean() - a / (a + b)) < 0.01
    assert abs(draws.var() - a * b / ((a + b) ** 2 * (a + b + 1))) < 0.001
    assert rhat(draws) < 1.01


def test_marginal_chains_recover_the_weights_and_adapt():
    comp = BernoulliComponent(3)
    theta = np.array([[0.9, 0.9, 0.9], [0.1, 0.1, 0.1]])
    X, _, _ = simulate_mixture(comp, theta, [[0.8, 0.2], [0.2, 0.8]], [200, 200], rng=1)
    groups = np.repeat([0, 1], 200)
    fit = fit_em(comp, X, groups, 2, rng=0, sort_by=0)
    res = marginal_chains(comp, X, groups, fit.thetas, fit.weights, n_chains=4, n_iter=1500,
                          adapt=300, rng=2)
    kept = res.weights[:, 500:, 1, :]  # weight of the high-θ component (sorted last)
    assert np.all(np.abs(kept.mean(axis=(0, 1)) - fit.weights[1]) < 0.03)
    assert np.all(rhat(kept) < 1.02)
    assert 0.1 < res.accept_theta.mean() < 0.9 and 0.1 < res.accept_weights.mean() < 0.9
    with pytest.raises(ValueError, match="init_thetas must be"):
        marginal_chains(comp, X, groups, fit.thetas[:, :2], fit.weights)
