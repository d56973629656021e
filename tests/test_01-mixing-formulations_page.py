"""The numbers chapter 1's prose relies on (page executed in fast mode)."""

from __future__ import annotations

import pytest

from notebook_harness import executed_glue


@pytest.fixture(scope="module")
def glued():
    return executed_glue("01-mixing-formulations")


def test_outer_sigmoid_confines_hazards(glued):
    assert 0.5 < glued["outer_min"] < glued["outer_max"] < 0.7311
    assert glued["real_min"] < 0.01 and glued["real_max"] < 1.0


def test_identifiability_numbers(glued):
    assert glued["path_dev_1"] < 1e-12 and glued["matrix_dev"] < 1e-10
    assert glued["path_dev_2"] > 1e-3 and glued["path_dev_3"] > 1e-3
    assert glued["shift_dev"] < 1e-12 and glued["label_dev"] < 1e-12
    assert glued["sharp_top"] > 0.99 and glued["flat_top"] < 0.22


def test_responsiveness_numbers(glued):
    assert glued["grad_rel_err"] < 1e-8
    for stage in (1, 2, 3):
        assert glued[f"resp_lo_{stage}"] < glued[f"resp_hi_{stage}"]
        assert glued[f"resp_peak_{stage}"] > 0
    # stage 3 saturates once theta is one-hot: a bounded window inside the grid
    assert -12 < glued["resp_lo_3"] and glued["resp_hi_3"] < 12


def test_separation_numbers(glued):
    assert glued["inside_fraction"] == 1.0
    assert glued["one_hot_gap"] < 1e-12
    assert glued["sep_1_strong"] > 3 * glued["sep_1_weak"]
    assert glued["sep_3_strong"] <= glued["sep_ceiling"] + 1e-9
    assert glued["sep_2_strong"] <= glued["sep_ceiling"] + 1e-9


def test_healthy_signature_numbers(glued):
    assert glued["healthy_ratio"] == pytest.approx(0.0067, abs=0.0005)
    assert glued["healthy_gap"] < 0.01


def test_fitted_model_numbers(glued):
    assert glued["loss_last"] < glued["loss_first"]
    assert glued["phi_corr"] > 0.8
    assert glued["gamma_corr"] > 0.3
    assert glued["gamma_contrast_corr"] > 0.8
    assert glued["kappa_fit"] > 0
    assert glued["auc_model"] > 0.55
    assert glued["auc_oracle"] > 0.55


def test_tutorial_cv_ratio(glued):
    assert glued["cv_ratio"] == pytest.approx(0.369 / 0.131)
    assert glued["cv_ratio"] > 1
