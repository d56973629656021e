"""The numbers chapter 5's prose states, from the page executed in fast mode."""

import pytest

from notebook_harness import executed_glue

PAGE = "05-ann-from-scratch"


@pytest.fixture(scope="module")
def glued():
    return executed_glue(PAGE)


def test_xor_without_bias_can_fail_and_biases_fix_it(glued):
    assert glued["xor_solved_bias"] == glued["n_xor_seeds"]
    assert glued["xor_failed_no_bias"] >= 1
    assert glued["xor_failed_no_bias"] == glued["n_xor_seeds"] - glued["xor_solved_no_bias"]
    assert glued["xor_stuck_at_half"] >= 1
    assert glued["xor_loss_bias"] < glued["xor_loss_no_bias"]


def test_gradients_match_finite_differences_and_torch(glued):
    assert glued["gradcheck_error"] < 1e-6
    assert glued["torch_difference"] < 1e-12
    assert glued["hand_difference"] < 1e-12
    assert glued["n_parameters"] == 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3


def test_stable_cross_entropy(glued):
    assert glued["stable_loss"] == pytest.approx(2000.0)
    assert glued["naive_loss"] in ("inf", "nan")


def test_vanishing_and_exploding_gradients(glued):
    assert glued["ratio_sigmoid"] < 1e-6
    assert 0.2 < glued["ratio_tanh"] < 5
    assert 0.2 < glued["ratio_relu"] < 5
    assert glued["ratio_tanh_large"] > 10


def test_clipping_tames_the_too_large_learning_rate(glued):
    assert glued["clip_peak_clip"] < glued["clip_peak_none"]
    assert glued["clip_peak_none"] > 1.0


def test_optimisers_and_learning_rates(glued):
    others = [glued[k] for k in ("loss_full_batch", "loss_minibatch", "loss_momentum", "loss_adam")]
    assert glued["loss_sgd1"] <= min(others)  # most progress per epoch
    assert glued["seconds_sgd1"] > glued["seconds_full"]
    assert glued["n_cancer_train"] == 398
    assert glued["lr_small_drop"] < 0.5
    assert glued["lr_good_final"] < 0.2
    assert glued["lr_large_peak"] > glued["lr_start"]


def test_schedules_and_regularisation(glued):
    assert glued["plateau_cuts"] >= 1
    assert glued["small_l1"] > glued["small_l2"] + 0.3
    assert glued["small_l1"] > glued["small_none"] + 0.3


def test_feature_importance_agreement(glued):
    assert glued["mlp_accuracy"] > 0.9 and glued["logistic_accuracy"] > 0.9
    assert glued["rho_gradient_logistic"] > 0.5
    assert glued["rho_gradient_permutation"] > 0.5
    assert glued["rho_logistic_permutation"] < min(glued["rho_gradient_logistic"], glued["rho_gradient_permutation"])
    assert 0 <= glued["top5_gradient_permutation"] <= 5


def test_linear_models_coincide_and_nonlinear_autoencoder_is_worse(glued):
    linear = [glued[k] for k in ("mse_pca_10", "mse_fa_10", "mse_mofa_10", "mse_ae_linear_10")]
    assert max(linear) < 1.1 * min(linear)
    assert glued["mse_ae_tanh_10"] > glued["mse_pca_10"]
    assert glued["mse_pca_2"] > glued["mse_pca_10"]
    assert glued["ae_tanh_parameters"] == (200 * 64 + 64) + (64 * 10 + 10) + (10 * 64 + 64) + (64 * 200 + 200)


def test_sample_size_curve(glued):
    assert glued["gap_min"] > 0  # the autoencoder never beats PCA at the sizes tried
    assert glued["gap_trend"] == ("narrows" if glued["gap_largest"] < glued["gap_smallest"] else "does not narrow")
    assert glued["ae_tanh_error_largest"] > glued["pca_error_largest"]


def test_subtype_separability_and_fusion(glued):
    for key in ("sep_pca", "sep_fa", "sep_mofa", "sep_ae_linear", "sep_ae_tanh", "sep_raw"):
        assert glued[key] > 0.9 > glued["majority_rate"] + 0.3
    assert glued["fusion_best_fused_gain"] <= 0  # no fused classifier beats the best single view
    assert glued["fusion_spread_tumours"] <= 8
    assert glued["fusion_best_single"] == max(glued["fusion_mrna"], glued["fusion_mirna"], glued["fusion_protein"])
