"""What a local principal curve fit reports: the result, its status, its warnings.

A fit must never report success (``status="ok"``) for a walk that failed, and
must refuse input on which a curve means nothing. :mod:`latentlab.curves.lpc`
does the walk; this module holds the result class, the status rules, the
default ``max_iter`` and the checks for degenerate input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_positive
from latentlab.curves import _walk

__all__ = [
    "CurveFitWarning",
    "LocalPrincipalCurve",
    "check_degenerate",
    "default_max_iter",
    "fit_status",
]

#: The kernel at the start must cover at least this many points (Kish's
#: effective number); one point alone gives no direction.
MIN_NEIGHBOURS = 1.5

#: Subsample size for the minimum spanning tree behind the default max_iter.
_MST_SAMPLE = 200


class CurveFitWarning(UserWarning):
    """A local principal curve did not fit cleanly; its ``status`` says how."""


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
        Whether ``status == "ok"`` and both halves stopped by the stopping
        rule or a short turn-back (not by ``max_iter``).
    stop_reasons : tuple of str
        Why the (backward, forward) walks stopped: ``"converged"``,
        ``"max_iter"``, ``"empty_neighbourhood"``, ``"revisit"`` or
        ``"turned_back"`` (a short reversal, usually at a tip, cut off).
    status : str
        ``"ok"``; ``"revisit"`` (the walk came back to ground it had already
        covered: a jump between strands, a loop, or a turn back on itself);
        ``"truncated"`` (a half ran out of ``max_iter`` while still
        travelling); ``"incomplete"`` (more than 10 % of the points lie far
        from the curve: part of the data was skipped); ``"too_few_points"``
        or ``"empty_neighbourhood"`` (the walk could not start). A failed
        fit keeps whatever points it found (possibly only the start), never
        NaN.
    n_iter : int
        Number of local steps taken (both directions).
    history : tuple of float
        Length of every step along the walk, forward half last.
    bandwidth, step : float
    mode : str
    max_iter : int
        The per-half step limit used (computed when not given).
    n_revisits : int
        How many walk points came back to covered ground (0 unless
        ``status == "revisit"``).
    message : str
        One sentence explaining a status other than ``"ok"`` ("" otherwise).
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
    max_iter: int = 0
    n_revisits: int = 0
    message: str = ""


def _spanning_tree_length(P):
    """Length of the minimum spanning tree of the rows of P (Prim, O(m^2)).

    All pairwise distances are computed in one vectorised step (the same
    formula as a row at a time, so the same numbers); the loop only picks.
    """
    distances = np.linalg.norm(P[:, None, :] - P[None, :, :], axis=2)
    in_tree = np.zeros(len(P), dtype=bool)
    in_tree[0] = True
    nearest = distances[0].copy()
    total = 0.0
    for _ in range(len(P) - 1):
        candidates = np.where(in_tree, np.inf, nearest)
        j = int(np.argmin(candidates))
        total += float(candidates[j])
        in_tree[j] = True
        np.minimum(nearest, distances[j], out=nearest)
    return total


def default_max_iter(X: npt.ArrayLike, step: float) -> int:
    """Steps per half that let a walk cover the data's extent: 1.5 L / step + 25.

    L is the length of a minimum spanning tree through (an evenly spaced
    subsample of at most 200 of) the points, a generous estimate of the
    length of any curve through them.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.curves import default_max_iter
    >>> X = np.column_stack([np.linspace(0, 10, 101), np.zeros(101)])
    >>> default_max_iter(X, 0.5)  # L = 10: 1.5 * 10 / 0.5 + 25
    55
    """
    X = check_array(X, "X", ndim=2)
    step = check_positive(step, "step")
    if len(X) > _MST_SAMPLE:
        X = X[np.linspace(0, len(X) - 1, _MST_SAMPLE).round().astype(int)]
    length = _spanning_tree_length(X)
    return int(math.ceil(1.5 * length / step)) + 25


def check_degenerate(X, x0, h):
    """Refuse inputs on which a curve means nothing (the fit would say "ok")."""
    n, d = X.shape
    if n <= d:
        raise ValueError(
            "X must have more points (rows) than features (columns) to fit a curve; "
            f"got "
            f"shape {X.shape}. Did you pass X transposed? Use X.T."
        )
    spread = float(np.abs(X - X.mean(axis=0)).max())
    if spread <= 1e3 * np.finfo(float).eps * max(float(np.abs(X).max()), 1e-300):
        raise ValueError(
            f"X has no spread: all {n} points are identical (up to rounding); "
            "there is no curve to fit."
        )
    neighbours = _walk.effective_neighbours(X, x0, h)
    if neighbours < MIN_NEIGHBOURS:
        gaps = np.sqrt(np.sort(np.sum((X - x0) ** 2, axis=1))[1:6])
        raise ValueError(
            f"bandwidth={h:.3g} is too small for X: the kernel at the start covers "
            f"about {neighbours:.2f} points (a direction needs more than one); "
            f"the nearest points are {gaps[0]:.3g}-{gaps[-1]:.3g} away, so use a "
            "bandwidth of at least a few times that."
        )


def fit_status(X, points, reasons, halves, coverage, h, t0, max_iter):
    """The fit's status and the sentence that explains it ("" when "ok")."""
    if len(points) < 2 or float(np.abs(np.diff(points, axis=0)).max()) == 0.0:
        if "empty_neighbourhood" in reasons:
            return "empty_neighbourhood", (
                "the walk left the data at once: no observation within six "
                "bandwidths of its first step (increase the bandwidth or shorten "
                "the step)"
            )
        return "too_few_points", "the walk found fewer than 2 distinct curve points"
    if coverage.first is not None:
        first = coverage.first
        return "revisit", (
            f"the walk came back within {first.distance:.3g} of the curve it had "
            f"covered {first.path_gap:.3g} earlier along its path ({coverage.count} "
            "point(s)): it jumped to another strand, looped or turned back. Use a "
            "bandwidth below about a fifth of the distance between strands, and a "
            "step no longer than the bandwidth (half of it near that limit)"
        )
    truncated = [
        r == "max_iter" and _walk.still_travelling(s, t0)
        for r, s in zip(reasons, halves)
    ]
    if any(truncated):
        return "truncated", (
            f"max_iter={max_iter} steps ran out while the walk was still travelling; "
            "the curve is cut short (raise max_iter, or leave it at None)"
        )
    share, radius = unexplained_share(X, points, h)
    if share > UNEXPLAINED_SHARE:
        return "incomplete", (
            f"{100 * share:.0f} % of the points lie farther than {radius:.3g} from the "
            "curve: the walk skipped part of the data (a jump between strands at a "
            "crossing, or data that are not one curve)"
        )
    return "ok", ""


#: A fit is "incomplete" when more than this share of the points lies farther
#: than UNEXPLAINED_RADIUS bandwidths (or 5 median distances) from the curve.
UNEXPLAINED_SHARE = 0.1
UNEXPLAINED_RADIUS = 3.0


def unexplained_share(X, points, h):
    """Share of the points far from the curve, and the distance counted as far."""
    from latentlab.curves.geometry import project_onto_curve

    distance = project_onto_curve(X, points).distance
    radius = max(UNEXPLAINED_RADIUS * h, 5.0 * float(np.median(distance)))
    return float(np.mean(distance > radius)), radius
