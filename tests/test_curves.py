"""Tests for latentlab.curves: LPC on known curves, projection, resampling, errors."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from latentlab.curves import (
    CurveFitWarning, curve_length, fit_local_principal_curve, fit_measures, project_onto_curve, resample_equal_arclength,
)

TRUE_S = np.linspace(0, np.pi / 2, 4001)
TRUE_HELIX = np.column_stack([5 * np.cos(TRUE_S), 5 * np.sin(TRUE_S), 0.5 * TRUE_S])


def noisy_helix(seed=0, n=600, sd=0.1):
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0, np.pi / 2, n))
    truth = np.column_stack([5 * np.cos(s), 5 * np.sin(s), 0.5 * s])
    return s, truth + rng.normal(0, sd, truth.shape)


def test_noise_free_line_lies_on_the_line():
    t = np.linspace(0, 5, 300)
    direction = np.array([1.0, 2.0, -1.0]) / np.sqrt(6)
    X = t[:, None] * direction + np.array([1.0, 0.0, 3.0])
    curve = fit_local_principal_curve(X, bandwidth=0.4, start=X[0])
    offsets = curve.points - np.array([1.0, 0.0, 3.0])
    perpendicular = offsets - np.outer(offsets @ direction, direction)
    assert np.abs(perpendicular).max() < 1e-6
    assert curve.status == "ok"


@pytest.mark.parametrize("bandwidth", [0.3, 0.5])
def test_lpc_recovers_noisy_helix(bandwidth):
    s, X = noisy_helix()
    curve = fit_local_principal_curve(X, bandwidth=bandwidth, start=X[np.argmin(s)])
    fit_to_truth = project_onto_curve(curve.points, TRUE_HELIX).distance
    assert fit_to_truth.max() < 0.15
    dense_fit = resample_equal_arclength(curve, 400)
    truth_projection = project_onto_curve(TRUE_HELIX, dense_fit)
    true_arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(TRUE_HELIX, axis=0), axis=1))])
    interior = (true_arc > bandwidth) & (true_arc < true_arc[-1] - bandwidth)
    assert truth_projection.distance[interior].max() < 0.15
    assert abs(curve.length - true_arc[-1]) < 2 * bandwidth
    pseudotime = project_onto_curve(X, curve).arc_length
    assert spearmanr(pseudotime, s)[0] > 0.99


def test_fit_measures_beat_the_straight_line():
    s, X = noisy_helix(seed=7)
    curve = fit_local_principal_curve(X, 0.3, start=X[0])
    measures = fit_measures(X, curve)
    assert 0.5 < measures["r_c"] <= 1  # the quarter helix is not far from straight
    assert measures["coverage"] > 0.9  # noise sd 0.1 in 3-D: most points within h = 0.3


def test_point_zero_is_nearest_the_anchor_and_start_index_is_the_start():
    s, X = noisy_helix(seed=1)
    anchor = X[np.argmax(s)]  # start from the far end this time
    curve = fit_local_principal_curve(X, bandwidth=0.5, start=anchor)
    assert np.linalg.norm(curve.points[0] - anchor) < np.linalg.norm(curve.points[-1] - anchor)
    assert 0 <= curve.start_index < len(curve.points)
    assert curve.arc_length[0] == 0 and curve.arc_length[-1] == pytest.approx(curve.length)


def test_equivariance_under_rigid_motion():
    s, X = noisy_helix(seed=2, n=300)
    rng = np.random.default_rng(0)
    R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    t = np.array([3.0, -1.0, 2.0])
    base = fit_local_principal_curve(X, 0.5, start=X[0])
    moved = fit_local_principal_curve(X @ R.T + t, 0.5, start=X[0] @ R.T + t)
    np.testing.assert_allclose(moved.points, base.points @ R.T + t, atol=1e-8)


def test_consecutive_steps_keep_direction():
    s, X = noisy_helix(seed=3)
    curve = fit_local_principal_curve(X, 0.3, start=X[0])
    steps = np.diff(curve.points, axis=0)
    assert np.all(np.einsum("ij,ij->i", steps[1:], steps[:-1]) > 0)


def test_angle_penalty_goes_straight_through_a_crossing():
    rng = np.random.default_rng(4)
    t = rng.uniform(-3, 3, 400)
    line_a = np.column_stack([t, 0.05 * rng.normal(size=400)])
    line_b = np.column_stack([0.05 * rng.normal(size=400), t])  # crosses at 90 degrees
    X = np.vstack([line_a, line_b])
    curve = fit_local_principal_curve(X, 0.4, start=[-3, 0], penalty=2, warn=False)
    # one line of the "X" is fitted; the other is left unexplained, and the status says so
    assert curve.status == "incomplete"
    after = curve.points[curve.points[:, 0] > 0.5]
    angles = np.degrees(np.arctan2(np.abs(np.diff(after[:, 1])), np.abs(np.diff(after[:, 0]))))
    assert len(after) > 3 and angles.max() < 30


def test_deterministic_and_reports_non_convergence():
    s, X = noisy_helix(seed=5)
    with pytest.warns(CurveFitWarning, match="truncated"):
        a = fit_local_principal_curve(X, 0.3, start=X[0], max_iter=20)
    b = fit_local_principal_curve(X, 0.3, start=X[0], max_iter=20, warn=False)
    np.testing.assert_array_equal(a.points, b.points)
    assert not a.converged and "max_iter" in a.stop_reasons and a.status == "truncated"
    assert all(isinstance(v, float) for v in a.history)
    c = fit_local_principal_curve(X, 0.3, start=X[0])
    assert c.converged and c.stop_reasons == ("converged", "converged") and c.status == "ok"


def test_empty_neighbourhood_is_reported_without_nan():
    t = np.linspace(0, 0.5, 30)
    X = np.vstack([np.column_stack([t, 0.1 * t]), [[100.0, 0.0], [200.0, 1.0]]])
    with pytest.warns(CurveFitWarning, match="empty_neighbourhood"):
        curve = fit_local_principal_curve(X, bandwidth=0.1, step=5.0, start=[0, 0])
    assert curve.status == "empty_neighbourhood"
    assert not curve.converged
    assert np.isfinite(curve.points).all()


def test_morphseq_mode_stores_stepped_points_and_collects_tips():
    s, X = noisy_helix(seed=0)
    faithful = fit_local_principal_curve(X, 0.5, start=X[0], mode="morphseq", max_iter=500)
    assert len(faithful.points) == 1001
    tip = np.linalg.norm(faithful.points - faithful.points[-1], axis=1) < 0.05
    assert tip.sum() > 100  # the stop rarely fires: a cluster of points at the tip


def test_resample_equal_spacing():
    s, X = noisy_helix(seed=6)
    curve = fit_local_principal_curve(X, 0.5, start=X[0])
    for spline in (None, "arclength"):  # "index" (MorphSeq) can loop where knots bunch up
        resampled = resample_equal_arclength(curve, 200, spline=spline)
        spacing = np.linalg.norm(np.diff(resampled, axis=0), axis=1)
        assert spacing.max() / spacing.min() < 1.01
        np.testing.assert_allclose(resampled[0], curve.points[0], atol=1e-9)


def test_projection_ties_go_to_smaller_arc_and_lengths():
    curve = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    projection = project_onto_curve([[1.0, 1.0]], curve)  # equidistant from three segments
    assert projection.arc_length[0] == pytest.approx(1.0)
    assert curve_length(curve) == pytest.approx(6.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="2-D"):
        fit_local_principal_curve(np.zeros(10), 0.5)
    with pytest.raises(ValueError, match="at least 2 features"):
        fit_local_principal_curve(np.zeros((10, 1)), 0.5)
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_local_principal_curve(np.zeros((2, 3)), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        fit_local_principal_curve(np.full((5, 3), np.nan), 0.5)
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        fit_local_principal_curve(X, 0.0)
    with pytest.raises(ValueError, match="mode must be"):
        fit_local_principal_curve(X, 0.5, mode="spline")
    with pytest.raises(ValueError, match="on_revisit must be"):
        fit_local_principal_curve(X, 0.5, on_revisit="jump")
    with pytest.raises(ValueError, match="start must have shape"):
        fit_local_principal_curve(X, 0.5, start=[0, 0])
    with pytest.raises(ValueError, match="dimensions must match"):
        project_onto_curve(np.zeros((3, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="at least 2 points"):
        project_onto_curve(np.zeros((3, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="at least 4 distinct points"):
        resample_equal_arclength([[0, 0], [1, 0], [2, 0]], 10, spline="index")
