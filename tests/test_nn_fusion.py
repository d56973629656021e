"""View fusion with the single view chosen inside the folds; intervals for accuracies."""

import numpy as np
import pytest

from latentlab.nn.fusion import accuracy_interval, fusion_predictions, paired_difference_interval


def _views(seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], 30)
    signal = np.eye(3)[labels]
    views = {
        "noise": rng.normal(size=(90, 5)),
        "weak": 0.6 * signal + rng.normal(size=(90, 3)),
        "strong": 3 * signal + rng.normal(size=(90, 3)),
    }
    return views, labels


def test_select_chooses_the_informative_view_without_seeing_the_test_fold():
    views, labels = _views()
    predicted, chosen = fusion_predictions(views, labels, mode="select", n_splits=3, rng=0)
    assert chosen == ["strong"] * 3
    single, _ = fusion_predictions({"strong": views["strong"]}, labels, mode="early", n_splits=3, rng=0)
    np.testing.assert_array_equal(predicted, single)  # same folds, same view, same model


def test_early_and_late_fusion_beat_noise_and_refuse_bad_modes():
    views, labels = _views(1)
    for mode in ("early", "late"):
        predicted, chosen = fusion_predictions(views, labels, mode=mode, n_splits=3, rng=0)
        assert np.mean(predicted == labels) > 0.8 and chosen == []
    noise, _ = fusion_predictions({"noise": views["noise"]}, labels, mode="early", n_splits=3, rng=0)
    assert np.mean(noise == labels) < 0.6
    with pytest.raises(ValueError, match="mode must be"):
        fusion_predictions(views, labels, mode="stack")


def test_wilson_interval_known_values_and_bootstrap_covers_the_difference():
    assert accuracy_interval(np.zeros(10, bool)) == pytest.approx((0.0, 0.2775), abs=1e-4)
    lo, hi = accuracy_interval(np.r_[np.ones(45, bool), np.zeros(5, bool)])
    assert lo < 0.9 < hi
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.9
    b = a.copy()
    b[:40] = False  # b is worse by exactly the a-correct share of the first 40
    true_gap = a.mean() - b.mean()
    lo, hi = paired_difference_interval(a, b, rng=0)
    assert lo <= true_gap <= hi and lo > 0
    with pytest.raises(ValueError, match="same length|length"):
        paired_difference_interval(a, b[:10])
