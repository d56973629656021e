"""Experiment helpers of chapter 2 (latentlab.hotstart.experiments)."""

import warnings

import numpy as np
import pytest

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.hotstart import pool_checkpoints
from latentlab.hotstart.experiments import (
    cold_vs_hot,
    redraw_after,
    score_prediction,
    stack_data,
    standardised,
    train_batch_checkpoints,
)
from latentlab.signatures import SurvivalData


def small_data():
    E = np.array([[2, 9], [5, 9], [9, 9], [9, 3]])
    event = np.array([[1, 0], [1, 0], [0, 0], [0, 0]], bool)
    return SurvivalData(E=E, event=event, G=np.arange(8.0).reshape(4, 2), n_times=10)


def test_score_prediction_perfect_and_reversed_hazards():
    data = small_data()  # window [4, 7): person 1 has an event, person 0 is prevalent, 3 is censored
    hazards = np.full((4, 2, 10), 0.01)
    hazards[1, 0] = 0.5
    score = score_prediction(hazards, data, enrollment=4, diseases=[0, 1], horizon=3, n_boot=0)
    assert score.n_evaluable == 2 and score.auc.auc == 1.0 and score.auc.n_cases == 1
    reversed_hazards = np.full((4, 2, 10), 0.5)
    reversed_hazards[1, 0] = 0.01
    assert score_prediction(reversed_hazards, data, enrollment=4, diseases=[0, 1], horizon=3, n_boot=0).auc.auc == 0.0
    with pytest.raises(ValueError, match="kind must be"):
        score_prediction(hazards, data, enrollment=4, diseases=[0], horizon=3, kind="rolling")


def test_stack_standardise_and_redraw():
    data = small_data()
    both = stack_data([data, data.subset([0])])
    assert both.n_individuals == 5 and np.array_equal(both.E[4], data.E[0])
    scaled = standardised(data, np.array([1.0, 1.0]), np.array([2.0, 2.0]))
    np.testing.assert_allclose(scaled.G, (data.G - 1) / 2)
    redrawn = redraw_after(data, 4, rng=0)
    before = data.E < 4
    np.testing.assert_array_equal(redrawn.E[before], data.E[before])
    np.testing.assert_array_equal(redrawn.event[before], data.event[before])
    assert np.all(redrawn.E[~before] >= 4)
    with pytest.raises(ValueError, match="batches must hold at least one"):
        stack_data([])


def test_cold_vs_hot_runs_and_reports_plain_numbers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_signatures(240, 8, 14, 2, 2, n_batches=3, rng=4)
        training = train_batch_checkpoints([sim.batch(0), sim.batch(1)], 2, n_epochs=15, rng=0)
        assert len({c.signature_labels for c in training.checkpoints}) == 1
        np.testing.assert_allclose(training.covariate_mean, np.concatenate([sim.batch(0).G, sim.batch(1).G]).mean(0))
        master = pool_checkpoints(training.checkpoints)
        runs = cold_vs_hot(master, sim.batch(2), 2, clusters=training.clusters, psi=training.psi, enrollment=6,
                           diseases=[0, 1, 2, 3], horizon=5, n_epochs_cold=8, n_epochs_hot=4, seeds=[0])
    (run,) = runs
    assert run.threshold == min(run.hot_history) and 1 <= run.hot_epochs <= 4
    assert run.cold_epochs is None or 1 <= run.cold_epochs <= 8
    assert len(run.cold_history) == 8 and all(type(v) is float for v in run.cold_history)
    assert np.isfinite(run.hot_forward_nll) and np.isfinite(run.cold_forward_nll)
