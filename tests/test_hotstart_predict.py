"""λ-only prediction with frozen signatures, hot versus cold, no leakage (latentlab.hotstart.predict)."""

import warnings

import numpy as np
import pytest
import torch

from latentlab.datasets.signatures_sim import simulate_signatures, simulate_two_cohorts
from latentlab.hotstart import (
    FixedSignaturePredictor,
    epochs_to_threshold,
    fit_lambda,
    offset_recovery,
    forward_nll,
    pool_checkpoints,
    predict_hazards,
    reanchor,
)
from latentlab.hotstart.experiments import fit_cold, redraw_after, rolling_risks, standardised, train_batch_checkpoints
from latentlab.signatures import SurvivalData, cluster_diseases, initial_psi, prevalence_logit

K = 2


@pytest.fixture(scope="module")
def setting():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_signatures(n_individuals=320, n_diseases=10, n_times=16, n_signatures=K, n_covariates=3,
                                  n_batches=4, rng=3)
        train = train_batch_checkpoints([sim.batch(b) for b in range(3)], K, n_epochs=40, rng=0)
    return sim, train, pool_checkpoints(train.checkpoints)


def test_frozen_tensors_stay_bit_identical(setting):
    sim, _, master = setting
    predictor = FixedSignaturePredictor(master, n_epochs=15)
    before = {name: t.clone() for name, t in predictor.frozen.items()}
    digest = master.content_hash()
    fit = predictor.fit(sim.batch(3), rng=0)
    for name, tensor in predictor.frozen.items():
        assert not tensor.requires_grad and tensor.grad is None
        assert torch.equal(tensor, before[name]), name
    assert master.content_hash() == digest
    assert fit.n_iter == 15 and all(type(v) is float for v in fit.history + fit.nll_history)
    assert fit.lam.shape == (80, K + 1, 16)


def test_hot_start_beats_cold_start_on_a_seeded_case(setting):
    """Equal budget of 10 epochs: the hot start ends lower, and the cold fit needs more epochs than the
    hot one to reach the hot fit's final loss (it does not within the budget);
    on the follow-up after enrollment (never seen by either fit) the hot fit also predicts better."""
    sim, train, master = setting
    held, enrollment = sim.batch(3), 9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cold = fit_cold(standardised(held, master.covariate_mean, master.covariate_scale).capped(enrollment - 1), K,
                        clusters=train.clusters, psi=train.psi, n_epochs=10, rng=0)
        hot = fit_lambda(master, held, init="hot", n_epochs=10, learning_rate=0.03, enrollment=enrollment, rng=0)
    assert hot.history[-1] < cold.history[-1]
    threshold = hot.history[-1]
    assert epochs_to_threshold(hot.history, threshold) <= 10
    assert epochs_to_threshold(cold.history, threshold) is None
    hot_forward = forward_nll(predict_hazards(master, hot.lam), held.E, held.event, enrollment).mean()
    cold_forward = forward_nll(cold.pi(eps=1e-8), held.E, held.event, enrollment).mean()
    assert hot_forward < cold_forward


def test_hot_init_starts_lower_than_cold_init(setting):
    sim, _, master = setting
    hot = fit_lambda(master, sim.batch(3), init="hot", n_epochs=1, rng=0)
    cold = fit_lambda(master, sim.batch(3), init="cold", n_epochs=1, rng=0)
    assert hot.history[0] < cold.history[0]


def test_no_leakage_later_data_does_not_change_predictions(setting):
    sim, _, master = setting
    held, enrollment = sim.batch(3), 9
    changed = redraw_after(held, enrollment, rng=1)
    assert not np.array_equal(changed.E, held.E)  # the later follow-up really differs
    predictor = FixedSignaturePredictor(master, n_epochs=10)
    a = predictor.fit(held, enrollment=enrollment, rng=0)
    b = predictor.fit(changed, enrollment=enrollment, rng=0)
    np.testing.assert_array_equal(a.lam, b.lam)
    np.testing.assert_array_equal(predict_hazards(master, a.lam), predict_hazards(master, b.lam))
    # without the enrollment cut the later data do change the fit
    c = predictor.fit(changed, rng=0)
    assert not np.array_equal(a.lam, c.lam)


def test_new_covariates_use_the_training_standardisation(setting):
    sim, _, master = setting
    predictor = FixedSignaturePredictor(master)
    held = sim.batch(3)
    whole = predictor.prior_mean(held.G).numpy()
    one = predictor.prior_mean(held.G[:1]).numpy()  # a batch of one is not re-standardised
    np.testing.assert_allclose(one[0], whole[0], rtol=0, atol=1e-12)
    shifted = master.replace(covariate_mean=master.covariate_mean + 1.0)
    moved = FixedSignaturePredictor(shifted).prior_mean(held.G[:1]).numpy()
    assert not np.allclose(moved[0], one[0])


def test_bad_inputs_raise(setting):
    sim, _, master = setting
    with pytest.raises(ValueError, match="init must be 'hot' or 'cold'"):
        FixedSignaturePredictor(master, init="warm")
    with pytest.raises(ValueError, match="n_diseases: checkpoint has 10, data has 4"):
        small = SurvivalData(E=np.zeros((3, 4), int), event=np.zeros((3, 4), bool), G=np.zeros((3, 3)), n_times=16)
        FixedSignaturePredictor(master).fit(small)
    with pytest.raises(ValueError, match="enrollment must hold integer age indices"):
        FixedSignaturePredictor(master).fit(sim.batch(3), enrollment=0)
    with pytest.raises(TypeError, match="checkpoint must be a Checkpoint"):
        FixedSignaturePredictor({"phi": 1})


def test_rolling_refits_shapes_and_offsets(setting):
    sim, _, master = setting
    predictor = FixedSignaturePredictor(master, n_epochs=5)
    rolling = rolling_risks(predictor, sim.batch(3), enrollment=8, offsets=[0, 2, 4], diseases=[0, 1], rng=0)
    assert rolling.risk.shape == rolling.outcome.shape == (80, 3)
    assert np.all((rolling.risk > 0) & (rolling.risk < 1))
    with pytest.raises(ValueError, match="enrollment \\+ max\\(offsets\\) must be"):
        rolling_risks(predictor, sim.batch(3), enrollment=8, offsets=[8], diseases=[0])


def test_transfer_recovers_planted_delta_better_than_cold_fit_at_small_n():
    """Our extension: Δ from a master on cohort A, re-anchored on B's prevalence, against a cold fit on 40 people of B."""
    n_sig = 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cohort_a, cohort_b = simulate_two_cohorts((600, 40), 12, 16, n_sig, 3, rng=5, n_batches=3,
                                                  prevalence_shift=0.7)
        train = train_batch_checkpoints([cohort_a.batch(b) for b in range(3)], n_sig, n_epochs=60, rng=0)
        master = pool_checkpoints(train.checkpoints)
        data_b = standardised(cohort_b.data, master.covariate_mean, master.covariate_scale)
        clusters_b = cluster_diseases(data_b, n_sig, rng=0)  # an independent fit: B's own clustering
        cold_b = fit_cold(data_b, n_sig, clusters=clusters_b, psi=initial_psi(clusters_b, n_sig, rng=0),
                          n_epochs=60, rng=0)
    mu_b = prevalence_logit(cohort_b.data)
    phi_b = reanchor(master.phi, master.prevalence_logit, mu_b)
    transferred = offset_recovery(phi_b, mu_b, cohort_b.truth.delta)
    cold = offset_recovery(cold_b.phi, mu_b, cohort_b.truth.delta)
    assert transferred > cold + 0.1
    assert transferred > 0.9


def test_gp_extrapolation_is_the_conditional_mean_and_keeps_no_leakage(setting):
    sim, _, master = setting
    held, cut = sim.batch(3), 7
    predictor = FixedSignaturePredictor(master, n_epochs=5, extrapolation="gp")
    fit = predictor.fit(held, enrollment=cut, rng=0)
    plain = FixedSignaturePredictor(master, n_epochs=5).fit(held, enrollment=cut, rng=0)
    np.testing.assert_array_equal(fit.lam[:, :, :cut], plain.lam[:, :, :cut])  # the past is the same fit
    mean = predictor.prior_mean(held.G).numpy()
    K_full = predictor._prior.kernel
    past = fit.lam[3, 1, :cut] - mean[3, 1, :cut]
    expected = mean[3, 1, cut:] + K_full[cut:, :cut] @ np.linalg.solve(K_full[:cut, :cut], past)
    np.testing.assert_allclose(fit.lam[3, 1, cut:], expected, rtol=1e-6, atol=1e-6)
    again = predictor.fit(redraw_after(held, cut, rng=2), enrollment=cut, rng=0)
    np.testing.assert_array_equal(again.lam, fit.lam)
    with pytest.raises(ValueError, match="extrapolation must be"):
        FixedSignaturePredictor(master, extrapolation="linear")


def test_float32_prediction_is_close_to_float64(setting):
    sim, _, master = setting
    a = FixedSignaturePredictor(master, n_epochs=5).fit(sim.batch(3), rng=0)
    b = FixedSignaturePredictor(master, n_epochs=5, dtype=torch.float32).fit(sim.batch(3), rng=0)
    assert b.lam.dtype == np.float64
    np.testing.assert_allclose(b.history, a.history, rtol=1e-4)
    with pytest.raises(ValueError, match="dtype must be"):
        FixedSignaturePredictor(master, dtype=torch.int64)


def test_objective_is_the_full_grid_objective_after_an_enrollment_cut(setting):
    """The NLL skips ages after every E (exact): the first loss equals the full-grid objective."""
    from latentlab.signatures import signature_nll

    sim, _, master = setting
    held, cut = sim.batch(3), 6
    predictor = FixedSignaturePredictor(master, n_epochs=1, init_scale=0.0)
    fit = predictor.fit(held, enrollment=cut, rng=0)
    capped = held.capped(cut - 1)
    lam = predictor.prior_mean(held.G)
    nll = signature_nll(lam, torch.tensor(master.phi), master.kappa, np.array(capped.E), np.array(capped.event), eps=1e-8)
    assert fit.history[0] == pytest.approx(float(nll) / held.n_individuals, rel=1e-12)
