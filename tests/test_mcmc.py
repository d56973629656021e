"""Tests for latentlab.mcmc: emcee targets and wrapper, latent samplers, diagnostics, the AIP loop."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import log_softmax

from latentlab.mcmc import (
    ConditionalTarget, MarginalTarget, aip_sample, alr_from_simplex, autocorr_time, gibbs_latent,
    linear_schedule, log_beta_prior, mh_swap_sampler, run_emcee, simplex_from_alr, split_rhat,
)
from latentlab.mixture import BernoulliComponent, simulate_mixture

THETA = np.array([[0.85, 0.8, 0.15], [0.15, 0.2, 0.85]])
WEIGHTS = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])


def _problem(n=40, seed=0):
    comp = BernoulliComponent(3)
    X, z, _ = simulate_mixture(comp, THETA, WEIGHTS, [n] * 3, rng=seed)
    return comp, X, np.repeat([0, 1, 2], n), z


# ----- latent samplers ---------------------------------------------------------------
def test_gibbs_frequencies_match_conditional_for_three_components():
    log_joint = np.tile(np.log([[0.2, 0.5, 0.3]]), (30000, 1))
    z = gibbs_latent(log_joint, rng=1)
    counts = np.bincount(z, minlength=3)
    assert stats.chisquare(counts, 30000 * np.array([0.2, 0.5, 0.3])).pvalue > 1e-3


def test_tempered_gibbs_targets_power_of_posterior():
    log_joint = np.tile(np.log([[0.2, 0.8]]), (40000, 1))
    z = gibbs_latent(log_joint, rng=2, temperature=0.5)
    expected = np.exp(log_softmax(np.log([0.2, 0.8]) / 0.5))
    assert abs(np.mean(z == 1) - expected[1]) < 4 * np.sqrt(expected[1] * expected[0] / 40000)


def _mh_chain(log_joint_row, temperature, n_steps, seed):
    rng = np.random.default_rng(seed)
    z = np.array([0])
    visits = 0
    for _ in range(n_steps):
        z, _ = mh_swap_sampler(z, log_joint_row[None], rng, temperature=temperature)
        visits += int(z[0])
    return visits


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_mh_swap_stationary_law_is_tempered_posterior(temperature):
    row = np.log([0.3, 0.7])
    target = np.exp(log_softmax(row / temperature))[1]
    n = 20000
    visits = _mh_chain(row, temperature, n, seed=3)
    # Markov chain: variance inflated by the autocorrelation; a binomial test at 5 sd is conservative
    assert abs(visits / n - target) < 5 * np.sqrt(target * (1 - target) / n) * 2


def test_mh_swap_detailed_balance_exact():
    row = np.log([0.3, 0.7])
    for T in (1.0, 0.5, 0.2):
        pi = np.exp(log_softmax(row / T))
        p01 = min(1.0, np.exp((row[1] - row[0]) / T))
        p10 = min(1.0, np.exp((row[0] - row[1]) / T))
        assert pi[0] * p01 == pytest.approx(pi[1] * p10, rel=1e-12)
        # and the sampler implements exactly these acceptance probabilities (pre-drawn uniforms)
        just_below = np.array([p10 * 0.999])
        just_above = np.array([min(p10 * 1.001, 0.999999)])
        assert mh_swap_sampler(np.array([1]), row[None], temperature=T, uniforms=just_below)[1] == 1
        assert mh_swap_sampler(np.array([1]), row[None], temperature=T, uniforms=just_above)[1] == 0


def test_mh_swap_needs_two_components():
    with pytest.raises(ValueError, match="exactly 2 components"):
        mh_swap_sampler(np.zeros(2, int), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        gibbs_latent(np.zeros((2, 2)), temperature=0.0)


# ----- targets and emcee --------------------------------------------------------------
def test_simplex_alr_round_trip():
    w = np.random.default_rng(4).dirichlet(np.ones(3), size=5).T
    np.testing.assert_allclose(simplex_from_alr(alr_from_simplex(w)), w, rtol=1e-12)


def test_targets_are_minus_infinity_outside_bounds():
    comp, X, sub, z = _problem()
    data = comp.prepare(X)
    marginal = MarginalTarget(comp, data, WEIGHTS, sub)
    assert marginal(np.full(6, 1.2)) == -np.inf
    assert np.isfinite(marginal(THETA.ravel()))
    conditional = ConditionalTarget(comp, data, sub, 2, z)
    assert conditional(np.concatenate([np.full(6, -0.1), np.zeros(3)])) == -np.inf
    assert float(log_beta_prior(np.array([0.5]), 2, 2)) == pytest.approx(np.log(1.5))
    with pytest.raises(ValueError, match="weights must sum to 1"):
        MarginalTarget(comp, data, np.array([[0.5, 0.5, 0.5], [0.6, 0.5, 0.5]]), sub)


def test_conditional_target_matches_hand_computation():
    comp, X, sub, z = _problem(n=10)
    data = comp.prepare(X)
    target = ConditionalTarget(comp, data, sub, 2, z, alpha=2.0)
    u = np.array([[0.3, -0.2, 1.0]])
    flat = np.concatenate([THETA.ravel(), u.ravel()])
    pi = simplex_from_alr(u)
    ll = comp.log_likelihoods(THETA, data)
    by_hand = sum(ll[i, z[i]] + np.log(pi[z[i], sub[i]]) for i in range(len(z)))
    by_hand += sum(stats.dirichlet.logpdf(pi[:, s], [2.0, 2.0]) + np.log(pi[:, s]).sum() for s in range(3))
    assert target(flat) == pytest.approx(by_hand, rel=1e-10)


def test_emcee_matches_beta_posterior_for_bernoulli_component():
    comp = BernoulliComponent(1)
    X = np.array([[1.0]] * 15 + [[0.0]] * 35)
    target = MarginalTarget(comp, comp.prepare(X), np.ones((1, 1)), np.zeros(50, int), prior=(2.0, 2.0))
    res = run_emcee(target, np.array([0.3]), 1500, n_walkers=32, bounds=np.array([[0.0, 1.0]]), burn=200, rng=5)
    samples = res.samples()[:, 0]
    posterior = stats.beta(2 + 15, 2 + 35)
    assert 0.1 < res.acceptance_fraction.mean() < 0.9
    assert abs(samples.mean() - posterior.mean()) < 0.01  # MC error ≈ sd/√ESS ≈ 0.002
    assert abs(samples.std() / posterior.std() - 1) < 0.08
    assert np.all((res.chain >= 0) & (res.chain <= 1))  # no walker escapes the box
    assert stats.kstest(samples[::20], posterior.cdf).pvalue > 1e-3


def test_emcee_same_seed_same_chain_and_continuation():
    target = lambda w: -0.5 * np.sum(w**2, axis=1)
    a = run_emcee(target, np.zeros(2), 50, rng=7)
    b = run_emcee(target, np.zeros(2), 50, rng=7)
    np.testing.assert_array_equal(a.chain, b.chain)
    more = run_emcee(target, np.zeros(2), 30, sampler=a.sampler, rng=8)
    assert more.chain.shape[0] == 80


def test_emcee_hdf5_backend(tmp_path):
    pytest.importorskip("h5py")
    target = lambda w: -0.5 * np.sum(w**2, axis=1)
    res = run_emcee(target, np.zeros(2), 20, backend_file=str(tmp_path / "chain.h5"), rng=1)
    assert (tmp_path / "chain.h5").exists() and res.chain.shape == (20, 10, 2)


def test_effective_sample_size_of_independent_draws():
    from latentlab.mcmc import effective_sample_size

    draws = np.random.default_rng(3).normal(size=(2000, 4, 1))
    ess = effective_sample_size(draws)[0]
    assert 0.7 * 8000 < ess < 1.3 * 8000


def test_autocorr_time_of_ar1_chain():
    rng = np.random.default_rng(9)
    rho, n = 0.9, 200000
    x = np.empty(n)
    x[0] = 0.0
    noise = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + noise[t]
    tau = autocorr_time(x[:, None, None])[0]
    assert abs(tau / ((1 + rho) / (1 - rho)) - 1) < 0.2


def test_split_rhat_flags_disagreeing_walkers():
    rng = np.random.default_rng(10)
    good = rng.normal(size=(500, 4, 1))
    bad = good + np.array([0.0, 0.0, 3.0, 3.0])[None, :, None]
    assert split_rhat(good)[0] < 1.02
    assert split_rhat(bad)[0] > 1.5


# ----- AIP ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["exact", "anneal", "faithful"])
def test_aip_runs_end_to_end(mode):
    """Regression for the reference, whose AIP loop crashed before finishing one run."""
    comp, X, sub, _ = _problem()
    res = aip_sample(comp, X, sub, 2, n_rounds=12, mode=mode, n_param_steps=2, rng=11)
    assert res.params_samples.shape == (13, 2, 3)
    assert res.weight_samples.shape == (13, 2, 3)
    assert res.latent_samples.shape == (13, 120)
    assert len(res.complete_logliks) == len(res.incomplete_logliks) == 12
    assert len(res.number_of_swaps) == 11
    assert all(isinstance(s, int) and s >= 0 for s in res.number_of_swaps)
    assert all(c <= i + 1e-9 for c, i in zip(res.complete_logliks, res.incomplete_logliks))
    np.testing.assert_allclose(res.weight_samples.sum(axis=1), 1.0)


def test_aip_identical_seeds_identical_traces():
    comp, X, sub, _ = _problem()
    a = aip_sample(comp, X, sub, 2, n_rounds=10, rng=12)
    b = aip_sample(comp, X, sub, 2, n_rounds=10, rng=12)
    assert a.complete_logliks == b.complete_logliks
    np.testing.assert_array_equal(a.latent_samples, b.latent_samples)


def test_aip_exact_matches_emcee_fixed_mixture_posterior():
    comp, X, sub, _ = _problem(n=60, seed=13)
    res = aip_sample(comp, X, sub, 2, n_rounds=1500, n_param_steps=3, init_thetas=THETA, init_weights=WEIGHTS,
                     update_weights=False, proposal_scale=0.4, rng=14)
    aip_draws = res.params_samples[300:].reshape(len(res.params_samples[300:]), -1)
    target = MarginalTarget(comp, comp.prepare(X), WEIGHTS, sub)
    chain = run_emcee(target, THETA.ravel(), 1500, n_walkers=24, bounds=np.tile([0.0, 1.0], (6, 1)), burn=300, rng=15)
    emcee_draws = chain.samples()
    sd = emcee_draws.std(axis=0)
    # Monte Carlo error of the AIP mean with an autocorrelated chain: allow 0.25 posterior sd
    assert np.all(np.abs(aip_draws.mean(axis=0) - emcee_draws.mean(axis=0)) < 0.25 * sd + 0.005)
    assert np.all(np.abs(aip_draws.std(axis=0) / sd - 1) < 0.3)


def test_anneal_mode_ends_near_em_optimum():
    from latentlab.mixture import fit_em
    comp, X, sub, _ = _problem(n=60, seed=16)
    fit = fit_em(comp, X, sub, 2, rng=0)
    res = aip_sample(comp, X, sub, 2, n_rounds=150, mode="anneal", rng=17)
    assert max(res.incomplete_logliks[-20:]) >= fit.loglik - 5.0
    assert res.temperatures[0] == pytest.approx(1.05) and res.temperatures[-1] < 0.06


def test_linear_schedule_and_bad_inputs():
    np.testing.assert_allclose(linear_schedule(2), [1.05, 0.55])
    comp, X, sub, _ = _problem(n=5)
    with pytest.raises(ValueError, match="mode must be"):
        aip_sample(comp, X, sub, 2, mode="gibbs")
    with pytest.raises(ValueError, match="needs n_components=2"):
        aip_sample(comp, X, sub, 3, mode="faithful")
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        aip_sample(comp, X, sub, 0)
    with pytest.raises(ValueError, match="temperatures must have shape"):
        aip_sample(comp, X, sub, 2, n_rounds=5, temperatures=[1.0, 1.0])
    with pytest.raises(ValueError, match="init_thetas must lie in"):
        aip_sample(comp, X, sub, 2, init_thetas=np.full((2, 3), 1.5))
    with pytest.raises(ValueError, match="init_weights must sum to 1"):
        aip_sample(comp, X, sub, 2, init_weights=np.full((2, 3), 0.7))
    with pytest.raises(ValueError, match="unknown labels|have no patients"):
        from latentlab.mixture import encode_subgroups
        encode_subgroups(sub, labels=[0, 1])


def test_emcee_hmm_posterior_mean_within_three_sd_of_truth():
    from latentlab.lymph import LymphHMMComponent

    hmm = LymphHMMComponent(lnls=("II", "III"), modalities={"path": (1.0, 1.0)}, late_p=0.5)
    truth = np.array([0.4, 0.15, 0.3])
    stage = np.random.default_rng(18).integers(0, 2, 800)
    X = hmm.simulate(truth, stage, rng=19)
    target = MarginalTarget(hmm, hmm.prepare(X, stage), np.ones((1, 1)), np.zeros(800, int))
    res = run_emcee(target, np.full(3, 0.3), 1500, n_walkers=16, bounds=np.tile([0.0, 1.0], (3, 1)),
                    ball=0.05, burn=300, rng=20)
    samples = res.samples()
    assert np.all(np.abs(samples.mean(axis=0) - truth) < 3 * samples.std(axis=0))
    assert np.all(split_rhat(res.chain, burn=300) < 1.1)


# ----- diagnostics from independent chains -------------------------------------------
def _ar1(gen, n_chains, n_draws, phi):
    x = np.zeros((n_chains, n_draws))
    for t in range(1, n_draws):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * gen.normal(size=n_chains)
    return x


def test_ess_matches_the_ar1_formula():
    from latentlab.mcmc import ess

    gen = np.random.default_rng(0)
    phi = 0.8
    draws = _ar1(gen, 4, 5000, phi)
    expected = 4 * 5000 * (1 - phi) / (1 + phi)  # n / τ, τ = (1 + φ) / (1 − φ)
    assert abs(ess(draws) / expected - 1) < 0.15


def test_rhat_detects_a_stuck_chain_and_a_trend():
    from latentlab.mcmc import rhat

    gen = np.random.default_rng(1)
    mixed = gen.normal(size=(4, 1000, 2))
    assert np.all(rhat(mixed) < 1.01) and rhat(mixed).shape == (2,)
    stuck = mixed.copy()
    stuck[0] = 2.0 + 0.1 * stuck[0]
    assert np.all(rhat(stuck) > 1.1)
    trend = mixed + np.linspace(0, 2, 1000)[None, :, None]  # split halves disagree
    assert np.all(rhat(trend) > 1.1)
    with pytest.raises(ValueError, match="at least 4 draws"):
        rhat(np.zeros((4, 2)))


def test_ensemble_diagnostics_compare_independent_ensembles():
    from latentlab.mcmc import ensemble_diagnostics, run_emcee

    target = lambda w: -0.5 * np.sum(w**2, axis=1)  # noqa: E731
    runs = [run_emcee(target, np.zeros(2), 600, rng=seed).chain for seed in range(4)]
    r, n_eff = ensemble_diagnostics(runs, burn=100)
    assert np.all(r < 1.02) and np.all(n_eff > 400)
    # one ensemble stuck elsewhere is caught, although its own walkers agree
    shifted = runs[:3] + [runs[3] + 3.0]
    assert np.all(ensemble_diagnostics(shifted, burn=100)[0] > 1.1)
    with pytest.raises(ValueError, match="at least 2"):
        ensemble_diagnostics(runs[:1])
