"""Initialisation-scale robustness helpers (latentlab.hotstart.robustness)."""

import warnings

import numpy as np
import pytest

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.hotstart import pool_checkpoints
from latentlab.hotstart.experiments import train_batch_checkpoints
from latentlab.hotstart.robustness import coefficient_of_variation, fit_stage1, init_scale_grid, phi_recovery


def test_coefficient_of_variation_known_answers():
    assert coefficient_of_variation([2.0, 2.0, 2.0]) == 0.0
    assert coefficient_of_variation([1.0, 3.0]) == pytest.approx(0.5)
    assert coefficient_of_variation([-1.0, -3.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must not be empty"):
        coefficient_of_variation([])


def test_phi_recovery_is_one_for_the_truth_and_label_free():
    true_phi = np.random.default_rng(0).normal(size=(4, 6, 5))
    assert phi_recovery(true_phi, true_phi) == pytest.approx(1.0)
    permuted = true_phi[[2, 0, 1, 3]]
    assert phi_recovery(permuted, true_phi) == pytest.approx(1.0)
    assert phi_recovery(true_phi + 3.0, true_phi) == pytest.approx(1.0)  # a common shift is invisible


def test_stage1_fit_decreases_loss_and_keeps_frozen_phi():
    sim = simulate_signatures(60, 6, 10, 2, 2, rng=1)
    cold = fit_stage1(sim.data, 2, n_epochs=30, rng=0)
    assert cold.history[-1] < cold.history[0]
    frozen = cold.phi.copy()
    hot = fit_stage1(sim.data, 2, phi=frozen, n_epochs=10, rng=1)
    np.testing.assert_array_equal(hot.phi, frozen)
    with pytest.raises(ValueError, match="phi must have shape"):
        fit_stage1(sim.data, 2, phi=frozen[:2])


def test_stage1_is_invariant_under_lambda_phi_rescaling():
    """π = σ(Σ λφ) is unchanged by λ → cλ, φ → φ/c: the stage-1 start scale is not identified."""
    rng = np.random.default_rng(0)
    lam, phi = rng.normal(size=(3, 2, 4)), rng.normal(size=(2, 5, 4))
    logits = np.einsum("nkt,kdt->ndt", lam, phi)
    np.testing.assert_allclose(np.einsum("nkt,kdt->ndt", 3 * lam, phi / 3), logits, atol=1e-12)


def test_grid_rows_cover_every_combination():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_signatures(160, 8, 10, 2, 2, n_batches=2, rng=2)
        train = train_batch_checkpoints([sim.batch(0)], 2, n_epochs=10, rng=0)
        master = pool_checkpoints(train.checkpoints)
        stage1 = fit_stage1(sim.batch(0), 2, n_epochs=10, rng=0)
        rows = init_scale_grid(sim.batch(1), sim.truth.phi, 2, master=master, stage1_phi=stage1.phi,
                               clusters=train.clusters, psi=train.psi, scales=[0.1, 1.0], seeds=[0], n_epochs=5)
    combos = {(r.formulation, r.start, r.scale) for r in rows}
    assert len(rows) == len(combos) == 8
    assert all(np.isfinite(r.final_nll) and -1 <= r.phi_recovery <= 1 for r in rows)
    hot3 = [r.phi_recovery for r in rows if r.formulation == "stage 3" and r.start == "hot"]
    assert hot3[0] == hot3[1]  # φ is frozen in a hot start
