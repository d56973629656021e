"""The numbers chapter 6 quotes, asserted on the page executed in fast mode."""

import pytest

from notebook_harness import executed_glue


@pytest.fixture(scope="module")
def glue():
    return executed_glue("06-sweep-evaluation")


def test_local_principal_curve_on_the_helix(glue):
    assert glue["true_length"] == pytest.approx(7.89, abs=0.01)
    assert glue["lpc_error"] < 0.1
    assert abs(glue["lpc_length"] - glue["true_length"]) < 0.3
    assert glue["lpc_converged"] == "did not" and glue["lpc_steps"] == 200
    assert glue["helix_spearman"] > 0.99
    # MorphSeq-style fit: tip clusters, longer and further off than ours
    assert glue["ms_points"] == 1001 and glue["ms_tip_share"] > 30
    assert glue["ms_length"] > glue["true_length"] + 0.3
    assert glue["ms_error"] > 2 * glue["lpc_error"]
    assert glue["tree_ok"] == 5


def test_alignment_numbers(glue):
    assert glue["kabsch_error"] < 1e-12 and glue["horn_error"] < 1e-12
    assert glue["aligned_rmse_demo"] < glue["initial_rmse_demo"]
    assert glue["aligned_rmse_demo"] == pytest.approx(0.05, abs=0.01)  # about the noise sd
    assert glue["flip_so3"] > 0.5 * glue["flip_initial"]
    assert glue["flip_o3"] < 1e-12
    assert glue["curve_flip_so3"] < 0.05


def test_metrics_on_the_synthetic_pair(glue):
    assert glue["high_first_n_all"] < glue["low_first_n_all"]
    assert glue["high_within_colinearity_all"] > glue["low_within_colinearity_all"]
    assert glue["high_aligned_rmse"] < glue["low_aligned_rmse"]
    for label in ("low", "high"):
        assert glue[f"{label}_aligned_rmse"] <= glue[f"{label}_initial_rmse"]
        assert glue[f"{label}_disp_coefficient_all"] > 0


def test_sweep_and_selection(glue):
    assert glue["n_models"] >= 4 and glue["sweep_seconds"] > 0
    assert glue["n_acceptable"] >= 1 and glue["n_acceptable"] == glue["tranche_best"]
    total = sum(glue[f"tranche_{name}"] for name in ("best", "second", "third", "fourth"))
    assert total == glue["n_models"]
    assert glue["chosen_f1"] > 0.7 and glue["chosen_rmse"] < 1
    assert glue["chosen_on_front"] == "lies"  # the lowest-RMSE acceptable model is never dominated
    assert 1 <= glue["n_pareto"] <= glue["n_models"]
    assert glue["chosen_scale"] > 0 and glue["median_scale"] > 0


def test_drivers(glue):
    assert glue["beta_rho_aligned_rmse"] < 0
    assert glue["beta_rho_curve_scale"] < 0
    for name, key in (("relative_direction", "beta_rho_relative_aligned_rmse"),
                      ("within_direction", "beta_rho_within_colinearity_all")):
        rho = glue[key]
        expected = "shows no clear trend" if abs(rho) < 0.3 else ("rises" if rho > 0 else "falls")
        assert glue[name] == expected
