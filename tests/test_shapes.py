"""latentlab.curves.shapes: one home for the constructed curves (helix, spiral, trefoil)."""

import numpy as np

from latentlab import sweep
from latentlab.curves import curve_length, shapes
from latentlab.curves.shapes import _arc_lengths, noisy_helix, sample_along


def test_sweep_reexports_the_one_helix():
    assert sweep.noisy_helix is noisy_helix
    from latentlab.sweep import simulate

    assert simulate.noisy_helix is noisy_helix


def test_helix_draws_are_the_documented_ones():
    # the formula written out: the same generator calls in the same order
    rng = np.random.default_rng(3)
    s = np.sort(rng.uniform(0, np.pi / 2, 50))
    exact = np.column_stack([5 * np.cos(s), 5 * np.sin(s), 0.5 * s])
    X = exact + rng.normal(0, 0.2, (50, 3))
    s_got, X_got, truth = noisy_helix(50, noise=0.2, rng=3)
    assert np.array_equal(s_got, s) and np.array_equal(X_got, X)
    assert truth.shape == (4001, 3)
    length = np.hypot(5.0, 0.5) * np.pi / 2
    assert abs(curve_length(truth) - length) < 1e-5


def test_arc_lengths_is_cumulative_length():
    curve = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0], [3.0, 5.0]])
    assert _arc_lengths(curve).tolist() == [0.0, 5.0, 6.0, 6.0]
    spiral = shapes.noisy_spiral(50, rng=0)[2]
    assert abs(_arc_lengths(spiral)[-1] - curve_length(spiral)) < 1e-9


def test_sample_along_is_uniform_in_arc_length():
    # an L-shaped curve whose legs have lengths 1 and 3: a quarter of the points
    # should land on the first leg
    truth = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 3.0]])
    s, X, _ = sample_along(truth, 4000, 0.0, rng=0)
    on_first = np.mean(X[:, 1] == 0.0)
    assert abs(on_first - 0.25) < 0.03
    assert np.all(np.diff(s) >= 0)


def test_distance_to_truth_matches_the_definition():
    from latentlab.curves import project_onto_curve, resample_equal_arclength
    from latentlab.curves.shapes import distance_to_truth

    _, X, truth = noisy_helix(300, rng=1)
    fitted = truth[200:3500:50] + 0.05  # a shortened, shifted copy
    d = distance_to_truth(fitted, truth, tau=0.2)
    sample = truth[::4]  # 4001 points // 1000
    dense = resample_equal_arclength(fitted, 500)
    assert np.array_equal(d.truth_points, sample)
    assert d.fit_to_truth == project_onto_curve(fitted, sample).distance.max()
    assert np.array_equal(d.from_truth, project_onto_curve(sample, dense).distance)
    assert d.coverage == np.mean(d.from_truth <= 0.2)
    # the fit misses both ends of the truth, so some truth is far from it
    assert 0.5 < d.coverage < 1 and d.from_truth.max() > d.fit_to_truth


def test_distance_to_truth_refuses_bad_input():
    import pytest

    from latentlab.curves.shapes import distance_to_truth

    truth = noisy_helix(50, rng=0)[2]
    with pytest.raises(ValueError, match="tau"):
        distance_to_truth(truth, truth, tau=-1.0)
    with pytest.raises(ValueError, match="points"):
        distance_to_truth(truth[:, 0], truth, tau=0.1)
