"""Tests for the tiny lymphatic-spread HMM (latentlab.lymph)."""

import itertools

import numpy as np
import pytest
from scipy.stats import binom

from latentlab.lymph import LymphHMMComponent, early_late

RNG = np.random.default_rng(20261121)


def _brute_force_likelihood(hmm, theta, x_row, stage):
    """Independent evaluation: explicit paths over time with per-LNL loops (no matrices)."""
    L = len(hmm.lnls)
    n_tumour = L
    edges = hmm._edge_index
    states = list(itertools.product([0, 1], repeat=L))
    dist = {s: 0.0 for s in states}
    dist[tuple([0] * L)] = 1.0
    p = hmm.early_p if stage == 0 else theta[-1]
    total = {s: 0.0 for s in states}
    for t in range(hmm.t_max + 1):
        w = binom.pmf(t, hmm.t_max, p)
        for s in states:
            total[s] += w * dist[s]
        new = {s: 0.0 for s in states}
        for s, mass in dist.items():
            if mass == 0:
                continue
            probs = []
            for v in range(L):
                if s[v]:
                    probs.append(1.0)
                    continue
                healthy = 1 - theta[v]
                for e, (u, w_) in enumerate(edges):
                    if w_ == v and s[u]:
                        healthy *= 1 - theta[n_tumour + e]
                probs.append(1 - healthy)
            for s2 in states:
                factor = 1.0
                for v in range(L):
                    factor *= probs[v] if s2[v] else 1 - probs[v]
                new[s2] += mass * factor
        dist = new
    like = 0.0
    for s in states:
        obs = 1.0
        for m, (spec, sens) in enumerate(hmm.modalities.values()):
            for v in range(L):
                o = x_row[m * L + v]
                if np.isnan(o):
                    continue
                p_pos = sens if s[v] else 1 - spec
                obs *= p_pos if o == 1 else 1 - p_pos
        like += total[s] * obs
    return like


def test_transition_matrix_upper_triangular_rows_sum_to_one():
    hmm = LymphHMMComponent(lnls=("I", "II", "III"))
    A = hmm.transition_matrices(RNG.uniform(0.05, 0.95, size=(4, hmm.n_params)))
    assert A.shape == (4, 8, 8)
    np.testing.assert_allclose(A.sum(axis=2), 1.0, atol=1e-12)
    assert np.all(np.tril(A, k=-1) == 0)
    # involvement is absorbing: a move is possible only to a superset of the current state
    for s, s2 in itertools.product(range(8), repeat=2):
        if s & ~s2:
            assert np.all(A[:, s, s2] == 0)


def test_matches_brute_force_enumeration_with_missing_values():
    hmm = LymphHMMComponent(lnls=("I", "II", "III"), modalities={"CT": (0.76, 0.81), "path": (1.0, 1.0)})
    theta = RNG.uniform(0.05, 0.95, size=hmm.n_params)
    X = RNG.integers(0, 2, size=(12, 6)).astype(float)
    X[RNG.random(X.shape) < 0.3] = np.nan
    stage = np.arange(12) % 2
    ours = np.exp(hmm.log_likelihoods(theta[None], hmm.prepare(X, stage))[:, 0])
    brute = [_brute_force_likelihood(hmm, theta, X[i], stage[i]) for i in range(12)]
    np.testing.assert_allclose(ours, brute, rtol=1e-10)


def test_likelihoods_over_all_complete_observations_sum_to_one():
    hmm = LymphHMMComponent(lnls=("II", "III"), modalities={"CT": (0.9, 0.8), "MRI": (0.7, 0.85)})
    X = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    theta = np.array([[0.3, 0.1, 0.4, 0.6]])
    for stage in (0, 1):
        lik = np.exp(hmm.log_likelihoods(theta, hmm.prepare(X, np.full(16, stage))))
        assert lik.sum() == pytest.approx(1.0, abs=1e-12)


def test_perfect_modality_gives_state_probability():
    hmm = LymphHMMComponent(lnls=("II", "III"))
    theta = np.array([0.4, 0.2, 0.5, 0.7])
    states = hmm.bits.astype(float)
    lik = np.exp(hmm.log_likelihoods(theta[None], hmm.prepare(states, np.ones(4, int)))[:, 0])
    np.testing.assert_allclose(lik, hmm.state_distributions(theta[None])[0, 1], rtol=1e-12)


def test_marginalising_a_column_equals_summing_over_its_values():
    hmm = LymphHMMComponent(lnls=("I", "II", "III"), modalities={"CT": (0.8, 0.7)})
    theta = RNG.uniform(0.1, 0.9, size=(2, hmm.n_params))
    X = np.array([[1.0, np.nan, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    lik = np.exp(hmm.log_likelihoods(theta, hmm.prepare(X, [1, 1, 1])))
    np.testing.assert_allclose(lik[0], lik[1] + lik[2], rtol=1e-12)


def test_fixed_late_p_removes_the_parameter():
    free = LymphHMMComponent(lnls=("II", "III"))
    fixed = LymphHMMComponent(lnls=("II", "III"), late_p=0.6)
    assert fixed.param_names == free.param_names[:-1]
    X = np.array([[1.0, 0.0]])
    a = free.log_likelihoods([[0.3, 0.1, 0.4, 0.6]], free.prepare(X, [1]))
    b = fixed.log_likelihoods([[0.3, 0.1, 0.4]], fixed.prepare(X, [1]))
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_simulate_matches_state_distribution():
    hmm = LymphHMMComponent(lnls=("II", "III"))
    theta = np.array([0.4, 0.2, 0.5, 0.7])
    X = hmm.simulate(theta, np.ones(20000, int), rng=3)
    codes = (X * [1, 2]).sum(axis=1).astype(int)
    freq = np.bincount(codes, minlength=4) / len(codes)
    expected = hmm.state_distributions(theta[None])[0, 1]
    assert np.max(np.abs(freq - expected)) < 4 * np.sqrt(0.25 / 20000)


def test_early_late_mapping():
    assert early_late([0, 1, 2, 3, 4]).tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="t_stage must lie in"):
        early_late([5])


def test_bad_inputs():
    hmm = LymphHMMComponent(lnls=("II", "III"))
    with pytest.raises(ValueError, match="involvement values"):
        hmm.prepare([[2.0, 0.0]])
    with pytest.raises(ValueError, match="X must have shape"):
        hmm.prepare([[1.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="stage must lie in"):
        hmm.prepare([[1.0, 0.0]], stage=[2])
    with pytest.raises(ValueError, match="must lie in"):
        LymphHMMComponent(modalities={"CT": (1.5, 0.8)})
    with pytest.raises(ValueError, match="lnl_edges"):
        LymphHMMComponent(lnls=("II", "III"), lnl_edges=[("II", "IV")])


@pytest.mark.parametrize("kwargs, message", [
    ({"early_p": 2.0}, "early_p must lie in"), ({"early_p": -0.1}, "early_p must lie in"),
    ({"late_p": 1.5}, "late_p must lie in"), ({"t_max": 0}, "t_max must be >= 1"),
    ({"t_max": -3}, "t_max must be >= 1"), ({"t_max": 2.5}, "t_max must be an integer"),
])
def test_constructor_arguments_are_checked(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        LymphHMMComponent(lnls=("II", "III"), **kwargs)


def test_thetas_outside_the_unit_interval_are_refused():
    hmm = LymphHMMComponent(lnls=("II", "III"))
    data = hmm.prepare([[1.0, 0.0]])
    for bad in ([[0.5, 0.1, 1.2, 0.3]], [[0.5, -0.1, 0.2, 0.3]], [[0.5, np.nan, 0.2, 0.3]]):
        with pytest.raises(ValueError, match="thetas must lie in"):
            hmm.log_likelihoods(bad, data)
    with pytest.raises(ValueError, match="thetas must have shape"):
        hmm.state_distributions([[0.5, 0.1, 0.2]])
    # the bounds themselves are valid and give finite likelihoods for possible data
    ll = hmm.log_likelihoods([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]], hmm.prepare([[0.0, 0.0]]))
    assert ll[0, 0] == pytest.approx(0.0, abs=1e-12)  # no spread: healthy for sure


def test_matches_lymph_model_per_patient_likelihoods():
    """Cross-check against lymph-model (tested version 1.3.8; optional, skipped without it)."""
    lymph = pytest.importorskip("lymph")
    import pandas as pd

    graph = {("tumor", "T"): ["II", "III"], ("lnl", "II"): ["III"], ("lnl", "III"): []}
    model = lymph.models.Unilateral(graph_dict=graph, max_time=10)
    model.set_modality("CT", spec=0.76, sens=0.81)
    model.set_distribution("early", lymph.diagnosis_times.Distribution(binom.pmf(np.arange(11), 10, 0.3)))
    model.set_distribution("late", lymph.diagnosis_times.Distribution(
        lambda support, p=0.5: binom.pmf(support, 10, p), max_time=10))
    params = {"TtoII_spread": 0.3, "TtoIII_spread": 0.1, "IItoIII_spread": 0.4, "late_p": 0.6}
    model.set_params(**params)  # always by name
    X = RNG.integers(0, 2, size=(10, 2)).astype(float)
    X[RNG.random(X.shape) < 0.3] = np.nan
    t_stage = np.array([1, 3] * 5)  # T1 -> early, T3 -> late (lymph's default mapping)
    to_bool = lambda column: [None if np.isnan(v) else bool(v) for v in column]
    frame = pd.DataFrame({("CT", "ipsi", "II"): to_bool(X[:, 0]), ("CT", "ipsi", "III"): to_bool(X[:, 1]),
                          ("tumor", "1", "t_stage"): t_stage, ("tumor", "core", "t_stage"): t_stage})
    model.load_patient_data(frame)
    ours_hmm = LymphHMMComponent(lnls=("II", "III"), modalities={"CT": (0.76, 0.81)})
    ours = np.exp(ours_hmm.log_likelihoods([list(params.values())], ours_hmm.prepare(X, early_late(t_stage))))[:, 0]
    for name, stage in (("early", 1), ("late", 3)):
        if hasattr(model, "patient_likelihoods"):
            theirs = model.patient_likelihoods(t_stage=name)
        else:
            theirs = model.get_distribution(name).pmf @ model.state_dist_evo() @ model.diagnosis_matrix(name).T
        np.testing.assert_allclose(ours[t_stage == stage], np.ravel(theirs), rtol=1e-10)


def test_predicted_involvement_matches_simulation_and_observed_prevalence():
    from latentlab.lymph import observed_prevalence, predicted_involvement

    hmm = LymphHMMComponent(lnls=("II", "III"))
    thetas = np.array([[0.5, 0.1, 0.4, 0.6], [0.1, 0.05, 0.1, 0.4]])
    weights = np.array([[0.8, 0.2], [0.2, 0.8]])
    rng = np.random.default_rng(21)
    index = np.repeat([0, 1], 20000)
    stage = rng.integers(0, 2, size=40000)
    z = np.where(rng.random(40000) < weights[0, index], 0, 1)
    X = np.empty((40000, 2))
    for k in (0, 1):
        X[z == k] = hmm.simulate(thetas[k], stage[z == k], rng)
    predicted = predicted_involvement(hmm, thetas, weights, index, stage)
    np.testing.assert_allclose(observed_prevalence(X, index, 2), predicted, atol=0.015)
    X[::2, 0] = np.nan  # missing completely at random leaves the observed prevalence unbiased
    np.testing.assert_allclose(observed_prevalence(X, index, 2), predicted, atol=0.02)


def test_posterior_involvement_perfect_and_uninformative_diagnoses():
    from latentlab.lymph import posterior_involvement, predicted_involvement

    theta = np.array([[0.4, 0.2, 0.3, 0.5, 0.6, 0.5], [0.1, 0.5, 0.2, 0.1, 0.3, 0.4]])
    pi = np.array([0.3, 0.7])
    perfect = LymphHMMComponent(lnls=("I", "II", "III"), modalities={"path": (1.0, 1.0)})
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    np.testing.assert_allclose(posterior_involvement(perfect, theta, pi, X, [0, 1]), X, atol=1e-12)
    nothing = np.full((2, 3), np.nan)
    prior = predicted_involvement(perfect, theta, pi[:, None], [0, 0], [0, 1])  # mean over the two stages
    np.testing.assert_allclose(posterior_involvement(perfect, theta, pi, nothing, [0, 1]).mean(axis=0), prior[0])


def test_subgroup_posterior_is_bayes_rule():
    from latentlab.lymph import subgroup_posterior

    hmm = LymphHMMComponent(lnls=("II", "III"), modalities={"CT": (0.8, 0.7)})
    theta = np.array([[0.5, 0.1, 0.4, 0.6], [0.1, 0.3, 0.1, 0.4]])
    weights = np.array([[0.9, 0.2, 0.5], [0.1, 0.8, 0.5]])
    X = np.array([[1.0, 0.0], [np.nan, 1.0]])
    post = subgroup_posterior(hmm, theta, weights, X, [0, 1], prior=[0.5, 0.3, 0.2])
    lik = np.exp(hmm.log_likelihoods(theta, hmm.prepare(X, [0, 1])))
    by_hand = (lik @ weights) * [0.5, 0.3, 0.2]
    np.testing.assert_allclose(post, by_hand / by_hand.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
