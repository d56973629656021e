"""Noisy point clouds around curves whose truth is known, for testing curve fitters.

Each function returns ``(s, X, truth)``: the true position of each point along
the curve (sorted, so ``X[0]`` is nearest the start of the curve), the noisy
points, and the noise-free curve densely sampled. Points are spread uniformly in
arc length, so the density along the curve is even.

* :func:`noisy_helix` - the benchmark curve of the sweep chapter, a quarter
  helix (also exported as :func:`latentlab.sweep.noisy_helix`).
* :func:`noisy_spiral` - an Archimedean spiral in the plane; neighbouring arms
  are ``arm_spacing`` apart, so a bandwidth that reaches the next arm makes a
  local principal curve jump between arms.
* :func:`noisy_trefoil` - an open trefoil knot in 3-D; its strands pass within
  :func:`strand_gap` of each other at the crossings.

:func:`distance_to_truth` measures a fitted curve against the known truth in both
directions (the two halves of the Hausdorff distance) and the share of the truth
it covers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from latentlab._validation import (
    as_generator,
    check_array,
    check_integer,
    check_positive,
)

__all__ = [
    "sample_along",
    "noisy_helix",
    "noisy_spiral",
    "noisy_trefoil",
    "strand_gap",
    "TruthDistances",
    "distance_to_truth",
]


def _arc_lengths(curve: np.ndarray) -> np.ndarray:
    """Cumulative arc length at every vertex of a polyline (0 at the first one).

    Examples
    --------
    >>> from latentlab.curves.shapes import _arc_lengths
    >>> _arc_lengths(np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]])).tolist()
    [0.0, 5.0, 6.0]
    """
    curve = np.asarray(curve, dtype=float)
    steps = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def noisy_helix(
    n_points: int = 600,
    *,
    noise: float = 0.1,
    radius: float = 5.0,
    pitch: float = 0.5,
    n_truth: int = 4001,
    rng: None | int | np.random.Generator = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The benchmark curve: a noisy quarter helix (r cos s, r sin s, pitch s), s on [0, pi/2].

    ``s`` is drawn uniformly; the helix has constant speed, so the points are
    uniform in arc length too.

    Returns
    -------
    s : ndarray of shape (n_points,)
        True parameter of each point, sorted (so ``X[0]`` has the smallest s).
    X : ndarray of shape (n_points, 3)
        Points plus isotropic Gaussian noise of sd ``noise``.
    truth : ndarray of shape (n_truth, 3)
        The noise-free curve, densely sampled (length sqrt(r^2 + pitch^2) pi / 2,
        7.89 by default).

    Examples
    --------
    >>> from latentlab.curves import curve_length
    >>> from latentlab.curves.shapes import noisy_helix
    >>> s, X, truth = noisy_helix(rng=0)
    >>> X.shape, round(curve_length(truth), 2)
    ((600, 3), 7.89)
    """
    n_points = check_integer(n_points, "n_points", minimum=3)
    check_positive(noise, "noise", strict=False)
    rng = as_generator(rng)
    s = np.sort(rng.uniform(0, np.pi / 2, n_points))

    def curve(t):
        return np.column_stack([radius * np.cos(t), radius * np.sin(t), pitch * t])

    X = curve(s) + rng.normal(0, noise, (n_points, 3))
    n_truth = check_integer(n_truth, "n_truth", minimum=2)
    return s, X, curve(np.linspace(0, np.pi / 2, n_truth))


def sample_along(
    truth: np.ndarray,
    n_points: int,
    noise: float,
    rng: None | int | np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw points uniformly in arc length along ``truth`` and add Gaussian noise.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.curves.shapes import sample_along
    >>> s, X, truth = sample_along(np.array([[0.0, 0.0], [2.0, 0.0]]), 5, 0.0, rng=0)
    >>> bool(np.allclose(X[:, 0], s)), X.shape
    (True, (5, 2))
    """
    n_points = check_integer(n_points, "n_points", minimum=3)
    check_positive(noise, "noise", strict=False)
    rng = as_generator(rng)
    arc = _arc_lengths(truth)
    s = np.sort(rng.uniform(0.0, arc[-1], n_points))
    on_curve = np.column_stack(
        [np.interp(s, arc, truth[:, j]) for j in range(truth.shape[1])]
    )
    return s, on_curve + rng.normal(0.0, noise, on_curve.shape), truth


def noisy_spiral(
    n_points: int = 800,
    *,
    arm_spacing: float = 1.26,
    turns: float = 2.0,
    noise: float = 0.1,
    n_truth: int = 20001,
    rng: None | int | np.random.Generator = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Archimedean spiral r = b theta, theta from pi to pi (1 + 2 turns), plus noise.

    ``b = arm_spacing / (2 pi)``, so neighbouring arms are ``arm_spacing``
    apart and the innermost radius is ``arm_spacing / 2``. ``s = 0`` is the
    inner end.

    Examples
    --------
    >>> from latentlab.curves import curve_length
    >>> from latentlab.curves.shapes import noisy_spiral
    >>> s, X, truth = noisy_spiral(rng=0)
    >>> X.shape, round(curve_length(truth), 1)
    ((800, 2), 23.9)
    """
    spacing = check_positive(arm_spacing, "arm_spacing")
    turns = check_positive(turns, "turns")
    theta = np.linspace(
        np.pi, np.pi * (1 + 2 * turns), check_integer(n_truth, "n_truth", minimum=2)
    )
    radius = spacing / (2 * np.pi) * theta
    truth = np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])
    return sample_along(truth, n_points, noise, rng)


def noisy_trefoil(
    n_points: int = 900,
    *,
    depth: float = 0.5,
    fraction: float = 0.9,
    noise: float = 0.1,
    n_truth: int = 20001,
    rng: None | int | np.random.Generator = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An open trefoil knot in 3-D: (sin t + 2 sin 2t, cos t - 2 cos 2t, -depth sin 3t).

    ``t`` runs over ``fraction`` of a full turn, so the curve has two ends; its
    strands cross three times in the (x, y) projection and pass
    ``strand_gap(depth)`` apart in 3-D (0.70 for the default depth 0.5, 1.21
    for depth 1).

    Examples
    --------
    >>> from latentlab.curves.shapes import noisy_trefoil, strand_gap
    >>> s, X, truth = noisy_trefoil(rng=0)
    >>> X.shape, round(strand_gap(truth), 2)
    ((900, 3), 0.7)
    """
    check_positive(depth, "depth")
    fraction = check_positive(fraction, "fraction")
    if fraction >= 1:
        raise ValueError(f"fraction must be below 1 (an open curve), got {fraction}")
    t = np.linspace(
        0.0, 2 * np.pi * fraction, check_integer(n_truth, "n_truth", minimum=2)
    )
    truth = np.column_stack(
        [
            np.sin(t) + 2 * np.sin(2 * t),
            np.cos(t) - 2 * np.cos(2 * t),
            -depth * np.sin(3 * t),
        ]
    )
    return sample_along(truth, n_points, noise, rng)


def strand_gap(
    truth: np.ndarray, *, min_path: float = 3.0, n_sample: int = 3000
) -> float:
    """Smallest distance between two curve points more than ``min_path`` apart along it.

    The distance between neighbouring strands (arms, crossings): a local
    principal curve needs a bandwidth well below it.

    Examples
    --------
    >>> from latentlab.curves.shapes import noisy_spiral, strand_gap
    >>> round(strand_gap(noisy_spiral(rng=0)[2]), 2)  # just under the arm spacing 1.26
    1.24
    """
    from scipy.spatial.distance import cdist

    truth = np.asarray(truth, dtype=float)
    truth = truth[
        np.linspace(0, len(truth) - 1, min(n_sample, len(truth))).round().astype(int)
    ]
    arc = _arc_lengths(truth)
    distance = cdist(truth, truth)
    distance[np.abs(arc[:, None] - arc[None, :]) <= min_path] = np.inf
    return float(distance.min())


class TruthDistances(NamedTuple):
    """A fitted curve against the true one (see :func:`distance_to_truth`)."""

    #: Largest distance from a point of the fit to the true curve.
    fit_to_truth: float
    #: Distance from each point of the (subsampled) truth to the fit.
    from_truth: np.ndarray
    #: Share of the truth within ``tau`` of the fit.
    coverage: float
    #: The subsampled truth that ``from_truth`` refers to.
    truth_points: np.ndarray


def distance_to_truth(
    points: np.ndarray,
    truth: np.ndarray,
    *,
    tau: float,
    n_dense: int = 500,
    n_truth: int = 1000,
) -> TruthDistances:
    """How far a fitted curve strays from the truth, and the truth from it.

    The truth is thinned to every ``len(truth) // n_truth``-th point (about
    ``n_truth`` points, ``truth_points``); the fit's points are projected onto
    that polyline, and its points onto the fit resampled at ``n_dense`` points
    of equal arc length. ``max(fit_to_truth, from_truth.max())`` is the Hausdorff distance.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.curves.shapes import distance_to_truth
    >>> truth = np.column_stack([np.linspace(0, 4, 401), np.zeros(401)])
    >>> half = truth[:201] + [0.0, 0.1]  # covers the first half, 0.1 off
    >>> d = distance_to_truth(half, truth, tau=0.2)
    >>> round(d.fit_to_truth, 3), round(float(d.from_truth.max()), 3), d.coverage
    (0.1, 2.002, 0.5)
    """
    from latentlab.curves.geometry import project_onto_curve, resample_equal_arclength

    points = check_array(points, "points", ndim=2)
    truth = check_array(truth, "truth", ndim=2)
    tau = check_positive(tau, "tau")
    n_truth = check_integer(n_truth, "n_truth", minimum=1)
    dense = resample_equal_arclength(
        points, check_integer(n_dense, "n_dense", minimum=2)
    )
    truth = truth[:: max(1, len(truth) // n_truth)]
    to_truth = project_onto_curve(points, truth).distance
    from_truth = project_onto_curve(truth, dense).distance
    coverage = float(np.mean(from_truth <= tau))
    return TruthDistances(float(to_truth.max()), from_truth, coverage, truth)
