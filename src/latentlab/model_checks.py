"""Choosing K and checking a fitted subgroup mixture (chapter 3).

- :func:`stratified_folds`, :func:`heldout_logliks`: cross-validated held-out
  log-likelihood per patient, folds stratified by subgroup so every subgroup's
  weights are learned in every training set;
- :func:`information_criteria`: AIC and BIC with the number of free parameters;
- :func:`one_se_choice`: the best K by held-out likelihood, and the smallest K
  within one paired standard error of it;
- :func:`replicated_prevalence`: posterior predictive replicates of the observed
  involvement per subgroup and level, with each patient's own missingness.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from latentlab._lse import logsumexp
from latentlab._validation import (
    as_generator,
    check_array,
    check_in_range,
    check_integer,
    check_probabilities,
    check_real,
)
from latentlab.mixture import ConvergenceWarning, encode_subgroups, fit_em

__all__ = ["stratified_folds", "heldout_logliks", "information_criteria", "n_free_parameters",
           "replicated_prevalence", "one_se_choice", "KChoice"]


def stratified_folds(subgroup_index, n_folds: int, rng=None) -> np.ndarray:
    """Fold number per patient, each subgroup dealt round-robin over the folds in random order.

    Examples
    --------
    >>> folds = stratified_folds([0, 0, 0, 1, 1, 1], 3, rng=0)
    >>> sorted(folds[:3].tolist()), sorted(folds[3:].tolist())
    ([0, 1, 2], [0, 1, 2])
    """
    index = check_array(subgroup_index, "subgroup_index", ndim=1, dtype=int)
    check_in_range(index, "subgroup_index", 0, np.inf)
    check_integer(n_folds, "n_folds", minimum=2)
    gen = as_generator(rng)
    folds = np.empty(len(index), dtype=np.int64)
    start = 0
    for s in np.unique(index):
        members = gen.permutation(np.flatnonzero(index == s))
        folds[members] = (start + np.arange(len(members))) % n_folds
        start += len(members)
    return folds


def n_free_parameters(component, n_components: int, n_subgroups: int) -> int:
    """K·P component parameters plus (K − 1)·S free weights."""
    n_components = check_integer(n_components, "n_components", minimum=1)
    n_subgroups = check_integer(n_subgroups, "n_subgroups", minimum=1)
    return n_components * component.n_params + (n_components - 1) * n_subgroups


def information_criteria(loglik: float, n_params: int, n_obs: int) -> tuple[float, float]:
    """(AIC, BIC) = (−2ℓ + 2p, −2ℓ + p log n); smaller is better.

    Examples
    --------
    >>> information_criteria(-100.0, 3, 50)
    (206.0, 211.736069016...)
    """
    loglik = check_real(loglik, "loglik")
    n_params = check_integer(n_params, "n_params", minimum=0)
    n_obs = check_integer(n_obs, "n_obs", minimum=1)
    return float(-2 * loglik + 2 * n_params), float(-2 * loglik + n_params * np.log(n_obs))


@dataclass(frozen=True)
class KChoice:
    """Result of :func:`one_se_choice`: the best K, the one-SE choice, and for every K
    its held-out deficit against the best (nats) and the paired standard error."""

    best: int
    chosen: int
    deficit: dict
    se: dict


def one_se_choice(heldout: dict) -> KChoice:
    """Choose K from per-patient held-out log-likelihoods by the one-standard-error rule.

    ``heldout`` maps each K to the held-out log-likelihood of every patient (the
    same patients in the same order). The best K has the largest total; the
    deficit of K is Σ_i (ℓ_i(best) − ℓ_i(K)), with the paired standard error
    sd_i(·) √n; the choice is the smallest K whose deficit is at most its SE.

    Examples
    --------
    >>> choice = one_se_choice({1: np.array([-1.0, -2.0, -1.5]),
    ...                         2: np.array([-0.9, -2.1, -1.2])})
    >>> choice.best, choice.chosen, round(choice.deficit[1], 2)
    (2, 1, 0.2)
    """
    if not isinstance(heldout, dict) or not heldout:
        raise TypeError(f"heldout must be a non-empty dict K -> per-patient log-likelihoods, "
                        f"got {type(heldout).__name__}")
    values = {check_integer(k, "heldout keys", minimum=1):
              check_array(v, f"heldout[{k}]", ndim=1) for k, v in heldout.items()}
    lengths = {len(v) for v in values.values()}
    if len(lengths) != 1 or lengths == {1}:
        raise ValueError(f"heldout must hold arrays of one common length >= 2 (the same "
                         f"patients), got lengths {sorted(lengths)}")
    best = max(values, key=lambda k: values[k].sum())
    deficit, se = {}, {}
    for k, v in values.items():
        d = values[best] - v
        deficit[k], se[k] = float(d.sum()), float(d.std(ddof=1) * np.sqrt(len(d)))
    chosen = min(k for k in values if deficit[k] <= se[k] or k == best)
    return KChoice(best=best, chosen=chosen, deficit=deficit, se=se)


def heldout_logliks(component, X, subgroups, n_components: int, folds, *, stage=None,
                    init=None, max_iter: int = 100, tol: float = 1e-2, rng=None,
                    sort_by=0) -> np.ndarray:
    """log p(x_i | fit without i's fold), per patient, for a K-component mixture.

    Each fold's training set is fitted by :func:`~latentlab.mixture.fit_em` (one
    start; ``init``, an :class:`~latentlab.mixture.EMResult` on all patients, warm-
    starts it, which is much cheaper and, if anything, flatters larger K less than
    random starts would hurt it); held-out patients are scored with their
    subgroup's weights from the training fit.
    """
    index, labels = encode_subgroups(subgroups)
    folds = check_array(folds, "folds", shape=(len(index),), dtype=int)
    stage = np.zeros(len(index), dtype=np.int64) if stage is None else np.asarray(stage)
    X = np.asarray(X, dtype=float)
    out = np.empty(len(index))
    gen = as_generator(rng)
    for f in np.unique(folds):
        train, test = folds != f, folds == f
        if len(set(index[train].tolist())) != len(labels):
            raise ValueError(f"fold {f} leaves a subgroup out of training; use fewer folds")
        kwargs = {} if init is None else {"init_thetas": init.thetas, "init_weights": init.weights}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = fit_em(component, X[train], index[train], n_components, stage=stage[train],
                         n_restarts=1, max_iter=max_iter, tol=tol, rng=gen, sort_by=sort_by,
                         **kwargs)
        ll = component.log_likelihoods(fit.thetas, component.prepare(X[test], stage[test]))
        with np.errstate(divide="ignore"):
            log_w = np.log(fit.weights[:, index[test]]).T
        out[test] = logsumexp(ll + log_w, axis=1)
    return out


def replicated_prevalence(component, theta_draws, weight_draws, X, subgroup_index, stage,
                          n_subgroups: int, rng=None) -> np.ndarray:
    """Replicated observed prevalence per draw, subgroup and column: (D, S, L).

    For every posterior draw (θ (K, P), π (K, S)) each patient gets a component
    from its subgroup's weights and a hidden state from that component's state
    distribution at its T-stage; the state is observed through the component's
    (first) modality wherever the patient's own entry of ``X`` is observed.
    """
    gen = as_generator(rng)
    X = check_array(X, "X", ndim=2, allow_nan=True)
    n_subgroups = check_integer(n_subgroups, "n_subgroups", minimum=1)
    index = check_array(subgroup_index, "subgroup_index", shape=(len(X),), dtype=int)
    check_in_range(index, "subgroup_index", 0, n_subgroups - 1)
    stage = check_array(stage, "stage", shape=(len(X),), dtype=int)
    theta_draws = check_probabilities(theta_draws, "theta_draws")
    weight_draws = check_probabilities(weight_draws, "weight_draws", sums_to_one_axis=-2)
    if theta_draws.ndim != 3 or weight_draws.ndim != 3 or len(theta_draws) != len(weight_draws):
        raise ValueError(f"theta_draws (R, K, P) and weight_draws (R, K, S) must be 3-D with the same R, "
                         f"got shapes {theta_draws.shape} and {weight_draws.shape}")
    observed = ~np.isnan(X)
    spec, sens = next(iter(component.modalities.values()))
    onehot = np.eye(n_subgroups)[index]
    counts = onehot.T @ observed
    out = np.empty((len(theta_draws), n_subgroups, X.shape[1]))
    for d, (theta, weights) in enumerate(zip(theta_draws, weight_draws)):
        cum_w = np.cumsum(weights[:, index], axis=0)                # (K, N)
        z = (gen.random(len(index)) > cum_w).sum(axis=0).clip(0, len(theta) - 1)
        dists = component.state_distributions(theta)[z, stage]     # (N, n_states)
        state = (gen.random(len(index))[:, None] > np.cumsum(dists, axis=1)).sum(axis=1)
        hidden = component.bits[state.clip(0, component.n_states - 1)]
        p_pos = np.where(hidden == 1, sens, 1.0 - spec)
        rep = (gen.random(hidden.shape) < p_pos) & observed
        with np.errstate(invalid="ignore", divide="ignore"):
            out[d] = (onehot.T @ rep) / np.where(counts > 0, counts, np.nan)
    return out
