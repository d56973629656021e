"""Evaluating a factor model: variance explained, activity, enrichment, recovery, reproducibility.

R² follows mofapy2's definition so that numbers are comparable: for view m
and factor k, R²_mk = 1 − Σ(y − ⟨z_k⟩⟨w_k⟩ᵀ)² / Σ y² over the observed
entries of the centred data (uncentred sums of squares), and the total R²
uses ⟨Z⟩⟨W⟩ᵀ; the per-factor values need not sum to the total.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.stats import hypergeom, kruskal

from latentlab._validation import check_array, check_integer, check_probabilities, check_same_length

__all__ = [
    "variance_explained",
    "factor_activity",
    "enrichment_test",
    "factor_recovery",
    "match_factors",
    "restart_reproducibility",
    "label_association",
]


def _r2_filled(Y: np.ndarray, observed: np.ndarray, Z: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, float]:
    """R² per factor and total for one view; ``Y`` is 0 where not observed."""
    O = observed.astype(float)
    total_ss = float(np.sum(Y**2))
    C = Y.T @ Z
    Q = O.T @ Z**2
    per_factor_ss = total_ss - 2.0 * np.sum(W * C, axis=0) + np.sum(W**2 * Q, axis=0)
    residual = O * (Y - Z @ W.T)
    return 1.0 - per_factor_ss / total_ss, 1.0 - float(np.sum(residual**2)) / total_ss


def variance_explained(
    views: Sequence[np.ndarray] | Mapping[str, np.ndarray],
    factors: np.ndarray,
    weights: Sequence[np.ndarray] | Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """R² per view and factor, and in total per view (fractions, not percentages).

    Parameters
    ----------
    views : list or dict of ndarray of shape (n_samples, n_features_m)
        Centred data, NaN where missing.
    factors : ndarray of shape (n_samples, n_factors)
        ⟨Z⟩.
    weights : list or dict of ndarray of shape (n_features_m, n_factors)
        ⟨W⟩ per view, in the same order as ``views``.

    Returns
    -------
    r2_per_factor : ndarray of shape (n_views, n_factors)
    r2_total : ndarray of shape (n_views,)

    Examples
    --------
    >>> from latentlab.mofa.metrics import variance_explained
    >>> Z = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> per_factor, total = variance_explained([Z @ W.T], Z, [W])
    >>> per_factor.round(2).tolist(), total.round(2).tolist()
    ([[0.5, 0.5]], [1.0])
    """
    view_list = list(views.values()) if isinstance(views, Mapping) else list(views)
    weight_list = list(weights.values()) if isinstance(weights, Mapping) else list(weights)
    if len(view_list) != len(weight_list):
        raise ValueError(f"views and weights must have the same length, got {len(view_list)} and {len(weight_list)}")
    Z = check_array(factors, "factors", ndim=2)
    per_factor, total = [], []
    for m, (Y, W) in enumerate(zip(view_list, weight_list)):
        Y = check_array(Y, f"views[{m}]", ndim=2, shape=(Z.shape[0], None), allow_nan=True)
        W = check_array(W, f"weights[{m}]", ndim=2, shape=(Y.shape[1], Z.shape[1]))
        observed = ~np.isnan(Y)
        r2_k, r2 = _r2_filled(np.where(observed, Y, 0.0), observed, Z, W)
        per_factor.append(r2_k)
        total.append(r2)
    return np.array(per_factor), np.array(total)


def factor_activity(slab_probability: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Share of a view's features whose weight on each factor is switched on (γ > threshold).

    Parameters
    ----------
    slab_probability : ndarray of shape (n_features, n_factors)
        q(s_dk = 1) of one view.

    Returns
    -------
    ndarray of shape (n_factors,)

    Examples
    --------
    >>> from latentlab.mofa.metrics import factor_activity
    >>> factor_activity(np.array([[0.9, 0.1], [0.8, 0.2]])).tolist()
    [1.0, 0.0]
    """
    gamma = check_probabilities(slab_probability, "slab_probability")
    if gamma.ndim != 2:
        raise ValueError(f"slab_probability must be a 2-D array (D, K), got shape {gamma.shape}")
    threshold = float(check_probabilities(threshold, "threshold"))
    return (gamma > threshold).mean(axis=0)


def enrichment_test(weights: np.ndarray, in_set: np.ndarray, n_top: int) -> tuple[int, float]:
    """Hypergeometric test: are a factor's top-|weight| features enriched in a feature set?

    Parameters
    ----------
    weights : ndarray of shape (n_features,)
        One factor's weights in one view.
    in_set : ndarray of bool, shape (n_features,)
        Membership of each feature in the set.
    n_top : int
        How many top-weighted features to take.

    Returns
    -------
    overlap : int
        Top features that are in the set.
    p_value : float
        P(X ≥ overlap) for X ~ Hypergeom(D, |set|, n_top) (``scipy.stats.hypergeom``).

    Examples
    --------
    >>> from latentlab.mofa.metrics import enrichment_test
    >>> w = np.array([5.0, 4.0, 0.1, 0.2, 0.0, 0.3])
    >>> overlap, p = enrichment_test(w, np.array([1, 1, 0, 0, 0, 0], bool), n_top=2)
    >>> overlap, round(p, 4)
    (2, 0.0667)
    """
    w = check_array(weights, "weights", ndim=1)
    members = np.asarray(in_set, dtype=bool)
    if members.shape != w.shape:
        raise ValueError(f"in_set must have shape {w.shape}, got {members.shape}")
    n_top = check_integer(n_top, "n_top", minimum=1, maximum=w.size)
    top = np.argsort(-np.abs(w), kind="stable")[:n_top]
    overlap = int(members[top].sum())
    p_value = float(hypergeom.sf(overlap - 1, w.size, int(members.sum()), n_top))
    return overlap, p_value


def _standardise(X: np.ndarray) -> np.ndarray:
    X = X - X.mean(axis=0)
    norm = np.linalg.norm(X, axis=0)
    return X / np.where(norm > 0, norm, 1.0)


def match_factors(reference: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each reference factor, the other factor with the largest |corr|, and that correlation (signed).

    Examples
    --------
    >>> from latentlab.mofa.metrics import match_factors
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]])
    >>> index, corr = match_factors(A, -A[:, ::-1])
    >>> index.tolist(), corr.round(3).tolist()
    ([1, 0], [-1.0, -1.0])
    """
    reference = check_array(reference, "reference", ndim=2)
    other = check_array(other, "other", ndim=2)
    check_same_length({"reference": reference, "other": other})
    R = _standardise(reference).T @ _standardise(other)
    index = np.argmax(np.abs(R), axis=1)
    return index, R[np.arange(R.shape[0]), index]


def factor_recovery(true_factors: np.ndarray, inferred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recovery of each true factor: max |corr| with one inferred factor, and the
    multiple correlation with all inferred factors (the subspace metric).

    Examples
    --------
    >>> from latentlab.mofa.metrics import factor_recovery
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(50, 2))
    >>> rotated = Z @ np.array([[1.0, 1.0], [-1.0, 1.0]])
    >>> best, subspace = factor_recovery(Z, rotated)
    >>> bool(best.max() < 0.9), subspace.round(6).tolist()
    (True, [1.0, 1.0])
    """
    T = check_array(true_factors, "true_factors", ndim=2)
    F = check_array(inferred, "inferred", ndim=2)
    check_same_length({"true_factors": T, "inferred": F})
    if T.shape[0] < 2 or T.shape[1] == 0 or F.shape[1] == 0:
        raise ValueError(f"true_factors and inferred need >= 2 samples and >= 1 factor, "
                         f"got shapes {T.shape} and {F.shape}")
    T, F = _standardise(T), _standardise(F)
    best = np.abs(T.T @ F).max(axis=1)
    coef, *_ = np.linalg.lstsq(F, T, rcond=None)
    fitted = F @ coef
    subspace = np.sqrt(np.clip(np.sum(fitted**2, axis=0), 0.0, 1.0))
    return best, subspace


def restart_reproducibility(factor_sets: Sequence[np.ndarray]) -> np.ndarray:
    """For every factor of the first fit, its best |corr| with a factor of each other fit.

    Returns
    -------
    ndarray of shape (n_restarts - 1, n_factors_first)
        Compare with the usual bar of 0.7.

    Examples
    --------
    >>> from latentlab.mofa.metrics import restart_reproducibility
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]])
    >>> restart_reproducibility([A, A[:, ::-1]]).round(3).tolist()
    [[1.0, 1.0]]
    """
    if len(factor_sets) < 2:
        raise ValueError(f"factor_sets must hold at least two fits, got {len(factor_sets)}")
    factor_sets = [check_array(f, f"factor_sets[{i}]", ndim=2) for i, f in enumerate(factor_sets)]
    if len(factor_sets) < 2:
        raise ValueError(f"factor_sets must hold at least 2 fits to compare, got {len(factor_sets)}")
    for i, other in enumerate(factor_sets[1:], start=1):
        if len(other) != len(factor_sets[0]):
            raise ValueError(f"factor_sets[{i}] has {len(other)} samples, factor_sets[0] has {len(factor_sets[0])}")
    reference = factor_sets[0]
    return np.array([np.abs(match_factors(reference, other)[1]) for other in factor_sets[1:]])


def label_association(factors: np.ndarray, labels) -> np.ndarray:
    """Kruskal–Wallis p-value of each factor against a categorical sample label.

    Samples whose label is missing (``None``/empty string) are left out. The
    labels play no part in the fit; this only asks afterwards which factors
    differ between groups.

    Returns
    -------
    ndarray of shape (n_factors,)

    Examples
    --------
    >>> from latentlab.mofa.metrics import label_association
    >>> Z = np.column_stack([np.r_[np.zeros(10), np.ones(10)] + np.linspace(0, 0.1, 20), np.tile([0.0, 1.0], 10)])
    >>> (label_association(Z, ["a"] * 10 + ["b"] * 10) < 0.01).tolist()
    [True, False]
    """
    Z = check_array(factors, "factors", ndim=2)
    labels = np.asarray(labels, dtype=object)
    if labels.shape != (Z.shape[0],):
        raise ValueError(f"labels must have shape ({Z.shape[0]},), got {labels.shape}")
    keep = np.array([label is not None and label != "" for label in labels])
    groups = sorted(set(labels[keep].tolist()))
    if len(groups) < 2:
        raise ValueError(f"labels must hold at least two groups, got {groups}")
    return np.array([kruskal(*[Z[keep & (labels == g), k] for g in groups]).pvalue for k in range(Z.shape[1])])
