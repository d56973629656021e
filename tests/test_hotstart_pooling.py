"""Pooling strategies and calibration of a master checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from latentlab import mixing
from latentlab.hotstart import Checkpoint, FixedSignaturePredictor, predict_hazards
from latentlab.hotstart.calibration import (
    at_risk_window,
    hazard_ratio,
    poisson_interval,
    recalibrate,
)
from latentlab.hotstart.pooling import STRATEGIES, align_to, pool, signature_risk
from latentlab.signatures.data import SurvivalData

RNG = np.random.default_rng(0)
K, D, T = 3, 5, 8


def checkpoint(phi, kappa=1.0):
    return Checkpoint(
        phi=phi,
        psi=np.zeros((K + 1, D)),
        gamma=np.zeros((2, K)),
        kappa=kappa,
        prevalence_logit=np.full((D, T), -5.0),
        reference_logit=np.zeros((K, T)),
        covariate_mean=np.zeros(2),
        covariate_scale=np.ones(2),
        signature_labels=tuple(f"s{k}" for k in range(K)) + ("healthy",),
    )


PHI = RNG.normal(-4.0, 1.0, size=(K + 1, D, T))
LAM = RNG.normal(size=(6, K + 1, T))


def test_kappa_symmetry_is_exact_for_checkpoints():
    """κ → cκ with σ(φ) → σ(φ)/c: identical hazards, identical signature risk."""
    base = checkpoint(PHI)
    kappa2, phi2 = mixing.rescale_kappa(1.0, PHI, 7.0)
    moved = checkpoint(phi2, kappa2)
    np.testing.assert_allclose(
        predict_hazards(moved, LAM), predict_hazards(base, LAM), rtol=1e-12
    )
    np.testing.assert_allclose(signature_risk(moved), signature_risk(base), rtol=1e-12)
    assert np.abs(phi2 - PHI).max() > 1.0


def test_mixing_symmetry_is_exact_for_checkpoints():
    """θ → θB⁻¹ with σ(φ) → Bσ(φ), per age: identical hazards."""
    B = mixing.near_identity_stochastic(K + 1, 0.016, rng=2)
    lam = 0.3 * LAM
    lam2 = np.empty_like(lam)
    phi2 = np.empty_like(PHI)
    for t in range(T):
        for i in range(lam.shape[0]):
            lam2[i, :, t], phi_t = mixing.mix_signatures(
                3, lam[i, :, t], PHI[:, :, t], B
            )
        phi2[:, :, t] = phi_t
    np.testing.assert_allclose(
        predict_hazards(checkpoint(phi2), lam2),
        predict_hazards(checkpoint(PHI), lam),
        rtol=1e-10,
    )
    assert np.abs(phi2 - PHI).max() > 1e-3


def test_probability_pool_is_invariant_and_reference_pool_is_not():
    kappa2, phi2 = mixing.rescale_kappa(1.0, PHI, 20.0)  # same hazards, κ 20× apart
    batches = [checkpoint(PHI), checkpoint(phi2, kappa2)]
    truth = predict_hazards(batches[0], LAM)
    for strategy in ("probability", "aligned"):
        master = pool(batches, strategy)
        assert master.kappa == 1.0 and master.metadata["pooling"] == strategy
        np.testing.assert_allclose(predict_hazards(master, LAM), truth, rtol=1e-9)
    reference = pool(batches, "reference")
    assert np.abs(predict_hazards(reference, LAM) / truth - 1).max() > 0.5


def test_aligned_pool_undoes_a_label_permutation():
    order = [2, 0, 1, 3]
    permuted = checkpoint(PHI[order])
    assert (
        np.abs(signature_risk(permuted) - signature_risk(checkpoint(PHI))).max() > 1e-3
    )
    aligned = align_to(permuted, checkpoint(PHI))
    np.testing.assert_array_equal(aligned.phi, PHI)
    master = pool([checkpoint(PHI), permuted], "aligned")
    np.testing.assert_allclose(master.phi, PHI, atol=1e-12)


def test_pool_rejects_bad_input():
    with pytest.raises(ValueError, match="strategy must be one of"):
        pool([checkpoint(PHI)], "median")
    with pytest.raises(TypeError):
        pool([PHI], "probability")
    assert set(STRATEGIES) == {"reference", "probability", "aligned"}


def test_hazard_ratio_and_window():
    E = np.array([[3, 7], [7, 1]])
    mask = at_risk_window(E, T, 2, 6)
    assert mask.sum() == 2 + 4 + 4 + 0
    true = np.full((2, 2, T), 0.01)
    assert hazard_ratio(1.5 * true, true, mask) == pytest.approx(1.5)
    assert hazard_ratio(
        true * np.array([1.0, 3.0])[None, :, None], true, mask, diseases=[1]
    ) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="no person-disease-year"):
        hazard_ratio(true, true, np.zeros_like(mask))


def test_poisson_interval_covers_at_nominal_rate():
    low, high = poisson_interval(0)
    assert low == 0 and high == pytest.approx(-np.log(0.025), rel=1e-6)
    rate = 3.0
    counts = np.random.default_rng(1).poisson(rate, size=4000)
    covered = np.mean(
        [
            poisson_interval(int(c))[0] <= rate <= poisson_interval(int(c))[1]
            for c in counts
        ]
    )
    assert 0.95 <= covered <= 0.995  # exact intervals are conservative
    with pytest.raises(ValueError):
        poisson_interval(-1)


def test_recalibrate_hits_the_observed_count():
    """A master 4× too low is shifted up by about log 4."""
    rng = np.random.default_rng(3)
    N, P = 300, 2
    true_risk = expit(PHI)
    hazards = np.einsum("nkt,kdt->ndt", np.full((N, K + 1, T), 1 / (K + 1)), true_risk)
    event_age = np.full((N, D), T - 1)
    event = np.zeros((N, D), bool)
    draws = rng.uniform(size=(N, D, T)) < hazards
    for i, d in zip(*np.nonzero(draws.any(axis=2))):
        event_age[i, d] = int(np.argmax(draws[i, d]))
        event[i, d] = True
    data = SurvivalData(E=event_age, event=event, G=rng.normal(size=(N, P)), n_times=T)
    still = FixedSignaturePredictor(checkpoint(PHI), n_epochs=1, learning_rate=1e-6)
    right = recalibrate(
        checkpoint(PHI), [data], enrollment=2, horizon=5, predictor=still
    )
    low = checkpoint(
        mixing.rescale_kappa(1.0, PHI, 4.0)[1]
    )  # κσ(φ) four times too small
    master = recalibrate(low, [data], enrollment=2, horizon=5, predictor=still)
    assert master.kappa == 1.0 and len(master.metadata["calibration_shift"]) == 1
    gap = (
        master.metadata["calibration_shift"][0] - right.metadata["calibration_shift"][0]
    )
    assert gap == pytest.approx(
        np.log(4.0), abs=0.1
    )  # σ(φ + b) ≈ e^b σ(φ) for rare risks
    assert master.metadata["calibration_events"][0] > 30
    by_cluster = recalibrate(
        low,
        [data],
        enrollment=2,
        horizon=5,
        predictor=still,
        clusters=np.array([0, 0, 1, 1, 1]),
    )
    assert len(by_cluster.metadata["calibration_shift"]) == 2
