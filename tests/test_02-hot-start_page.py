"""The numbers chapter 2 (book/02-hot-start.md) states, checked in fast mode."""

import pytest

from notebook_harness import executed_glue

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def glued():
    return executed_glue("02-hot-start")


def test_checkpoint_round_trip_and_kappa_drift(glued):
    assert glued["round_trip_exact"] == "True"
    assert glued["mismatch_refused"] == "True"
    assert glued["kappa_true"] == 1.0
    assert glued["kappa_master"] > 1.2  # "a free κ drifts"


def test_cold_versus_hot(glued):
    assert glued["n_seeds"] >= 2
    assert 1.0 <= glued["speedup_min"] <= glued["speedup_median"] <= glued["speedup_max"]
    assert 0 <= glued["n_never"] <= glued["n_seeds"]
    assert 0 <= glued["cold_final_below_hot"] <= glued["n_seeds"]
    # the hot fit predicts the unseen follow-up better than a batch fitted alone
    assert glued["hot_fnll_mean"] < glued["cold_fnll_mean"]
    assert 0.5 < glued["hot_auc_mean"] < 1 and 0 < glued["cold_auc_mean"] < 1
    assert glued["auc_gap"] == pytest.approx(glued["hot_auc_mean"] - glued["cold_auc_mean"])


def test_learning_rate_paragraph(glued):
    assert glued["lr_rise"] > 0  # "first rises by"
    assert glued["lr_large_end_minus_start"] > glued["lr_small_end_minus_start"]


def test_robustness_claims(glued):
    assert glued["n_robust_fits"] == 32 or glued["n_robust_fits"] % 16 == 0
    assert glued["cv_direction"] in ("less", "more")
    assert glued["cv_phi_direction"] == ("more" if glued["cv_phi_stage1_cold"] > glued["cv_phi_stage3_cold"] else "less")
    assert (glued["cv_direction"] == "less") == (glued["cv_ratio_cold"] > 1)
    hot3 = glued["cv_loss_stage3_hot"]
    others = [glued["cv_loss_stage3_cold"], glued["cv_loss_stage1_cold"], glued["cv_loss_stage1_hot"]]
    assert hot3 < min(others)  # "the most stable of the four"
    assert glued["cv_loss_stage1_hot"] > hot3  # "a large s throws λ far off"
    assert glued["cv_phi_stage3_hot"] < 1e-12 and glued["cv_phi_stage1_hot"] < 1e-12  # frozen φ


def test_leave_one_batch_out_optimism(glued):
    assert glued["optimism_nll"] > 0  # "an optimism of"
    assert glued["optimism_nll"] == pytest.approx(glued["nll_lobo"] - glued["nll_in_sample"])


def test_prediction_numbers(glued):
    for kind in ("static", "dynamic"):
        assert glued[f"auc_{kind}_low"] <= glued[f"auc_{kind}"] <= glued[f"auc_{kind}_high"]
        assert glued[f"auc_{kind}"] > 0.5
    assert glued["n_cases"] < glued["n_evaluable"]
    assert glued["n_prevalent"] > 0 and glued["n_censored"] >= 0
    assert glued["cal_ratio"] == pytest.approx(glued["cal_predicted"] / glued["cal_observed"])
    assert 0 < glued["cal_truth"] < 1
    assert 0 < glued["rolling_auc_mean"] < 1 and glued["n_offsets"] >= 6


def test_no_leakage(glued):
    assert glued["changed_pairs"] > 0
    assert glued["leak"] == 0.0
    assert glued["leak_without_cut"] > 0


def test_transfer(glued):
    assert glued["delta_tr"] > 0.8
    assert 0 <= glued["j_tr"] <= 1 and 0 <= glued["j_cold"] <= 1 and 0 <= glued["j_between"] <= 1
    assert glued["transfer_nll_direction"] == ("lower" if glued["fnll_tr"] < glued["fnll_cold"] else "higher")
    assert glued["n_reference_b"] > 0
