"""A seeded emcee wrapper and convergence diagnostics (acceptance, τ, split R-hat, ESS).

Reference behaviour (lymixture): 5 walkers per dimension started in a
σ = 1e−6 ball clipped to ≤ 1, a new process pool per call, and the flat chain
returned without burn-in. Here the ball is reflected into the bounds, the
sampler persists (pass ``sampler`` back to continue), burn-in and thinning are
explicit, and emcee's internal generator is seeded from ``rng``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import emcee
import numpy as np
from threadpoolctl import threadpool_limits

from latentlab._validation import as_generator, check_array, check_integer, check_positive

__all__ = ["ChainResult", "run_emcee", "autocorr_time", "split_rhat", "effective_sample_size"]


@dataclass(frozen=True)
class ChainResult:
    """An emcee run: ``chain`` (n_steps, n_walkers, ndim), ``log_prob`` (n_steps, n_walkers),
    ``acceptance_fraction`` (n_walkers,), ``burn`` and ``thin``, and the live ``sampler``."""

    chain: np.ndarray
    log_prob: np.ndarray
    acceptance_fraction: np.ndarray
    burn: int
    thin: int
    sampler: emcee.EnsembleSampler

    def samples(self) -> np.ndarray:
        """Flat samples after burn-in and thinning, shape (n_kept, ndim)."""
        kept = self.chain[self.burn :: self.thin]
        return kept.reshape(-1, kept.shape[-1])


def _seed_emcee(sampler: emcee.EnsembleSampler, gen: np.random.Generator) -> None:
    # emcee keeps a legacy MT19937 state internally; fill it from our Generator (no global seeding)
    keys = gen.integers(0, 2**32, size=624, dtype=np.uint64).astype(np.uint32)
    sampler.random_state = ("MT19937", keys, 624, 0, 0.0)


def run_emcee(log_prob: Callable, start: np.ndarray, n_steps: int, *, n_walkers: int | None = None,
              walkers_per_dim: int = 5, ball: float = 1e-3, bounds: np.ndarray | None = None,
              burn: int = 0, thin: int = 1, backend_file: str | None = None,
              sampler: emcee.EnsembleSampler | None = None, moves=None, rng=None,
              verbose: bool = False) -> ChainResult:
    """Run emcee's stretch move on a vectorised ``log_prob`` from a small ball around ``start``.

    Parameters
    ----------
    log_prob : callable
        Maps walkers (W, ndim) to log densities (W,) (``vectorize=True``).
    start : ndarray of shape (ndim,)
        Centre of the initial ball (e.g. the EM estimate).
    n_steps : int
    n_walkers : int, optional
        Default ``walkers_per_dim · ndim`` (at least 2·ndim, even).
    ball : float
        Standard deviation of the initial ball; points outside ``bounds`` are reflected in.
    bounds : ndarray of shape (ndim, 2), optional
    burn, thin : int
        Used by :meth:`ChainResult.samples` and the diagnostics.
    backend_file : str, optional
        Store the chain in this HDF5 file (needs h5py); default in memory.
    sampler : emcee.EnsembleSampler, optional
        Continue an earlier run (its last state is the start).
    moves : emcee move or list of (move, weight), optional
        Passed to ``emcee.EnsembleSampler``; default the stretch move.

    Examples
    --------
    >>> target = lambda w: -0.5 * np.sum(w**2, axis=1)
    >>> res = run_emcee(target, np.zeros(2), 200, rng=0)
    >>> bool(0.2 < res.acceptance_fraction.mean() < 0.9), res.chain.shape
    (True, (200, 10, 2))
    """
    if not callable(log_prob):
        raise TypeError(f"log_prob must be callable, got {type(log_prob).__name__}")
    start = check_array(start, "start", ndim=1)
    ndim = start.size
    check_integer(n_steps, "n_steps", minimum=1)
    check_positive(ball, "ball")
    gen = as_generator(rng)
    if sampler is None:
        n_walkers = max(2 * ndim, walkers_per_dim * ndim) if n_walkers is None else n_walkers
        check_integer(n_walkers, "n_walkers", minimum=2 * ndim)
        backend = None
        if backend_file is not None:
            backend = emcee.backends.HDFBackend(backend_file)
            backend.reset(n_walkers, ndim)
        sampler = emcee.EnsembleSampler(n_walkers, ndim, log_prob, vectorize=True, backend=backend,
                                        moves=moves)
        _seed_emcee(sampler, gen)
        initial = start + ball * gen.standard_normal((n_walkers, ndim))
        if bounds is not None:
            lo, hi = np.asarray(bounds, dtype=float).T
            initial = np.where(initial < lo, 2 * lo - initial, initial)
            initial = np.where(initial > hi, 2 * hi - initial, initial)
            initial = np.clip(initial, lo, hi)
        state = initial
    else:
        state = sampler.get_last_sample().coords  # log prob recomputed: the target may have changed
    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only add contention
        sampler.run_mcmc(state, n_steps, progress=verbose)
    return ChainResult(chain=sampler.get_chain(), log_prob=sampler.get_log_prob(),
                       acceptance_fraction=np.asarray(sampler.acceptance_fraction), burn=int(burn),
                       thin=int(thin), sampler=sampler)


def _checked_chain(chain, burn) -> np.ndarray:
    chain = check_array(chain, "chain", ndim=3)
    burn = check_integer(burn, "burn", minimum=0, maximum=max(chain.shape[0] - 1, 0))
    if chain.shape[0] - burn < 2:
        raise ValueError(f"chain must have at least 2 steps after burn, got {chain.shape[0] - burn}")
    return chain[burn:]


def autocorr_time(chain: np.ndarray, burn: int = 0) -> np.ndarray:
    """Integrated autocorrelation time per parameter (``emcee.autocorr``), chain (n_steps, n_walkers, ndim).

    ``quiet=True``: short chains give an estimate (with emcee's warning) instead of an error.
    """
    chain = _checked_chain(chain, burn)
    return np.asarray(emcee.autocorr.integrated_time(chain, quiet=True))


def effective_sample_size(chain: np.ndarray, burn: int = 0) -> np.ndarray:
    """n_steps · n_walkers / τ per parameter."""
    chain = _checked_chain(chain, burn)
    return chain.shape[0] * chain.shape[1] / autocorr_time(chain)


def split_rhat(chain: np.ndarray, burn: int = 0) -> np.ndarray:
    """Split-R̂ per parameter: each walker's chain is halved and the halves compared (Gelman et al.).

    ``chain`` has shape (n_steps, n_walkers, n_dim), as emcee's ``get_chain()``;
    at least 4 steps after ``burn``.

    Examples
    --------
    >>> chain = np.random.default_rng(0).normal(size=(400, 8, 1))
    >>> bool(abs(split_rhat(chain)[0] - 1) < 0.01)
    True
    """
    chain = check_array(chain, "chain", ndim=3)
    burn = check_integer(burn, "burn", minimum=0, maximum=max(chain.shape[0] - 4, 0))
    chain = chain[burn:]
    if chain.shape[0] < 4:
        raise ValueError(f"chain must have at least 4 steps after burn (2 per half), got {chain.shape[0]}")
    n = chain.shape[0] // 2
    halves = np.concatenate([chain[:n], chain[n : 2 * n]], axis=1)  # (n, 2W, ndim)
    within = halves.var(axis=0, ddof=1).mean(axis=0)
    between = n * halves.mean(axis=0).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between / n
    return np.sqrt(var_plus / within)
