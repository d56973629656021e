"""The numbers the chapter 4 prose relies on (page executed once in fast mode)."""

from __future__ import annotations

import pytest

from notebook_harness import executed_glue

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def glued():
    return executed_glue("04-mofa-elbo")


def test_matrix_factorisation_section(glued):
    assert glued["sim_n"] > 0 and glued["sim_d0"] > glued["sim_d1"]
    assert 40 < glued["svd_share"] < 90
    assert 40 < glued["oracle_r2_view1"] < glued["oracle_r2_view0"] < 90


def test_elbo_section(glued):
    assert glued["fit_converged"] == "converged"
    assert glued["elbo_min_relative_change"] >= -1e-5  # "the ELBO never went down"
    parts = ["term_Y", "term_Z", "term_W", "term_Tau", "term_AlphaW", "term_ThetaW"]
    assert sum(glued[p] for p in parts) == pytest.approx(glued["fit_elbo"], rel=1e-10)
    assert glued["term_Z"] < 0 and glued["term_W"] < 0
    assert glued["gain_W"] > glued["gain_Y"] > 0 and glued["gain_Z"] > 0
    assert glued["gain_hyper_max"] < 1.0  # "move by at most ..."
    assert glued["gain_hyper_max"] == pytest.approx(max(abs(glued["gain_AlphaW"]), abs(glued["gain_Tau"])))


def test_variance_explained_ard_and_pruning(glued):
    # "close to the truth's share above"
    assert abs(glued["r2_view0"] - glued["oracle_r2_view0"]) < 5
    assert abs(glued["r2_view1"] - glued["oracle_r2_view1"]) < 5
    assert glued["n_active"] == 5 and glued["n_shared"] == 2 and glued["n_specific"] == 3
    assert glued["max_inactive_r2"] < 1.0
    assert glued["min_inactive_alpha"] > 5 * glued["max_active_alpha"]
    assert glued["min_subspace_corr"] > 0.99
    assert glued["pruned_k"] == 5 and glued["pruned_elbo_gain"] > 0


def test_non_gaussian_views(glued):
    assert glued["mixed_min_corr"] > 0.95
    assert glued["mixed_bernoulli_only_corr"] >= glued["mixed_min_corr"]
    assert glued["mixed_poisson_only_corr"] >= glued["mixed_min_corr"]
    assert glued["mixed_min_relative_change"] >= -1e-5


def test_missing_values(glued):
    assert 9 < glued["missing_share"] < 11
    assert glued["missing_subspace"] > 0.99
    assert glued["missing_r2_shift"] < 1.0
    assert glued["rmse_mofa"] < glued["rmse_mean"] / 2


def test_stochastic_vi(glued):
    assert glued["svi_decreases"] >= 1  # "noisy ... went down"
    assert 0 < glued["svi_elbo_gap"] < 5  # "below the full-batch optimum"
    assert glued["svi_subspace"] > 0.98
    assert glued["svi_cost_ratio"] > 0


def test_activity_and_enrichment(glued):
    assert glued["activity_v0_view0"] > 0.3 and glued["activity_v0_view1"] < 0.05
    assert glued["overlap"] >= 18 and glued["p_enriched"] < 1e-3
    assert glued["control_overlap"] < glued["overlap"] and glued["p_control"] > 0.01


def test_model_selection(glued):
    assert glued["elbo_gain_to_5"] > 0
    assert abs(glued["elbo_gain_after_5"]) < 0.25 * glued["elbo_gain_to_5"]  # "changes it by only"
    assert glued["cv_error_5"] < glued["cv_error_2"]  # "drops"
    assert abs(glued["cv_error_last"] - glued["cv_error_5"]) < 0.05 * glued["cv_error_5"]  # "barely moves"
    assert glued["min_reproducibility"] > 0.7


def test_tcga_real_data(glued):
    assert glued["tcga_n"] == 220 and glued["tcga_missing_protein"] == 70
    for view in ("mrna", "mirna", "protein"):
        assert 20 < glued[f"tcga_r2_{view}"] < 80
        assert glued[f"tcga_r2_f1_{view}"] > 5  # factor 1 is shared by all three layers
    assert glued["tcga_first_p"] < 1e-10 and glued["tcga_second_p"] < 1e-5
    assert glued["tcga_first_p"] <= glued["tcga_second_p"]
    assert glued["tcga_accuracy"] > glued["tcga_majority"] + 0.2
    assert isinstance(glued["tcga_top_gene"], str) and not glued["tcga_top_gene"].startswith("mrna_")
    assert 0 < glued["imputation_r2"] < 100  # "part, but only part"
    assert 0 < glued["median_protein_corr"] < 0.9
