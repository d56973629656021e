"""The local principal curve reports failure: jumps, loops, truncation, bad input.

Every case is a constructed curve whose truth is known (latentlab.curves.shapes,
latentlab.sweep.noisy_helix), so each status is checked against what really
happened to the fit.
"""

import warnings

import numpy as np
import pytest

from latentlab.curves import (
    CurveFitWarning,
    curve_length,
    default_max_iter,
    fit_local_principal_curve,
    project_onto_curve,
    resample_equal_arclength,
)
from latentlab.curves.shapes import noisy_spiral, noisy_trefoil, strand_gap
from latentlab.sweep import noisy_helix


def truth_to_fit(fit, truth):
    """Largest distance from the true curve to the fit (the direction a jump misses)."""
    dense = resample_equal_arclength(fit.points, 1000)
    return float(project_onto_curve(truth[::5], dense).distance.max())


def quiet_fit(X, bandwidth, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CurveFitWarning)
        return fit_local_principal_curve(X, bandwidth, start=X[0], **options)


@pytest.mark.parametrize("seed", range(4))
def test_spiral_with_close_arms_reports_the_jump_and_stops(seed):
    s, X, truth = noisy_spiral(
        rng=seed
    )  # arms 1.26 apart, bandwidth 0.4 reaches across
    with pytest.warns(CurveFitWarning, match="revisit"):
        fit = fit_local_principal_curve(X, 0.4, start=X[0])
    assert fit.status == "revisit" and fit.n_revisits >= 1 and not fit.converged
    assert "revisit" in fit.stop_reasons and "strand" in fit.message
    # the revisit stop keeps the length bounded (looping made it 1.8-2.7x too long)
    assert fit.length < 1.1 * curve_length(truth)


def test_without_the_stop_the_walk_loops_and_is_still_flagged():
    s, X, truth = noisy_spiral(rng=0)
    fit = quiet_fit(X, 0.4, on_revisit="continue", max_iter=200)
    assert fit.status == "revisit" and fit.n_revisits > 10
    assert fit.length > 1.5 * curve_length(truth)  # the failure the status reports


@pytest.mark.parametrize("seed", range(4))
def test_a_bandwidth_of_a_fifth_of_the_arm_spacing_prevents_the_jump(seed):
    s, X, truth = noisy_spiral(rng=seed)
    assert strand_gap(truth) / 0.25 > 4.9
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurveFitWarning)  # an "ok" fit never warns
        fit = fit_local_principal_curve(X, 0.25, start=X[0])
    assert fit.status == "ok" and fit.converged
    assert project_onto_curve(fit.points, truth).distance.max() < 0.2
    assert truth_to_fit(fit, truth) < 0.3  # both directions: no arm skipped
    assert abs(fit.length / curve_length(truth) - 1) < 0.05


@pytest.mark.parametrize("seed", range(6))
def test_trefoil_strand_crossings_are_never_reported_as_ok(seed):
    s, X, truth = noisy_trefoil(rng=seed)  # strands 0.70 apart in 3-D
    fit = quiet_fit(X, 0.4)
    assert fit.status in ("revisit", "incomplete")
    assert (
        truth_to_fit(fit, truth) > 1.0
    )  # and the fit really did miss part of the curve


@pytest.mark.parametrize("seed", range(3))
def test_trefoil_with_well_separated_strands_is_ok(seed):
    s, X, truth = noisy_trefoil(depth=1.0, rng=seed)  # strands 1.21 apart
    fit = quiet_fit(X, 0.3)
    assert fit.status == "ok"
    assert project_onto_curve(fit.points, truth).distance.max() < 0.15
    assert truth_to_fit(fit, truth) < 0.3


def test_a_closed_curve_is_a_loop():
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 500)
    X = 3 * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.normal(
        0, 0.1, (500, 2)
    )
    fit = quiet_fit(X, 0.3)
    assert fit.status == "revisit"  # the two halves meet
    assert fit.length < 2 * np.pi * 3  # and stop there instead of going round again


def test_truncation_is_reported_and_the_default_max_iter_covers_the_curve():
    s, X, truth = noisy_spiral(2000, arm_spacing=3.0, turns=3, rng=1)
    with pytest.warns(CurveFitWarning, match="truncated"):
        short = fit_local_principal_curve(X, 0.4, start=X[0], max_iter=100)
    assert short.status == "truncated" and short.length < 0.8 * curve_length(truth)
    full = quiet_fit(X, 0.4)
    assert full.max_iter == default_max_iter(X, 0.4) > 100
    assert full.status == "ok" and abs(full.length / curve_length(truth) - 1) < 0.03


def test_default_max_iter_scales_with_extent_over_step():
    X = np.column_stack([np.linspace(0, 10, 101), np.zeros(101)])
    assert default_max_iter(X, 0.5) == 55
    assert default_max_iter(2 * X, 0.5) == 85
    assert default_max_iter(X, 0.25) == 85


@pytest.mark.parametrize("seed", range(4))
def test_tips_end_where_the_docstring_says(seed):
    s, X, truth = noisy_helix(600, noise=0.1, rng=seed)
    for h in (0.3, 0.5):  # default (creep_stop=0.01): ends 0.4-0.8 bandwidths short
        fit = quiet_fit(X, h)
        gaps = [
            np.linalg.norm(truth[0] - fit.points[0]),
            np.linalg.norm(truth[-1] - fit.points[-1]),
        ]
        assert 0.3 * h < min(gaps) and max(gaps) < 1.0 * h
        assert (
            project_onto_curve(fit.points, truth).distance.max() < 0.1
        )  # never past the end
    creeping = quiet_fit(X, 0.3, creep_stop=0.0)  # LPCM's stop: up to ~3 noise sd off
    overshoot = project_onto_curve(creeping.points, truth).distance.max() / 0.1
    assert creeping.status in ("ok", "revisit") and 1.0 < overshoot < 3.5


def test_degenerate_inputs_are_refused():
    s, X, truth = noisy_helix(200, noise=0.1, rng=0)
    with pytest.raises(ValueError, match="bandwidth=1e-09 is too small"):
        fit_local_principal_curve(X, 1e-9, start=X[0])
    with pytest.raises(ValueError, match="no spread"):
        fit_local_principal_curve(np.tile([1.0, 2.0, 3.0], (50, 1)), 0.5)
    with pytest.raises(ValueError, match="transposed"):
        fit_local_principal_curve(X.T, 0.5)


def test_status_never_ok_for_a_fit_that_failed_on_the_helix_at_any_bandwidth():
    # the benchmark curve: an "ok" status comes with an accurate curve, both ways
    s, X, truth = noisy_helix(600, noise=0.1, rng=0)
    for h in (0.3, 0.5, 1.0):  # (at h = 0.2, twice the noise sd, the fit is wiggly)
        fit = quiet_fit(X, h)
        if fit.status == "ok":
            assert project_onto_curve(fit.points, truth).distance.max() < 0.15
            assert truth_to_fit(fit, truth) < 1.0 * h + 0.1


def test_a_short_turn_back_at_a_tip_is_cut_off_and_not_a_failure():
    from latentlab.sweep.simulate import simulate_sweep
    from latentlab.sweep.table import instance_pca

    _, _, table = simulate_sweep(2, rng=0)[0]  # the most tangled synthetic model
    Z = instance_pca(table)
    rows = (table.phenotype == "lmx1b").to_numpy()
    stage = table.predicted_stage_hpf.to_numpy()[rows]
    anchor = Z[rows][stage < stage.min() + 1].mean(axis=0)
    fit = fit_local_principal_curve(Z[rows], 0.5, start=anchor)
    assert fit.status == "ok" and "turned_back" in fit.stop_reasons and fit.converged
    raw = fit_local_principal_curve(
        Z[rows], 0.5, start=anchor, on_revisit="continue", warn=False
    )
    assert raw.status == "revisit"  # without the stop, the reversal is reported
    assert fit.length < raw.length
