"""Predictions of a fitted lymph-HMM mixture: prevalences, a patient's risk, subgroups."""

from __future__ import annotations

import numpy as np

from latentlab._validation import check_array, check_in_range, check_integer, check_probabilities
from latentlab.lymph.model import LymphHMMComponent

__all__ = [
    "predicted_involvement", "predicted_involvement_draws", "observed_prevalence",
    "posterior_involvement", "subgroup_posterior",
]


def predicted_involvement(component: LymphHMMComponent, thetas, weights, subgroup_index, stage) -> np.ndarray:
    """Model prevalence of involvement per subgroup and LNL, shape (S, L).

    For subgroup s: the mean over its patients i of Σ_k π_{k,s} P(LNL v involved | θ_k, stage_i),
    i.e. the π-mixture of the component state distributions at the subgroup's own T-stage mix.

    Examples
    --------
    >>> hmm = LymphHMMComponent(lnls=("II",))
    >>> np.round(predicted_involvement(hmm, [[0.1, 0.5]], [[1.0]], [0, 0], [0, 1]), 3)
    array([[0.332]])
    """
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    weights = check_probabilities(weights, "weights", sums_to_one_axis=0)
    index = check_array(subgroup_index, "subgroup_index", ndim=1, dtype=int)
    stage = check_array(stage, "stage", shape=(len(index),), dtype=int)
    marginals = component.state_distributions(thetas) @ component.bits  # (K, 2, L)
    per_patient = np.einsum("ki,kil->il", weights[:, index], marginals[:, stage, :])  # (N, L)
    onehot = np.eye(weights.shape[1])[index]
    return (onehot.T @ per_patient) / onehot.sum(axis=0)[:, None]


def predicted_involvement_draws(component: LymphHMMComponent, thetas, weights, subgroup_index,
                                stage) -> np.ndarray:
    """:func:`predicted_involvement` for many posterior draws at once, shape (D, S, L).

    ``thetas`` (D, K, P) and ``weights`` (D, K, S) hold D draws; the state
    distributions of all D·K parameter sets come from one vectorised call.

    Examples
    --------
    >>> hmm = LymphHMMComponent(lnls=("II",))
    >>> draws = predicted_involvement_draws(hmm, [[[0.1, 0.5]], [[0.2, 0.5]]], [[[1.0]], [[1.0]]],
    ...                                     [0, 0], [0, 1])
    >>> draws.shape, float(np.round(draws[0, 0, 0], 3))
    ((2, 1, 1), 0.332)
    """
    thetas = check_array(thetas, "thetas", ndim=3)
    weights = check_probabilities(weights, "weights", sums_to_one_axis=1)
    if weights.ndim != 3 or weights.shape[:2] != thetas.shape[:2]:
        raise ValueError(f"weights must have shape (D, K, S) = ({thetas.shape[0]}, "
                         f"{thetas.shape[1]}, S), got {weights.shape}")
    index = check_array(subgroup_index, "subgroup_index", ndim=1, dtype=int)
    check_in_range(index, "subgroup_index", 0, weights.shape[2] - 1)
    stage = check_array(stage, "stage", shape=(len(index),), dtype=int)
    check_in_range(stage, "stage", 0, 1)
    D, K, P = thetas.shape
    marginals = component.state_distributions(thetas.reshape(D * K, P)) @ component.bits
    marginals = marginals.reshape(D, K, 2, -1)                                 # (D, K, 2, L)
    onehot = np.eye(weights.shape[2])[index]
    sizes = onehot.sum(axis=0)
    out = np.zeros((D, weights.shape[2], marginals.shape[-1]))
    for g in (0, 1):  # patients at stage g: Σ_k π_{k,s} P(v | θ_k, g), summed per subgroup
        counts = onehot[stage == g].sum(axis=0)                               # (S,)
        out += np.einsum("dks,dkl,s->dsl", weights, marginals[:, :, g], counts)
    with np.errstate(invalid="ignore"):
        return out / sizes[None, :, None]


def observed_prevalence(X, subgroup_index, n_subgroups: int) -> np.ndarray:
    """Fraction involved among the *observed* entries per subgroup and column, shape (S, D); NaN if none.

    Examples
    --------
    >>> observed_prevalence(np.array([[1.0], [np.nan], [0.0]]), [0, 0, 1], 2).tolist()
    [[1.0], [0.0]]
    """
    X = check_array(X, "X", ndim=2, allow_nan=True)
    index = check_array(subgroup_index, "subgroup_index", shape=(len(X),), dtype=int)
    n_subgroups = check_integer(n_subgroups, "n_subgroups", minimum=1)
    check_in_range(index, "subgroup_index", 0, n_subgroups - 1)
    observed = ~np.isnan(X)
    onehot = np.eye(n_subgroups)[index]
    counts = onehot.T @ observed
    with np.errstate(invalid="ignore", divide="ignore"):
        return (onehot.T @ np.nan_to_num(X)) / np.where(counts > 0, counts, np.nan)


def posterior_involvement(component: LymphHMMComponent, thetas, subgroup_weights, X, stage) -> np.ndarray:
    """P(LNL v involved | diagnosis x_i) for patients of one subgroup, shape (n, L).

    The prior over hidden states is the mixture Σ_k π_k P(state | θ_k, stage_i) with this
    subgroup's weights ``subgroup_weights`` (K,); ``X`` uses ``component``'s modalities, so a
    model fitted on pathology can be queried with a CT diagnosis (same parameters).

    Examples
    --------
    >>> hmm = LymphHMMComponent(lnls=("II", "III"), modalities={"CT": (0.76, 0.81)})
    >>> risk = posterior_involvement(hmm, [[0.5, 0.1, 0.4, 0.6]], [1.0], [[1.0, 0.0]], [0])
    >>> risk.shape, bool(risk[0, 0] > risk[0, 1])
    ((1, 2), True)
    """
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    pi = check_probabilities(subgroup_weights, "subgroup_weights", sums_to_one_axis=0)
    data = component.prepare(X, stage)
    prior = np.einsum("k,kgs->gs", pi, component.state_distributions(thetas))[data.stage]  # (n, S)
    joint = prior * data.diagnosis
    return (joint @ component.bits) / joint.sum(axis=1, keepdims=True)


def subgroup_posterior(component: LymphHMMComponent, thetas, weights, X, stage, prior=None) -> np.ndarray:
    """P(subgroup s | diagnosis x_i) ∝ P(s) Σ_k π_{k,s} p(x_i | θ_k), shape (n, S); uniform P(s) by default.

    Examples
    --------
    >>> hmm = LymphHMMComponent(lnls=("II",))
    >>> post = subgroup_posterior(hmm, [[0.9, 0.5], [0.05, 0.5]], [[1.0, 0.0], [0.0, 1.0]], [[1.0]], [1])
    >>> np.round(post, 3)
    array([[0.817, 0.183]])
    """
    weights = check_probabilities(weights, "weights", sums_to_one_axis=0)
    S = weights.shape[1]
    prior = np.full(S, 1.0 / S) if prior is None else check_probabilities(prior, "prior", sums_to_one_axis=0)
    lik = np.exp(component.log_likelihoods(thetas, component.prepare(X, stage)))  # (n, K)
    joint = (lik @ weights) * prior
    return joint / joint.sum(axis=1, keepdims=True)
