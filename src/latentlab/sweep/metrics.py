"""Curve-based metrics of an embedding, exactly as MorphSeq defines them, plus labelled variants.

All curves are arrays of shape (n_points, n_features), index-matched (point j
of every curve sits at the same fraction of arc length). Undefined values are
NaN, as the docstrings say; malformed input raises ``ValueError``.
"""

from __future__ import annotations

from itertools import combinations
from typing import Literal, Mapping

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from latentlab._validation import check_array, check_integer
from latentlab.alignment import horn_quaternion, kabsch

__all__ = [
    "segment_colinearity",
    "segment_covariance",
    "within_colinearity",
    "dispersion_profile",
    "dispersion_summary",
    "rmse_by_perturbation",
    "joint_aligned_rmse",
]


def _curve(value, name):
    curve = check_array(value, name, ndim=2)
    if curve.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 points, got {curve.shape[0]}")
    return curve


def _segment_vectors(a, b, n_segments, oriented, strict=False):
    a, b = _curve(a, "a"), _curve(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    n_segments = check_integer(n_segments, "n_segments", minimum=1)
    n = min(len(a), len(b))
    if n < n_segments + 1:
        if strict:
            raise ValueError(f"curves need at least n_segments + 1 = {n_segments + 1} points for "
                             f"{n_segments} segments; the shorter has {n}. Resample them or lower n_segments.")
        return None
    a, b = a[:n], b[:n]
    ends = np.floor(np.linspace(0, n - 1, n_segments + 1)).astype(int)
    v_b = b[ends[1:]] - b[ends[:-1]]
    nearest = cKDTree(a).query(b[ends])[1]
    v_a = a[nearest[1:]] - a[nearest[:-1]]
    unit = []
    for v in (v_a, v_b):
        norm = np.linalg.norm(v, axis=1, keepdims=True)
        unit.append(np.divide(v, norm, out=np.zeros_like(v), where=norm > 0))
    cos = np.einsum("ij,ij->i", unit[0], unit[1])
    if oriented:  # our variant: a piece of a walked against a's own index order counts negative
        cos = cos * np.sign(nearest[1:] - nearest[:-1])
    return unit, cos


def segment_colinearity(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    n_segments: int = 100,
    variant: Literal["faithful", "oriented", "symmetric"] = "faithful",
    strict: bool = False,
) -> float:
    """Mean cosine between matched segments of two curves (MorphSeq's SegmentColinearity).

    Both curves are cut to the shorter length n; ``b`` is split into
    ``n_segments`` pieces at ``floor(linspace(0, n - 1, k + 1))``; the matching
    piece of ``a`` joins the points of ``a`` nearest to b's segment ends. The
    score is the mean cosine between the pieces (a zero vector scores 0).

    Parameters
    ----------
    a, b : array_like of shape (n_a, d) and (n_b, d)
    n_segments : int
        k (100 in MorphSeq).
    variant : {"faithful", "oriented", "symmetric"}
        ``"faithful"`` as MorphSeq (a reversed ``a`` still scores 1, because
        only a's point positions are used); ``"oriented"`` (ours) multiplies
        each cosine by the sign of a's index step, so a reversed curve scores
        -1; ``"symmetric"`` (ours) averages the faithful score both ways round.
    strict : bool
        Raise ``ValueError`` instead of returning NaN when the curves have
        fewer points than ``n_segments + 1``.

    Returns
    -------
    float
        NaN when the shorter curve has fewer than ``n_segments + 1`` points.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import segment_colinearity
    >>> t = np.linspace(0, 1, 201)[:, None]
    >>> line = t * [1.0, 0.0, 0.0]
    >>> segment_colinearity(line + [0.0, 1.0, 0.0], line)
    1.0
    >>> segment_colinearity(line[::-1], line), segment_colinearity(line[::-1], line, variant="oriented")
    (1.0, -1.0)
    """
    if variant == "symmetric":
        return float(np.mean([segment_colinearity(a, b, n_segments=n_segments, strict=strict),
                              segment_colinearity(b, a, n_segments=n_segments, strict=strict)]))
    if variant not in ("faithful", "oriented"):
        raise ValueError(f"variant must be 'faithful', 'oriented' or 'symmetric', got {variant!r}")
    result = _segment_vectors(a, b, n_segments, variant == "oriented", strict)
    return float("nan") if result is None else float(np.mean(result[1]))


def segment_covariance(a: npt.ArrayLike, b: npt.ArrayLike, *, n_segments: int = 100) -> float:
    """MorphSeq's SegmentCovariance: mean over coordinates of the covariance (across segments)
    between the unit segment vectors of ``a`` and ``b`` (population covariance; NaN if too short).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import segment_covariance
    >>> t = np.linspace(0, 1, 201)[:, None]
    >>> round(segment_covariance(t * [1.0, 0, 0], t * [1.0, 0, 0]), 12)
    0.0
    """
    result = _segment_vectors(a, b, n_segments, False)
    if result is None:
        return float("nan")
    (u_a, u_b), _ = result
    centred = (u_a - u_a.mean(axis=0)) * (u_b - u_b.mean(axis=0))
    return float(np.mean(centred.mean(axis=0)))


def within_colinearity(curves: Mapping[str, npt.ArrayLike], *, n_segments: int = 100) -> tuple[float, float]:
    """Mean and sd of segment collinearity over all unordered pairs of curves of one instance.

    The "prettiness" of an embedding: do the perturbations' trajectories run
    alongside each other? Pairs are taken in *sorted* name order (MorphSeq
    iterates a Python set, so which curve is ``a`` varied between runs).
    NaN pairs are dropped; all-NaN gives (NaN, NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import within_colinearity
    >>> t = np.linspace(0, 1, 201)[:, None]
    >>> within_colinearity({"x": t * [1.0, 0], "y": t * [1.0, 0] + [0, 1], "z": t * [1.0, 0] + [0, 2]})
    (1.0, 0.0)
    """
    if len(curves) < 2:
        raise ValueError(f"curves must hold at least 2 curves, got {len(curves)}")
    scores = np.array([segment_colinearity(curves[p], curves[q], n_segments=n_segments)
                       for p, q in combinations(sorted(curves), 2)])
    scores = scores[~np.isnan(scores)]
    if scores.size == 0:
        return float("nan"), float("nan")
    return float(scores.mean()), float(scores.std())


def _stack(curves, name="curves"):
    items = list(curves.values()) if isinstance(curves, Mapping) else list(curves)
    if len(items) < 2:
        raise ValueError(f"{name} must hold at least 2 curves, got {len(items)}")
    arrays = [check_array(c, f"{name}[{i}]", ndim=2) for i, c in enumerate(items)]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"{name} must all have the same shape (equal length, same dimension); got {sorted(shapes)}")
    return np.stack(arrays)


def dispersion_profile(curves: Mapping[str, npt.ArrayLike] | list) -> np.ndarray:
    """Spread across perturbations at each curve index: D(j) = mean_p ||c_p(j) - mean_q c_q(j)||.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import dispersion_profile
    >>> dispersion_profile([[[0, 0], [0, 1]], [[0, 0], [0, -1]]]).tolist()
    [0.0, 1.0]
    """
    stacked = _stack(curves)
    return np.linalg.norm(stacked - stacked.mean(axis=0), axis=2).mean(axis=0)


def dispersion_summary(curves: Mapping[str, npt.ArrayLike] | list, *, n: int = 5) -> dict[str, float]:
    """MorphSeq's dispersion metrics: ``first_n``, ``last_n`` and ``disp_coefficient``.

    ``first_n`` / ``last_n`` are the mean of D over the first / last ``n``
    indices; ``disp_coefficient`` is the least-squares slope of D(j) on j
    multiplied by the number of indices (NaN with fewer than 2). A tree-like
    embedding has first_n near 0, a larger last_n and a positive coefficient.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import dispersion_summary
    >>> t = np.linspace(0, 1, 11)[:, None]
    >>> rays = [t * [1.0, 0.0], t * [-1.0, 0.0]]
    >>> {k: round(v, 3) for k, v in dispersion_summary(rays, n=2).items()}
    {'first_n': 0.05, 'last_n': 0.95, 'disp_coefficient': 1.1}
    """
    profile = dispersion_profile(curves)
    n = check_integer(n, "n", minimum=1)
    count = len(profile)
    if count < 2:
        coefficient = float("nan")
    else:
        j = np.arange(count, dtype=float)
        coefficient = float(np.polyfit(j, profile, 1)[0] * count)
    return {"first_n": float(profile[:n].mean()), "last_n": float(profile[-n:].mean()),
            "disp_coefficient": coefficient}


def _paired(curves_all, curves_hld):
    names = sorted(set(curves_all) & set(curves_hld))
    if not names:
        raise ValueError("curves_all and curves_hld share no perturbation names")
    pairs = {}
    for name in names:
        P = check_array(curves_all[name], f"curves_all[{name!r}]", ndim=2)
        Q = check_array(curves_hld[name], f"curves_hld[{name!r}]", ndim=2)
        if P.shape != Q.shape:
            raise ValueError(f"curves_all[{name!r}] and curves_hld[{name!r}] must have equal shapes to be "
                             f"index-matched, got {P.shape} and {Q.shape}")
        pairs[name] = (P, Q)
    return pairs


def rmse_by_perturbation(
    curves_all: Mapping[str, npt.ArrayLike],
    curves_hld: Mapping[str, npt.ArrayLike],
    *,
    method: Literal["quaternion", "svd"] = "quaternion",
    allow_reflection: bool = False,
) -> dict[str, dict[str, float]]:
    """Initial and aligned coordinate RMSE per perturbation, and MorphSeq's pooled ``avg_pert``.

    For each perturbation the "hld" curve Q is aligned onto the "all" curve P
    with its *own* rotation and translation (quaternion method, proper
    rotations, as MorphSeq; ``method="svd", allow_reflection=True`` is our
    extension). RMSE is over all n * d coordinates. ``avg_pert`` is the root
    of the mean squared error pooled over every perturbation's points, each
    aligned separately (not the mean of the per-perturbation RMSEs).

    Returns
    -------
    dict
        name -> {"initial": float, "aligned": float}, plus "avg_pert".

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import rmse_by_perturbation
    >>> P = np.random.default_rng(0).normal(size=(20, 3))
    >>> out = rmse_by_perturbation({"wt": P}, {"wt": P + 1.0})
    >>> round(out["wt"]["initial"], 6), round(out["avg_pert"]["aligned"], 6)
    (1.0, 0.0)
    """
    result, sq_initial, sq_aligned, count = {}, 0.0, 0.0, 0
    for name, (P, Q) in _paired(curves_all, curves_hld).items():
        if method == "quaternion":
            if allow_reflection:
                raise ValueError("allow_reflection=True needs method='svd'")
            transform = horn_quaternion(P, Q)
        elif method == "svd":
            transform = kabsch(P, Q, allow_reflection=allow_reflection)
        else:
            raise ValueError(f"method must be 'quaternion' or 'svd', got {method!r}")
        initial = float(np.sum((P - Q) ** 2))
        aligned = float(np.sum((P - transform.apply(Q)) ** 2))
        result[name] = {"initial": float(np.sqrt(initial / P.size)), "aligned": float(np.sqrt(aligned / P.size))}
        sq_initial, sq_aligned, count = sq_initial + initial, sq_aligned + aligned, count + P.size
    result["avg_pert"] = {"initial": float(np.sqrt(sq_initial / count)), "aligned": float(np.sqrt(sq_aligned / count))}
    return result


def joint_aligned_rmse(
    curves_all: Mapping[str, npt.ArrayLike], curves_hld: Mapping[str, npt.ArrayLike], *,
    allow_reflection: bool = False,
) -> float:
    """Coordinate RMSE after ONE rigid alignment of all perturbations together (our extension).

    MorphSeq aligns every perturbation separately, which forgives an instance
    whose branches are rotated relative to each other; one shared transform
    does not.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.metrics import joint_aligned_rmse
    >>> P = np.random.default_rng(0).normal(size=(20, 3))
    >>> round(joint_aligned_rmse({"a": P, "b": 2 * P}, {"a": P + 1, "b": 2 * P + 1}), 9)
    0.0
    """
    pairs = _paired(curves_all, curves_hld)
    P = np.vstack([p for p, _ in pairs.values()])
    Q = np.vstack([q for _, q in pairs.values()])
    transform = kabsch(P, Q, allow_reflection=allow_reflection)
    return float(np.sqrt(np.mean((P - transform.apply(Q)) ** 2)))
