"""Convergence diagnostics from independent chains: rank-normalised split-R̂ and ESS.

Following Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021, *Bayesian
Analysis* 16:667): draws of every chain are split in half, rank-normalised over
all chains, and compared (R̂) or their autocorrelations combined with Geyer's
initial monotone sequence (bulk effective sample size, ESS).

R̂ needs *independent* chains: the walkers of one emcee ensemble move together,
so :func:`ensemble_diagnostics` compares independent ensembles (each ensemble's
draws, time-major, are one chain) and takes the ESS from each ensemble's
integrated autocorrelation time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import emcee
import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

from latentlab._validation import check_array, check_integer

__all__ = ["rhat", "ess", "ensemble_diagnostics", "summarize", "Summary", "quiet_integrated_time",
           "describe_interval"]


def _as_draws(draws) -> np.ndarray:
    draws = check_array(draws, "draws", dtype=float)
    if draws.ndim < 2:
        raise ValueError(f"draws must have shape (n_chains, n_draws, ...), got {draws.shape}")
    if draws.shape[1] < 4:
        raise ValueError(f"draws need at least 4 draws per chain, got {draws.shape[1]}")
    return draws.reshape(draws.shape[0], draws.shape[1], -1)


def _split_ranked(draws: np.ndarray) -> np.ndarray:
    """Halve every chain and rank-normalise all draws per quantity: (2C, n/2, Q)."""
    half = draws.shape[1] // 2
    split = np.concatenate([draws[:, :half], draws[:, -half:]], axis=0)
    flat = split.reshape(-1, split.shape[-1])
    ranks = np.apply_along_axis(rankdata, 0, flat)
    z = ndtri((ranks - 0.375) / (flat.shape[0] + 0.25))
    return z.reshape(split.shape)


def _rhat_of(chains: np.ndarray) -> np.ndarray:
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean(axis=0)
    between = n * chains.mean(axis=1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(within > 0, np.sqrt(var_plus / within), np.nan)


def rhat(draws) -> np.ndarray:
    """Rank-normalised split-R̂ per quantity; draws (n_chains, n_draws, ...) → shape (...).

    Values above 1.01 say the chains have not mixed. Constant quantities give NaN.

    Examples
    --------
    >>> gen = np.random.default_rng(0)
    >>> same = gen.normal(size=(4, 500))
    >>> shifted = same + np.array([0, 0, 0, 3.0])[:, None]
    >>> bool(rhat(same) < 1.01), bool(rhat(shifted) > 1.2)
    (True, True)
    """
    shape = np.shape(draws)[2:]
    return _rhat_of(_split_ranked(_as_draws(draws))).reshape(shape)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance along axis 1 (FFT), biased estimator, shape as x."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def ess(draws) -> np.ndarray:
    """Bulk effective sample size per quantity; draws (n_chains, n_draws, ...) → (...).

    Examples
    --------
    >>> gen = np.random.default_rng(1)
    >>> iid = gen.normal(size=(4, 1000))
    >>> ar = np.zeros((4, 1000))
    >>> for t in range(1, 1000):
    ...     ar[:, t] = 0.9 * ar[:, t - 1] + gen.normal(size=4)
    >>> bool(3000 < ess(iid) < 5000), bool(50 < ess(ar) < 400)
    (True, True)
    """
    raw = np.asarray(draws, dtype=float)
    chains = _split_ranked(_as_draws(draws))  # (M, n, Q)
    M, n, Q = chains.shape
    out = np.empty(Q)
    for q in range(Q):
        x = chains[:, :, q]
        acov = _autocov(x)  # (M, n)
        within = acov[:, 0].mean() * n / (n - 1)
        var_plus = within * (n - 1) / n + (x.mean(axis=1).var(ddof=1) if M > 1 else 0.0)
        if var_plus <= 0:
            out[q] = np.nan
            continue
        rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
        rho[0] = 1.0
        # Geyer: sums of consecutive pairs, positive and monotone
        pairs = rho[: n - n % 2].reshape(-1, 2).sum(axis=1)
        stop = np.argmax(pairs < 0) if np.any(pairs < 0) else len(pairs)
        pairs = np.minimum.accumulate(pairs[:stop])
        tau = -1.0 + 2.0 * pairs.sum()
        out[q] = M * n / max(tau, 1.0 / np.log10(M * n))
    return out.reshape(raw.shape[2:])


def ensemble_diagnostics(chains, burn: int = 0):
    """R̂ across independent emcee ensembles and their summed ESS, per parameter.

    Parameters
    ----------
    chains : sequence of ndarray (n_steps, n_walkers, ndim)
        One chain per independent ensemble (e.g. ``ChainResult.chain``).
    burn : int
        Steps dropped from the start of every ensemble.

    Returns
    -------
    rhat, ess : ndarray of shape (ndim,)
        R̂ compares the ensembles (each one's draws, time-major, as one chain);
        ESS sums ``n_steps · n_walkers / τ`` over ensembles, τ from emcee's
        integrated autocorrelation time (averaged over walkers).
    """
    burn = check_integer(burn, "burn", minimum=0)
    kept = [np.asarray(c, dtype=float)[burn:] for c in chains]
    if len(kept) < 2:
        raise ValueError(f"chains must hold at least 2 independent ensembles, got {len(kept)}")
    if len({c.shape for c in kept}) != 1 or kept[0].ndim != 3:
        raise ValueError("chains must all have the same shape (n_steps, n_walkers, ndim)")
    steps, walkers, ndim = kept[0].shape
    flat = np.stack([c.reshape(steps * walkers, ndim) for c in kept])
    taus = np.array([quiet_integrated_time(c) for c in kept])
    return rhat(flat), np.asarray((steps * walkers / taus).sum(axis=0))


def quiet_integrated_time(chain: np.ndarray) -> np.ndarray:
    """emcee's integrated autocorrelation time (n_steps, n_walkers, ndim) → (ndim,), silently.

    emcee logs a warning when the chain is shorter than 50 τ; callers compare the
    length with τ themselves (and say so), so the warning is not printed.
    """
    log = logging.getLogger("emcee.autocorr")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return np.asarray(emcee.autocorr.integrated_time(chain, quiet=True))
    finally:
        log.setLevel(level)


@dataclass(frozen=True)
class Summary:
    """Posterior summaries per quantity: mean, equal-tailed interval, R̂ and ESS."""

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    rhat: np.ndarray
    ess: np.ndarray
    prob: float


def summarize(draws, prob: float = 0.9) -> Summary:
    """Mean, central ``prob`` interval, R̂ and ESS of draws (n_chains, n_draws, ...).

    Examples
    --------
    >>> s = summarize(np.random.default_rng(2).normal(size=(4, 800, 2)))
    >>> s.lo.shape, bool(np.all(s.rhat < 1.01)), bool(np.all(s.ess > 1000))
    ((2,), True, True)
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must lie in (0, 1), got {prob!r}")
    draws = np.asarray(draws, dtype=float)
    pooled = draws.reshape(-1, *draws.shape[2:])
    lo, hi = np.quantile(pooled, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return Summary(mean=pooled.mean(axis=0), lo=lo, hi=hi, rhat=rhat(draws), ess=ess(draws),
                   prob=float(prob))


def describe_interval(summary: Summary, j: int, digits: int = 2) -> str:
    """The ``j``-th interval of a :class:`Summary` with its diagnostics, for prose.

    Examples
    --------
    >>> s = summarize(np.random.default_rng(2).normal(size=(4, 800, 2)))
    >>> print(describe_interval(s, 0))  # doctest: +ELLIPSIS
    [-1.7, 1.6] (ESS 3,..., $\\hat R$ 1.00)
    """
    from latentlab.claims import interval, num

    if not isinstance(summary, Summary):
        raise TypeError(f"summary must be a Summary (from summarize), got "
                        f"{type(summary).__name__}")
    j = check_integer(j, "j", minimum=0, maximum=summary.lo.size - 1)
    digits = check_integer(digits, "digits", minimum=1)
    lo, hi = summary.lo.ravel()[j], summary.hi.ravel()[j]
    return (f"{interval(lo, hi, digits)} (ESS {num(summary.ess.ravel()[j], digits)}, "
            f"$\\hat R$ {num(summary.rhat.ravel()[j], 3)})")
