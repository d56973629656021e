"""Initialisation-scale robustness (latentlab.hotstart.robustness): matched starts, convergence."""

import numpy as np
import pytest
import torch

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.hotstart.robustness import (
    coefficient_of_variation,
    fit_map,
    init_scale_grid,
    map_nll,
    phi_recovery,
    saturated_fraction,
)
from latentlab.signatures.likelihood import survival_nll_from_pi


@pytest.fixture(scope="module")
def sim():
    return simulate_signatures(40, 5, 8, 2, 2, rng=1)


def test_coefficient_of_variation_known_answers():
    assert coefficient_of_variation([2.0, 2.0, 2.0]) == 0.0
    assert coefficient_of_variation([1.0, 3.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must not be empty"):
        coefficient_of_variation([])


def test_phi_recovery_is_one_for_the_truth_and_label_free():
    true_phi = np.random.default_rng(0).normal(size=(4, 6, 5))
    assert phi_recovery(true_phi, true_phi) == pytest.approx(1.0)
    assert phi_recovery(true_phi[[2, 0, 1, 3]], true_phi) == pytest.approx(1.0)


@pytest.mark.parametrize("stage", [1, 3])
def test_map_nll_matches_the_library_survival_nll(sim, stage):
    rng = np.random.default_rng(2)
    lam, phi = rng.normal(0, 0.5, size=(40, 3, 8)), rng.normal(-2, 0.5, size=(3, 5, 8))
    if stage == 1:
        pi = 1 / (1 + np.exp(-np.einsum("nkt,kdt->ndt", lam, phi)))
    else:
        theta = np.exp(lam) / np.exp(lam).sum(axis=1, keepdims=True)
        pi = np.einsum("nkt,kdt->ndt", theta, 1 / (1 + np.exp(-phi)))
    expected = float(survival_nll_from_pi(torch.tensor(pi), sim.data.E, sim.data.event))
    assert map_nll(stage, lam, phi, sim.data) == pytest.approx(expected / 40, rel=1e-9)


def test_stage3_hot_fit_converges_and_keeps_phi_frozen(sim):
    fit = fit_map(sim.data, 2, stage=3, phi=sim.truth.phi, max_epochs=2000, rtol=1e-5,
                  rng=0)
    assert fit.converged and fit.n_iter < 2000
    np.testing.assert_array_equal(fit.phi, sim.truth.phi)
    h = np.asarray(fit.history)
    assert abs(h[-11] - h[-1]) / 10 <= 1e-5 * abs(h[-1])  # the rule that stopped it
    assert fit.nll == pytest.approx(map_nll(3, fit.lam, fit.phi, sim.data))


def test_a_capped_fit_reports_not_converged(sim):
    fit = fit_map(sim.data, 2, stage=1, max_epochs=15, rtol=1e-9, rng=0)
    assert not fit.converged and fit.n_iter == 15


def test_fit_map_refuses_bad_options(sim):
    with pytest.raises(ValueError, match="stage must be 1 or 3"):
        fit_map(sim.data, 2, stage=2)
    with pytest.raises(ValueError, match="phi must have shape"):
        fit_map(sim.data, 2, stage=1, phi=sim.truth.phi[:2])
    with pytest.raises(ValueError, match="rtol"):
        fit_map(sim.data, 2, stage=3, rtol=0.0)


def test_saturation_grows_with_the_start_scale():
    phi = np.full((5, 4, 6), -5.0)
    fractions = [saturated_fraction(s, phi) for s in (0.01, 0.1, 1.0, 3.0)]
    assert fractions[0] == 0.0 and fractions[-1] > 0.5
    assert np.all(np.diff(fractions) >= 0)


def test_grid_gives_both_stages_the_same_start(sim):
    rows = init_scale_grid(sim.data, 2, phi=sim.truth.phi, scales=[0.1, 3.0], seeds=[0, 1],
                           max_epochs=1, prior_weight=0.0)
    assert [(r.stage, r.scale, r.seed) for r in rows][:4] == [
        (1, 0.1, 0), (1, 0.1, 1), (1, 3.0, 0), (1, 3.0, 1)]
    assert len(rows) == 8 and not any(r.converged for r in rows)
    # one Adam step from the same λ: every row is a finite NLL, stage 1 saturates at s = 3
    assert all(np.isfinite(r.final_nll) for r in rows)


def test_stage1_nll_has_no_finite_minimiser():
    from latentlab.hotstart.robustness import escape_nll

    sim = simulate_signatures(30, 5, 8, 2, 2, rng=3)
    phi = -np.abs(sim.truth.phi) - 0.1  # every signature negative everywhere
    lam = np.random.default_rng(0).normal(size=(30, 3, 8))
    nll = escape_nll(lam, phi, sim.data, shifts=[0, 1, 2, 4, 40])
    assert np.all(np.diff(nll) < 0)          # strictly lower for every larger shift
    assert nll[0] == pytest.approx(map_nll(1, lam, phi, sim.data))
    # the floor is the NLL of the diagnosed ages alone: the rest tends to 0
    assert nll[-1] < nll[0] and nll[-1] > 0
    positive = phi.copy()
    positive[-1, 0, 0] = 0.5
    with pytest.raises(ValueError, match="negative"):
        escape_nll(lam, positive, sim.data)
    with pytest.raises(ValueError, match="lam"):
        escape_nll(lam[:, :2], phi, sim.data)
