"""Independent Hamiltonian Monte Carlo chains, advanced together (vectorised).

Random-walk Metropolis needs of the order of d steps per effective draw in d
dimensions even on a well-scaled Gaussian (Roberts, Gelman and Gilks 1997), and
many more when the posterior is correlated and curved; on the 30-parameter
subgroup mixture of chapter 3 its chains needed hundreds of sweeps per
independent draw (``benchmarks/mixture_em.py``). HMC (Duane et al. 1987; Neal
2011) follows the gradient of the log density for ``n_leapfrog`` steps per
iteration and needs a few iterations per effective draw there.

The warm-up follows Stan's scheme (Hoffman and Gelman 2014): a step size tuned
by dual averaging towards ``target_accept`` (one step size shared by all chains,
from their mean acceptance probability), and a dense metric (inverse mass matrix)
estimated in windows of doubling length from the pooled draws of all chains,
regularised towards the identity. After ``n_warmup`` iterations everything is
frozen and each chain is plain HMC on the target, so every chain is a valid,
independent Markov chain; the chains share only the tuned step size and metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from latentlab._validation import (
    as_generator,
    check_array,
    check_integer,
    check_positive,
)

__all__ = ["HMCResult", "hmc"]


@dataclass(frozen=True)
class HMCResult:
    """Draws of :func:`hmc` after warm-up.

    Attributes
    ----------
    draws : ndarray (C, n_iter, d)
    accept_prob : ndarray (C,), mean acceptance probability per chain
    n_divergent : ndarray (C,), divergent trajectories per chain (energy error > 1000)
    step_size : float; metric : ndarray (d, d), the tuned inverse mass matrix
    """

    draws: np.ndarray
    accept_prob: np.ndarray
    n_divergent: np.ndarray
    step_size: float
    metric: np.ndarray


def _slow_windows(n_warmup: int) -> list[int]:
    """End points of the metric windows (after a 15 % fast start; the last 20 % tune
    only the step size)."""
    start, end = int(0.15 * n_warmup), n_warmup - max(int(0.2 * n_warmup), 1)
    ends, length = [], 25
    while start + length < end:
        if start + 3 * length > end:  # the next window would be too short: extend this one
            break
        start += length
        ends.append(start)
        length *= 2
    if end > start:
        ends.append(end)
    return ends


class _DualAveraging:
    """Nesterov dual averaging of log step size (Hoffman and Gelman 2014, section 3.2)."""

    def __init__(self, step: float, target: float) -> None:
        self.mu, self.target = np.log(10 * step), target
        self.h_bar, self.log_step_bar, self.t = 0.0, np.log(step), 0

    def update(self, accept: float) -> float:
        self.t += 1
        w = 1.0 / (self.t + 10)
        self.h_bar = (1 - w) * self.h_bar + w * (self.target - accept)
        log_step = self.mu - np.sqrt(self.t) / 0.05 * self.h_bar
        eta = self.t ** -0.75
        self.log_step_bar = eta * log_step + (1 - eta) * self.log_step_bar
        return float(np.exp(log_step))


def hmc(log_density: Callable, start, n_iter: int, *, n_warmup: int = 500,
        n_leapfrog: int = 8, target_accept: float = 0.8, step_size: float = 0.1,
        rng=None) -> HMCResult:
    """Run one HMC chain per row of ``start``, all advanced together.

    Parameters
    ----------
    log_density : callable
        Maps points y of shape (C, d) to ``(values (C,), gradients (C, d))``;
        −inf or NaN values reject the move.
    start : array (C, d)
        Starting points, one per chain (make them differ, so R̂ means something).
    n_iter, n_warmup : int
        Returned iterations per chain, and warm-up iterations before them.
    n_leapfrog : int
        Leapfrog steps per iteration (the step size is jittered by ±20 %).
    target_accept : float
        Mean acceptance probability the step size is tuned towards.
    step_size : float
        Initial step size.

    Examples
    --------
    >>> cov = np.array([[1.0, 0.95], [0.95, 1.0]])
    >>> prec = np.linalg.inv(cov)
    >>> def gauss(y):
    ...     return -0.5 * np.einsum("ci,ij,cj->c", y, prec, y), -y @ prec
    >>> res = hmc(gauss, np.zeros((4, 2)), 500, n_warmup=300, rng=0)
    >>> res.draws.shape, bool(abs(np.corrcoef(res.draws.reshape(-1, 2).T)[0, 1] - 0.95) < 0.03)
    ((4, 500, 2), True)
    """
    if not callable(log_density):
        raise TypeError(f"log_density must be callable, got {type(log_density).__name__}")
    y = check_array(start, "start", ndim=2).copy()
    n_iter = check_integer(n_iter, "n_iter", minimum=1)
    n_warmup = check_integer(n_warmup, "n_warmup", minimum=0)
    n_leapfrog = check_integer(n_leapfrog, "n_leapfrog", minimum=1)
    step = check_positive(step_size, "step_size")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie in (0, 1), got {target_accept!r}")
    gen = as_generator(rng)
    C, d = y.shape
    lp, grad = log_density(y)
    if not np.all(np.isfinite(lp)):
        raise ValueError("start must have a finite log density for every chain")
    chol, chol_inv = np.eye(d), np.eye(d)
    tuner = _DualAveraging(step, target_accept)
    windows, window_start = _slow_windows(n_warmup), int(0.15 * n_warmup)
    out = np.empty((C, n_warmup + n_iter, d))
    accept_sum, divergent = np.zeros(C), np.zeros(C, dtype=int)
    for it in range(n_warmup + n_iter):
        z = gen.standard_normal((C, d))
        momentum = z @ chol_inv                       # p ~ N(0, M), M⁻¹ = chol cholᵀ
        eps = step * gen.uniform(0.8, 1.2, size=(C, 1))
        y_new, lp_new, g_new = y, lp, grad
        with np.errstate(invalid="ignore", over="ignore"):
            momentum = momentum + 0.5 * eps * g_new
            for leap in range(n_leapfrog):
                y_new = y_new + eps * ((momentum @ chol) @ chol.T)
                lp_new, g_new = log_density(y_new)
                g_new = np.nan_to_num(g_new, nan=0.0, posinf=0.0, neginf=0.0)
                momentum = momentum + (eps if leap < n_leapfrog - 1 else 0.5 * eps) * g_new
            energy = lp_new - 0.5 * ((momentum @ chol) ** 2).sum(axis=1)
            log_ratio = np.nan_to_num(energy - (lp - 0.5 * (z**2).sum(axis=1)),
                                      nan=-np.inf, posinf=-np.inf)
        prob = np.exp(np.minimum(log_ratio, 0.0))
        take = np.log(gen.random(C)) < log_ratio
        y, lp, grad = (np.where(take[:, None], y_new, y), np.where(take, lp_new, lp),
                       np.where(take[:, None], g_new, grad))
        out[:, it] = y
        if it < n_warmup:
            step = tuner.update(float(prob.mean()))
            if windows and it + 1 == windows[0]:
                windows.pop(0)
                pooled = out[:, window_start: it + 1].reshape(-1, d)
                n = len(pooled)
                cov = n / (n + 5.0) * np.cov(pooled.T) + 1e-3 * 5.0 / (n + 5.0) * np.eye(d)
                chol = np.linalg.cholesky(np.atleast_2d(cov))
                chol_inv = np.linalg.inv(chol)
                window_start = it + 1
                tuner = _DualAveraging(step, target_accept)
            if it + 1 == n_warmup:
                step = float(np.exp(tuner.log_step_bar))
        else:
            accept_sum += prob
            divergent += log_ratio < -1000
    return HMCResult(draws=out[:, n_warmup:], accept_prob=accept_sum / n_iter,
                     n_divergent=divergent, step_size=float(step), metric=chol @ chol.T)
