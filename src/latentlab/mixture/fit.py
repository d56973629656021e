"""EM with restarts for subgroup mixtures, component alignment and simulation."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from latentlab._divergence import DivergenceGuard
from latentlab._validation import (
    as_generator,
    check_array,
    check_in_range,
    check_integer,
    check_option,
    check_positive,
    check_probabilities,
)
from latentlab.mixture.components import ConvergenceWarning, LikelihoodDecreaseWarning
from latentlab.mixture.steps import (
    e_step,
    encode_subgroups,
    incomplete_loglik,
    m_step_components,
    m_step_weights,
)

__all__ = ["EMResult", "fit_em", "align_components", "simulate_mixture"]


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
    >>> from latentlab.mixture import BernoulliComponent
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
