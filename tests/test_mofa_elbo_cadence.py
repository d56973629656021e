"""MOFA(elbo_every=k): the ELBO, convergence rule and history every k iterations."""

import warnings

import numpy as np
import pytest

from latentlab.mofa import MOFA, simulate_mofa


def _fit(sim, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MOFA(4, likelihoods=sim.likelihoods, verbose=False, **options)
        return model.fit(sim.views, rng=0)


@pytest.fixture(scope="module")
def mixed():
    return simulate_mofa(n_samples=80, view_sizes=(20, 15, 15),
                         likelihoods=["gaussian", "bernoulli", "poisson"],
                         activity=np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0],
                                            [1, 1, 0, 0, 1]], bool),
                         missing_fraction=0.1, rng=3)


def test_every_iteration_is_the_default(mixed):
    plain, explicit = _fit(mixed, max_iter=30), _fit(mixed, max_iter=30, elbo_every=1)
    assert len(plain.history) == plain.n_iter == 30
    np.testing.assert_array_equal(plain.history, explicit.history)


def test_cadence_evaluates_the_same_trace_every_kth_iteration(mixed):
    every_one = _fit(mixed, max_iter=33)
    every_five = _fit(mixed, max_iter=33, elbo_every=5)
    # iterations 5, 10, ..., 30 and the last one (33): the sweeps are unchanged
    expected = [every_one.history[i - 1] for i in (5, 10, 15, 20, 25, 30, 33)]
    np.testing.assert_allclose(every_five.history, expected, rtol=1e-12)
    assert len(every_five.n_factors_history) == len(every_five.history)
    np.testing.assert_allclose(every_five.factors, every_one.factors,
                               rtol=1e-9, atol=1e-12)


def test_cadence_converges_on_evaluations_and_stays_monotone():
    sim = simulate_mofa(n_samples=60, view_sizes=(30, 20), rng=0)
    result = _fit(sim, max_iter=1000, elbo_every=5)
    assert result.converged
    assert result.n_iter % 5 == 0
    assert len(result.history) == result.n_iter // 5
    assert np.all(np.diff(result.history) >= -1e-8 * np.abs(result.history[1:]))


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_elbo_every_is_checked(bad):
    sim = simulate_mofa(n_samples=30, view_sizes=(10, 10), rng=0)
    with pytest.raises((ValueError, TypeError), match="elbo_every"):
        MOFA(2, elbo_every=bad, verbose=False).fit(sim.views, rng=0)


def test_cadence_leaves_stochastic_updates_unchanged():
    sim = simulate_mofa(n_samples=200, view_sizes=(30, 20), rng=0)
    every_one = _fit(sim, stochastic=True, max_iter=23)
    every_five = _fit(sim, stochastic=True, max_iter=23, elbo_every=5)
    expected = [every_one.history[i - 1] for i in (5, 10, 15, 20, 23)]
    np.testing.assert_allclose(every_five.history, expected, rtol=1e-12)
    np.testing.assert_allclose(every_five.factors, every_one.factors,
                               rtol=1e-9, atol=1e-12)
