"""Objective, initialisation and the Adam trainer of the signature model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.signatures import (
    FitResult,
    GaussianProcessPrior,
    ModelPriors,
    adam_param_groups,
    cluster_diseases,
    fit_signatures,
    initialize,
    lowess,
    map_objective,
    match_signatures,
    matched_correlation,
    signature_contrasts,
)


@pytest.fixture(scope="module")
def small_sim():
    return simulate_signatures(n_individuals=150, n_diseases=12, n_times=15, n_signatures=3, n_covariates=4, rng=2)


def _priors(init, data, weight=1e-4):
    T = data.n_times
    return ModelPriors(mu=torch.tensor(init.mu), reference=torch.tensor(init.reference), G=torch.tensor(np.array(data.G)),
                       lambda_prior=GaussianProcessPrior(T, T / 4), phi_prior=GaussianProcessPrior(T, T / 3),
                       prior_weight=weight)


def test_objective_centered_equals_noncentered_at_same_point(small_sim):
    data = small_sim.data
    init = initialize(data, 3, rng=0)
    priors = _priors(init, data)
    f64 = lambda a: torch.tensor(np.array(a), dtype=torch.float64)  # noqa: E731
    centered = {"lam": f64(init.lam), "phi": f64(init.phi), "psi": f64(init.psi), "gamma": f64(init.gamma),
                "kappa": f64(1.0)}
    from latentlab.signatures import lambda_prior_mean
    lam_mean = lambda_prior_mean(priors.G, f64(init.gamma), priors.reference)
    noncentered = {"delta": f64(init.lam) - lam_mean, "epsilon": f64(init.phi - init.mu[None] - init.psi[:, :, None]),
                   "psi": f64(init.psi), "gamma": f64(init.gamma), "kappa": f64(1.0)}
    a = map_objective(centered, torch.tensor(data.E), torch.tensor(data.event), priors)
    b = map_objective(noncentered, torch.tensor(data.E), torch.tensor(data.event), priors, parameterization="noncentered")
    assert float(a.loss) == pytest.approx(float(b.loss), rel=1e-10)
    expected = a.nll / data.n_individuals + 1e-4 * (a.q_lambda / data.n_individuals + a.q_phi / data.n_diseases)
    assert float(a.loss) == pytest.approx(expected, rel=1e-12)


def test_clustering_recovers_planted_blocks():
    sim = simulate_signatures(n_individuals=400, n_diseases=24, n_times=20, n_signatures=4, n_covariates=2,
                              psi_inside=2.5, rng=7)
    labels = cluster_diseases(sim.data, 4, rng=0)
    assert adjusted_rand_score(sim.truth.clusters, labels) >= 0.95


def test_initialize_shapes_and_healthy_row(small_sim):
    init = initialize(small_sim.data, 3, rng=1)
    assert init.lam.shape == (150, 4, 15) and init.phi.shape == (4, 12, 15)
    assert init.gamma.shape == (4, 3) and init.reference.shape == (3, 15)
    assert np.all(np.abs(init.psi[-1] + 5) < 0.1)
    with pytest.raises(ValueError, match="n_signatures"):
        initialize(small_sim.data, 0)


def test_lowess_keeps_lines_and_resists_outliers():
    x = np.arange(30.0)
    line = 0.5 * x - 2
    np.testing.assert_allclose(lowess(line, frac=0.3), line, atol=1e-9)
    spiky = line + 0.1 * np.random.default_rng(0).normal(size=30)
    spiky[10] += 50
    assert abs(lowess(spiky, frac=0.3, iterations=3)[10] - line[10]) < 1.0


def test_adam_param_groups_multipliers():
    params = {n: torch.zeros(1, requires_grad=True) for n in ["lam", "phi", "psi", "gamma", "kappa"]}
    rates = {g["name"]: g["lr"] for g in adam_param_groups(params, 0.1)}
    assert rates == pytest.approx({"lam": 0.1, "phi": 0.01, "psi": 0.01, "gamma": 0.1, "kappa": 0.1})
    with pytest.raises(ValueError, match="no learning-rate multiplier"):
        adam_param_groups({"weird": torch.zeros(1, requires_grad=True)})


def test_fit_keeps_no_per_epoch_tensors(small_sim):
    fit = fit_signatures(small_sim.data, 3, n_epochs=40, rng=0, verbose=False, tol=None)
    assert isinstance(fit, FitResult)
    assert len(fit.history) == fit.n_iter == 40
    assert all(type(value) is float for value in fit.history)
    assert fit.history[-1] < fit.history[0]
    assert fit.healthy_index == 3 and fit.n_signatures == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.kappa = 2.0  # type: ignore[misc]
    np.testing.assert_allclose(fit.theta().sum(axis=1), 1.0)


def test_fit_is_reproducible_and_noncentered_keeps_kappa_one(small_sim):
    a = fit_signatures(small_sim.data, 3, n_epochs=5, rng=3, verbose=False, parameterization="noncentered")
    b = fit_signatures(small_sim.data, 3, n_epochs=5, rng=3, verbose=False, parameterization="noncentered")
    assert a.history == b.history
    assert a.kappa == 1.0


@pytest.mark.filterwarnings("ignore:kappa \\* sum:RuntimeWarning")
def test_non_finite_loss_raises_with_epoch(small_sim):
    with pytest.raises(FloatingPointError, match="epoch"):
        fit_signatures(small_sim.data, 3, n_epochs=5, rng=0, verbose=False, learning_rate=1e30)


def test_fit_rejects_bad_arguments(small_sim):
    with pytest.raises(ValueError, match="n_signatures must be >= 1"):
        fit_signatures(small_sim.data, 0, verbose=False)
    with pytest.raises(ValueError, match="parameterization"):
        fit_signatures(small_sim.data, 2, parameterization="both", verbose=False)
    with pytest.raises(TypeError, match="SurvivalData"):
        fit_signatures(np.zeros((3, 3)), 2, verbose=False)



@pytest.fixture(scope="module")
def recovery_sim():
    return simulate_signatures(n_individuals=1000, n_diseases=30, n_times=30, n_signatures=3, n_covariates=5,
                               gamma_scale=2.0, rng=0)


def test_recovery_centered(recovery_sim):
    sim = recovery_sim
    fit = fit_signatures(sim.data, 3, n_epochs=200, init=initialize(sim.data, 3, rng=0), verbose=False)
    order = match_signatures(fit.phi, sim.truth.phi)
    assert matched_correlation(fit.phi[order], sim.truth.phi) >= 0.9
    gamma = fit.gamma[:, order[:-1]]
    assert matched_correlation(signature_contrasts(gamma), signature_contrasts(sim.truth.gamma)) >= 0.9


def test_recovery_noncentered(recovery_sim):
    """Non-centered γ is recovered up to the softmax shift (contrasts ≥ 0.9); κ ≡ 1 stays 1.

    The raw γ correlation is lower (≈ 0.8 here) because a common shift of all
    signatures' λ leaves θ unchanged; see ``signature_contrasts``.
    """
    sim = recovery_sim
    fit = fit_signatures(sim.data, 3, n_epochs=300, init=initialize(sim.data, 3, rng=0), verbose=False,
                         parameterization="noncentered", tol=None)
    order = match_signatures(fit.phi, sim.truth.phi)
    assert matched_correlation(fit.phi[order], sim.truth.phi) >= 0.9
    gamma = fit.gamma[:, order[:-1]]
    assert matched_correlation(signature_contrasts(gamma), signature_contrasts(sim.truth.gamma)) >= 0.9
    assert fit.kappa == 1.0


def test_joint_permutation_leaves_objective_unchanged(small_sim):
    data = small_sim.data
    init = initialize(data, 3, rng=4)
    perm = [2, 0, 1]
    full = perm + [3]  # the healthy signature stays last
    f64 = lambda a: torch.tensor(np.array(a), dtype=torch.float64)  # noqa: E731
    E, event = torch.tensor(data.E), torch.tensor(data.event)

    def loss(lam, phi, psi, gamma, reference):
        priors = ModelPriors(mu=f64(init.mu), reference=f64(reference), G=f64(data.G),
                             lambda_prior=GaussianProcessPrior(15, 15 / 4), phi_prior=GaussianProcessPrior(15, 5.0))
        params = {"lam": f64(lam), "phi": f64(phi), "psi": f64(psi), "gamma": f64(gamma), "kappa": f64(1.2)}
        return float(map_objective(params, E, event, priors).loss)

    a = loss(init.lam, init.phi, init.psi, init.gamma, init.reference)
    b = loss(init.lam[:, full], init.phi[full], init.psi[full], init.gamma[:, perm], init.reference[perm])
    assert a == pytest.approx(b, rel=1e-12)


def test_fused_lambda_prior_matches_the_composition(monkeypatch):
    """The centered objective's fused Q_λ (row blocks) equals the plain composition
    lambda_prior_mean -> deviation -> GP quadratic form, value and gradients."""
    import latentlab.signatures._centered as centered
    import latentlab.signatures.objective as objective
    from latentlab.signatures import GaussianProcessPrior
    from latentlab.signatures.objective import ModelPriors, signature_parameters

    monkeypatch.setattr(centered, "PRIOR_ROWS", 20)  # several blocks
    g = np.random.default_rng(0)
    N, K, T, P, D = 30, 3, 9, 4, 5
    priors = ModelPriors(
        mu=torch.tensor(g.normal(size=(D, T))),
        reference=torch.tensor(g.normal(size=(K, T))),
        G=torch.tensor(g.normal(size=(N, P))),
        lambda_prior=GaussianProcessPrior(T, T / 4),
        phi_prior=GaussianProcessPrior(T, T / 3),
    )
    lam = g.normal(size=(N, K + 1, T))
    gamma = g.normal(size=(P, K))
    params = {
        "lam": torch.tensor(lam, requires_grad=True),
        "gamma": torch.tensor(gamma, requires_grad=True),
        "phi": torch.zeros(K + 1, D, T, dtype=torch.float64),
        "psi": torch.zeros(K + 1, D, dtype=torch.float64),
    }
    fixed = objective._centered_lambda_inputs(params, priors)
    grad_lam = torch.empty_like(params["lam"])
    q1, grad_gamma = centered.prior_pass(
        params["lam"].detach(), params["gamma"].detach(), *fixed, grad_lam
    )
    g1 = (grad_lam, grad_gamma)
    _, _, deviation, _ = signature_parameters(params, priors)
    q = priors.lambda_prior.quadratic_form_torch(deviation)
    q.backward()
    q1, q2, g2 = float(q1), float(q.detach()), (params["lam"].grad, params["gamma"].grad)
    assert q1 == pytest.approx(q2, rel=1e-12)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-9)


def _centered_problem(N=40, K=3, T=11, P=4, D=6, rng=0):
    g = np.random.default_rng(rng)
    priors = ModelPriors(
        mu=torch.tensor(g.normal(-3.0, 1.0, size=(D, T))),
        reference=torch.tensor(g.normal(size=(K, T))),
        G=torch.tensor(g.normal(size=(N, P))),
        lambda_prior=GaussianProcessPrior(T, T / 4),
        phi_prior=GaussianProcessPrior(T, T / 3),
        prior_weight=0.3,  # large, so the prior terms weigh in the gradients
    )
    E = torch.tensor(g.integers(0, T, size=(N, D)))
    E[: N // 4] = torch.minimum(E[: N // 4], torch.tensor(3))  # early exits
    event = torch.tensor(g.uniform(size=(N, D)) < 0.4)
    values = dict(
        lam=g.normal(size=(N, K + 1, T)),
        phi=g.normal(-2.0, 1.0, size=(K + 1, D, T)),
        psi=g.normal(size=(K + 1, D)),
        gamma=g.normal(size=(P, K)),
        kappa=np.array(0.8),
    )
    return priors, E, event, values


@pytest.mark.parametrize("layout", ["ages", "chunks"])
def test_fused_centered_objective_matches_the_composition(layout, monkeypatch):
    """map_objective's fused centered path (one pass for NLL/N + (W/N) Q_λ, one
    gradient array for λ) equals NLL/N + W (Q_λ/N + Q_φ/D) composed from
    signature_nll and the GP quadratic forms: value, parts and all gradients, with
    the CPU's age-major kernel and with the chunk kernel (the GPU's)."""
    from latentlab.signatures import _kernel, signature_nll
    from latentlab.signatures.objective import signature_parameters

    monkeypatch.setattr(_kernel, "CPU_LAYOUT", layout)
    priors, E, event, values = _centered_problem()
    N, D = E.shape
    results = []
    for fused in (True, False):
        params = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
        if fused:
            terms = map_objective(params, E, event, priors, chunk_size=7)
            loss, parts = terms.loss, (terms.nll, terms.q_lambda, terms.q_phi)
        else:
            lam, phi, dev_lam, dev_phi = signature_parameters(params, priors)
            nll = signature_nll(lam, phi, params["kappa"], E, event)
            q_lam = priors.lambda_prior.quadratic_form_torch(dev_lam)
            q_phi = priors.phi_prior.quadratic_form_torch(dev_phi)
            loss = nll / N + priors.prior_weight * (q_lam / N + q_phi / D)
            parts = tuple(float(x.detach()) for x in (nll, q_lam, q_phi))
        (2.5 * loss).backward()  # a scale other than 1 reaches the backward passes
        grads = {k: p.grad for k, p in params.items()}
        results.append((float(loss.detach()), parts, grads))
    (l1, p1, g1), (l2, p2, g2) = results
    assert l1 == pytest.approx(l2, rel=1e-12)
    assert p1 == pytest.approx(p2, rel=1e-12)
    for name in values:
        torch.testing.assert_close(g1[name], g2[name], rtol=1e-10, atol=1e-12)


def test_recycled_gradient_array_never_changes_a_gradient_still_held():
    """The fused objective reuses λ's gradient array between epochs only once
    nothing refers to it: a gradient kept by the caller stays as it was, and
    every epoch's gradient equals a fresh computation."""
    priors, E, event, values = _centered_problem(rng=1)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    lam = params["lam"]

    def gradient():
        lam.grad = None
        map_objective(params, E, event, priors).loss.backward()
        return lam.grad

    first = gradient()
    kept = first.clone()
    with torch.no_grad():
        lam.add_(0.1)
    second = gradient()  # `first` is still held here: a new array
    assert second.data_ptr() != first.data_ptr()
    torch.testing.assert_close(first, kept, rtol=0, atol=0)
    address, expected = second.data_ptr(), second.clone()
    del second
    third = gradient()  # nothing holds the second array any more: reused
    assert third.data_ptr() == address
    torch.testing.assert_close(third, expected, rtol=0, atol=0)
    fresh = {
        k: torch.tensor(v.detach().numpy(), requires_grad=True)
        for k, v in params.items()
    }
    map_objective(fresh, E, event, priors).loss.backward()
    torch.testing.assert_close(third, fresh["lam"].grad, rtol=1e-12, atol=1e-14)


def test_fused_objective_refuses_a_second_backward():
    priors, E, event, values = _centered_problem(rng=2)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    loss = map_objective(params, E, event, priors).loss
    loss.backward(retain_graph=True)
    with pytest.raises(TypeError):
        loss.backward()
