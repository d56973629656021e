"""Samplers for the latent component assignments z given (θ, π).

Reference behaviour (lymixture): only a 2-component Metropolis–Hastings
switch exists, run at temperature 0.5 by default. Each patient proposes the
other component and accepts with probability min(1, exp(Δ/T)). At T = 1 this
is an exact Metropolis update of z_i | θ, π; at T < 1 its stationary law is
∝ p(z | θ, π)^(1/T), an annealed search toward the MAP assignment, not a
posterior sampler. :func:`gibbs_latent` draws z_i ∝ p(z_i | θ, π)^(1/T)
exactly, for any K.
"""

from __future__ import annotations

import numpy as np
from latentlab._lse import logsumexp

from latentlab._validation import (
    as_generator,
    check_array,
    check_in_range,
    check_positive,
    check_probabilities,
)

__all__ = ["log_joint", "gibbs_latent", "mh_swap_sampler"]


def log_joint(log_lik: np.ndarray, weights: np.ndarray, subgroup_index: np.ndarray) -> np.ndarray:
    """log π_{k,s(i)} + log p(x_i | θ_k), shape (N, K).

    Examples
    --------
    >>> np.round(log_joint(np.zeros((1, 2)), np.array([[0.25], [0.75]]), np.array([0])), 3)
    array([[-1.386, -0.288]])
    """
    log_lik = check_array(log_lik, "log_lik", ndim=2, finite=False)
    weights = check_probabilities(weights, "weights")
    if weights.ndim != 2 or weights.shape[0] != log_lik.shape[1]:
        raise ValueError(f"weights must have shape (K={log_lik.shape[1]}, S), got {weights.shape}")
    subgroup_index = check_array(subgroup_index, "subgroup_index", shape=(log_lik.shape[0],), dtype=int)
    check_in_range(subgroup_index, "subgroup_index", 0, weights.shape[1] - 1)
    with np.errstate(divide="ignore"):
        return log_lik + np.log(weights)[:, subgroup_index].T


def _check_log_joint(value) -> np.ndarray:
    values = check_array(value, "log_joint_values", ndim=2, finite=False)
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"log_joint_values must have at least one patient and one component, got {values.shape}")
    if np.isnan(values).any() or np.isposinf(values).any():
        raise ValueError("log_joint_values must hold finite numbers or -inf, got NaN or +inf")
    if not np.isfinite(values).any(axis=1).all():
        raise ValueError("every row of log_joint_values needs at least one finite entry (a possible component)")
    return values


def _check_uniforms(uniforms, n: int) -> np.ndarray:
    u = check_array(uniforms, "uniforms", shape=(n,))
    check_in_range(u, "uniforms", 0.0, 1.0)
    return u


def gibbs_latent(log_joint_values: np.ndarray, rng=None, *, temperature: float = 1.0,
                 uniforms: np.ndarray | None = None) -> np.ndarray:
    """Draw z_i ~ Categorical(softmax(log_joint_i / T)) independently for every patient.

    Parameters
    ----------
    log_joint_values : ndarray of shape (n_patients, n_components)
    rng : None, int or Generator
    temperature : float
        1 samples the exact conditional p(z | θ, π); T < 1 sharpens it.
    uniforms : ndarray of shape (n_patients,), optional
        Pre-drawn U(0, 1) noise (then ``rng`` is unused), for exact tests.

    Examples
    --------
    >>> gibbs_latent(np.log([[0.9, 0.1], [0.1, 0.9]]), uniforms=np.array([0.5, 0.5])).tolist()
    [0, 1]
    """
    values = _check_log_joint(log_joint_values)
    T = check_positive(temperature, "temperature")
    scaled = values / T
    probs = np.exp(scaled - logsumexp(scaled, axis=1, keepdims=True))
    u = as_generator(rng).random(len(values)) if uniforms is None else _check_uniforms(uniforms, len(values))
    z = (u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    return np.minimum(z, values.shape[1] - 1).astype(np.int64)


def mh_swap_sampler(z: np.ndarray, log_joint_values: np.ndarray, rng=None, *, temperature: float = 0.5,
                    uniforms: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """One sweep of the reference's 2-component switch: propose k → 1 − k, accept if u < exp(Δ/T).

    Returns the new assignments and the number of accepted switches.

    Examples
    --------
    >>> z, n = mh_swap_sampler(np.array([0, 0]), np.log([[0.9, 0.1], [0.1, 0.9]]),
    ...                        temperature=1.0, uniforms=np.array([0.5, 0.5]))
    >>> z.tolist(), n
    ([0, 1], 1)
    """
    values = _check_log_joint(log_joint_values)
    if values.shape[1] != 2:
        raise ValueError(f"mh_swap_sampler needs exactly 2 components, got {values.shape[1]}; use gibbs_latent")
    z = check_array(z, "z", shape=(len(values),), dtype=int)
    check_in_range(z, "z", 0, 1)
    T = check_positive(temperature, "temperature")
    rows = np.arange(len(z))
    with np.errstate(invalid="ignore"):
        delta = (values[rows, 1 - z] - values[rows, z]) / T
    delta = np.nan_to_num(delta, nan=-np.inf)
    u = as_generator(rng).random(len(z)) if uniforms is None else _check_uniforms(uniforms, len(z))
    accept = np.log(u) < delta
    return np.where(accept, 1 - z, z), int(accept.sum())
