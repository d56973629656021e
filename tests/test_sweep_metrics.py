"""Tests for latentlab.sweep.metrics and latentlab.sweep.classification."""

import numpy as np
import pytest

from latentlab.sweep.classification import embryo_grouped_split, f1_over_time
from latentlab.sweep.metrics import (
    dispersion_profile, dispersion_summary, joint_aligned_rmse, rmse_by_perturbation,
    segment_colinearity, segment_covariance, within_colinearity,
)

T = np.linspace(0, 1, 501)[:, None]
LINE = T * np.array([[2.0, 0.0, 0.0]])


def _rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_colinearity_parallel_scaled_perpendicular_and_offset():
    assert segment_colinearity(LINE + [0, 1, 0], LINE) == pytest.approx(1.0)
    assert segment_colinearity(3 * LINE, LINE) == pytest.approx(1.0)
    crossing = T * np.array([[0.0, 2.0, 0.0]]) + [1.0, -1.0, 0.0]
    assert segment_colinearity(crossing, LINE) == pytest.approx(0.0, abs=1e-12)
    shifted = LINE + [0.4, 0.0, 0.0]  # axial shift by 20 % of the length
    assert segment_colinearity(shifted, LINE) == pytest.approx(0.8, abs=0.011)


def test_colinearity_orientation_variants_nan_and_rotation():
    assert segment_colinearity(LINE[::-1], LINE) == pytest.approx(1.0)
    assert segment_colinearity(LINE[::-1], LINE, variant="oriented") == pytest.approx(-1.0)
    assert np.isnan(segment_colinearity(LINE[:50], LINE))
    rng = np.random.default_rng(0)
    a = np.cumsum(rng.normal(size=(300, 3)), axis=0)
    b = np.cumsum(rng.normal(size=(300, 3)), axis=0)
    R = _rotation(1)
    base = segment_colinearity(a, b)
    assert segment_colinearity(a @ R.T, b @ R.T) == pytest.approx(base, abs=1e-12)
    sym = segment_colinearity(a, b, variant="symmetric")
    assert sym == pytest.approx((base + segment_colinearity(b, a)) / 2)
    assert segment_colinearity(a, b, variant="symmetric") == pytest.approx(segment_colinearity(b, a, variant="symmetric"))


def test_segment_covariance_zero_for_constant_directions_and_positive_for_shared_wiggle():
    assert segment_covariance(LINE + 1, LINE) == pytest.approx(0.0, abs=1e-15)
    s = np.linspace(0, 6 * np.pi, 600)
    wiggle = np.column_stack([s, np.sin(s), np.zeros_like(s)])
    assert segment_covariance(wiggle + [0, 0, 1], wiggle) > 0.05


def test_within_colinearity_sorted_pairs_and_nan_dropped():
    curves = {"b": LINE + [0, 1, 0], "a": LINE, "c": T * np.array([[0.0, 2.0, 0.0]])}
    mean, sd = within_colinearity(curves)
    pairs = [segment_colinearity(curves["a"], curves["b"]), segment_colinearity(curves["a"], curves["c"]),
             segment_colinearity(curves["b"], curves["c"])]
    assert mean == pytest.approx(np.mean(pairs)) and sd == pytest.approx(np.std(pairs))
    assert np.isnan(within_colinearity({"a": LINE[:10], "b": LINE[:10]})[0])


def test_dispersion_identical_curves_and_rays():
    assert all(abs(v) < 1e-12 for v in dispersion_summary([LINE, LINE, LINE]).values())
    n = 100
    t = np.linspace(0, 1, n)[:, None]
    directions = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, -1.0, 0]])
    rays = [t * d for d in directions]
    profile = dispersion_profile(rays)
    summary = dispersion_summary(rays)
    assert summary["disp_coefficient"] == pytest.approx((profile[-1] - profile[0]) * n / (n - 1), abs=1e-9)
    assert summary["first_n"] == pytest.approx(profile[:5].mean())
    assert summary["last_n"] == pytest.approx(profile[-5:].mean())
    reversed_summary = dispersion_summary([r[::-1] for r in rays])
    assert reversed_summary["disp_coefficient"] == pytest.approx(-summary["disp_coefficient"])
    R = _rotation(2)
    moved = dispersion_summary([r @ R.T + 3.0 for r in rays])
    assert moved["disp_coefficient"] == pytest.approx(summary["disp_coefficient"], abs=1e-9)
    scaled = dispersion_summary([2.5 * r for r in rays])
    assert scaled["disp_coefficient"] == pytest.approx(2.5 * summary["disp_coefficient"])


def test_rmse_by_perturbation_pooled_and_guarantee():
    rng = np.random.default_rng(3)
    curves_all = {k: np.cumsum(rng.normal(size=(50, 3)), axis=0) for k in ("wt", "gdf3", "lmx1b")}
    curves_hld = {k: v @ _rotation(i).T + rng.normal(scale=0.3, size=v.shape) + i
                  for i, (k, v) in enumerate(curves_all.items())}
    out = rmse_by_perturbation(curves_all, curves_hld)
    for name in curves_all:
        assert out[name]["aligned"] <= out[name]["initial"] + 1e-12
    pooled = np.sqrt(np.mean([out[k]["aligned"] ** 2 for k in curves_all]))  # equal sizes
    assert out["avg_pert"]["aligned"] == pytest.approx(pooled)
    # one shared transform can only do worse than one per perturbation
    assert joint_aligned_rmse(curves_all, curves_hld) >= out["avg_pert"]["aligned"] - 1e-12
    svd = rmse_by_perturbation(curves_all, curves_hld, method="svd")
    assert svd["avg_pert"]["aligned"] == pytest.approx(out["avg_pert"]["aligned"], rel=1e-9)


def test_f1_separable_classes_and_grouped_split():
    rng = np.random.default_rng(4)
    labels = np.repeat(["a", "b", "c"], 100)
    groups = np.repeat(np.arange(30), 10)
    stage = np.tile(np.linspace(10, 40, 10), 30)
    X = rng.normal(scale=0.1, size=(300, 2)) + np.repeat(np.array([[0, 0], [5, 0], [0, 5]]), 100, axis=0)
    result = f1_over_time(X, labels, stage, groups, n_bins=5)
    populated = ~np.isnan(result.f1)
    assert populated.any() and np.all(result.f1[populated] == 1.0)
    assert result.avg_pert == 1.0
    train, test = embryo_grouped_split(groups)
    assert not set(groups[train]) & set(groups[test])
    assert len(train) + len(test) == 300


def test_f1_bins_without_negatives_are_nan_and_ignored():
    labels = np.array(["a"] * 50 + ["b"] * 50)
    stage = np.concatenate([np.linspace(10, 20, 50), np.linspace(30, 40, 50)])  # never together in a bin
    groups = np.repeat(np.arange(20), 5)
    X = np.column_stack([stage, np.zeros(100)])
    result = f1_over_time(X, labels, stage, groups, n_bins=4)
    assert np.isnan(result.f1).all()
    assert np.isnan(result.avg_pert)


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least 2 curves"):
        dispersion_profile([LINE])
    with pytest.raises(ValueError, match="same shape"):
        dispersion_profile([LINE, LINE[:100]])
    with pytest.raises(ValueError, match="same dimension"):
        segment_colinearity(LINE, LINE[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        segment_colinearity(np.full((200, 3), np.nan), LINE)
    with pytest.raises(ValueError, match="equal shapes"):
        rmse_by_perturbation({"wt": LINE}, {"wt": LINE[:100]})
    with pytest.raises(ValueError, match="share no perturbation"):
        rmse_by_perturbation({"wt": LINE}, {"gdf3": LINE})
    with pytest.raises(ValueError, match="at least n_segments"):
        segment_colinearity(LINE[:50], LINE, strict=True)
    with pytest.raises(ValueError, match="variant must be"):
        segment_colinearity(LINE, LINE, variant="both")
    with pytest.raises(ValueError, match="same length"):
        f1_over_time(np.zeros((10, 2)), ["a"] * 9, np.zeros(10), np.arange(10))
    with pytest.raises(ValueError, match="2 distinct embryos"):
        embryo_grouped_split(["a", "a", "a"])
