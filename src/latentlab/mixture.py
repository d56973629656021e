"""EM for mixtures of component models over subgroups (chapter 3).

Patient ``i`` belongs to subgroup ``s(i)`` (a tumour subsite); each subgroup
has its own weights ``π[:, s]`` over K components sharing one component model
with per-component parameters ``θ_k``. A *component* is any object with

- ``param_names`` (tuple of str), ``n_params``, ``bounds`` (n_params × 2), ``n_columns`` (data columns);
- ``prepare(X, stage=None)``: the θ-independent data object;
- ``log_likelihoods(thetas, data)``: (N, n_sets) log p(x_i | θ) for each row of ``thetas``;
- ``closed_form_m_step(data, responsibilities)``: (K, n_params) or ``None``;
- ``init_params(K, rng)`` and ``simulate(theta, stage, rng)``.

:class:`BernoulliComponent` (latent class model) and
:class:`latentlab.lymph.LymphHMMComponent` implement it.

Reference behaviour (lymixture): its E-step returns rows grouped by subgroup
and its M-step reads responsibilities stored in the model; here rows keep the
input order and every function takes its inputs as arguments.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment, minimize
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from latentlab._divergence import DivergenceGuard
from latentlab._lse import logsumexp
from latentlab._validation import (
    as_generator,
    check_array,
    check_in_range,
    check_integer,
    check_option,
    check_positive,
    check_probabilities,
)

__all__ = [
    "BernoulliComponent", "EMResult", "encode_subgroups", "e_step", "m_step_weights",
    "m_step_components", "incomplete_loglik", "complete_loglik", "entropy", "fit_em",
    "align_components", "simulate_mixture", "LikelihoodDecreaseWarning", "ConvergenceWarning",
]

_EPS = 1e-10


class LikelihoodDecreaseWarning(RuntimeWarning):
    """The EM log-likelihood dropped (a bug or a failed numerical M-step)."""


class ConvergenceWarning(RuntimeWarning):
    """``max_iter`` was reached before the EM tolerance."""


class BernoulliComponent:
    """Independent Bernoulli features (latent class model); NaN entries are marginalised.

    Examples
    --------
    >>> comp = BernoulliComponent(n_features=2)
    >>> data = comp.prepare([[1.0, np.nan], [0.0, 1.0]])
    >>> np.round(np.exp(comp.log_likelihoods([[0.8, 0.5]], data)[:, 0]), 3)
    array([0.8, 0.1])
    """

    has_closed_form = True

    def __init__(self, n_features: int, feature_names=None) -> None:
        self.n_params = check_integer(n_features, "n_features", minimum=1)
        self.n_columns = self.n_params
        names = [f"p{j}" for j in range(self.n_params)] if feature_names is None else list(feature_names)
        if len(names) != self.n_params:
            raise ValueError(f"feature_names must have {self.n_params} names, got {len(names)}")
        self.param_names = tuple(str(n) for n in names)
        self.bounds = np.tile([0.0, 1.0], (self.n_params, 1))

    def prepare(self, X: npt.ArrayLike, stage=None) -> np.ndarray:
        X = check_array(X, "X", ndim=2, shape=(None, self.n_params), allow_nan=True)
        observed = X[~np.isnan(X)]
        if np.any((observed != 0) & (observed != 1)):
            raise ValueError("X must hold involvement values 1 (True), 0 (False) or NaN (missing)")
        return X

    def log_likelihoods(self, thetas: npt.ArrayLike, data: np.ndarray) -> np.ndarray:
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        with np.errstate(divide="ignore"):
            log_p, log_q = np.log(thetas), np.log1p(-thetas)
        ones, zeros = np.nan_to_num(data) == 1, np.nan_to_num(data, nan=1.0) == 0
        # 0 · (−∞) := 0: unobserved or absent entries contribute nothing
        return _masked_matmul(ones, log_p.T) + _masked_matmul(zeros, log_q.T)

    def closed_form_m_step(self, data: np.ndarray, responsibilities: np.ndarray) -> np.ndarray:
        """θ_kd = Σ_i r_ik x_id / Σ_i r_ik [x_id observed], clipped to [1e-10, 1 − 1e-10]."""
        observed = ~np.isnan(data)
        ones = responsibilities.T @ np.nan_to_num(data)
        counts = responsibilities.T @ observed.astype(float)
        theta = np.divide(ones, counts, out=np.full_like(ones, 0.5), where=counts > 0)
        return np.clip(theta, _EPS, 1 - _EPS)

    def init_params(self, n_components: int, rng=None) -> np.ndarray:
        return as_generator(rng).uniform(0.1, 0.9, size=(n_components, self.n_params))

    def simulate(self, theta: npt.ArrayLike, stage: npt.ArrayLike, rng=None) -> np.ndarray:
        gen = as_generator(rng)
        return (gen.random((len(np.asarray(stage)), self.n_params)) < np.asarray(theta)).astype(float)


def _masked_matmul(mask: np.ndarray, log_values: np.ndarray) -> np.ndarray:
    """mask (N, D) @ log_values (D, K) with 0 · (−∞) = 0."""
    finite = np.isfinite(log_values)
    out = mask.astype(float) @ np.where(finite, log_values, 0.0)
    hits = mask.astype(float) @ (~finite).astype(float)
    return np.where(hits > 0, -np.inf, out)


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


@dataclass(frozen=True)
class EMResult:
    """Result of :func:`fit_em` (components in canonical order).

    Attributes
    ----------
    thetas : ndarray (K, n_params); weights : ndarray (K, S)
    log_responsibilities : ndarray (N, K), rows in input order
    loglik : float, the final incomplete log-likelihood
    history : tuple of float, ℓ after initialisation and after each iteration (best restart)
    n_iter : int; converged : bool
    restart_logliks : tuple of float, final ℓ of every restart
    param_names : tuple of str; subgroup_labels : tuple
    """

    thetas: np.ndarray
    weights: np.ndarray
    log_responsibilities: np.ndarray
    loglik: float
    history: tuple
    n_iter: int
    converged: bool
    restart_logliks: tuple
    param_names: tuple
    subgroup_labels: tuple


@threadpool_limits.wrap(limits=1, user_api="blas")  # many tiny products: BLAS threads only contend
def fit_em(component, X, subgroups, n_components: int, *, stage=None, n_restarts: int = 3,
           max_iter: int = 200, tol: float = 1e-6, rtol: float = 1e-9, init_thetas=None, init_weights=None,
           m_step_max_iter: int = 10, sort_by: int | str = 0, rng=None, verbose: bool = False) -> EMResult:
    """Fit a subgroup mixture by EM with restarts; keep the restart with the highest ℓ.

    Stops when ℓ changes by less than ``tol + rtol·|ℓ|`` (the reference's quickstart
    used ``rtol=1e-4``, ``tol=0``). ``init_thetas``/``init_weights`` start the first restart.
    A numerical M-step runs at most ``m_step_max_iter`` L-BFGS-B iterations (a partial,
    generalised-EM step: cheaper rounds, the same fixed points). Warns (:class:`LikelihoodDecreaseWarning`)
    if ℓ ever drops by more than 1e-8 relative, and (:class:`ConvergenceWarning`) if ``max_iter`` is reached.
    Components are sorted by parameter ``sort_by`` (index or name) for a canonical order.
    Raises :class:`~latentlab.DivergenceError` if ℓ becomes non-finite or collapses by
    orders of magnitude; its ``last_good`` is ``{"thetas", "weights"}`` of the last good
    iteration of that restart.

    Examples
    --------
    >>> comp = BernoulliComponent(n_features=3)
    >>> X, z, _ = simulate_mixture(comp, [[0.9, 0.9, 0.1], [0.1, 0.1, 0.9]], [[1, 0], [0, 1]], [100, 100], rng=0)
    >>> fit = fit_em(comp, X, [0] * 100 + [1] * 100, 2, rng=1)
    >>> np.round(fit.weights, 2)
    array([[0., 1.],
           [1., 0.]])
    """
    K = check_integer(n_components, "n_components", minimum=1)
    check_integer(n_restarts, "n_restarts", minimum=1)
    check_integer(max_iter, "max_iter", minimum=1)
    gen = as_generator(rng)
    data = component.prepare(X, stage)
    index, labels = encode_subgroups(subgroups)
    n_patients = data.shape[0] if isinstance(data, np.ndarray) else data.n_patients
    if len(index) != n_patients:
        raise ValueError(f"subgroups must have one label per patient ({n_patients}), got {len(index)}")
    if K > n_patients:
        raise ValueError(f"n_components must be <= the number of patients ({n_patients}), got {K}")
    check_positive(tol, "tol", strict=False)
    check_positive(rtol, "rtol", strict=False)
    check_integer(m_step_max_iter, "m_step_max_iter", minimum=1)
    names = tuple(component.param_names)
    if isinstance(sort_by, str):
        check_option(sort_by, "sort_by", names)
    else:
        check_integer(sort_by, "sort_by", minimum=-len(names), maximum=len(names) - 1)
    if init_thetas is not None:
        init_thetas = check_array(init_thetas, "init_thetas", shape=(K, len(names)))
        low, high = np.asarray(component.bounds, dtype=float).T
        if np.any(init_thetas < low) or np.any(init_thetas > high):
            raise ValueError(f"init_thetas must lie inside the component's bounds [{low.min():g}, "
                             f"{high.max():g}], got values from {init_thetas.min():g} to {init_thetas.max():g}")
    S = len(labels)
    best = None
    restart_logliks = []
    for restart in tqdm(range(n_restarts), disable=not verbose, desc="EM restarts"):
        thetas = component.init_params(K, gen) if (init_thetas is None or restart > 0) else np.array(init_thetas, float)
        weights = np.full((K, S), 1.0 / K)
        if init_weights is not None and restart == 0:
            weights = check_probabilities(init_weights, "init_weights", sums_to_one_axis=0)
            if weights.shape != (K, S):
                raise ValueError(f"init_weights must have shape (K, S) = ({K}, {S}), got {weights.shape}")
        log_lik = component.log_likelihoods(thetas, data)
        history = [incomplete_loglik(log_lik, weights, index)]
        guard = DivergenceGuard(f"fit_em (restart {restart})", maximise=True, unit="iteration")
        guard.keep(0, {"thetas": thetas.copy(), "weights": weights.copy()})
        converged = False
        for _ in range(max_iter):
            resp = np.exp(e_step(log_lik, weights, index))
            weights = m_step_weights(resp, index, S)
            thetas = m_step_components(component, data, resp, thetas, max_iter=m_step_max_iter)
            log_lik = component.log_likelihoods(thetas, data)
            history.append(incomplete_loglik(log_lik, weights, index))
            guard.check(len(history) - 1, history[-1])
            guard.keep(len(history) - 1, {"thetas": thetas.copy(), "weights": weights.copy()})
            change = history[-1] - history[-2]
            if change < -1e-8 * abs(history[-2]):
                warnings.warn(f"EM log-likelihood decreased by {-change:.3g} at iteration {len(history) - 1}",
                              LikelihoodDecreaseWarning, stacklevel=2)
            if abs(change) < tol + rtol * abs(history[-1]):
                converged = True
                break
        restart_logliks.append(history[-1])
        if best is None or history[-1] > best[0]:
            best = (history[-1], thetas, weights, history, converged)
    loglik, thetas, weights, history, converged = best
    if not converged:
        warnings.warn(f"EM did not converge in max_iter={max_iter} iterations", ConvergenceWarning, stacklevel=2)
    key = component.param_names.index(sort_by) if isinstance(sort_by, str) else int(sort_by)
    order = np.argsort(thetas[:, key], kind="stable")
    thetas, weights = thetas[order], weights[order]
    log_lik = component.log_likelihoods(thetas, data)
    return EMResult(
        thetas=thetas, weights=weights, log_responsibilities=e_step(log_lik, weights, index),
        loglik=float(loglik), history=tuple(float(h) for h in history), n_iter=len(history) - 1,
        converged=bool(converged), restart_logliks=tuple(float(v) for v in restart_logliks),
        param_names=tuple(component.param_names), subgroup_labels=labels,
    )


def align_components(thetas: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Permutation ``perm`` so that ``thetas[perm]`` best matches ``reference`` (Hungarian, squared error).

    Examples
    --------
    >>> align_components(np.array([[0.9], [0.1]]), np.array([[0.2], [0.8]])).tolist()
    [1, 0]
    """
    thetas = check_array(thetas, "thetas", ndim=2)
    reference = check_array(reference, "reference", shape=thetas.shape)
    cost = ((reference[:, None, :] - thetas[None, :, :]) ** 2).sum(-1)
    _, perm = linear_sum_assignment(cost)
    return perm


def simulate_mixture(component, thetas, weights, subgroup_sizes, *, stage_probability: float = 0.0,
                     rng=None):
    """Simulate subgroups: patient i of subgroup s draws z_i ~ π[:, s], then x_i from component z_i.

    Returns ``(X, z, stage)`` with stage ~ Bernoulli(stage_probability) (1 = late);
    patients are ordered by subgroup.
    """
    gen = as_generator(rng)
    thetas = check_array(thetas, "thetas", shape=(None, component.n_params))
    low, high = np.asarray(component.bounds, dtype=float).T
    if np.any(thetas < low) or np.any(thetas > high):
        raise ValueError(f"thetas must lie inside the component's bounds, got values from {thetas.min():g} "
                         f"to {thetas.max():g}")
    weights = check_probabilities(weights, "weights", sums_to_one_axis=0)
    if weights.shape[0] != thetas.shape[0]:
        raise ValueError(f"weights must have shape (K={thetas.shape[0]}, S), got {weights.shape}")
    sizes = check_array(subgroup_sizes, "subgroup_sizes", ndim=1, dtype=int)
    check_in_range(sizes, "subgroup_sizes", 0, np.inf)
    if weights.shape[1] != len(sizes):
        raise ValueError(f"subgroup_sizes must have one size per column of weights ({weights.shape[1]}), "
                         f"got {len(sizes)}")
    check_probabilities(stage_probability, "stage_probability")
    index = np.repeat(np.arange(len(sizes)), sizes)
    z = np.array([gen.choice(len(thetas), p=weights[:, s]) for s in index], dtype=np.int64)
    stage = (gen.random(len(z)) < stage_probability).astype(np.int64)
    X = np.empty((len(z), component.n_columns))
    for k in range(len(thetas)):
        rows = z == k
        if rows.any():
            X[rows] = component.simulate(thetas[k], stage[rows], gen)
    return X, z, stage
