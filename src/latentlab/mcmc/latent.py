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
from scipy.special import log_softmax

from latentlab._validation import as_generator, check_array, check_positive

__all__ = ["log_joint", "gibbs_latent", "mh_swap_sampler"]


def log_joint(log_lik: np.ndarray, weights: np.ndarray, subgroup_index: np.ndarray) -> np.ndarray:
    """log π_{k,s(i)} + log p(x_i | θ_k), shape (N, K).

    Examples
    --------
    >>> np.round(log_joint(np.zeros((1, 2)), np.array([[0.25], [0.75]]), np.array([0])), 3)
    array([[-1.386, -0.288]])
    """
    with np.errstate(divide="ignore"):
        return np.asarray(log_lik) + np.log(np.asarray(weights))[:, subgroup_index].T


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
    values = check_array(log_joint_values, "log_joint_values", ndim=2, finite=False)
    T = check_positive(temperature, "temperature")
    probs = np.exp(log_softmax(values / T, axis=1))
    u = as_generator(rng).random(len(values)) if uniforms is None else np.asarray(uniforms)
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
    values = check_array(log_joint_values, "log_joint_values", ndim=2, finite=False)
    if values.shape[1] != 2:
        raise ValueError(f"mh_swap_sampler needs exactly 2 components, got {values.shape[1]}; use gibbs_latent")
    z = check_array(z, "z", shape=(len(values),), dtype=int)
    T = check_positive(temperature, "temperature")
    rows = np.arange(len(z))
    with np.errstate(invalid="ignore"):
        delta = (values[rows, 1 - z] - values[rows, z]) / T
    delta = np.nan_to_num(delta, nan=-np.inf)
    u = as_generator(rng).random(len(z)) if uniforms is None else np.asarray(uniforms)
    accept = np.log(u) < delta
    return np.where(accept, 1 - z, z), int(accept.sum())
