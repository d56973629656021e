"""Risk windows, group risks, outcomes, AUC and calibration (latentlab.hotstart.risk/metrics)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from latentlab.hotstart import (
    RiskWindow,
    auc_with_ci,
    binned_calibration,
    disease_group,
    dynamic_risk,
    static_risk,
    window_outcomes,
    yearly_group_risk,
)


@pytest.fixture
def hazards():
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 0.2, size=(6, 4, 12))


def test_yearly_group_risk_matches_product_formula(hazards):
    group = [0, 2]
    expected = 1 - (1 - hazards[:, 0, 5]) * (1 - hazards[:, 2, 5])
    np.testing.assert_allclose(yearly_group_risk(hazards, group, t=5), expected, rtol=1e-12)


def test_dynamic_equals_static_when_yearly_risk_constant():
    pi = np.full((3, 2, 20), 0.03)
    pi[1] = 0.07
    window = RiskWindow(start=4, horizon=10)
    static = static_risk(pi, [0, 1], window)
    dynamic = dynamic_risk(pi, [0, 1], window)
    np.testing.assert_allclose(dynamic, static, rtol=1e-12)
    np.testing.assert_allclose(static[0], 1 - (1 - 0.03) ** 20, rtol=1e-12)


def test_dynamic_risk_is_product_over_window_years(hazards):
    window = RiskWindow(start=2, horizon=4)
    yearly = np.stack([yearly_group_risk(hazards, [1, 3], t) for t in window.times], axis=1)
    expected = 1 - np.prod(1 - yearly, axis=1)
    np.testing.assert_allclose(dynamic_risk(hazards, [1, 3], window), expected, rtol=1e-12)
    # a different hazard outside the window changes nothing
    changed = hazards.copy()
    changed[:, :, window.stop:] = 0.9
    changed[:, :, : window.start] = 0.9
    np.testing.assert_allclose(dynamic_risk(changed, [1, 3], window), expected, rtol=1e-12)


def test_risk_window_matches_outcome_window():
    """Weak spot 5 of the reference: prediction and outcome windows must coincide."""
    n_times = 15
    window = RiskWindow(start=5, horizon=3)  # years 5, 6, 7
    E = np.array([[4], [5], [7], [8], [14]])
    events = np.ones_like(E, dtype=bool)
    outcome = window_outcomes(E, events, [0], window, n_times=n_times)
    assert outcome.event.tolist() == [False, True, True, False, False]
    # a hazard that is 1 in exactly the outcome years and 0 elsewhere gives risk 1 ...
    pi = np.zeros((1, 1, n_times))
    pi[0, 0, list(window.times)] = 0.5
    assert dynamic_risk(pi, [0], window)[0] == pytest.approx(1 - 0.5**3)
    # ... and hazards just outside the window contribute nothing
    pi_out = np.zeros((1, 1, n_times))
    pi_out[0, 0, [window.start - 1, window.stop]] = 0.5
    assert dynamic_risk(pi_out, [0], window)[0] == 0.0


def test_censored_and_prevalent_rows_are_flagged():
    window = RiskWindow(start=3, horizon=4)  # years 3..6
    E = np.array([[1, 9], [9, 9], [4, 9], [5, 9], [9, 6], [9, 2]])
    events = np.array([[1, 0], [0, 0], [0, 0], [1, 0], [0, 0], [0, 0]], bool)
    out = window_outcomes(E, events, [0, 1], window)
    assert out.prevalent.tolist() == [True, False, False, False, False, False]
    assert out.event.tolist() == [False, False, False, True, False, False]
    # row 2 is censored at 4 (< 6) and row 5 at 2; row 4 is followed to 6, the last window year
    assert out.censored.tolist() == [False, False, True, False, False, True]
    assert out.evaluable.tolist() == [False, True, False, True, True, False]


def test_disease_group_is_an_explicit_index_list():
    with pytest.raises(ValueError, match="diseases must not repeat"):
        disease_group([1, 1], n_diseases=3)
    with pytest.raises(ValueError, match="at least one disease"):
        disease_group([], n_diseases=3)
    with pytest.raises(TypeError, match="diseases must hold integers"):
        disease_group(["I25"], n_diseases=3)


def test_window_past_grid_and_bad_hazards_raise(hazards):
    with pytest.raises(ValueError, match="runs past the age grid"):
        static_risk(hazards, [0], RiskWindow(start=10, horizon=5))
    with pytest.raises(ValueError, match="hazards must have shape"):
        static_risk(hazards[0], [0], RiskWindow(0, 1))
    with pytest.raises(ValueError, match="hazards must lie in"):
        dynamic_risk(hazards + 1, [0], RiskWindow(0, 1))
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        RiskWindow(start=0, horizon=0)
    with pytest.raises(ValueError, match="events must have shape"):
        window_outcomes(np.zeros((3, 2), int), np.zeros((3, 1), bool), [0], RiskWindow(0, 1))


def test_auc_matches_sklearn_and_interval_is_seeded():
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.3
    score = y + rng.normal(size=300)
    a = auc_with_ci(y, score, n_boot=100, rng=3)
    b = auc_with_ci(y, score, n_boot=100, rng=3)
    assert a.auc == pytest.approx(roc_auc_score(y, score))
    assert a == b
    assert a.low < a.auc < a.high and a.high - a.low < 0.2
    assert a.n_cases == int(y.sum()) and a.n_boot == 100


def test_auc_mask_drops_rows_and_one_class_raises():
    y = np.array([0, 1, 0, 1], bool)
    score = np.array([0.1, 0.9, 0.95, 0.2])
    masked = auc_with_ci(y, score, mask=np.array([1, 1, 0, 0], bool), n_boot=0)
    assert masked.auc == 1.0 and np.isnan(masked.low)
    with pytest.raises(ValueError, match="both events and non-events"):
        auc_with_ci(np.zeros(5, bool), np.arange(5.0))


def test_calibration_recovers_a_calibrated_predictor():
    rng = np.random.default_rng(2)
    p = 10 ** rng.uniform(-3, -0.5, size=40_000)
    y = rng.random(p.size) < p
    cal = binned_calibration(p, y, n_bins=5)
    assert cal.counts.sum() == p.size
    np.testing.assert_allclose(cal.observed_rate, cal.mean_predicted, rtol=0.25)
    assert cal.overall_predicted == pytest.approx(p.mean())
    assert cal.overall_observed == pytest.approx(y.mean())


def test_calibration_empty_bin_is_nan_and_bad_input_raises():
    p = np.array([0.001, 0.001, 0.1])
    cal = binned_calibration(p, np.array([0, 1, 0], bool), n_bins=4)
    assert np.isnan(cal.observed_rate).sum() == 2
    with pytest.raises(ValueError, match="must be > 0 for log-spaced"):
        binned_calibration(np.array([0.0, 0.5]), np.array([0, 1], bool))
    with pytest.raises(ValueError, match="same length"):
        binned_calibration(np.array([0.1, 0.5]), np.array([0, 1, 1], bool))
