"""Hot versus cold on one rule (latentlab.hotstart.comparison)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentlab.datasets.signatures_sim import simulate_two_cohorts
from latentlab.hotstart.pooling import pool
from latentlab.hotstart.comparison import (
    benchmark_results, carry_forward, hot_and_cold, intervals_apart, mean_half_width,
    summary_text,
)
from latentlab.hotstart.experiments import train_batch_checkpoints


@pytest.fixture(scope="module")
def setting():
    cohort, _ = simulate_two_cohorts((160, 40), 6, 12, 2, 2, rng=0, n_batches=4)
    batches = [cohort.batch(b) for b in range(3)]
    training = train_batch_checkpoints(batches, 2, n_epochs=30, rng=0)
    master = pool(training.checkpoints, "probability")
    group = np.flatnonzero(cohort.truth.clusters == 0).tolist()
    return cohort, training, master, group


def test_both_fits_stop_by_the_same_rule(setting):
    cohort, training, master, group = setting
    common = dict(
        clusters=training.clusters,
        psi=training.psi,
        enrollment=4,
        diseases=group,
        horizon=4,
        true_hazards=cohort.batch_truth(3).pi(),
    )
    rows = hot_and_cold(master, cohort.batch(3), 2, seeds=[0, 1], rtol=1e-3, **common)
    assert [(r.kind, r.seed) for r in rows] == [
        ("hot", 0),
        ("cold", 0),
        ("hot", 1),
        ("cold", 1),
    ]
    assert all(r.converged and r.epochs >= 13 for r in rows)  # window 10 + patience 3
    assert all(r.hazard_ratio > 0 and 0 <= r.auc <= 1 for r in rows)
    capped = hot_and_cold(
        master,
        cohort.batch(3),
        2,
        seeds=[0],
        rtol=1e-12,
        max_epochs_hot=15,
        max_epochs_cold=15,
        **common,
    )
    assert [(r.epochs, r.converged) for r in capped] == [(15, False), (15, False)]


def test_carry_forward_refuses_bad_enrollment():
    with pytest.raises(ValueError, match="enrollment"):
        carry_forward(np.ones((1, 1, 4)), 0)


def test_benchmark_results_reads_a_run(tmp_path):
    assert benchmark_results(tmp_path / "missing.json") is None
    (tmp_path / "other.json").write_text(json.dumps({"runs": []}))
    assert benchmark_results(tmp_path / "other.json") is None
    with pytest.raises(ValueError, match="name"):
        benchmark_results(name="../hotstart")
    stored = benchmark_results()
    if stored is not None:  # the repository's own run: one rule for both fits
        summary = stored["hot_vs_cold"]["summary"]
        at_rule = [row for row in summary if row["budget"] == "rule"]
        assert {row["kind"] for row in at_rule} == {"hot", "cold"}
        assert stored["hot_vs_cold"]["rule"]["rtol"] > 0


def test_mean_half_width_is_the_student_t_interval():
    values = np.array([30.9, 31.0, 30.95, 30.88])
    mean, half = mean_half_width(values)
    from scipy import stats

    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                                 scale=stats.sem(values))
    assert mean == pytest.approx(values.mean())
    assert half == pytest.approx((high - low) / 2)
    one = mean_half_width([2.5])
    assert one[0] == 2.5 and np.isnan(one[1])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        mean_half_width([])
    with pytest.raises(ValueError, match="finite"):
        mean_half_width([1.0, float("nan")])


def test_summary_text_and_intervals_apart_read_summary_rows():
    hot = {"forward_nll": 30.94, "forward_nll_half": 0.05}
    cold = {"forward_nll": 44.21, "forward_nll_half": 0.29}
    assert summary_text(hot, "forward_nll") == "30.9 ± 0.05"
    assert summary_text({"x": 1.234, "x_half": float("nan")}, "x") == "1.23"
    assert intervals_apart(hot, cold, "forward_nll")
    overlapping = {"forward_nll": 31.1, "forward_nll_half": 0.2}
    assert not intervals_apart(hot, overlapping, "forward_nll")  # 0.16 apart, 0.25 wide
    with pytest.raises(ValueError, match="forward_nll_half"):
        summary_text({"forward_nll": 1.0}, "forward_nll")
    with pytest.raises(TypeError, match="column must be a str"):
        intervals_apart(hot, cold, 3)

