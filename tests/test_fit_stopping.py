"""The relative stopping rule of the Adam trainers (fit_signatures, λ-only fits)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.signatures import fit_signatures
from latentlab.signatures.fit import adam_loop, relative_change, relative_change_met


def test_relative_change_is_mean_change_per_epoch_over_the_window():
    history = [12.0, 11.0, 10.0, 8.0]
    assert relative_change(history, window=3) == pytest.approx(4.0 / 3 / 8.0)
    assert relative_change(history, window=1) == pytest.approx(2.0 / 8.0)
    assert relative_change(history, window=4) == np.inf  # not enough epochs yet
    assert relative_change([0.0, 0.0], window=1) == 0.0
    assert relative_change([1.0, 0.0], window=1) == np.inf


def test_rule_is_scale_free():
    history = list(100.0 + 50.0 * np.exp(-0.1 * np.arange(200)))
    first = [relative_change_met(history[:n], 1e-4) for n in range(1, 201)]
    scaled = [
        relative_change_met([1e3 * h for h in history[:n]], 1e-4) for n in range(1, 201)
    ]
    assert first == scaled and any(first) and not all(first)


def test_rule_needs_patience_consecutive_checks():
    # one flat stretch of exactly window + 1 values: the change is 0 at one epoch only
    history = [5.0, 4.0, 3.0, 3.0, 3.0, 2.0]
    assert relative_change_met(history[:5], 1e-9, window=2, patience=1)
    assert not relative_change_met(history[:5], 1e-9, window=2, patience=2)
    assert not relative_change_met(history, 1e-9, window=2, patience=1)
    assert relative_change_met(
        [5.0, 4.0, 3.0, 3.0, 3.0, 3.0], 1e-9, window=2, patience=2
    )


def _quadratic_loop(rtol, n_epochs, **options):
    x = torch.tensor([3.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([x], lr=0.05)
    return adam_loop(
        lambda: 1.0 + (x**2).sum(),
        optimiser,
        n_epochs,
        tol=None,
        rtol=rtol,
        verbose=False,
        **options,
    )


def test_adam_loop_stops_where_the_rule_first_holds():
    history, n_iter, converged = _quadratic_loop(1e-4, 5000)
    assert converged and n_iter < 5000
    # the rule holds at the stop and at no earlier epoch
    assert relative_change_met(history, 1e-4)
    assert not any(relative_change_met(history[:n], 1e-4) for n in range(1, n_iter))
    # the loss at the stop is near the minimum 1, far below the start
    assert history[-1] - 1.0 < 1e-2 * (history[0] - 1.0)


def test_adam_loop_not_converged_at_the_cap():
    history, n_iter, converged = _quadratic_loop(1e-12, 40)
    assert n_iter == 40 and not converged
    assert not relative_change_met(history, 1e-12)


def test_adam_loop_refuses_bad_rule_options():
    with pytest.raises(ValueError, match="rtol"):
        _quadratic_loop(0.0, 5)
    with pytest.raises(ValueError, match="window"):
        _quadratic_loop(1e-4, 5, window=0)
    with pytest.raises(ValueError, match="patience"):
        _quadratic_loop(1e-4, 5, patience=0)


@pytest.fixture(scope="module")
def sim():
    return simulate_signatures(
        n_individuals=60, n_diseases=6, n_times=12, n_signatures=2, rng=0
    )


def test_fit_signatures_relative_rule(sim):
    loose = fit_signatures(
        sim.data, 2, n_epochs=2000, tol=None, rtol=1e-3, rng=0, verbose=False
    )
    assert loose.converged and loose.n_iter < 2000
    assert relative_change_met(loose.history, 1e-3)
    assert not relative_change_met(loose.history[:-1], 1e-3)
    capped = fit_signatures(
        sim.data, 2, n_epochs=30, tol=None, rtol=1e-9, rng=0, verbose=False
    )
    assert capped.n_iter == 30 and not capped.converged
    # the same start and steps: the capped fit is the loose fit's first 30 epochs
    np.testing.assert_allclose(capped.history, loose.history[:30], rtol=1e-6)
    none = fit_signatures(sim.data, 2, n_epochs=30, tol=None, rng=0, verbose=False)
    assert none.n_iter == 30 and not none.converged


def test_relative_change_refuses_bad_input():
    with pytest.raises(ValueError, match="window"):
        relative_change([1.0, 2.0], window=0)
    with pytest.raises(ValueError, match="history"):
        relative_change(np.ones((3, 2)), window=1)
    with pytest.raises(ValueError, match="rtol"):
        relative_change_met([1.0, 2.0], -1.0)
    with pytest.raises(ValueError, match="patience"):
        relative_change_met([1.0, 2.0], 1e-3, patience=0)


def test_lambda_only_fit_uses_the_same_rule():
    from test_divergence import _checkpoint  # a two-signature, three-disease master

    from latentlab.hotstart import FixedSignaturePredictor
    from latentlab.signatures.data import SurvivalData

    ckpt = _checkpoint()
    E = np.array([[5, 2, 5], [5, 5, 5], [3, 5, 5], [5, 5, 1]])
    data = SurvivalData(E=E, event=E < 5, G=np.zeros((4, 1)), n_times=6)
    fit = FixedSignaturePredictor(ckpt, n_epochs=5000, tol=1e-4).fit(data, rng=0)
    assert fit.converged and fit.n_iter < 5000
    assert relative_change_met(fit.history, 1e-4)
    assert not relative_change_met(fit.history[:-1], 1e-4)
    capped = FixedSignaturePredictor(ckpt, n_epochs=20, tol=1e-12).fit(data, rng=0)
    assert capped.n_iter == 20 and not capped.converged
    with pytest.raises(ValueError, match="patience"):
        FixedSignaturePredictor(ckpt, tol=1e-4, patience=0)
