"""Geometry of fitted curves: length, equal-arc-length resampling, projection, fit measures.

Every function accepts a polyline of shape (n_points, n_features) or a
:class:`~latentlab.curves.LocalPrincipalCurve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.interpolate import CubicSpline

from latentlab._validation import check_array, check_integer, check_positive
from latentlab.curves.lpc import LocalPrincipalCurve

__all__ = ["CurveProjection", "curve_length", "resample_equal_arclength", "project_onto_curve", "fit_measures"]


@dataclass(frozen=True)
class CurveProjection:
    """Projection of points onto a polyline.

    Attributes
    ----------
    arc_length : ndarray of shape (n,)
        Arc length from the curve's first point to each projection ("pseudo-time").
    distance : ndarray of shape (n,)
        Euclidean distance from each point to the curve.
    points : ndarray of shape (n, n_features)
        The projected points.
    """

    arc_length: np.ndarray
    distance: np.ndarray
    points: np.ndarray


def _as_curve(curve, name="curve"):
    if isinstance(curve, LocalPrincipalCurve):
        curve = curve.points
    curve = check_array(curve, name, ndim=2)
    if curve.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 points, got {curve.shape[0]}")
    return curve


def curve_length(curve: npt.ArrayLike | LocalPrincipalCurve) -> float:
    """Total length of a polyline of shape (n_points, n_features).

    Examples
    --------
    >>> from latentlab.curves import curve_length
    >>> curve_length([[0, 0], [3, 4], [3, 5]])
    6.0
    """
    curve = _as_curve(curve)
    return float(np.linalg.norm(np.diff(curve, axis=0), axis=1).sum())


def resample_equal_arclength(
    curve: npt.ArrayLike | LocalPrincipalCurve,
    n_points: int = 500,
    *,
    spline: Literal[None, "index", "arclength"] = None,
    n_dense: int = 5000,
) -> np.ndarray:
    """Resample a curve at ``n_points`` points equally spaced in arc length.

    Parameters
    ----------
    curve : array_like of shape (m, n_features) or LocalPrincipalCurve
    n_points : int
        Number of output points (at least 2).
    spline : {None, "index", "arclength"}
        ``None`` interpolates the polyline linearly. ``"index"`` first passes
        an interpolating cubic spline through the points against their
        *index* (MorphSeq's smoothing; tip clusters then add wiggles and
        length); ``"arclength"`` uses the cumulative length instead (LPCM's
        parametrisation). Splines are evaluated at ``n_dense`` points before
        resampling and need at least 4 distinct points.

    Returns
    -------
    ndarray of shape (n_points, n_features)

    Examples
    --------
    >>> from latentlab.curves import resample_equal_arclength
    >>> resample_equal_arclength([[0, 0], [1, 0], [1, 2]], 4)
    array([[0., 0.],
           [1., 0.],
           [1., 1.],
           [1., 2.]])
    """
    curve = _as_curve(curve)
    n_points = check_integer(n_points, "n_points", minimum=2)
    if spline is not None:
        if spline not in ("index", "arclength"):
            raise ValueError(f"spline must be None, 'index' or 'arclength', got {spline!r}")
        segment = np.linalg.norm(np.diff(curve, axis=0), axis=1)
        if spline == "arclength":
            curve = curve[np.concatenate([[True], segment > 1e-12])]
        if curve.shape[0] < 4:
            raise ValueError(f"curve needs at least 4 distinct points for a cubic spline, got {curve.shape[0]}")
        if spline == "index":
            parameter = np.arange(curve.shape[0], dtype=float)
        else:
            parameter = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
        dense = np.linspace(parameter[0], parameter[-1], check_integer(n_dense, "n_dense", minimum=4))
        curve = CubicSpline(parameter, curve, axis=0)(dense)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    if arc[-1] <= 0:
        raise ValueError("curve has zero length; cannot resample by arc length")
    targets = np.linspace(0.0, arc[-1], n_points)
    return np.column_stack([np.interp(targets, arc, curve[:, j]) for j in range(curve.shape[1])])


def project_onto_curve(
    X: npt.ArrayLike, curve: npt.ArrayLike | LocalPrincipalCurve, *, chunk_size: int = 2048
) -> CurveProjection:
    """Project points onto a polyline (clamped to its segments).

    Each point goes to the nearest point of the nearest segment; ties go to
    the smaller arc length. The arc length of the projection is the point's
    "pseudo-time" along the curve.

    Parameters
    ----------
    X : array_like of shape (n, n_features)
    curve : array_like of shape (m, n_features) or LocalPrincipalCurve
    chunk_size : int
        Points handled per vectorised block (memory ~ chunk_size * m * n_features).

    Returns
    -------
    CurveProjection

    Examples
    --------
    >>> from latentlab.curves import project_onto_curve
    >>> projection = project_onto_curve([[0.5, 1.0], [2.0, -1.0]], [[0, 0], [1, 0], [1, 1]])
    >>> projection.arc_length.round(2), projection.distance.round(2)
    (array([2., 1.]), array([0.5 , 1.41]))
    """
    curve = _as_curve(curve)
    X = check_array(X, "X", ndim=2)
    if X.shape[1] != curve.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but curve has {curve.shape[1]}; dimensions must match")
    starts, vectors = curve[:-1], np.diff(curve, axis=0)
    lengths2 = np.einsum("ij,ij->i", vectors, vectors)
    cumulative = np.concatenate([[0.0], np.cumsum(np.sqrt(lengths2))])
    safe = np.where(lengths2 > 0, lengths2, 1.0)
    arc, distance, projected = np.empty(len(X)), np.empty(len(X)), np.empty_like(X)
    for lo in range(0, len(X), check_integer(chunk_size, "chunk_size", minimum=1)):
        block = X[lo:lo + chunk_size]
        rel = block[:, None, :] - starts[None, :, :]
        t = np.clip(np.einsum("nmd,md->nm", rel, vectors) / safe, 0.0, 1.0)
        t[:, lengths2 == 0] = 0.0
        offset = rel - t[:, :, None] * vectors[None, :, :]
        d2 = np.einsum("nmd,nmd->nm", offset, offset)
        best = np.argmin(d2, axis=1)
        rows = np.arange(len(block))
        tb = t[rows, best]
        arc[lo:lo + chunk_size] = cumulative[best] + tb * np.sqrt(lengths2[best])
        distance[lo:lo + chunk_size] = np.sqrt(d2[rows, best])
        projected[lo:lo + chunk_size] = starts[best] + tb[:, None] * vectors[best]
    return CurveProjection(arc, distance, projected)


def fit_measures(
    X: npt.ArrayLike, curve: npt.ArrayLike | LocalPrincipalCurve, *, tau: float | None = None
) -> dict[str, float]:
    """LPCM's goodness-of-fit measures of a curve for the points ``X``.

    ``r_c = 1 - mean distance to the curve / mean distance to the first
    principal-component line`` (1 is perfect, 0 no better than a straight line)
    and ``coverage`` = share of points within ``tau`` of the curve (default:
    the curve's bandwidth, or 0.1 for a plain array).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.curves import fit_measures
    >>> s = np.linspace(0, np.pi, 200)
    >>> X = np.column_stack([np.cos(s), np.sin(s)])
    >>> measures = fit_measures(X, X, tau=0.01)
    >>> round(measures["r_c"], 3), measures["coverage"]
    (1.0, 1.0)
    """
    if tau is None:
        tau = curve.bandwidth if isinstance(curve, LocalPrincipalCurve) else 0.1
    distance = project_onto_curve(X, curve).distance
    X = np.asarray(X, dtype=float)
    centred = X - X.mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    line_distance = np.linalg.norm(centred - np.outer(centred @ direction, direction), axis=1)
    baseline = float(line_distance.mean())
    r_c = 1.0 - float(distance.mean()) / baseline if baseline > 0 else float("nan")
    return {"r_c": r_c, "coverage": float(np.mean(distance <= check_positive(tau, "tau")))}
