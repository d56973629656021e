"""The numbers quoted in book/03-em-aip-sampling.md (executed in fast mode)."""

import pytest

from notebook_harness import executed_glue

PAGE = "03-em-aip-sampling"


@pytest.fixture(scope="module")
def g():
    return executed_glue(PAGE)


def test_model_section(g):
    assert g["resp_hand"] == pytest.approx(g["resp_lib"], rel=1e-10)
    assert g["elbo_gap"] < 1e-8
    assert g["ell_c_hard"] < g["ell_truth"]


def test_em_section(g):
    assert g["pi_half"] == pytest.approx(g["pi_half_mean"], rel=1e-12)
    assert g["em_min_step"] >= -1e-8
    assert g["em_restart_spread"] < 1e-3
    assert g["w_pure1"] > 0.95 and g["w_pure2"] > 0.95
    assert abs(g["w_half"] - 0.5) < 0.1
    assert g["theta_err"] < 0.1


def test_hmm_section(g):
    assert g["A_row_err"] < 1e-12 and g["A_upper"] == "upper triangular"
    assert g["p_healthy_late"] < g["p_healthy_early"]
    assert g["hmm_ell_fit"] >= g["hmm_ell_truth"]
    assert g["hmm_w_pure1"] > 0.7 and g["hmm_w_pure2"] > 0.6 and 0.2 < g["hmm_w_half"] < 0.8
    assert g["hmm_tumour_err"] < 0.2
    assert g["hmm_min_step"] >= -1e-6


def test_emcee_section(g):
    assert 0.1 < g["emcee_accept"] < 0.9
    assert g["emcee_tau_max"] > 1 and g["emcee_rhat_max"] >= 1
    assert g["emcee_burn"] < g["emcee_steps"]
    assert 0 < g["sd_tumour_max"] < 0.3 and 0 < g["sd_edge_max"] < 0.5


def test_latent_section(g):
    assert g["map_T1"] < g["map_T05"] < g["map_T02"]
    assert 0 < g["mh_switched"] < g["n_patients_hmm"]


def test_aip_section(g):
    assert g["aip_vs_emcee_z"] < 2.0
    assert 0 < g["aip_accept"] < 1
    assert g["anneal_swaps_last"] < g["anneal_swaps_first"]
    assert g["aip_len_params"] == g["aip_len_swaps"] + 2


def test_real_data_section(g):
    assert g["n_real"] == 332 and g["n_subgroups"] == 10 and g["n_late"] == 101
    assert g["missing_IV"] == 143 and g["missing_V"] == 178 and g["complete_rows"] == 123
    assert g["real_ell_k2"] > g["real_ell_k1"]
    assert g["real_TtoII_low"] < g["real_TtoII_high"]
    assert g["top_share"] > g["bottom_share"]
    assert g["share_oro_hypo"] > g["share_oral"]
    assert g["top_share_lo"] < g["top_share_hi"] and g["c02_lo"] < g["c02_hi"]
    assert g["width_small"] > g["width_large"]
    assert g["ppc_corr"] > 0.8 and g["ppc_mae"] < 0.1


def test_prediction_section(g):
    for key in ("risk_III_C09", "risk_III_C02", "risk_II_C02"):
        assert 0 < g[key] < 1
    assert g["risk_III_C09"] < g["risk_II_C02"] and g["risk_III_C02"] < g["risk_II_C02"]
