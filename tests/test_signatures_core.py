"""Core of the signature model: data validation, likelihood, GP prior, prevalence, simulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentlab.datasets.signatures_sim import simulate_signatures, simulate_two_cohorts
from latentlab.signatures import (
    GaussianProcessPrior,
    SurvivalData,
    at_risk_prevalence,
    prevalence_logit,
    signature_nll,
    signature_pi,
    survival_nll_from_pi,
)


def _tiny(rng=0, N=5, D=3, T=6, K1=3):
    generator = np.random.default_rng(rng)
    E = generator.integers(0, T, size=(N, D))
    event = generator.uniform(size=(N, D)) < 0.5
    lam = generator.normal(size=(N, K1, T))
    phi = generator.normal(-1.0, 1.0, size=(K1, D, T))
    return E, event, lam, phi


# ---------------------------------------------------------------- SurvivalData
def test_one_dimensional_E_rejected():
    with pytest.raises(ValueError, match=r"E must be a 2-D array of shape \(n_individuals, n_diseases\)"):
        SurvivalData(E=[1, 2, 3], event=[[1, 0, 1]], G=np.zeros((1, 0)), n_times=5)


def test_non_integer_E_rejected():
    with pytest.raises(ValueError, match="E must hold integers"):
        SurvivalData(E=[[1.5, 2.0]], event=[[1, 0]], G=np.zeros((1, 0)), n_times=5)


def test_out_of_range_E_rejected():
    with pytest.raises(ValueError, match=r"E must lie in \[0, 4\]"):
        SurvivalData(E=[[1, 5]], event=[[1, 0]], G=np.zeros((1, 0)), n_times=5)
    with pytest.raises(ValueError, match=r"E must lie in \[0, 4\]"):
        SurvivalData(E=[[-1, 2]], event=[[1, 0]], G=np.zeros((1, 0)), n_times=5)


def test_two_events_for_one_pair_rejected():
    Y = np.zeros((2, 2, 4))
    Y[1, 0, [1, 3]] = 1
    with pytest.raises(ValueError, match=r"Y\[1, 0\] has 2 events"):
        SurvivalData.from_dense(Y, G=np.zeros((2, 1)))


def test_event_not_at_E_rejected():
    Y = np.zeros((1, 1, 4))
    Y[0, 0, 1] = 1
    with pytest.raises(ValueError, match="Y and E are inconsistent"):
        SurvivalData.from_dense(Y, G=np.zeros((1, 0)), E=[[2]])


def test_nan_in_G_rejected():
    with pytest.raises(ValueError, match="G contains 1 NaN"):
        SurvivalData(E=[[1]], event=[[1]], G=[[np.nan]], n_times=3)


def test_G_wrong_rows_and_event_shape_rejected():
    with pytest.raises(ValueError, match=r"G must have shape \(2, \?\)"):
        SurvivalData(E=[[1], [2]], event=[[1], [0]], G=np.zeros((3, 1)), n_times=3)
    with pytest.raises(ValueError, match=r"event must have shape \(2, 1\)"):
        SurvivalData(E=[[1], [2]], event=[[1, 0]], G=np.zeros((2, 1)), n_times=3)


def test_dense_round_trip_and_capping():
    E, event, _, _ = _tiny()
    data = SurvivalData(E=E, event=event, G=np.ones((5, 2)), n_times=6)
    again = SurvivalData.from_dense(data.to_dense(), G=data.G, E=data.E)
    np.testing.assert_array_equal(again.E, data.E)
    np.testing.assert_array_equal(again.event, data.event)
    capped = data.capped(2)
    assert capped.E.max() <= 2
    assert not np.any(capped.event & (data.E > 2))
    assert data.E.flags.writeable is False


# ---------------------------------------------------------------- likelihood
def _naive_nll(pi, E, event):
    total = 0.0
    N, D, T = pi.shape
    for i in range(N):
        for d in range(D):
            for t in range(T):
                if t < E[i, d]:
                    total -= np.log(1 - pi[i, d, t])
                elif t == E[i, d]:
                    total -= np.log(pi[i, d, t]) if event[i, d] else np.log(1 - pi[i, d, t])
    return total


def test_nll_equals_naive_triple_loop():
    E, event, lam, phi = _tiny()
    pi = signature_pi(lam, phi, 0.9)
    expected = _naive_nll(pi, E, event)
    from_pi = survival_nll_from_pi(torch.tensor(pi), E, event)
    fused = signature_nll(torch.tensor(lam), torch.tensor(phi), 0.9, E, event, chunk_size=2)
    assert float(from_pi) == pytest.approx(expected, rel=1e-12)
    assert float(fused) == pytest.approx(expected, rel=1e-12)
    per_pair = signature_nll(torch.tensor(lam), torch.tensor(phi), 0.9, E, event, reduction="none")
    assert per_pair.shape == (5, 3)
    assert float(per_pair.sum()) == pytest.approx(expected, rel=1e-12)


def test_fused_gradient_matches_autograd():
    E, event, lam, phi = _tiny(rng=3)
    lam1 = torch.tensor(lam, requires_grad=True)
    phi1 = torch.tensor(phi, requires_grad=True)
    kappa1 = torch.tensor(1.1, dtype=torch.float64, requires_grad=True)
    signature_nll(lam1, phi1, kappa1, E, event, chunk_size=2).backward()
    lam2 = torch.tensor(lam, requires_grad=True)
    phi2 = torch.tensor(phi, requires_grad=True)
    kappa2 = torch.tensor(1.1, dtype=torch.float64, requires_grad=True)
    pi = kappa2 * torch.einsum("nkt,kdt->ndt", torch.softmax(lam2, 1), torch.sigmoid(phi2))
    survival_nll_from_pi(pi, E, event).backward()
    for a, b in ((lam1, lam2), (phi1, phi2), (kappa1, kappa2)):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_gradcheck_on_nll():
    E, event, lam, phi = _tiny(rng=4, N=3, D=2, T=4)
    inputs = (torch.tensor(lam, requires_grad=True), torch.tensor(phi, requires_grad=True))
    assert torch.autograd.gradcheck(lambda a, b: signature_nll(a, b, 0.8, E, event, chunk_size=2), inputs)


def test_constant_hazard_known_answer():
    """One disease, constant π = p: the minimiser is events / Σ(E_i + 1)."""
    generator = np.random.default_rng(1)
    E = generator.integers(0, 10, size=(40, 1))
    event = generator.uniform(size=(40, 1)) < 0.4
    grid = np.linspace(0.01, 0.3, 2901)
    nll = [float(survival_nll_from_pi(torch.full((40, 1, 10), p, dtype=torch.float64), E, event)) for p in grid]
    p_hat = event.sum() / (E + 1).sum()
    assert grid[int(np.argmin(nll))] == pytest.approx(p_hat, abs=1e-4)
    # one event contributes E log(1-p) + log p; a censoring (E+1) log(1-p)
    single = survival_nll_from_pi(torch.full((2, 1, 10), 0.2, dtype=torch.float64), [[3], [3]], [[True], [False]],
                                  reduction="none")
    assert float(single[0, 0]) == pytest.approx(-(3 * np.log(0.8) + np.log(0.2)))
    assert float(single[1, 0]) == pytest.approx(-4 * np.log(0.8))


def test_label_switching_leaves_nll_unchanged():
    E, event, lam, phi = _tiny(rng=5)
    perm = [2, 0, 1]
    a = signature_nll(torch.tensor(lam), torch.tensor(phi), 1.0, E, event)
    b = signature_nll(torch.tensor(lam[:, perm]), torch.tensor(phi[perm]), 1.0, E, event)
    assert float(a) == pytest.approx(float(b), rel=1e-13)


def test_saturation_warns():
    E, event, lam, phi = _tiny()
    with pytest.warns(RuntimeWarning, match="clamp binds"):
        signature_nll(torch.tensor(lam), torch.tensor(phi + 10), 3.0, E, event)


def test_nll_bad_shapes_rejected():
    E, event, lam, phi = _tiny()
    with pytest.raises(ValueError, match="E must be a 2-D"):
        signature_nll(torch.tensor(lam), torch.tensor(phi), 1.0, E[:, 0], event[:, 0])
    with pytest.raises(ValueError, match="lam must be"):
        signature_nll(torch.tensor(lam[:, :2]), torch.tensor(phi), 1.0, E, event)
    with pytest.raises(ValueError, match="E must hold integers"):
        survival_nll_from_pi(torch.full((5, 3, 6), 0.1), E.astype(float) + 0.5, event)


# ---------------------------------------------------------------- GP prior
def test_gp_quadratic_form_equals_dense_inverse():
    prior = GaussianProcessPrior(n_times=30, length_scale=30 / 4)
    delta = prior.draw((4, 3), rng=0) + 0.01 * np.random.default_rng(1).normal(size=(4, 3, 30))
    dense = np.linalg.inv(prior.kernel)
    expected = 0.5 * np.einsum("abt,ts,abs->", delta, dense, delta)
    assert prior.quadratic_form(delta) == pytest.approx(expected, rel=1e-8)
    torch_value = float(prior.quadratic_form_torch(torch.tensor(delta)))
    assert torch_value == pytest.approx(expected, rel=1e-8)
    assert prior.quadratic_form(np.zeros((2, 30))) == 0.0


def test_gp_draws_have_kernel_covariance_and_condition_number():
    prior = GaussianProcessPrior(n_times=8, length_scale=2.0, jitter=1e-4)
    draws = prior.draw(20000, rng=0)
    np.testing.assert_allclose(np.cov(draws.T), prior.kernel, atol=0.05)
    assert prior.condition_number > 1e3
    np.testing.assert_array_equal(prior.draw(3, rng=5), prior.draw(3, rng=5))


def test_gp_rejects_wrong_time_axis():
    prior = GaussianProcessPrior(n_times=5, length_scale=1.0)
    with pytest.raises(ValueError, match="last axis of length n_times = 5"):
        prior.quadratic_form(np.zeros((2, 4)))


# ---------------------------------------------------------------- prevalence
def test_prevalence_with_full_follow_up_is_column_mean():
    """Everyone followed to T−1 and events only at T−1: p_d,T−1 is the column mean of Y."""
    generator = np.random.default_rng(0)
    Y = np.zeros((50, 4, 6))
    Y[:, :, 5] = generator.uniform(size=(50, 4)) < 0.3
    data = SurvivalData.from_dense(Y, G=np.zeros((50, 0)))
    p = at_risk_prevalence(data)
    np.testing.assert_allclose(p, Y.mean(axis=0))


def test_people_leave_risk_set_after_event():
    data = SurvivalData(E=[[0], [1], [3], [3]], event=[[1], [1], [1], [0]], G=np.zeros((4, 0)), n_times=4)
    np.testing.assert_allclose(at_risk_prevalence(data)[0], [1 / 4, 1 / 3, 0.0, 1 / 2])
    mu = prevalence_logit(data, smoothing_sigma=None)
    assert mu[0, 0] == pytest.approx(np.log(1 / 3))


# ---------------------------------------------------------------- simulator
def test_simulator_is_seeded_and_shaped():
    a = simulate_signatures(80, 8, 12, 2, 3, rng=4, n_batches=3)
    b = simulate_signatures(80, 8, 12, 2, 3, rng=4, n_batches=3)
    np.testing.assert_array_equal(a.data.E, b.data.E)
    assert a.truth.lam.shape == (80, 3, 12) and a.truth.psi.shape == (3, 8)
    assert sum(len(x) for x in a.batches) == 80 and a.batch(1).n_individuals == len(a.batches[1])
    assert a.batch_truth(2).lam.shape[0] == len(a.batches[2])
    assert 0 < a.data.event.mean() < 1
    np.testing.assert_allclose(a.data.G.mean(axis=0), 0, atol=1e-12)


def test_two_cohorts_share_delta_and_shift_prevalence():
    a, b = simulate_two_cohorts((60, 40), 6, 10, 2, 3, rng=0, prevalence_shift=1.0, shift_sd=0.0)
    np.testing.assert_allclose(a.truth.delta, b.truth.delta)
    np.testing.assert_allclose(b.truth.mu - a.truth.mu, 1.0)
    assert b.data.n_individuals == 40
    np.testing.assert_array_equal(a.truth.gamma, b.truth.gamma)


def test_gp_quadratic_form_gradient_is_precision_times_delta():
    prior = GaussianProcessPrior(n_times=12, length_scale=3.0, jitter=1e-4)
    delta = torch.tensor(prior.draw((2, 3), rng=1), requires_grad=True)
    prior.quadratic_form_torch(delta).backward()
    expected = delta.detach().numpy() @ prior.precision
    np.testing.assert_allclose(delta.grad.numpy(), expected, rtol=1e-10)
    assert torch.autograd.gradcheck(prior.quadratic_form_torch, (delta.detach().clone().requires_grad_(True),))


def test_nll_rejects_out_of_range_E():
    with pytest.raises(ValueError, match=r"E must lie in \[0, 5\]"):
        survival_nll_from_pi(torch.full((1, 1, 6), 0.1), [[6]], [[True]])
    E, event, lam, phi = _tiny()
    with pytest.raises(ValueError, match=r"E must lie in \[0, 5\]"):
        signature_nll(torch.tensor(lam), torch.tensor(phi), 1.0, E + 1, event)


def test_clamp_is_straight_through_unlike_reference():
    """Reference behaviour: torch.clamp zeroes the gradient of a saturated cell; ours keeps it."""
    pi = torch.full((1, 1, 3), 1.2, dtype=torch.float64, requires_grad=True)
    survival_nll_from_pi(pi, [[2]], [[False]]).backward()
    assert torch.all(pi.grad > 0)  # pushes the hazard back below 1
    reference = torch.full((1, 1, 3), 1.2, dtype=torch.float64, requires_grad=True)
    clamped = reference.clamp(1e-6, 1 - 1e-6)
    (-torch.log1p(-clamped).sum()).backward()
    assert torch.all(reference.grad == 0)
