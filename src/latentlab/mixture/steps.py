"""The E- and M-steps and the log-likelihoods of a subgroup mixture (EM's building blocks).

Rows keep the input order and every function takes its inputs as arguments
(lymixture's E-step returned rows grouped by subgroup and its M-step read
responsibilities stored in the model).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from latentlab._lse import logsumexp
from latentlab._validation import (
    check_array,
    check_in_range,
    check_integer,
    check_probabilities,
)

__all__ = [
    "encode_subgroups", "e_step", "m_step_weights", "m_step_components", "incomplete_loglik",
    "complete_loglik", "entropy",
]


def encode_subgroups(subgroups, labels=None) -> tuple[np.ndarray, tuple]:
    """Map subgroup labels to integer indices 0..S−1; every label must occur.

    Examples
    --------
    >>> idx, labels = encode_subgroups(["b", "a", "b"])
    >>> idx.tolist(), labels
    ([1, 0, 1], ('a', 'b'))
    """
    values = np.asarray(subgroups)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"subgroups must be a non-empty 1-D array of labels, got shape {values.shape}")
    labels = tuple(sorted(set(values.tolist()))) if labels is None else tuple(labels)
    lookup = {label: j for j, label in enumerate(labels)}
    unknown = sorted({str(v) for v in values.tolist() if v not in lookup})
    if unknown:
        raise ValueError(f"subgroups contains unknown labels {unknown}; expected one of {list(labels)}")
    index = np.array([lookup[v] for v in values.tolist()], dtype=np.int64)
    empty = [labels[j] for j in range(len(labels)) if not np.any(index == j)]
    if empty:
        raise ValueError(f"subgroup(s) {empty} have no patients; drop them or merge them")
    return index, labels


def _checked(log_lik, weights, subgroup_index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log p (N, K) without NaN/+inf, π (K, S) columns on the simplex, subgroup index in [0, S)."""
    log_lik = check_array(log_lik, "log_lik", ndim=2, finite=False)
    if np.isnan(log_lik).any() or np.isposinf(log_lik).any():
        raise ValueError("log_lik must hold finite log-likelihoods or -inf, got NaN or +inf")
    weights = check_probabilities(weights, "weights", sums_to_one_axis=0)
    if weights.ndim != 2 or weights.shape[0] != log_lik.shape[1]:
        raise ValueError(f"weights must have shape (K={log_lik.shape[1]}, S), got {weights.shape}")
    subgroup_index = check_array(subgroup_index, "subgroup_index", shape=(log_lik.shape[0],), dtype=int)
    check_in_range(subgroup_index, "subgroup_index", 0, weights.shape[1] - 1)
    return log_lik, weights, subgroup_index


def _log_weights(weights: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(weights)


def e_step(log_lik: np.ndarray, weights: np.ndarray, subgroup_index: np.ndarray) -> np.ndarray:
    """Log-responsibilities log r_ik = log π_{k,s(i)} + log p_ik − logsumexp_k(·), rows in input order.

    Examples
    --------
    >>> log_r = e_step(np.log([[0.2, 0.6]]), np.array([[0.5], [0.5]]), np.array([0]))
    >>> np.round(np.exp(log_r), 3)
    array([[0.25, 0.75]])
    """
    log_lik, weights, subgroup_index = _checked(log_lik, weights, subgroup_index)
    joint = log_lik + _log_weights(weights)[:, subgroup_index].T
    return joint - logsumexp(joint, axis=1, keepdims=True)


def m_step_weights(responsibilities: np.ndarray, subgroup_index: np.ndarray, n_subgroups: int) -> np.ndarray:
    """π_{k,s} = (1/N_s) Σ_{i∈s} r_ik, shape (K, S).

    Examples
    --------
    >>> m_step_weights(np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]), np.array([0, 0, 1]), 2)
    array([[0.75, 0.  ],
           [0.25, 1.  ]])
    """
    n_subgroups = check_integer(n_subgroups, "n_subgroups", minimum=1)
    responsibilities = check_probabilities(responsibilities, "responsibilities", sums_to_one_axis=1)
    if responsibilities.ndim != 2:
        raise ValueError(f"responsibilities must be a 2-D array (N, K), got shape {responsibilities.shape}")
    subgroup_index = check_array(subgroup_index, "subgroup_index", shape=(len(responsibilities),), dtype=int)
    check_in_range(subgroup_index, "subgroup_index", 0, n_subgroups - 1)
    onehot = np.eye(n_subgroups)[subgroup_index]  # (N, S)
    totals = responsibilities.T @ onehot
    return totals / onehot.sum(axis=0)


def incomplete_loglik(log_lik: np.ndarray, weights: np.ndarray, subgroup_index: np.ndarray) -> float:
    """ℓ(θ, π) = Σ_i log Σ_k π_{k,s(i)} p(x_i | θ_k).

    Examples
    --------
    >>> round(incomplete_loglik(np.log([[0.2, 0.6]]), np.array([[0.5], [0.5]]), np.array([0])), 4)
    -0.9163
    """
    log_lik, weights, subgroup_index = _checked(log_lik, weights, subgroup_index)
    joint = log_lik + _log_weights(weights)[:, subgroup_index].T
    return float(logsumexp(joint, axis=1).sum())


def complete_loglik(log_lik, weights, subgroup_index, responsibilities) -> float:
    """ℓ_c(r) = Σ_i Σ_k r_ik [log π_{k,s(i)} + log p_ik] with 0 · (−∞) := 0.

    Examples
    --------
    >>> w = np.array([[1.0], [0.0]])       # component 2 has zero weight: log π = −∞
    >>> round(complete_loglik(np.log([[0.5, 0.5]]), w, np.array([0]), np.array([[1.0, 0.0]])), 4)
    -0.6931
    """
    log_lik, weights, subgroup_index = _checked(log_lik, weights, subgroup_index)
    responsibilities = check_probabilities(responsibilities, "responsibilities", sums_to_one_axis=1)
    if responsibilities.shape != log_lik.shape:
        raise ValueError(f"responsibilities must have the shape of log_lik {log_lik.shape}, "
                         f"got {responsibilities.shape}")
    joint = log_lik + _log_weights(weights)[:, subgroup_index].T
    positive = responsibilities > 0
    terms = np.zeros_like(joint)
    terms[positive] = responsibilities[positive] * joint[positive]  # 0 · (−∞) is never formed
    return float(terms.sum())


def entropy(responsibilities: np.ndarray) -> float:
    """H(r) = −Σ_ik r_ik log r_ik (0 log 0 := 0); ℓ ≥ ℓ_c(r) + H(r), equal at the posterior.

    Examples
    --------
    >>> round(entropy(np.array([[0.5, 0.5], [1.0, 0.0]])), 4)
    0.6931
    """
    r = check_array(responsibilities, "responsibilities", ndim=2)
    r = check_probabilities(r, "responsibilities", sums_to_one_axis=1)
    return float(-np.sum(np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)))


def m_step_components(component, data, responsibilities: np.ndarray, thetas: np.ndarray,
                      max_iter: int = 50) -> np.ndarray:
    """θ_k = argmax Σ_i r_ik log p(x_i | θ_k): closed form if the component has one, else bounded L-BFGS-B.

    The numerical update starts at the current ``thetas`` and is accepted only
    if it improves the weighted objective (generalised EM), so ℓ never drops.
    All K components and their forward-difference gradients are evaluated in one
    vectorised likelihood call per L-BFGS-B step.

    Reference behaviour: lymixture runs Powell (≈400 evaluations per component per
    M-step, no gradients) and raises on ``success=False``; here an unsuccessful or
    non-improving optimisation simply keeps the current θ.

    Examples
    --------
    >>> from latentlab.mixture import BernoulliComponent
    >>> comp = BernoulliComponent(1)
    >>> data = comp.prepare([[1.0], [1.0], [0.0]])
    >>> np.round(m_step_components(comp, data, np.ones((3, 1)), np.array([[0.5]])), 3)
    array([[0.667]])
    """
    n_rows = data.shape[0] if isinstance(data, np.ndarray) else data.n_patients
    responsibilities = check_array(responsibilities, "responsibilities", ndim=2)
    if len(responsibilities) != n_rows:
        raise ValueError(f"responsibilities must have one row per patient ({n_rows}), got {len(responsibilities)}")
    thetas = check_array(thetas, "thetas", shape=(responsibilities.shape[1], component.n_params))
    closed = component.closed_form_m_step(data, responsibilities)
    if closed is not None:
        return np.asarray(closed, dtype=float)
    K, P = np.shape(thetas)
    lower = np.maximum(component.bounds[:, 0], 1e-6)
    upper = np.minimum(component.bounds[:, 1], 1 - 1e-6)
    weight = np.asarray(responsibilities, dtype=float)
    step = 1e-7

    def weighted(ll: np.ndarray, w: np.ndarray) -> np.ndarray:  # Σ_i w_i ll_i with 0·(−∞) := 0
        return np.where(w > 0, w * np.where(np.isfinite(ll), ll, -1e300), 0.0).sum(axis=0)

    def objective_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        # all K components and their K·P forward-difference perturbations in one vectorised call
        theta = flat.reshape(K, P)
        h = np.where(theta + step > upper, -step, step)  # stay inside the box
        perturbed = theta[:, None, :] + np.eye(P)[None] * h[:, None, :]
        ll = component.log_likelihoods(np.vstack([theta, perturbed.reshape(K * P, P)]), data)
        base = weighted(ll[:, :K], weight)
        moved = weighted(ll[:, K:], np.repeat(weight, P, axis=1)).reshape(K, P)
        return -float(base.sum()), -((moved - base[:, None]) / h).ravel()

    start = np.clip(np.asarray(thetas, dtype=float), lower, upper)
    before, _ = objective_and_gradient(np.asarray(thetas, dtype=float).ravel())
    # L-BFGS-B's tiny dense updates go through BLAS; multi-threading them only adds contention
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(objective_and_gradient, start.ravel(), jac=True, method="L-BFGS-B",
                          bounds=list(zip(np.tile(lower, K), np.tile(upper, K))), options={"maxiter": max_iter})
    if result.fun < before:  # generalised EM: accept only an improvement
        return result.x.reshape(K, P)
    return np.array(thetas, dtype=float, copy=True)

