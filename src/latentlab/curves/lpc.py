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
    *Our improvements* (flagged): the walk also stops once a step moves the
    local mean by less than 1 % of the step (``creep_stop``; LPCM's own stop
    rarely fires on noisy data, and its tips creep past the end of the data),
    consecutive points closer than ``collapse * step`` are merged, and the
    walk watches for failure (below).
``mode="morphseq"``
    the variant of the MorphSeq project, kept to reproduce its numbers: the
    stepped points ``mu + h gamma`` are stored, the penalised direction is
    renormalised, the walk stops when ``||mu(x) - x|| < tol`` (which rarely
    happens, so the tips collect clusters of points), and the backward walk
    starts along ``-(x1 - x0)`` (normalised), not along ``-gamma(x0)``.

Failure is reported, never hidden
----------------------------------
``status`` is ``"ok"`` only when the walk did what it should. A walk that
comes back within one bandwidth of a part of the curve it covered more than
three bandwidths earlier along its path has jumped to another branch or arm
of the data, looped, or turned back on itself: ``status="revisit"``, and by
default (``on_revisit="stop"``) that half of the walk stops there. A short
turn-back (ground covered at most six bandwidths earlier: the walk reversing,
usually at a tip) is cut off instead and the half stops as ``"turned_back"``;
a turn-back in the middle of the data leaves the rest unexplained and is
caught as ``"incomplete"``. A half
that runs out of ``max_iter`` steps while still travelling is
``status="truncated"``; the default ``max_iter`` comes from the data's
extent (the length of a minimum spanning tree through a subsample) divided
by the step. Any status other than ``"ok"`` also issues a
:class:`CurveFitWarning`. Degenerate input (identical points, fewer points
than features, a bandwidth smaller than the spacing of the points) raises
``ValueError``.

A walk that skips part of the data without coming back (at a crossing it
can jump to the far side of the curve) leaves points unexplained: more than
10 % of them farther than three bandwidths (and five median distances) from
the curve gives ``status="incomplete"``.

Jumping is prevented by the bandwidth: the kernel must not reach the next
strand. With strands (arms, branches, crossings) a distance D apart, a
bandwidth of about D/5 or less keeps the walk on its strand (the kernel
weight of the other strand is then below exp(-12.5)); a step no longer than
the bandwidth, half of it near that limit, keeps it from cutting bends.
(Tests: noisy spirals with arms 1.26 apart jump at h = 0.3-0.4 and not at
h = 0.25; an open trefoil with strands 0.70 apart jumps at h = 0.4.)

References
----------
Einbeck, J., Tutz, G. & Evers, L. (2005). Local principal curves.
*Statistics and Computing* 15, 301-313. Einbeck, J. & Zayed, M. (2014). Some
asymptotics for localized principal components and curves. *Communications
in Statistics - Theory and Methods* 43, 1736-1749.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_integer, check_positive
from latentlab.curves import _walk
from latentlab.curves.report import (
    CurveFitWarning,
    LocalPrincipalCurve,
    check_degenerate,
    default_max_iter,
    fit_status,
)

__all__ = [
    "CurveFitWarning",
    "LocalPrincipalCurve",
    "default_max_iter",
    "fit_local_principal_curve",
]


def fit_local_principal_curve(
    X: npt.ArrayLike,
    bandwidth: float,
    step: float | None = None,
    *,
    start: npt.ArrayLike | None = None,
    penalty: float = 2.0,
    max_iter: int | None = None,
    mode: Literal["lpcm", "morphseq"] = "lpcm",
    stop_tol: float = 1e-5,
    boundary: float = 0.005,
    tol: float = 1e-4,
    collapse: float = 0.01,
    creep_stop: float = 0.01,
    on_revisit: Literal["stop", "continue"] | None = None,
    warn: bool = True,
) -> LocalPrincipalCurve:
    """Fit a local principal curve through ``X``, walking both ways from ``start``.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        The point cloud (at least 2 features, more points than features).
    bandwidth : float
        Gaussian kernel bandwidth h (isotropic; the data are not rescaled, so
        the fit is equivariant under rotations and translations). It must
        stay below about a fifth of the distance between strands of the data
        (arms of a spiral, branches, crossings), or the walk jumps between
        them (``status="revisit"``).
    step : float, optional
        Step length t0; defaults to ``bandwidth``.
    start : array_like of shape (n_features,), optional
        Anchor of the walk: the walk starts at the observation nearest to it
        (MorphSeq's choice). Defaults to the first observation. ``points[0]``
        of the result is the end nearer to the start.
    penalty : float
        Angle-penalty exponent ``pen`` (0 switches it off).
    max_iter : int, optional
        Maximum number of steps per direction. ``None`` (default): enough to
        cover the data's extent, :func:`default_max_iter` (LPCM uses 100,
        MorphSeq 500; on long curves 100 steps cut the curve short, which is
        reported as ``status="truncated"``).
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
        ``mode="lpcm"`` only (our improvement, on by default): also stop a
        half as converged once a step moves the local mean less than
        ``creep_stop * step``. The ends then stop short of the ends of the
        data by the classical end shrinkage, about 0.4-0.8 bandwidths (on the
        noisy quarter-helix of the tests). With ``creep_stop=0`` (LPCM's own
        stop, which rarely fires on noisy data) the tips creep on by tiny
        steps until ``max_iter``: there the curve runs past the ends of the
        data by up to about 3 noise sd, or turns back on itself (then
        reported as ``status="revisit"``).
    on_revisit : {"stop", "continue"}, optional
        What a half does when it comes back to covered ground: ``"stop"``
        there (default in ``"lpcm"`` mode) or ``"continue"`` (default in
        ``"morphseq"`` mode, which reproduces the original walk). Either way
        ``status`` is ``"revisit"``.
    warn : bool
        Issue a :class:`CurveFitWarning` when ``status`` is not ``"ok"``.

    Returns
    -------
    LocalPrincipalCurve
        ``status``, ``message``, ``converged`` and ``stop_reasons`` say whether
        and how the fit failed.

    Raises
    ------
    ValueError
        On malformed or degenerate input: fewer points than features (a
        transposed X), identical points, a bandwidth so small that the kernel
        at the start covers fewer than 2 points.

    Warns
    -----
    CurveFitWarning
        When ``status`` is not ``"ok"`` (and ``warn=True``).

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
    (4.1, 'ok')
    """
    X = check_array(X, "X", ndim=2)
    if X.shape[1] < 2:
        raise ValueError(
            f"X must have at least 2 features (columns), got shape {X.shape}"
        )
    if X.shape[0] < 3:
        raise ValueError(
            f"X must have at least 3 points to fit a curve, got {X.shape[0]}"
        )
    h = check_positive(bandwidth, "bandwidth")
    t0 = h if step is None else check_positive(step, "step")
    pen = check_positive(penalty, "penalty", strict=False)
    if mode not in ("lpcm", "morphseq"):
        raise ValueError(f"mode must be 'lpcm' or 'morphseq', got {mode!r}")
    if on_revisit is None:
        on_revisit = "stop" if mode == "lpcm" else "continue"
    if on_revisit not in ("stop", "continue"):
        raise ValueError(
            f"on_revisit must be 'stop', 'continue' or None, got {on_revisit!r}"
        )
    check_positive(collapse, "collapse", strict=False)
    check_positive(creep_stop, "creep_stop", strict=False)
    if start is None:
        anchor = X[0]
    else:
        anchor = check_array(start, "start", shape=(X.shape[1],))
    x0 = X[np.argmin(np.sum((X - anchor) ** 2, axis=1))]
    check_degenerate(X, x0, h)
    if max_iter is None:
        max_iter = default_max_iter(X, t0)
    max_iter = check_integer(max_iter, "max_iter", minimum=1)

    mu0, covariance0 = _walk.local_moments(X, x0, h)  # never None at an observation
    gamma0 = _walk.top_direction(covariance0)
    if gamma0 @ (X.mean(axis=0) - x0) < 0:  # forward = towards the bulk (equivariant)
        gamma0 = -gamma0
    options = dict(
        h=h,
        t0=t0,
        pen=pen,
        max_iter=max_iter,
        mode=mode,
        stop_tol=stop_tol,
        boundary=boundary,
        tol=tol,
        creep_stop=creep_stop if mode == "lpcm" else 0.0,
        on_revisit=on_revisit,
    )
    first = mu0 if mode == "lpcm" else x0
    coverage = _walk.Coverage(
        X.shape[1], 2 * max_iter + 2, _walk.REVISIT_RADIUS * h, _walk.REVISIT_GAP * h
    )
    coverage.add(first, 0.0)
    forward, f_steps, f_reason = _walk.walk(X, x0, mu0, gamma0, options, coverage, 1.0)
    if mode == "lpcm" or not forward:
        back_direction = -gamma0
    else:
        back_direction = -(forward[0] - x0)
        back_direction = back_direction / max(
            float(np.linalg.norm(back_direction)), 1e-300
        )
    backward, b_steps, b_reason = _walk.walk(
        X, x0, mu0, back_direction, options, coverage, -1.0
    )
    d = X.shape[1]
    points = np.vstack(
        [
            np.array(backward[::-1]).reshape(-1, d),
            first,
            np.array(forward).reshape(-1, d),
        ]
    )
    start_index = len(backward)
    if mode == "lpcm" and collapse > 0:
        points, start_index = _walk.collapse(points, start_index, collapse * t0)
    # orient: point 0 is the end nearer the anchor
    if np.sum((points[-1] - anchor) ** 2) < np.sum((points[0] - anchor) ** 2):
        points, start_index = points[::-1].copy(), len(points) - 1 - start_index
    reasons = (b_reason, f_reason)
    status, message = fit_status(
        X, points, reasons, (backward, forward), coverage, h, t0, max_iter
    )
    if status != "ok" and warn:
        warnings.warn(
            f"local principal curve: {status}: {message}", CurveFitWarning, stacklevel=2
        )
    arc = np.concatenate(
        [[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))]
    )
    stopped_by_rule = all(r in ("converged", "turned_back") for r in reasons)
    converged = status == "ok" and stopped_by_rule
    return LocalPrincipalCurve(
        points,
        arc,
        float(arc[-1]),
        int(start_index),
        bool(converged),
        reasons,
        status,
        len(b_steps) + len(f_steps),
        tuple(float(s) for s in b_steps[::-1] + f_steps),
        h,
        t0,
        mode,
        int(max_iter),
        int(coverage.count),
        message,
    )
