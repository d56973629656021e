"""Local principal curves (Einbeck, Tutz & Evers, 2005), projection and arc length.

A local principal curve (LPC) walks through a point cloud: at the current
point ``x`` it takes the kernel-weighted local mean ``mu(x)`` and the first
principal direction ``gamma`` of the kernel-weighted covariance about it,
steps to ``mu(x) + t0 * gamma``, and repeats. The sequence of local means is
the curve. Two details keep the walk on course: the *signum flip*
(``gamma`` is turned to agree with the previous direction) and the *angle
penalty* (``gamma <- a gamma + (1 - a) gamma_prev`` with
``a = |cos angle|**pen``), which damps sharp turns. The walk goes both ways
from the start point and the halves are joined.

Two modes are offered:

``mode="lpcm"`` (default)
    the algorithm as in the R package LPCM: the curve is the sequence of
    local means, the stop is the relative arc-length increment, and the
    boundary rule shrinks the bandwidth near the ends (Einbeck & Zayed, 2014).
    *Our improvement* (flagged): consecutive points closer than
    ``collapse * step`` are merged, so the creeping tip does not pile up
    points.
``mode="morphseq"``
    the variant of the MorphSeq project, kept to reproduce its numbers: the
    stepped points ``mu + h gamma`` are stored, the penalised direction is
    renormalised, the walk stops when ``||mu(x) - x|| < tol`` (which rarely
    happens, so the tips collect clusters of points), and the backward walk
    starts along ``-(x1 - x0)`` (normalised), not along ``-gamma(x0)``.

References
----------
Einbeck, J., Tutz, G. & Evers, L. (2005). Local principal curves.
*Statistics and Computing* 15, 301-313. Einbeck, J. & Zayed, M. (2014). Some
asymptotics for localized principal components and curves. *Communications
in Statistics - Theory and Methods* 43, 1736-1749.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_integer, check_positive

__all__ = ["LocalPrincipalCurve", "fit_local_principal_curve"]

#: A point further than this many bandwidths from every observation has an
#: empty neighbourhood (its kernel weights are all below exp(-0.5 * 6**2)).
_NEIGHBOURHOOD_RADIUS = 6.0


@dataclass(frozen=True)
class LocalPrincipalCurve:
    """A fitted local principal curve.

    Attributes
    ----------
    points : ndarray of shape (n_points, n_features)
        The curve, from one end to the other; ``points[start_index]`` is the
        start of the walk.
    arc_length : ndarray of shape (n_points,)
        Cumulative polyline length from ``points[0]`` (the parameter lambda).
    length : float
        Total polyline length.
    start_index : int
        Index of the start point in ``points``.
    converged : bool
        Whether both halves stopped by the stopping rule (not by ``max_iter``
        or an empty neighbourhood).
    stop_reasons : tuple of str
        Why the (backward, forward) walks stopped: ``"converged"``,
        ``"max_iter"`` or ``"empty_neighbourhood"``.
    status : {"ok", "too_few_points", "empty_neighbourhood"}
        ``"ok"`` unless the fit failed; a failed fit keeps whatever points it
        found (possibly only the start), never NaN.
    n_iter : int
        Number of local steps taken (both directions).
    history : tuple of float
        Length of every step along the walk, forward half last.
    bandwidth, step : float
    mode : str
    """

    points: np.ndarray
    arc_length: np.ndarray
    length: float
    start_index: int
    converged: bool
    stop_reasons: tuple[str, str]
    status: str
    n_iter: int
    history: tuple[float, ...]
    bandwidth: float
    step: float
    mode: str


def _local_moments(X, x, bandwidth):
    """Kernel-weighted mean and covariance at ``x``; weights in log space."""
    diff = (X - x) / bandwidth
    log_weights = -0.5 * np.einsum("ij,ij->i", diff, diff)
    top = log_weights.max()
    if top < -0.5 * _NEIGHBOURHOOD_RADIUS**2:
        return None, None
    weights = np.exp(log_weights - top)
    weights /= weights.sum()
    mu = weights @ X
    centred = X - mu
    covariance = (centred * weights[:, None]).T @ centred
    return mu, covariance


def _top_direction(covariance):
    _, vectors = np.linalg.eigh(covariance)
    return vectors[:, -1]


def _walk(X, x_start, mu_start, gamma_start, h, t0, pen, max_iter, mode, stop_tol, boundary, tol, creep_stop):
    """One half of the curve: returns the stored points (without the start), steps, reason."""
    stored, steps = [], []
    gamma_prev = gamma_start
    multiplier = 1.0
    lam_prev = 0.0
    mu_prev = mu_start
    x = mu_start + t0 * gamma_start
    if mode == "morphseq":  # the first stepped point counts as the first iteration
        stored.append(x)
        steps.append(float(np.linalg.norm(x - x_start)))
        max_iter -= 1
    for _ in range(max_iter):
        mu, covariance = _local_moments(X, x, h * multiplier)
        if mu is None:
            return stored, steps, "empty_neighbourhood"
        gamma = _top_direction(covariance)
        cosine = float(gamma @ gamma_prev) / max(float(np.linalg.norm(gamma_prev)), 1e-300)
        if cosine < 0:
            gamma, cosine = -gamma, -cosine
        if pen > 0:
            a = min(cosine, 1.0) ** pen
            gamma = a * gamma + (1 - a) * gamma_prev
            if mode == "morphseq":
                gamma = gamma / np.linalg.norm(gamma)
        if mode == "lpcm":
            increment = float(np.linalg.norm(mu - mu_prev))
            lam = lam_prev + increment
            stored.append(mu)
            steps.append(increment)
            ratio = increment / max(lam + lam_prev, 1e-300)
            if ratio < stop_tol or increment < creep_stop * t0:
                return stored, steps, "converged"
            multiplier = 0.995 * multiplier if (boundary and ratio < boundary) else min(1.01 * multiplier, 1.0)
            lam_prev, mu_prev = lam, mu
            x = mu + t0 * gamma
        else:  # morphseq: stop on ||mu(x) - x||, store the stepped point
            if np.linalg.norm(mu - x) < tol:
                return stored, steps, "converged"
            x_new = mu + t0 * gamma
            stored.append(x_new)
            steps.append(float(np.linalg.norm(x_new - x)))
            x = x_new
        gamma_prev = gamma
    return stored, steps, "max_iter"


def fit_local_principal_curve(
    X: npt.ArrayLike,
    bandwidth: float,
    step: float | None = None,
    *,
    start: npt.ArrayLike | None = None,
    penalty: float = 2.0,
    max_iter: int = 100,
    mode: Literal["lpcm", "morphseq"] = "lpcm",
    stop_tol: float = 1e-5,
    boundary: float = 0.005,
    tol: float = 1e-4,
    collapse: float = 0.01,
    creep_stop: float = 0.0,
) -> LocalPrincipalCurve:
    """Fit a local principal curve through ``X``, walking both ways from ``start``.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        The point cloud (at least 2 features, at least 3 finite points).
    bandwidth : float
        Gaussian kernel bandwidth h (isotropic; the data are not rescaled, so
        the fit is equivariant under rotations and translations).
    step : float, optional
        Step length t0; defaults to ``bandwidth``.
    start : array_like of shape (n_features,), optional
        Anchor of the walk: the walk starts at the observation nearest to it
        (MorphSeq's choice). Defaults to the first observation. ``points[0]``
        of the result is the end nearer to the start.
    penalty : float
        Angle-penalty exponent ``pen`` (0 switches it off).
    max_iter : int
        Maximum number of steps per direction.
    mode : {"lpcm", "morphseq"}
        See the module docstring.
    stop_tol : float
        LPCM stop: relative arc-length increment below this ends a half.
    boundary : float
        LPCM boundary rule: while the relative increment is below this, the
        bandwidth multiplier shrinks by 0.995 per step (0 turns it off).
    tol : float
        MorphSeq stop: ``||mu(x) - x|| < tol``.
    collapse : float
        ``mode="lpcm"`` only (our improvement): merge consecutive points
        closer than ``collapse * step``; 0 keeps every local mean.
    creep_stop : float
        ``mode="lpcm"`` only (our improvement, off by default): also stop a
        half as converged once a step moves the local mean less than
        ``creep_stop * step``. The LPCM stop rarely fires, so the tips creep
        (and, on noisy data, overshoot the end by up to about the noise sd);
        ``creep_stop=0.01`` stops the creep but keeps the classical end
        shrinkage of roughly 0.6 bandwidths per end.

    Returns
    -------
    LocalPrincipalCurve
        A curve that did not converge is returned with ``converged=False`` and
        the reasons in ``stop_reasons``; a failed start (no observation within
        six bandwidths, or fewer than 2 curve points) sets ``status``.

    Notes
    -----
    At x: mu(x) = sum_i K_h(X_i - x) X_i / sum_i K_h(X_i - x); gamma is the top
    eigenvector of the weighted covariance about mu(x); x_next = mu(x) + t0
    gamma. The LPCM stop uses lambda_i, the cumulative length of the local
    means: stop when |lambda_i - lambda_{i-1}| / |lambda_i + lambda_{i-1}| <
    stop_tol. Kernel weights are computed in log space and normalised by
    their maximum, so they never underflow to NaN (MorphSeq's do).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.curves import fit_local_principal_curve
    >>> t = np.linspace(0, 4, 200)
    >>> X = np.column_stack([t, 0.5 * t])
    >>> curve = fit_local_principal_curve(X, bandwidth=0.3, start=[0, 0])
    >>> round(curve.length, 1), curve.status  # the true length is 4.47: end shrinkage
    (4.2, 'ok')
    """
    X = check_array(X, "X", ndim=2)
    if X.shape[1] < 2:
        raise ValueError(f"X must have at least 2 features (columns), got shape {X.shape}")
    if X.shape[0] < 3:
        raise ValueError(f"X must have at least 3 points to fit a curve, got {X.shape[0]}")
    h = check_positive(bandwidth, "bandwidth")
    t0 = h if step is None else check_positive(step, "step")
    pen = check_positive(penalty, "penalty", strict=False)
    max_iter = check_integer(max_iter, "max_iter", minimum=1)
    if mode not in ("lpcm", "morphseq"):
        raise ValueError(f"mode must be 'lpcm' or 'morphseq', got {mode!r}")
    check_positive(collapse, "collapse", strict=False)
    check_positive(creep_stop, "creep_stop", strict=False)
    if start is None:
        anchor = X[0]
    else:
        anchor = check_array(start, "start", shape=(X.shape[1],))
    x0 = X[np.argmin(np.sum((X - anchor) ** 2, axis=1))]

    def result(points, start_index, reasons, status, n_iter, history):
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
        converged = status == "ok" and all(r == "converged" for r in reasons)
        return LocalPrincipalCurve(points, arc, float(arc[-1]), int(start_index), bool(converged),
                                   tuple(reasons), status, int(n_iter), tuple(float(s) for s in history),
                                   h, t0, mode)

    mu0, covariance0 = _local_moments(X, x0, h)
    if mu0 is None:  # cannot happen for an observation, kept for safety
        return result(x0[None, :].copy(), 0, ("empty_neighbourhood",) * 2, "empty_neighbourhood", 0, ())
    gamma0 = _top_direction(covariance0)
    if gamma0 @ (X.mean(axis=0) - x0) < 0:  # forward = towards the bulk of the data (equivariant)
        gamma0 = -gamma0
    args = (h, t0, pen, max_iter, mode, stop_tol, boundary, tol, creep_stop)
    forward, f_steps, f_reason = _walk(X, x0, mu0, gamma0, *args)
    if mode == "lpcm":
        backward, b_steps, b_reason = _walk(X, x0, mu0, -gamma0, *args)
        first = mu0
    else:
        back_direction = -(forward[0] - x0)
        back_direction = back_direction / max(float(np.linalg.norm(back_direction)), 1e-300)
        backward, b_steps, b_reason = _walk(X, x0, mu0, back_direction, *args)
        first = x0
    points = np.vstack([np.array(backward[::-1]).reshape(-1, X.shape[1]), first,
                        np.array(forward).reshape(-1, X.shape[1])])
    start_index = len(backward)
    if mode == "lpcm" and collapse > 0:
        points, start_index = _collapse(points, start_index, collapse * t0)
    # orient: point 0 is the end nearer the anchor
    if np.sum((points[-1] - anchor) ** 2) < np.sum((points[0] - anchor) ** 2):
        points, start_index = points[::-1].copy(), len(points) - 1 - start_index
    history = b_steps[::-1] + f_steps
    if len(points) >= 2:
        status = "ok"
    else:
        status = "empty_neighbourhood" if "empty_neighbourhood" in (b_reason, f_reason) else "too_few_points"
    return result(points, start_index, (b_reason, f_reason), status, len(b_steps) + len(f_steps), history)


def _collapse(points, start_index, min_distance):
    """Keep points at least ``min_distance`` from the last kept one, the start and the true end."""
    keep = [0]
    for i in range(1, len(points)):
        far = np.linalg.norm(points[i] - points[keep[-1]]) >= min_distance
        if i == len(points) - 1 and not far and len(keep) > 1 and keep[-1] != start_index:
            keep[-1] = i  # replace the last kept point by the true end
        elif far or i == start_index or i == len(points) - 1:
            keep.append(i)
    keep = np.array(keep)
    return points[keep], int(np.searchsorted(keep, start_index))


