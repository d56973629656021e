"""Seeded simulation of multi-view data with known factors (the design note's "small" set-up)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from latentlab._validation import as_generator, check_array, check_in_range, check_integer
from latentlab.mofa.data import LIKELIHOODS
from latentlab.mofa.likelihoods import poisson_rate

__all__ = ["SimulatedMOFA", "simulate_mofa", "DEFAULT_ACTIVITY"]

#: Five true factors over two views: f0, f1 shared; f2, f3 only in view 0; f4 only in view 1.
DEFAULT_ACTIVITY = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 1]], dtype=bool)


@dataclass(frozen=True)
class SimulatedMOFA:
    """Simulated views with their truth.

    Attributes
    ----------
    views : list of ndarray of shape (n_samples, n_features_m)
        NaN where an entry is missing.
    factors : ndarray of shape (n_samples, n_true_factors)
    weights : list of ndarray of shape (n_features_m, n_true_factors)
    activity : ndarray of bool, shape (n_views, n_true_factors)
    noise_sd : list of ndarray of shape (n_features_m,)
        Per-feature noise sd of the Gaussian views (NaN for the others).
    likelihoods : list of str
    """

    views: list
    factors: np.ndarray
    weights: list
    activity: np.ndarray
    noise_sd: list
    likelihoods: list


def simulate_mofa(
    n_samples: int = 200,
    view_sizes: tuple[int, ...] = (500, 300),
    *,
    activity=None,
    likelihoods=None,
    missing_fraction: float = 0.0,
    weight_density: float = 0.5,
    rng: None | int | np.random.Generator = None,
) -> SimulatedMOFA:
    """Simulate Z ~ N(0, 1), w ~ N(0, 1)·Bern(density) in active (view, factor) cells.

    Gaussian views get noise with sd ~ U(0.7, 1.3) per feature; Bernoulli views
    y ~ Bern(σ(zw)); Poisson views y ~ Poisson(ln(1 + e^{zw})).

    Parameters
    ----------
    n_samples : int
    view_sizes : tuple of int
        Features per view.
    activity : array_like of bool, shape (n_views, n_true_factors), optional
        Which factors act on which views; default :data:`DEFAULT_ACTIVITY`
        (needs two views).
    likelihoods : list of str, optional
        Per view; default all Gaussian.
    missing_fraction : float
        Share of entries set to NaN completely at random.
    weight_density : float
        Probability that a weight in an active cell is non-zero.
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> from latentlab.mofa import simulate_mofa
    >>> sim = simulate_mofa(n_samples=20, view_sizes=(5, 4), rng=0)
    >>> [v.shape for v in sim.views], sim.factors.shape
    ([(20, 5), (20, 4)], (20, 5))
    """
    n_samples = check_integer(n_samples, "n_samples", minimum=2)
    sizes = [check_integer(int(s), "view_sizes", minimum=1) for s in view_sizes]
    activity = DEFAULT_ACTIVITY if activity is None else check_array(activity, "activity", ndim=2, dtype=bool)
    if activity.shape[0] != len(sizes):
        raise ValueError(f"activity must have one row per view ({len(sizes)}), got shape {activity.shape}")
    likelihoods = ["gaussian"] * len(sizes) if likelihoods is None else list(likelihoods)
    if len(likelihoods) != len(sizes) or any(lik not in LIKELIHOODS for lik in likelihoods):
        raise ValueError(f"likelihoods must list one of {LIKELIHOODS} per view, got {likelihoods}")
    check_in_range(missing_fraction, "missing_fraction", 0.0, 0.9)
    generator = as_generator(rng)
    K = activity.shape[1]
    Z = generator.normal(size=(n_samples, K))
    views, weights, noise = [], [], []
    for m, (D, likelihood) in enumerate(zip(sizes, likelihoods)):
        W = generator.normal(size=(D, K)) * (generator.random((D, K)) < weight_density) * activity[m]
        linear = Z @ W.T
        if likelihood == "gaussian":
            sd = generator.uniform(0.7, 1.3, size=D)
            Y = linear + generator.normal(size=linear.shape) * sd
        elif likelihood == "bernoulli":
            sd = np.full(D, np.nan)
            Y = (generator.random(linear.shape) < expit(linear)).astype(float)
        else:
            sd = np.full(D, np.nan)
            Y = generator.poisson(poisson_rate(linear)).astype(float)
        if missing_fraction > 0:
            Y[generator.random(Y.shape) < missing_fraction] = np.nan
        views.append(Y)
        weights.append(W)
        noise.append(sd)
    return SimulatedMOFA(views, Z, weights, activity.copy(), noise, likelihoods)
