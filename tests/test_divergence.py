"""Every iterative fitter raises latentlab.DivergenceError when it diverges (issue 17).

One test per fitter at a diverging learning rate (or a forced non-finite
objective where the fitter has no learning rate), each checking that the
error names the learning rate and the epoch, and that the last good state is
retrievable from the exception.
"""

import warnings

import numpy as np
import pytest
import torch

import latentlab
from latentlab import DivergenceError
from latentlab._divergence import DivergenceGuard
from latentlab.datasets.signatures_sim import simulate_signatures


def test_guard_rules_and_last_good():
    guard = DivergenceGuard("demo", learning_rate=0.5)
    guard.check(0, 10.0)
    guard.keep(0, "state0")
    guard.check(1, 900.0)  # 90 x, a spike but not orders of magnitude over the best
    guard.keep(1, "state1")
    with pytest.raises(
        DivergenceError, match=r"demo diverged at epoch 2 \(learning rate 0.5\)"
    ) as info:
        guard.check(2, 2e5)
    assert info.value.reason == "growth" and info.value.last_good == "state1"
    assert info.value.last_good_epoch == 1 and info.value.history == (10.0, 900.0)
    with pytest.raises(DivergenceError, match="non-finite|nan") as info:
        DivergenceGuard("demo").check(0, float("nan"))
    assert info.value.last_good is None and "no learning rate" in str(info.value)
    with pytest.raises(DivergenceError, match="kappa left its domain"):
        DivergenceGuard("demo").check(0, 1.0, domain={"kappa": "κ = -1, expected > 0"})


def test_maximised_objective_diverges_when_it_falls():
    guard = DivergenceGuard("em", maximise=True, unit="iteration")
    guard.check(0, -100.0)
    guard.check(1, -50.0)
    guard.check(2, -5000.0)  # 100x the best scale: allowed
    with pytest.raises(DivergenceError, match="iteration 3"):
        guard.check(3, -1e6)


def test_exported_from_package_root():
    assert "DivergenceError" in latentlab.__all__
    assert issubclass(latentlab.DivergenceError, FloatingPointError)


@pytest.fixture(scope="module")
def small_sim():
    return simulate_signatures(
        n_individuals=60, n_diseases=6, n_times=12, n_signatures=2, rng=0
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_signatures_diverges_at_large_learning_rate(small_sim):
    from latentlab.signatures import FitResult, fit_signatures

    with pytest.raises(
        DivergenceError, match=r"learning rate 1000\).*epoch|epoch.*learning rate 1000"
    ) as info:
        fit_signatures(
            small_sim.data, 2, n_epochs=50, rng=0, verbose=False, learning_rate=1e3
        )
    error = info.value
    assert error.learning_rate == 1e3 and error.epoch >= 1
    good = error.last_good
    assert isinstance(good, FitResult) and not good.converged
    assert good.n_iter == error.last_good_epoch + 1 == len(good.history)
    assert np.isfinite(good.lam).all() and good.kappa > 0
    assert max(good.history) < 1e3 * max(abs(min(good.history)), 1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_signatures_kappa_leaving_its_domain_raises(small_sim, monkeypatch):
    from latentlab.signatures import fit as fit_module

    real = fit_module.map_objective

    def pushing_kappa_negative(params, *args, **kwargs):
        out = real(params, *args, **kwargs)
        return out._replace(
            loss=out.loss + 1e3 * params["kappa"]
        )  # gradient drives κ down

    monkeypatch.setattr(fit_module, "map_objective", pushing_kappa_negative)
    with pytest.raises(DivergenceError, match="kappa left its domain") as info:
        fit_module.fit_signatures(
            small_sim.data,
            2,
            n_epochs=200,
            rng=0,
            verbose=False,
            learning_rate=0.5,
            tol=None,
        )
    assert info.value.reason == "domain" and info.value.last_good.kappa > 0


def test_converged_still_means_tolerance(small_sim):
    from latentlab.signatures import fit_signatures

    fit = fit_signatures(small_sim.data, 2, n_epochs=3, rng=0, verbose=False, tol=None)
    assert not fit.converged and fit.n_iter == 3
    fit = fit_signatures(small_sim.data, 2, n_epochs=300, rng=0, verbose=False, tol=1e9)
    assert fit.converged and fit.n_iter == 2


def _checkpoint():
    from latentlab.hotstart import Checkpoint

    phi = np.stack([np.full((3, 6), -1.0), np.full((3, 6), -6.0)])
    return Checkpoint(
        phi=phi,
        psi=np.zeros((2, 3)),
        gamma=np.zeros((1, 1)),
        kappa=1.0,
        prevalence_logit=np.zeros((3, 6)),
        reference_logit=np.zeros((1, 6)),
        covariate_mean=np.zeros(1),
        covariate_scale=np.ones(1),
        signature_labels=("s0", "healthy"),
    )


def _lambda_data():
    from latentlab.signatures import SurvivalData

    rng = np.random.default_rng(0)
    return SurvivalData(
        E=rng.integers(1, 6, size=(8, 3)),
        event=rng.random((8, 3)) < 0.5,
        G=rng.normal(size=(8, 1)),
        n_times=6,
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_lambda_diverges_at_large_learning_rate():
    from latentlab.hotstart import LambdaFit, fit_lambda

    with pytest.raises(DivergenceError, match=r"learning rate 1e\+06") as info:
        fit_lambda(
            _checkpoint(),
            _lambda_data(),
            n_epochs=50,
            learning_rate=1e6,
            prior_weight=1.0,
            rng=0,
        )
    good = info.value.last_good
    assert isinstance(good, LambdaFit) and not good.converged
    assert good.lam.shape == (8, 2, 6) and np.isfinite(good.lam).all()
    assert good.n_iter == info.value.last_good_epoch + 1
    assert "epoch" in str(info.value)


def test_fit_lambda_at_a_sane_rate_does_not_raise():
    from latentlab.hotstart import fit_lambda

    fit = fit_lambda(
        _checkpoint(), _lambda_data(), n_epochs=20, learning_rate=0.1, rng=0
    )
    assert fit.n_iter == 20 and fit.history[-1] < fit.history[0]


@pytest.mark.parametrize(
    "loss, activation, optimizer", [("bce", "tanh", "sgd"), ("mse", "identity", "adam")]
)
def test_train_diverges_at_large_learning_rate(loss, activation, optimizer):
    from latentlab.nn import MLP
    from latentlab.optim import train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = (X[:, 0] > 0).astype(float)
    net = MLP([3, 8, 1], activation=activation, rng=0)
    with (
        pytest.raises(
            DivergenceError, match=r"train diverged at epoch \d+.*learning rate 1e\+06"
        ) as info,
        np.errstate(all="ignore"),
    ):
        train(net, loss, X, y, optimizer=optimizer, lr=1e6, epochs=200, verbose=False)
    good = info.value.last_good
    assert good is not None and all(np.isfinite(p).all() for p in good)
    net.set_state(
        good
    )  # the last good weights reproduce the last good epoch's loss scale
    assert info.value.history[-1] < info.value.value


def test_train_at_a_sane_rate_does_not_raise():
    from latentlab.nn import MLP
    from latentlab.optim import train

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    result = train(
        MLP([2, 4, 1], activation="tanh", rng=0),
        "bce",
        X,
        [0, 1, 1, 0],
        lr=0.05,
        epochs=50,
        verbose=False,
    )
    assert result.n_iter == 50 and not result.converged


@pytest.mark.parametrize("stochastic", [False, True])
def test_mofa_raises_on_non_finite_elbo_with_last_good_state(stochastic, monkeypatch):
    from latentlab.mofa import MOFA, simulate_mofa
    from latentlab.mofa import model as model_module

    sim = simulate_mofa(n_samples=40, view_sizes=(12, 8), rng=0)
    real, calls = model_module.elbo_terms, []

    def failing_at_third(data, state, options):
        terms = real(data, state, options)
        calls.append(1)
        return {**terms, "Y": float("nan")} if len(calls) == 3 else terms

    monkeypatch.setattr(model_module, "elbo_terms", failing_at_third)
    estimator = MOFA(
        n_factors=3,
        verbose=False,
        max_iter=20,
        stochastic=stochastic,
        learning_rate=0.5,
    )
    with pytest.raises(DivergenceError, match="diverged at iteration 3") as info:
        estimator.fit(sim.views, rng=0)
    error = info.value
    assert error.last_good_epoch == 2 and error.learning_rate == (
        0.5 if stochastic else None
    )
    good = error.last_good
    assert good["factors"].shape == (40, 3) and np.isfinite(good["elbo"])
    assert set(good["weights"]) == {"view_0", "view_1"} or len(good["weights"]) == 2
    assert good["elbo"] == error.history[-1]


def test_mofa_svi_learning_rate_above_one_is_refused():
    from latentlab.mofa import MOFA, simulate_mofa

    sim = simulate_mofa(n_samples=40, view_sizes=(12, 8), rng=0)
    with pytest.raises(
        ValueError, match=r"learning_rate must lie in \(0, 1\].*got 1.5"
    ):
        MOFA(n_factors=3, verbose=False, stochastic=True, learning_rate=1.5).fit(
            sim.views, rng=0
        )


def _mixture_problem():
    from latentlab.mixture import BernoulliComponent, simulate_mixture

    comp = BernoulliComponent(n_features=3)
    X, _, _ = simulate_mixture(
        comp,
        [[0.9, 0.9, 0.1], [0.1, 0.1, 0.9]],
        [[0.7, 0.2], [0.3, 0.8]],
        [40, 40],
        rng=0,
    )
    return comp, X, [0] * 40 + [1] * 40


def _nan_on_call(real, n):
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(1)
        value = real(*args, **kwargs)
        return value * np.nan if len(calls) == n else value

    return wrapped


def test_fit_em_raises_on_non_finite_loglik_with_last_good_state(monkeypatch):
    from latentlab import mixture
    from latentlab.mixture import fit as mixture_fit  # where fit_em looks it up

    comp, X, groups = _mixture_problem()
    monkeypatch.setattr(
        mixture_fit, "incomplete_loglik", _nan_on_call(mixture.incomplete_loglik, 4)
    )
    with pytest.raises(
        DivergenceError, match=r"fit_em \(restart 0\) diverged at iteration 3"
    ) as info:
        mixture.fit_em(
            comp, X, groups, 2, n_restarts=1, tol=0, rtol=0, max_iter=50, rng=1
        )
    good = info.value.last_good
    assert info.value.last_good_epoch == 2 and info.value.learning_rate is None
    assert good["thetas"].shape == (2, 3) and np.allclose(
        good["weights"].sum(axis=0), 1
    )
    assert (
        len(info.value.history) == 2 and np.isfinite(info.value.history).all()
    )  # iterations 1, 2


def test_aip_sample_raises_on_non_finite_loglik_with_last_good_state(monkeypatch):
    from latentlab.mcmc import aip

    comp, X, groups = _mixture_problem()
    monkeypatch.setattr(aip, "logsumexp", _nan_on_call(aip.logsumexp, 5))
    with pytest.raises(
        DivergenceError, match=r"aip_sample \(exact\) diverged at round 5"
    ) as info:
        aip.aip_sample(comp, X, groups, 2, n_rounds=20, rng=1)
    good = info.value.last_good
    assert info.value.last_good_epoch == 4
    assert good["thetas"].shape == (2, 3) and good["latent"].shape == (80,)
    assert len(info.value.history) == 4
