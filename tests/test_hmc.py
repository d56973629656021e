"""HMC (latentlab.mcmc.hmc, posterior_hmc) and the chapter-3 helpers moved out of the page."""

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from latentlab._lse import logsumexp as lean_logsumexp
from latentlab.datasets.lydata import reading_probability
from latentlab.lymph import (
    LymphHMMComponent, predicted_involvement, predicted_involvement_draws,
)
from latentlab.mcmc import (
    describe_interval, hmc, mixture_hmc, relabel_samples, rhat, summarize,
)
from latentlab.mcmc.posterior_hmc import _Posterior
from latentlab.mixture import encode_subgroups, simulate_mixture
from latentlab.model_checks import one_se_choice


def _gauss(cov):
    prec = np.linalg.inv(cov)
    return lambda y: (-0.5 * np.einsum("ci,ij,cj->c", y, prec, y), -y @ prec)


def test_hmc_samples_a_correlated_gaussian():
    cov = np.array([[4.0, 1.9, 0.0], [1.9, 1.0, 0.0], [0.0, 0.0, 0.01]])
    res = hmc(_gauss(cov), np.ones((4, 3)), 1500, n_warmup=400, rng=0)
    flat = res.draws.reshape(-1, 3)
    assert np.all(rhat(res.draws) < 1.01)
    assert np.allclose(flat.mean(axis=0), 0, atol=0.15 * np.sqrt(np.diag(cov)))
    assert np.allclose(np.diag(np.cov(flat.T)), np.diag(cov), rtol=0.15)
    corr = np.corrcoef(flat.T)
    assert abs(corr[0, 1] - 0.95) < 0.02 and np.abs(corr[2, :2]).max() < 0.08
    # the tuned metric learned the scales (within a factor of 2)
    ratio = np.diag(res.metric) / np.diag(cov)
    assert np.all((ratio > 0.5) & (ratio < 2)), ratio
    assert res.n_divergent.sum() == 0 and 0.5 < res.accept_prob.mean() < 1


def test_hmc_same_seed_same_draws_and_chains_differ():
    a = hmc(_gauss(np.eye(2)), np.zeros((3, 2)), 50, n_warmup=50, rng=4)
    b = hmc(_gauss(np.eye(2)), np.zeros((3, 2)), 50, n_warmup=50, rng=4)
    assert np.array_equal(a.draws, b.draws)
    assert not np.allclose(a.draws[0], a.draws[1])


def test_hmc_rejects_moves_into_minus_infinity():
    def half_normal(y):  # support y > 0
        inside = np.all(y > 0, axis=1)
        return np.where(inside, -0.5 * (y**2).sum(1), -np.inf), -y

    res = hmc(half_normal, np.full((4, 1), 0.5), 800, n_warmup=300, rng=1)
    assert np.all(res.draws > 0)
    assert abs(res.draws.mean() - np.sqrt(2 / np.pi)) < 0.08


def _problem(fixed_late=None):
    hmm = LymphHMMComponent(lnls=("I", "II", "III"), late_p=fixed_late)
    theta = np.array([[0.3, 0.4, 0.05, 0.3, 0.2, 0.6], [0.05, 0.1, 0.02, 0.5, 0.1, 0.5]])
    theta = theta[:, : hmm.n_params]
    w = np.array([[0.8, 0.3, 0.5], [0.2, 0.7, 0.5]])
    X, _, stage = simulate_mixture(hmm, theta, w, [30, 30, 20], stage_probability=0.4,
                                   rng=2)
    X[np.random.default_rng(3).random(X.shape) < 0.2] = np.nan
    groups = np.repeat([0, 1, 2], [30, 30, 20])
    return hmm, X, stage, groups


@pytest.mark.parametrize("fixed_late", [None, 0.6])
def test_posterior_value_and_gradient(fixed_late):
    hmm, X, stage, groups = _problem(fixed_late)
    data = hmm.prepare(X, stage)
    index, labels = encode_subgroups(groups)
    K, S, P = 2, len(labels), hmm.n_params
    post = _Posterior(hmm, data, index, K, S, 1.5, (2.0, 3.0))
    gen = np.random.default_rng(5)
    y = gen.normal(scale=1.5, size=(3, K * P + (K - 1) * S))
    value, grad = post(y)
    # value: the incomplete likelihood from log_likelihoods, plus priors and Jacobians
    eta = y[:, : K * P].reshape(3, K, P)
    theta = expit(eta)
    ll = hmm.log_likelihoods(theta.reshape(-1, P), data).reshape(-1, 3, K)
    padded = np.concatenate([y[:, K * P:].reshape(3, K - 1, S), np.zeros((3, 1, S))], 1)
    log_w = padded - logsumexp(padded, axis=1, keepdims=True)
    expected = (logsumexp(ll + log_w[:, :, index].transpose(2, 0, 1), axis=2).sum(0)
                + 1.5 * log_w.sum((1, 2))
                + (2.0 * np.log(theta) + 3.0 * np.log1p(-theta)).sum((1, 2)))
    assert np.allclose(value, expected, rtol=1e-12, atol=1e-9)
    # gradient: central differences
    h = 1e-6
    numeric = np.empty_like(y)
    for j in range(y.shape[1]):
        step = np.zeros_like(y)
        step[:, j] = h
        numeric[:, j] = (post(y + step)[0] - post(y - step)[0]) / (2 * h)
    assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-5)


def test_mixture_hmc_samples_the_prior_when_nothing_is_observed():
    hmm = LymphHMMComponent(lnls=("II", "III"))
    X = np.full((12, 2), np.nan)          # no reports: the posterior is the prior
    res = mixture_hmc(hmm, X, [0] * 6 + [1] * 6, np.full((2, 4), 0.3),
                      [[0.5, 0.5], [0.5, 0.5]], n_chains=4, n_iter=800, n_warmup=300,
                      prior=(2.0, 5.0), rng=0)
    thetas = res.thetas.reshape(-1, 2, 4)
    assert abs(thetas.mean() - 2 / 7) < 0.02                     # Beta(2, 5) mean
    assert abs(thetas.var() - 10 / (49 * 8)) < 0.006             # and variance
    assert abs(res.weights.mean() - 0.5) < 0.03                  # Dirichlet(1, 1)
    assert abs(res.weights[..., 0, 0].reshape(-1).var() - 1 / 12) < 0.01
    assert np.all(rhat(res.thetas) < 1.02)


def test_mixture_hmc_agrees_with_the_truth_on_simulated_patients():
    hmm, X, stage, groups = _problem()
    truth = np.array([[0.3, 0.4, 0.05, 0.3, 0.2, 0.6], [0.05, 0.1, 0.02, 0.5, 0.1, 0.5]])
    w = np.array([[0.8, 0.3, 0.5], [0.2, 0.7, 0.5]])
    res = mixture_hmc(hmm, X, groups, truth, w, stage=stage, n_chains=4, n_iter=300,
                      n_warmup=200, rng=1)
    C, D = res.thetas.shape[:2]
    thetas, _ = relabel_samples(res.thetas.reshape(C * D, 2, -1),
                                res.weights.reshape(C * D, 2, -1), truth)
    s = summarize(thetas.reshape(C, D, 2, -1)[:, :, :, :3])      # tumour-spread edges
    assert np.all(s.rhat < 1.1)   # 80 patients: a wide posterior, not a stuck chain
    inside = (s.lo - 0.05 <= truth[:, :3]) & (truth[:, :3] <= s.hi + 0.05)
    assert inside.mean() >= 5 / 6, (s.lo, s.hi)


def test_mixture_hmc_chains_are_independent_and_seeded():
    hmm, X, stage, groups = _problem()
    init = np.full((2, hmm.n_params), 0.3)
    w = np.full((2, 3), 0.5)
    a = mixture_hmc(hmm, X, groups, init, w, stage=stage, n_chains=2, n_iter=5,
                    n_warmup=5, rng=3)
    b = mixture_hmc(hmm, X, groups, init, w, stage=stage, n_chains=2, n_iter=5,
                    n_warmup=5, rng=3)
    assert np.array_equal(a.thetas, b.thetas)
    assert not np.allclose(a.thetas[0], a.thetas[1])
    with pytest.raises(ValueError, match="subgroups must have one label per patient"):
        mixture_hmc(hmm, X, groups[:-1], init, w[:, :3], stage=stage, n_iter=2)


def test_predicted_involvement_draws_match_one_draw_at_a_time():
    hmm = LymphHMMComponent()
    gen = np.random.default_rng(0)
    thetas = gen.uniform(0.05, 0.9, (3, 2, hmm.n_params))
    weights = gen.dirichlet([1, 1], size=(3, 4)).transpose(0, 2, 1)
    index, stage = gen.integers(0, 4, 60), gen.integers(0, 2, 60)
    many = predicted_involvement_draws(hmm, thetas, weights, index, stage)
    one = [predicted_involvement(hmm, t, w, index, stage) for t, w in zip(thetas, weights)]
    assert many.shape == (3, 4, 5) and np.allclose(many, one, atol=1e-14)


def test_lean_logsumexp_two_term_path_matches_scipy():
    x = np.random.default_rng(1).normal(size=(40, 3, 2))
    x[0, 0] = -np.inf
    x[1, 1, 0] = -np.inf
    for axis in (2, -1, 0):
        y = x[:2] if axis == 0 else x
        assert np.allclose(lean_logsumexp(y, axis=axis), logsumexp(y, axis=axis))
        assert lean_logsumexp(y, axis=axis, keepdims=True).shape == \
            logsumexp(y, axis=axis, keepdims=True).shape
    assert lean_logsumexp(x, axis=2)[0, 0] == -np.inf


def test_one_se_choice_prefers_the_smaller_k_within_one_se():
    gen = np.random.default_rng(0)
    base = gen.normal(-1.5, 0.5, 200)
    # K = 2 better by 0.02 nats per patient (exactly), noise far larger: within one SE
    noise = gen.normal(0, 0.3, 200)
    close = one_se_choice({1: base, 2: base + 0.02 + noise - noise.mean()})
    assert close.best == 2 and close.chosen == 1
    assert close.deficit[2] == 0 and close.deficit[1] > 0
    # K = 2 better by 0.3 nats per patient: far outside one SE
    clear = one_se_choice({1: base, 2: base + 0.3 + gen.normal(0, 0.3, 200)})
    assert clear.best == clear.chosen == 2
    d = clear.deficit[1]
    assert np.isclose(d, 200 * 0.3, rtol=0.15) and clear.se[1] < d


def test_describe_interval_quotes_the_summary():
    draws = np.random.default_rng(2).normal(size=(4, 800, 2))
    s = summarize(draws)
    text = describe_interval(s, 1, digits=2)
    assert text.startswith("[") and "ESS" in text and "$\\hat R$" in text
    lo = float(text[1: text.index(",")])
    assert np.isclose(lo, s.lo[1], rtol=0.06)


def test_reading_probability_maps_truth_onto_the_consensus():
    rate_inv = np.array([[0.8, np.nan], [1.0, 0.9]])
    rate_healthy = np.array([[0.1, np.nan], [0.0, 0.2]])
    out = reading_probability([0.5, 0.0], rate_inv, rate_healthy)
    assert np.allclose(out, [(0.45 + 0.5) / 2, 0.2])           # NaN rates skipped
    per_patient = reading_probability([[1.0, 1.0], [0.0, 0.0]], rate_inv, rate_healthy)
    assert np.allclose(per_patient, [(0.8 + 0.0) / 2, 0.2])
    with pytest.raises(ValueError, match="p must hold probabilities"):
        reading_probability([1.5, 0.0], rate_inv, rate_healthy)
