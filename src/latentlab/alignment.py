"""Rigid alignment of matched point sets: Kabsch (SVD, any dimension) and Horn (quaternion, 3-D).

Given a target ``P`` and a source ``Q`` (rows matched), find the rotation R and
translation t minimising ``sum_i ||p_i - (R q_i + t)||^2``. The optimal t is
``p_bar - R q_bar``; after centring, R maximises ``tr(R H)`` with
``H = sum_i q'_i p'_i^T``. Because the identity with the centroid shift is one
of the candidates, the aligned error can never exceed the initial error.

Error helpers are named for exactly what they compute:

* :func:`coordinate_rmse` - root of the mean over all n * d *coordinates*
  (MorphSeq's "RMSE"; equals the per-point RMSD divided by sqrt(d));
* :func:`point_rmsd` - root of the mean over the n *points* of the squared
  Euclidean distance;
* :func:`aligned_rmse` / :func:`aligned_rmsd` - the same after aligning Q onto P.

References
----------
Kabsch, W. (1976). A solution for the best rotation to relate two sets of
vectors. *Acta Crystallographica A* 32, 922-923. Horn, B. K. P. (1987).
Closed-form solution of absolute orientation using unit quaternions.
*JOSA A* 4, 629-642.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array

__all__ = [
    "RigidTransform",
    "kabsch",
    "horn_quaternion",
    "align",
    "coordinate_rmse",
    "point_rmsd",
    "aligned_rmse",
    "aligned_rmsd",
]


@dataclass(frozen=True)
class RigidTransform:
    """A fitted map ``x -> scale * R x + t`` (apply to rows with :meth:`apply`).

    Attributes
    ----------
    rotation : ndarray of shape (d, d)
        Orthogonal; det = +1 unless reflections were allowed.
    translation : ndarray of shape (d,)
    scale : float
        1 unless ``scale=True`` was requested.
    residual : float
        The minimised sum of squared distances ``sum_i ||p_i - (s R q_i + t)||^2``,
        recomputed from the aligned points.
    """

    rotation: np.ndarray
    translation: np.ndarray
    scale: float
    residual: float

    def apply(self, points: npt.ArrayLike) -> np.ndarray:
        """Map rows of ``points`` (shape (n, d)) through the transform."""
        points = np.asarray(points, dtype=float)
        return self.scale * points @ self.rotation.T + self.translation


def _check_pair(P, Q, names=("P", "Q")):
    a, b = names
    P = check_array(P, a, ndim=2)
    Q = check_array(Q, b, ndim=2)
    if P.shape != Q.shape:
        raise ValueError(
            f"{a} and {b} must have the same shape (matched rows, same dimension); got {P.shape} and {Q.shape}"
        )
    if P.shape[0] < 1:
        raise ValueError(f"{a} and {b} must contain at least one point")
    return P, Q


#: Source points whose spread about their centroid is below this many machine
#: epsilons of their magnitude count as coincident (no scale can be fitted).
_COINCIDENT_RTOL = 1e3 * np.finfo(float).eps


def _coincident(Q, Qc):
    """Whether the source points coincide up to rounding (relative, not exact, test).

    Centring identical points leaves round-off of order eps * |Q|, so an exact
    ``> 0`` test passes and the fitted scale is noise divided by noise.
    """
    spread = float(np.sqrt(np.mean(np.sum(Qc * Qc, axis=1))))
    magnitude = float(np.abs(Q).max(initial=0.0))
    return spread <= _COINCIDENT_RTOL * magnitude or spread == 0.0


def _finish(P, Q, p_bar, q_bar, rotation, with_scale):
    Pc, Qc = P - p_bar, Q - q_bar
    scale = 1.0
    if with_scale and not _coincident(Q, Qc):  # Umeyama's least-squares scale
        denominator = float(np.sum(Qc * Qc))
        scale = float(np.sum(Pc * (Qc @ rotation.T))) / denominator
    translation = p_bar - scale * rotation @ q_bar
    aligned = scale * Q @ rotation.T + translation
    return RigidTransform(rotation, translation, scale, float(np.sum((P - aligned) ** 2)))


def kabsch(
    P: npt.ArrayLike, Q: npt.ArrayLike, *, allow_reflection: bool = False, scale: bool = False
) -> RigidTransform:
    """Best rotation (and translation) mapping ``Q`` onto ``P``, in any dimension, by SVD.

    Parameters
    ----------
    P : array_like of shape (n, d)
        Target points.
    Q : array_like of shape (n, d)
        Source points, row ``i`` matched to ``P[i]``.
    allow_reflection : bool
        Extension (not in MorphSeq): optimise over all orthogonal maps O(d),
        so a PCA sign flip can be undone. Default: proper rotations SO(d).
    scale : bool
        Extension: also fit a scale factor (Umeyama). If the source points
        coincide (their RMS spread about the centroid is below about 2e-13
        times their largest coordinate, i.e. round-off), no scale can be
        fitted and the scale is 1.

    Returns
    -------
    RigidTransform

    Notes
    -----
    With centred ``P', Q'`` and ``H = Q'^T P' = U S V^T``, the optimum is
    ``R = V diag(1, ..., 1, d) U^T`` with ``d = sign det(V U^T)`` (the
    determinant fix; ``d = 1`` when reflections are allowed). The minimum is
    ``sum ||p'||^2 + sum ||q'||^2 - 2 (s_1 + ... + s_{d-1} + d s_d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.alignment import kabsch
    >>> Q = np.array([[0., 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]])
    >>> R = np.array([[0., -1, 0], [1, 0, 0], [0, 0, 1]])  # 90 degrees about z
    >>> fit = kabsch(Q @ R.T + 5.0, Q)
    >>> np.round(fit.rotation, 6).tolist() == R.tolist(), round(fit.residual, 9)
    (True, 0.0)
    """
    P, Q = _check_pair(P, Q)
    p_bar, q_bar = P.mean(axis=0), Q.mean(axis=0)
    H = (Q - q_bar).T @ (P - p_bar)
    U, _, Vt = np.linalg.svd(H)
    V = Vt.T
    correction = np.ones(P.shape[1])
    if not allow_reflection and np.linalg.det(V @ U.T) < 0:
        correction[-1] = -1.0
    rotation = (V * correction) @ U.T
    return _finish(P, Q, p_bar, q_bar, rotation, scale)


def _quaternion_to_rotation(q):
    w, x, y, z = q
    return np.array([
        [w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z],
    ])


def horn_quaternion(P: npt.ArrayLike, Q: npt.ArrayLike, *, scale: bool = False) -> RigidTransform:
    """Best proper rotation mapping ``Q`` onto ``P`` in 3-D, by Horn's unit quaternion.

    Always returns det R = +1: when the best orthogonal map is a reflection,
    this is the best *proper* rotation, which may fit badly (MorphSeq's
    alignment, hence its "Aligned RMSE").

    Parameters
    ----------
    P, Q : array_like of shape (n, 3)
        Target and source, rows matched.
    scale : bool
        Extension: also fit a scale factor; 1 when the source points coincide
        (see :func:`kabsch`).

    Notes
    -----
    With ``S_ab = sum_i q'_ia p'_ib`` the symmetric 4x4 matrix N (Horn 1987,
    eq. 4.19) has its largest eigenvalue ``lambda_max`` at the optimal unit
    quaternion, and the minimum is ``sum ||p'||^2 + sum ||q'||^2 - 2 lambda_max``.
    For degenerate inputs (collinear points) the top eigenvalue repeats: R is
    not unique, but the residual is still minimal.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.alignment import horn_quaternion, kabsch
    >>> rng = np.random.default_rng(0)
    >>> P, Q = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    >>> bool(np.allclose(horn_quaternion(P, Q).rotation, kabsch(P, Q).rotation))
    True
    """
    P, Q = _check_pair(P, Q)
    if P.shape[1] != 3:
        raise ValueError(f"horn_quaternion works in 3-D only; P and Q have dimension {P.shape[1]}. Use kabsch.")
    p_bar, q_bar = P.mean(axis=0), Q.mean(axis=0)
    S = (Q - q_bar).T @ (P - p_bar)
    (xx, xy, xz), (yx, yy, yz), (zx, zy, zz) = S
    N = np.array([
        [xx + yy + zz, yz - zy, zx - xz, xy - yx],
        [yz - zy, xx - yy - zz, xy + yx, zx + xz],
        [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
        [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
    ])
    _, vectors = np.linalg.eigh(N)
    rotation = _quaternion_to_rotation(vectors[:, -1])
    return _finish(P, Q, p_bar, q_bar, rotation, scale)


def align(
    P: npt.ArrayLike,
    Q: npt.ArrayLike,
    *,
    method: Literal["svd", "quaternion"] = "svd",
    allow_reflection: bool = False,
) -> np.ndarray:
    """Return ``Q`` rigidly aligned onto ``P`` (shape (n, d)).

    ``method="quaternion"`` (3-D only, proper rotations) reproduces MorphSeq.

    Examples
    --------
    >>> from latentlab.alignment import align
    >>> align([[0, 0], [2, 0]], [[5, 5], [5, 7]]).round(6).tolist()
    [[0.0, 0.0], [2.0, 0.0]]
    """
    if method == "svd":
        return kabsch(P, Q, allow_reflection=allow_reflection).apply(Q)
    if method == "quaternion":
        if allow_reflection:
            raise ValueError("allow_reflection=True needs method='svd'; quaternions are proper rotations")
        return horn_quaternion(P, Q).apply(Q)
    raise ValueError(f"method must be 'svd' or 'quaternion', got {method!r}")


def coordinate_rmse(A: npt.ArrayLike, B: npt.ArrayLike) -> float:
    """Root mean squared difference over all n * d coordinates (MorphSeq's "RMSE").

    Equals :func:`point_rmsd` divided by sqrt(d).

    Examples
    --------
    >>> from latentlab.alignment import coordinate_rmse
    >>> coordinate_rmse([[0, 0, 0]], [[1, 1, 1]])
    1.0
    """
    A, B = _check_pair(A, B, ("A", "B"))
    return float(np.sqrt(np.mean((A - B) ** 2)))


def point_rmsd(A: npt.ArrayLike, B: npt.ArrayLike) -> float:
    """Root of the mean over points of the squared Euclidean distance ||a_i - b_i||^2.

    Examples
    --------
    >>> from latentlab.alignment import point_rmsd
    >>> round(point_rmsd([[0, 0, 0]], [[1, 1, 1]]) ** 2, 12)
    3.0
    """
    A, B = _check_pair(A, B, ("A", "B"))
    return float(np.sqrt(np.mean(np.sum((A - B) ** 2, axis=1))))


def aligned_rmse(
    P: npt.ArrayLike, Q: npt.ArrayLike, *, method: Literal["svd", "quaternion"] = "svd",
    allow_reflection: bool = False,
) -> float:
    """:func:`coordinate_rmse` between ``P`` and ``Q`` aligned onto it; never above the initial one.

    Examples
    --------
    >>> from latentlab.alignment import aligned_rmse, coordinate_rmse
    >>> P, Q = [[0, 0], [1, 0], [0, 1]], [[3, 3], [3, 4], [2, 3]]
    >>> round(coordinate_rmse(P, Q), 3), round(aligned_rmse(P, Q), 12)
    (2.769, 0.0)
    """
    return coordinate_rmse(P, align(P, Q, method=method, allow_reflection=allow_reflection))


def aligned_rmsd(
    P: npt.ArrayLike, Q: npt.ArrayLike, *, method: Literal["svd", "quaternion"] = "svd",
    allow_reflection: bool = False,
) -> float:
    """:func:`point_rmsd` between ``P`` and ``Q`` aligned onto it.

    Examples
    --------
    >>> from latentlab.alignment import aligned_rmsd
    >>> round(aligned_rmsd([[0, 0], [1, 0]], [[0, 0], [0, 2]]), 3)
    0.5
    """
    return point_rmsd(P, align(P, Q, method=method, allow_reflection=allow_reflection))
