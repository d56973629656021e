"""Tests for latentlab.sweep.table, .simulate and .models: rows, selection, the sweep runner."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

from latentlab.sweep.models import EmbeddingConfig, nt_xent_loss, train_embedding_model, triplet_loss
from latentlab.sweep.simulate import simulate_instance_pair, simulate_sweep, simulate_trajectories
from latentlab.sweep.reading import classify_tranche, driver_analysis, pareto_front
from latentlab.sweep.table import evaluate_model, evaluate_sweep, run_sweep, spline_curves


@pytest.fixture(scope="module")
def synthetic_sweep():
    return evaluate_sweep(simulate_sweep(12, rng=0), n_points=200)


def test_tranche_boundaries():
    tranche = classify_tranche([0.7, 0.71, 0.71, 0.7, 0.9, np.nan, 0.9], [0.5, 1.0, 0.99, 1.0, np.nan, 0.1, 0.2])
    assert tranche.tolist() == ["third", "second", "best", "fourth", "undefined", "undefined", "best"]


def test_pareto_front_members_are_not_dominated():
    rng = np.random.default_rng(0)
    f1, rmse = rng.uniform(size=60), rng.uniform(size=60)
    front = pareto_front(f1, rmse)
    assert front.any()
    for i in np.flatnonzero(front):
        dominated = (f1 >= f1[i]) & (rmse <= rmse[i]) & ((f1 > f1[i]) | (rmse < rmse[i]))
        assert not dominated.any()
    for i in np.flatnonzero(~front):  # everything off the front is beaten by someone
        assert np.any((f1 >= f1[i]) & (rmse <= rmse[i]) & ((f1 > f1[i]) | (rmse < rmse[i])))
    assert not pareto_front([np.nan, 0.5], [0.1, 0.2])[0]


def test_generator_knob_moves_metrics_in_the_known_direction(synthetic_sweep):
    table = synthetic_sweep
    # curve fits fail (and say so) only where the trajectories are tangled
    assert (table.status[table.prettiness >= 0.5] == "ok").all()
    assert (table.status == "ok").mean() >= 0.75
    assert spearmanr(table.prettiness, table.aligned_rmse)[0] < 0
    assert spearmanr(table.prettiness, table.within_colinearity_all)[0] > 0
    assert spearmanr(table.prettiness, table.first_n_all)[0] < 0
    low, high = table[table.prettiness < 0.5], table[table.prettiness > 0.5]
    assert high.aligned_rmse.median() < low.aligned_rmse.median()
    assert (table.aligned_rmse <= table.initial_rmse + 1e-12).all()
    assert (table.aligned_rmse_reflect <= table.aligned_rmse + 1e-12).all()


def test_parallel_evaluation_gives_the_same_table():
    models = simulate_sweep(3, rng=5, n_embryos=3, n_frames=8)
    pd.testing.assert_frame_equal(evaluate_sweep(models, n_points=120), evaluate_sweep(models, n_points=120, n_jobs=2))


def test_driver_analysis_finds_the_true_driver(synthetic_sweep):
    drivers = driver_analysis(synthetic_sweep, ["prettiness", "loss_type"], "aligned_rmse", rng=0)
    assert drivers.spearman["prettiness"] < -0.5
    assert drivers.spearman_high["prettiness"] < 0
    assert abs(drivers.coefficient["prettiness"]) > abs(drivers.coefficient["loss_type"])


def test_reflected_hld_instance_is_evaluated_like_a_rotated_one():
    table_all, table_hld = simulate_instance_pair(0.9, reflect=True, rng=3)
    row = evaluate_model(table_all, table_hld, n_points=200)
    assert row["status"] == "ok" and row["aligned_rmse"] < row["initial_rmse"]


def test_spline_curves_start_early_and_failed_fit_is_flagged():
    table_all, table_hld = simulate_instance_pair(0.8, rng=1)
    curves, status = spline_curves(table_all, n_points=100)
    assert set(status.values()) == {"ok"} and all(c.shape == (100, 3) for c in curves.values())
    # drop all but two frames of one perturbation: its curve fails, the row is kept with NaN where needed
    tiny = table_hld[(table_hld.phenotype != "gdf3") | (table_hld.snip_id.isin(table_hld.snip_id[table_hld.phenotype == "gdf3"][:2]))]
    tiny_all = table_all.loc[tiny.index]
    row = evaluate_model(tiny_all, tiny, n_points=100)
    assert row["status"].startswith("failed") and "gdf3:too_few_points" in row["status"]
    assert "aligned_rmse_gdf3" not in row and np.isfinite(row["aligned_rmse"])


def test_nt_xent_matches_a_hand_computation():
    generator = torch.Generator().manual_seed(0)
    a, p = torch.randn(3, 2, generator=generator), torch.randn(3, 2, generator=generator)
    z = torch.nn.functional.normalize(torch.cat([a, p]), dim=1).numpy().astype(float)
    sim = z @ z.T / 0.5
    np.fill_diagonal(sim, -np.inf)
    targets = np.array([3, 4, 5, 0, 1, 2])
    log_softmax = sim - np.log(np.exp(sim).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(6), targets].mean()
    assert float(nt_xent_loss(a, p, 0.5)) == pytest.approx(expected, rel=1e-5)
    assert float(triplet_loss(torch.zeros(1, 2), torch.ones(1, 2), torch.zeros(1, 2), 0.5)) == pytest.approx(np.sqrt(2) + 0.5)


def test_training_is_seeded_and_lowers_the_loss():
    data = simulate_trajectories(n_embryos=3, n_frames=8, rng=0)
    X = data.table.filter(like="x_").to_numpy()
    config = EmbeddingConfig(n_epochs=8, batch_size=64, seed=3)
    one = train_embedding_model(X, data.table.embryo_id, data.table.predicted_stage_hpf, config)
    two = train_embedding_model(X, data.table.embryo_id, data.table.predicted_stage_hpf, config)
    np.testing.assert_array_equal(one.embed(X), two.embed(X))
    assert one.history[-1] < one.history[0]
    assert all(isinstance(v, float) for v in one.history)


def test_adam_step_matches_torch_adam():
    from latentlab.sweep.models import _adam_step

    generator = torch.Generator().manual_seed(0)
    ours = torch.randn(5, generator=generator, dtype=torch.float64, requires_grad=True)
    theirs = ours.detach().clone().requires_grad_(True)
    optimiser = torch.optim.Adam([theirs], lr=0.01)
    moments = [(torch.zeros_like(ours), torch.zeros_like(ours))]
    for step in range(1, 6):
        for p in (ours, theirs):
            p.grad = None
            (p**3).sum().backward()
        _adam_step([ours], moments, 0.01, step)
        optimiser.step()
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_run_sweep_identical_for_identical_seeds():
    data = simulate_trajectories(n_embryos=4, n_frames=8, rng=1)
    configs = [EmbeddingConfig(metric_loss=loss, n_epochs=3, batch_size=64, seed=i)
               for i, loss in enumerate(["nt-xent", "triplet"])]
    first = run_sweep(data.table, configs, n_points=120)
    second = run_sweep(data.table, configs, n_points=120)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.metric_loss) == ["nt-xent", "triplet"] and len(first) == 2


def test_bad_inputs():
    table_all, table_hld = simulate_instance_pair(0.5, rng=0, n_embryos=2, n_frames=5)
    with pytest.raises(TypeError, match="DataFrame"):
        evaluate_model(table_all.to_numpy(), table_hld)
    with pytest.raises(ValueError, match="missing the column"):
        evaluate_model(table_all.drop(columns="phenotype"), table_hld)
    with pytest.raises(ValueError, match="feature columns"):
        spline_curves(table_all[["embryo_id", "phenotype", "predicted_stage_hpf"]])
    with pytest.raises(ValueError, match="same length"):
        classify_tranche([0.5, 0.6], [1.0])
    with pytest.raises(ValueError, match="metric_loss"):
        train_embedding_model(np.zeros((4, 3)), [0, 0, 1, 1], [1.0, 2, 1, 2], EmbeddingConfig(metric_loss="arcface"))
    with pytest.raises(ValueError, match="observation columns"):
        run_sweep(table_all, [EmbeddingConfig()])
    with pytest.raises(ValueError, match="missing the column"):
        driver_analysis(pd.DataFrame({"a": [1.0]}), ["a"], "score")
    with pytest.raises(ValueError, match="prettiness"):
        simulate_instance_pair(1.5)
