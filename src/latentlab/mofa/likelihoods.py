r"""Non-Gaussian views as Gaussian pseudo-data: Jaakkola (Bernoulli) and Seeger (Poisson).

Both replace the log-likelihood of an entry with a quadratic lower bound in
the linear predictor x = z·w + b (b is a per-feature intercept), so the Z and
W updates stay those of a Gaussian view with per-entry precision τ_nd and
pseudo-data ŷ_nd.

* **Bernoulli** (Jaakkola & Jordan 2000): ln σ((2y−1)x) ≥ ln σ(ζ) + ((2y−1)x − ζ)/2
  − λ(ζ)(x² − ζ²), λ(ζ) = tanh(ζ/2)/(4ζ). Optimal ζ² = ⟨x²⟩; τ = 2λ(ζ),
  ŷ = (2y − 1)/(4λ(ζ)).
* **Poisson** with rate g(x) = ln(1 + eˣ) + 1e-4 (Seeger & Bouchard 2012): the
  negative log-likelihood has curvature at most κ_d = 0.25 + 0.17·max_n y_nd, so
  −ℓ(x) ≤ −ℓ(ζ) − ℓ'(ζ)(x − ζ) + κ/2 (x − ζ)²; ζ = ⟨x⟩, τ = κ_d,
  ŷ = ζ − σ(ζ)(1 − y/g(ζ))/κ_d.

Reference behaviour: mofapy2 re-centres the pseudo-data per feature on every
iteration (an implicit intercept that the ELBO does not see). Here the intercept
b_d is an explicit parameter set by its own coordinate step on the same bound,
so the bound being reported is the one the updates increase. The Poisson term
also keeps the constant −ln y!, which mofapy2 drops.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

__all__ = [
    "jaakkola_lambda",
    "bernoulli_pseudodata",
    "bernoulli_term",
    "poisson_rate",
    "poisson_curvature",
    "poisson_pseudodata",
    "poisson_term",
    "weighted_intercept",
]

POISSON_JITTER = 1e-4


def jaakkola_lambda(zeta: np.ndarray) -> np.ndarray:
    """λ(ζ) = tanh(ζ/2)/(4ζ), with its limit 1/8 at ζ = 0.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import jaakkola_lambda
    >>> [round(float(v), 6) for v in jaakkola_lambda(np.array([0.0, 2.0]))]
    [0.125, 0.09520]
    """
    zeta = np.abs(np.asarray(zeta, dtype=float))
    small = zeta < 1e-6
    safe = np.where(small, 1.0, zeta)
    return np.where(small, 0.125 - zeta**2 / 96.0, np.tanh(safe / 2.0) / (4.0 * safe))


def bernoulli_pseudodata(y: np.ndarray, second_moment: np.ndarray, observed: np.ndarray):
    """Optimal ζ = sqrt⟨x²⟩, precision τ = 2λ(ζ) (0 where missing) and pseudo-data ŷ.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import bernoulli_pseudodata
    >>> zeta, tau, pseudo = bernoulli_pseudodata(np.array([[1.0]]), np.array([[0.0]]), np.ones((1, 1), bool))
    >>> float(tau[0, 0]), float(pseudo[0, 0])
    (0.25, 2.0)
    """
    zeta = np.sqrt(np.maximum(second_moment, 0.0))
    lam = jaakkola_lambda(zeta)
    tau = np.where(observed, 2.0 * lam, 0.0)
    pseudo = np.where(observed, (2.0 * y - 1.0) / (4.0 * lam), 0.0)
    return zeta, tau, pseudo


def bernoulli_term(y, mean, second_moment, zeta, observed, *, lam=None) -> float:
    """Σ over observed entries of the Jaakkola bound ⟨ln p(y | x)⟩ ≥ … at ζ.

    ``lam`` (λ(ζ), needed on observed entries only) may be passed if known.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import bernoulli_term
    >>> ok = np.ones((1, 1), bool)
    >>> round(bernoulli_term(np.ones((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), ok), 6)
    -0.693147
    """
    lam = jaakkola_lambda(zeta) if lam is None else lam
    term = 0.5 * ((2 * y - 1) * mean - zeta) - np.logaddexp(0.0, -zeta) - lam * (second_moment - zeta**2)
    return float(np.sum(term[observed]))


def poisson_rate(x: np.ndarray) -> np.ndarray:
    """g(x) = ln(1 + eˣ) + 1e-4, the Poisson rate as a function of the predictor.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import poisson_rate
    >>> round(float(poisson_rate(np.array(0.0))), 6)
    0.693247
    """
    return np.logaddexp(0.0, x) + POISSON_JITTER


def poisson_curvature(y: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """κ_d = 0.25 + 0.17·max_n y_nd, a bound on the curvature of −ln p(y | x).

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import poisson_curvature
    >>> poisson_curvature(np.array([[0.0, 2.0], [1.0, 0.0]]), np.ones((2, 2), bool)).tolist()
    [0.42, 0.59]
    """
    return 0.25 + 0.17 * np.where(observed, y, 0.0).max(axis=0)


def poisson_pseudodata(y: np.ndarray, zeta: np.ndarray, curvature: np.ndarray, observed: np.ndarray,
                       *, rate: np.ndarray | None = None):
    """Pseudo-data ŷ = ζ − σ(ζ)(1 − y/g(ζ))/κ_d (0 where missing); ``rate`` = g(ζ) if known.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import poisson_pseudodata
    >>> round(float(poisson_pseudodata(np.array([[1.0]]), np.array([[0.0]]), np.array([0.42]),
    ...                                np.ones((1, 1), bool))[0, 0]), 4)
    0.5268
    """
    rate = poisson_rate(zeta) if rate is None else rate
    gradient = expit(zeta) * (1.0 - y / rate)
    return np.where(observed, zeta - gradient / curvature, 0.0)


def poisson_term(y, mean, second_moment, zeta, curvature, observed, *, rate=None,
                 log_factorial=None) -> float:
    """Σ over observed entries of the Seeger lower bound on ⟨ln Poisson(y; g(x))⟩.

    ``rate`` (g(ζ)) and ``log_factorial`` (Σ over observed entries of ln y!) may
    be passed if known.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import poisson_term
    >>> ok = np.ones((1, 1), bool); zero = np.zeros((1, 1))
    >>> round(poisson_term(zero, zero, zero, zero, np.array([0.25]), ok), 6)
    -0.693247
    """
    rate = poisson_rate(zeta) if rate is None else rate
    gradient = expit(zeta) * (1.0 - y / rate)
    quadratic = 0.5 * curvature * (second_moment - 2 * mean * zeta + zeta**2)
    term = -(quadratic + (mean - zeta) * gradient + rate - y * np.log(rate))
    if log_factorial is None:
        log_factorial = float(np.sum(gammaln(y + 1.0)[observed]))
    return float(np.sum(term[observed])) - log_factorial


def weighted_intercept(pseudo: np.ndarray, prediction: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Per-feature intercept maximising the quadratic bound: Σ_n τ(ŷ − ⟨zw⟩) / Σ_n τ.

    Examples
    --------
    >>> from latentlab.mofa.likelihoods import weighted_intercept
    >>> weighted_intercept(np.array([[1.0], [3.0]]), np.zeros((2, 1)), np.array([[1.0], [0.0]])).tolist()
    [1.0]
    """
    tau = np.broadcast_to(tau, pseudo.shape)
    return (tau * (pseudo - prediction)).sum(axis=0) / np.maximum(tau.sum(axis=0), 1e-300)
