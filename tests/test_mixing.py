"""The four mixing formulations: identities, symmetries, bounds, exact gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax

from latentlab import mixing

RNG = np.random.default_rng(0)
K, D = 4, 6
LAM = RNG.normal(size=(3, K))
PHI = RNG.normal(-3.0, 1.5, size=(K, D))
MU = RNG.normal(-5.0, 1.0, size=D)
PSI = RNG.normal(0.0, 1.5, size=(K, D))


def test_softmax_identities():
    theta = softmax(LAM, axis=-1)
    np.testing.assert_allclose(theta.sum(axis=-1), 1.0, atol=1e-15)
    np.testing.assert_allclose(softmax(LAM + 7.3, axis=-1), theta, atol=1e-12)
    assert not np.allclose(softmax(3 * LAM, axis=-1), theta, atol=1e-3)
    pair = np.array([1.3, -0.4])
    assert softmax(pair)[0] == pytest.approx(expit(pair[0] - pair[1]), abs=1e-15)
    path = mixing.softmax_scale_path(np.array([10.0, 5, 3, 2, 1]), [1.0, 0.01])
    assert path[0].max() > 0.99 and path[1].max() < 0.22


def test_stage1_symmetry_scalar_and_matrix():
    base = mixing.forward(1, LAM, PHI)
    np.testing.assert_allclose(mixing.forward(1, 2.5 * LAM, PHI / 2.5), base, rtol=1e-12)
    A = RNG.normal(size=(K, K)) + 3 * np.eye(K)
    np.testing.assert_allclose(mixing.forward(1, LAM @ A, np.linalg.solve(A, PHI)), base, rtol=1e-10)
    path = mixing.rescaling_path(1, LAM, PHI, [0.5, 1.0, 4.0])
    np.testing.assert_allclose(path, np.broadcast_to(base, path.shape), rtol=1e-12)
    for stage in (2, 3):
        moved = mixing.rescaling_path(stage, LAM, PHI, [0.5, 4.0])
        assert not np.allclose(moved[0], moved[1], rtol=1e-3)


@pytest.mark.parametrize("stage", mixing.STAGES)
def test_label_switching(stage):
    perm = [2, 0, 3, 1]
    phi = PSI if stage == 4 else PHI
    a = mixing.forward(stage, LAM, phi, kappa=1.3, mu=MU)
    b = mixing.forward(stage, LAM[:, perm], phi[perm], kappa=1.3, mu=MU)
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_bounds_one_hot_and_healthy():
    low, high = mixing.mixture_bounds(PHI, kappa=1.7)
    pi = mixing.forward(3, RNG.normal(size=(200, K)) * 3, PHI, kappa=1.7)
    assert np.all(pi >= low - 1e-15) and np.all(pi <= high + 1e-15)
    one_hot = np.full(K, -1e3)
    one_hot[2] = 0.0
    np.testing.assert_allclose(mixing.forward(3, one_hot, PHI, kappa=1.7), 1.7 * expit(PHI[2]), rtol=1e-12)
    lam_h, psi_h = mixing.add_healthy_signature(np.full((1, K), -1e3), PSI, healthy_lambda=0.0)
    np.testing.assert_allclose(mixing.forward(4, lam_h, psi_h, kappa=0.8, mu=MU)[0], 0.8 * expit(MU - 5), rtol=1e-12)


def test_outer_sigmoid_confines_hazards():
    pi = mixing.outer_sigmoid_pi(RNG.normal(size=(500, K)) * 4, PSI * 3, MU)
    assert pi.min() > 0.5 and pi.max() < expit(1.0)


@pytest.mark.parametrize("stage", mixing.STAGES)
def test_analytic_gradient_matches_autograd(stage):
    phi = PSI if stage == 4 else PHI
    analytic = mixing.gradient_wrt_lambda(stage, LAM, phi, kappa=1.4, mu=MU)
    lam_t = torch.tensor(LAM, requires_grad=True)
    jac = torch.autograd.functional.jacobian(
        lambda x: mixing.forward_torch(stage, x, torch.tensor(phi), kappa=1.4, mu=torch.tensor(MU)), lam_t
    )  # (3, D, 3, K)
    per_row = np.stack([jac[i, :, i, :].numpy() for i in range(LAM.shape[0])])
    np.testing.assert_allclose(analytic, per_row, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(
        mixing.forward_torch(stage, torch.tensor(LAM), torch.tensor(phi), kappa=1.4, mu=torch.tensor(MU)).numpy(),
        mixing.forward(stage, LAM, phi, kappa=1.4, mu=MU), rtol=1e-13)


def test_separation_and_clamp():
    a, b = np.array([5.0, -5, -5, -5]), np.array([-5.0, 5, -5, -5])
    assert mixing.separation(3, a, b, PHI) > 0
    assert mixing.separation(3, a, a, PHI) == 0.0
    clamped = mixing.forward(3, LAM, PHI + 20, kappa=3.0, eps=1e-6)
    assert clamped.max() == 1 - 1e-6


def test_bad_input_rejected():
    with pytest.raises(ValueError, match="stage must be one of"):
        mixing.forward(5, LAM, PHI)
    with pytest.raises(ValueError, match=r"phi must have shape \(4, \?\)"):
        mixing.forward(1, LAM, PHI[:3])
    with pytest.raises(ValueError, match="stage 4 needs mu"):
        mixing.forward(4, LAM, PSI)
    with pytest.raises(ValueError, match="kappa must be > 0"):
        mixing.forward(3, LAM, PHI, kappa=0.0)
    with pytest.raises(ValueError, match="scales must be non-zero"):
        mixing.rescaling_path(1, LAM, PHI, [0.0, 1.0])


def test_log_odds_matches_logit_and_is_not_clipped():
    from scipy.special import logit

    for stage in (1, 2, 3):
        np.testing.assert_allclose(mixing.log_odds(stage, LAM, PHI, kappa=1.3 if stage == 3 else 1.0),
                                   logit(mixing.forward(stage, LAM, PHI, kappa=1.3 if stage == 3 else 1.0)),
                                   rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(mixing.log_odds(4, LAM, PSI, mu=MU),
                               logit(mixing.forward(4, LAM, PSI, mu=MU)), rtol=1e-9)
    # a hazard of e^-60 (far below the old 1e-12 clip) keeps its log-odds
    deep = mixing.log_odds(3, np.zeros(2), np.full((2, 1), -60.0))
    assert deep[0] == pytest.approx(-60.0, abs=1e-9)
    phi = np.array([[-3.0, -4.0, -7.0, -7.0], [-7.0, -3.5, -4.0, -7.0], [-7.0, -7.0, -4.5, -3.0]])
    a, b = np.array([10.0, -10.0, 0.0]), np.array([-10.0, 10.0, 0.0])
    assert mixing.separation(1, a, b, phi) == pytest.approx(80.0)   # the old clip gave 55.26
    with pytest.raises(ValueError, match="not a probability"):
        mixing.log_odds(3, LAM, PHI + 30, kappa=3.0)


@pytest.mark.parametrize("stage", [3, 4])
def test_kappa_rescaling_is_exact(stage):
    base = PHI if stage == 3 else PSI
    logits = base if stage == 3 else MU[None, :] + base
    for c in (0.7, 1.0, 2.5, 40.0):
        kappa2, logits2 = mixing.rescale_kappa(1.2, logits, c)
        new = logits2 if stage == 3 else logits2 - MU[None, :]
        before = mixing.forward(stage, LAM, base, kappa=1.2, mu=MU)
        after = mixing.forward(stage, LAM, new, kappa=kappa2, mu=MU)
        assert kappa2 == pytest.approx(1.2 * c)
        np.testing.assert_allclose(after, before, rtol=1e-12, atol=0)
        if c != 1.0:
            assert np.max(np.abs(logits2 - logits)) > 0.1   # φ really moved
    with pytest.raises(ValueError, match="c must exceed"):
        mixing.rescale_kappa(1.0, np.array([[3.0]]), 0.5)


@pytest.mark.parametrize("stage", [2, 3, 4])
def test_stochastic_mixing_is_exact(stage):
    base = PSI if stage == 4 else PHI
    B = mixing.near_identity_stochastic(K, 0.02, rng=1)
    assert np.all(B >= 0) and np.allclose(B.sum(axis=1), 1.0) and not np.allclose(B, np.eye(K))
    lam2, base2 = mixing.mix_signatures(stage, LAM, base, B, mu=MU)
    before = mixing.forward(stage, LAM, base, kappa=1.1, mu=MU)
    after = mixing.forward(stage, lam2, base2, kappa=1.1, mu=MU)
    np.testing.assert_allclose(after, before, rtol=1e-11, atol=0)
    assert np.max(np.abs(base2 - base)) > 1e-3 and np.max(np.abs(softmax(lam2, -1) - softmax(LAM, -1))) > 1e-4


def test_stochastic_mixing_refuses_bad_B():
    with pytest.raises(ValueError, match="row-stochastic"):
        mixing.mix_signatures(3, LAM, PHI, 2 * np.eye(K))
    with pytest.raises(ValueError, match="stage 1"):
        mixing.mix_signatures(1, LAM, PHI, np.eye(K))
    with pytest.raises(ValueError, match="simplex"):
        mixing.mix_signatures(3, np.array([30.0, 0, 0, 0]), PHI, mixing.near_identity_stochastic(K, 0.5, rng=0))
    with pytest.raises(ValueError, match="epsilon"):
        mixing.near_identity_stochastic(K, 1.5)
