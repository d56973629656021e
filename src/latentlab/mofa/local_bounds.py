r"""One pass per iteration over a non-Gaussian view: pseudo-data and the ELBO pieces.

The functions of :mod:`latentlab.mofa.likelihoods` state the Jaakkola (Bernoulli)
and Seeger (Poisson) bounds plainly; a fit evaluates them on every N × D entry
twice per iteration (pseudo-data refresh, then the ELBO), each with its own
tanh / softplus / log. Here the refresh computes every transcendental once and
splits the bound, summed over observed entries, into a part that depends on ζ
only (a number, fixed until the next refresh) and a part linear in the moments
⟨x⟩, ⟨x²⟩ of the predictor:

* Bernoulli: Σ_obs bound = ½ Σ s·⟨x⟩ − Σ λ_obs·⟨x²⟩ + C(ζ), with s = 2y − 1 on
  observed entries (0 elsewhere), λ_obs = λ(ζ) on observed entries and
  C(ζ) = Σ_obs [ln σ(ζ) − ζ/2 + λ(ζ) ζ²];
* Poisson: Σ_obs bound = −½ Σ_d κ_d Σ_n m·⟨x²⟩ + Σ κ ŷ·⟨x⟩ + C(ζ), with
  ŷ the pseudo-data (0 where missing) and C(ζ) = Σ_obs [−½κζ² + ζ g' − g + y ln g]
  (g = g(ζ), g' = σ(ζ)(1 − y/g)); −Σ ln y! is added by the caller.

So the ELBO term costs two dot products over N × D. The functions keep the dtype
of their input: a fit passes float32 arrays (half the memory traffic, and
NumPy's float32 exp and log are vectorised), tests pass float64; sums are
accumulated in float64 either way. The results agree with
:func:`~latentlab.mofa.likelihoods.bernoulli_term` and
:func:`~latentlab.mofa.likelihoods.poisson_term` to round-off (tested).
Identities used: tanh(ζ/2) = −expm1(−ζ)/(2 + expm1(−ζ)) and
ln σ(ζ) = −ln(2 + expm1(−ζ)) for ζ ≥ 0; softplus(x) = max(x, 0) + ln(1 + e^{−|x|})
and σ(x) = 1/(1 + e^{−|x|}) (x ≥ 0) or e^{−|x|}/(1 + e^{−|x|}) (x < 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentlab.mofa.likelihoods import POISSON_JITTER

__all__ = ["BoundCache", "bernoulli_refresh", "poisson_refresh", "bound_sum"]


@dataclass
class BoundCache:
    """What the ELBO needs from one refresh of a non-Gaussian view.

    ``linear`` multiplies ⟨x⟩ and ``quadratic`` multiplies ⟨x²⟩ entrywise (both
    0 where missing), ``constant`` is C(ζ); ``zeta`` is the ζ they belong to.
    """

    zeta: np.ndarray
    linear: np.ndarray
    quadratic: np.ndarray
    constant: float


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # Σ_nd a·b as one BLAS dot product (ravel copies only non-contiguous input),
    # accumulated in float64 also for float32 input
    a, b = np.ravel(a), np.ravel(b)
    if a.dtype != np.float64 and b.dtype != np.float64:
        a = a.astype(np.float64)
    return float(np.dot(a, b))


def _sum(values: np.ndarray) -> float:
    # Σ of all entries, accumulated (pairwise) in float64 also for float32 input
    return float(np.sum(values, dtype=np.float64))


def _expm1_negative(zeta: np.ndarray) -> np.ndarray:
    """e^{−ζ} − 1 for ζ ≥ 0: ``expm1`` in float64; in float32 exp(−ζ) − 1 (NumPy's
    float32 exp is vectorised, its expm1 is not) with a Taylor series where ζ < 0.1."""
    if zeta.dtype == np.float64:
        return np.expm1(-zeta)
    out = np.negative(zeta)
    np.exp(out, out=out)
    out -= 1.0
    small = zeta < 0.1
    if small.any():
        z = zeta[small]
        series = 1 - z * (1 / 2 - z * (1 / 6 - z * (1 / 24 - z * (1 / 120 - z / 720))))
        out[small] = -z * series
    return out


def _log1p_small(e: np.ndarray) -> np.ndarray:
    """ln(1 + e) for 0 ≤ e ≤ 1: ``log1p`` in float64; in float32 ln(1 + e) with a
    Taylor series where e < 0.1 (float32 log is vectorised, log1p is not)."""
    if e.dtype == np.float64:
        return np.log1p(e)
    out = e + 1.0
    np.log(out, out=out)
    small = e < 0.1
    if small.any():
        x = e[small]
        tail = 1 / 5 - x * (1 / 6 - x * (1 / 7 - x / 8))
        out[small] = x * (1 - x * (1 / 2 - x * (1 / 3 - x * (1 / 4 - x * tail))))
    return out


def bernoulli_refresh(sign: np.ndarray, second_moment: np.ndarray, mask: np.ndarray):
    """ζ = sqrt⟨x²⟩, τ = 2λ(ζ) and ŷ = s/(4λ) on observed entries (0 elsewhere).

    ``sign`` is 2y − 1 on observed entries and 0 elsewhere; ``mask`` the observed
    entries as 0/1 floats. Returns ``(tau, pseudo, cache)``.

    Examples
    --------
    >>> from latentlab.mofa.local_bounds import bernoulli_refresh
    >>> one, zero = np.ones((1, 1)), np.zeros((1, 1))
    >>> tau, pseudo, cache = bernoulli_refresh(one, zero, one)
    >>> float(tau[0, 0]), float(pseudo[0, 0]), round(cache.constant, 6)
    (0.25, 2.0, -0.693147)
    """
    zeta = np.sqrt(np.maximum(second_moment, 0.0))
    em1 = _expm1_negative(zeta)  # e^{−ζ} − 1
    lam = 4.0 * zeta
    lam *= em1
    lam += 8.0 * zeta  # 4ζ(2 + em1)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(em1, lam, out=lam)
    np.negative(lam, out=lam)  # λ(ζ) = tanh(ζ/2)/(4ζ)
    small = zeta < 1e-6
    if small.any():
        lam[small] = 0.125 - zeta[small] ** 2 / 96.0
    em1 += 2.0
    log_sigma = np.log(em1, out=em1)  # −ln σ(ζ)
    pseudo = sign / (4.0 * lam)  # 0 where missing (s = 0 there)
    lam *= mask  # λ on observed entries
    tau = 2.0 * lam
    # C(ζ) = Σ_obs [ln σ(ζ) − ζ/2 + λζ²]
    per_entry = np.multiply(zeta, 0.5)
    per_entry += log_sigma
    per_entry *= mask  # −(ln σ(ζ) − ζ/2) on observed entries
    constant = np.multiply(lam, zeta)
    constant *= zeta
    constant -= per_entry
    constant = _sum(constant)
    return tau, pseudo, BoundCache(zeta, 0.5 * sign, np.negative(lam), constant)


def poisson_refresh(
    y: np.ndarray, zeta: np.ndarray, curvature: np.ndarray, mask: np.ndarray
):
    """Pseudo-data ŷ = ζ − σ(ζ)(1 − y/g(ζ))/κ_d (0 where missing) at ζ = ⟨x⟩.

    ``y`` must be 0 where missing; ``mask`` the observed entries as 0/1 floats.
    Returns ``(pseudo, cache)``.

    Examples
    --------
    >>> from latentlab.mofa.local_bounds import poisson_refresh
    >>> one, zero = np.ones((1, 1)), np.zeros((1, 1))
    >>> pseudo, cache = poisson_refresh(one, zero, np.array([0.42]), one)
    >>> round(float(pseudo[0, 0]), 4)
    0.5268
    """
    e = np.exp(-np.abs(zeta))
    rate = _log1p_small(e)
    rate += np.maximum(zeta, 0.0)
    rate += POISSON_JITTER  # g(ζ)
    sigma = np.where(zeta >= 0, 1.0, e)
    e += 1.0
    sigma /= e  # σ(ζ)
    gradient = np.divide(y, rate, out=e)
    np.subtract(1.0, gradient, out=gradient)
    gradient *= sigma  # g'(ζ) = σ(ζ)(1 − y/g)
    gradient *= mask
    pseudo = gradient / curvature
    np.subtract(zeta, pseudo, out=pseudo)
    pseudo *= mask
    # C(ζ) = Σ_obs [−½κζ² + ζ g' − g + y ln g]   (y = 0 where missing)
    per_entry = np.multiply(zeta, curvature)
    per_entry *= -0.5
    per_entry *= mask
    per_entry += gradient
    per_entry *= zeta  # −½κζ² + ζ g' on observed entries (g' is 0 elsewhere)
    other = np.multiply(mask, rate)
    per_entry -= other
    np.log(rate, out=rate)
    per_entry += np.multiply(y, rate, out=other)
    constant = _sum(per_entry)
    quadratic = np.multiply(mask, -0.5 * curvature, out=sigma)
    return pseudo, BoundCache(zeta, pseudo * curvature, quadratic, constant)


def bound_sum(cache: BoundCache, mean: np.ndarray, second_moment: np.ndarray) -> float:
    """Σ over observed entries of the bound at ⟨x⟩ = ``mean``, ⟨x²⟩ = ``second_moment``.

    Examples
    --------
    >>> from latentlab.mofa.local_bounds import bernoulli_refresh, bound_sum
    >>> one, zero = np.ones((1, 1)), np.zeros((1, 1))
    >>> _, _, cache = bernoulli_refresh(one, zero, one)
    >>> round(bound_sum(cache, zero, zero), 6)
    -0.693147
    """
    linear = _dot(cache.linear, mean)
    return linear + _dot(cache.quadratic, second_moment) + cache.constant
