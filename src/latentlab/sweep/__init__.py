"""Evaluating a parameter sweep of embedding models with curves (chapter 6).

Submodules: :mod:`~latentlab.sweep.metrics` (dispersion, segment collinearity,
RMSE), :mod:`~latentlab.sweep.classification` (F1 over time),
:mod:`~latentlab.sweep.simulate` (synthetic trajectories with known truth),
:mod:`~latentlab.sweep.models` (tiny torch embedding models),
:mod:`~latentlab.sweep.table` (one row per model, the sweep),
:mod:`~latentlab.sweep.reading` (tranches, Pareto front, drivers),
:mod:`~latentlab.sweep.selection` (choosing a model, collapsed embeddings excluded).
"""

from latentlab.sweep.classification import F1OverTime, embryo_grouped_split, f1_over_time
from latentlab.sweep.metrics import (
    dispersion_profile, dispersion_summary, joint_aligned_rmse, rmse_by_perturbation,
    segment_colinearity, segment_covariance, within_colinearity,
)
from latentlab.sweep.simulate import (
    HELD_OUT, PERTURBATIONS, noisy_helix, simulate_instance_pair, simulate_sweep, simulate_trajectories,
)
from latentlab.sweep.selection import ModelChoice, select_model, trend_from_interval
from latentlab.sweep.reading import classify_tranche, driver_analysis, pareto_front, spearman_text
from latentlab.sweep.table import evaluate_model, evaluate_sweep, instance_pca, run_sweep, spline_curves

__all__ = [
    "F1OverTime", "embryo_grouped_split", "f1_over_time",
    "dispersion_profile", "dispersion_summary", "joint_aligned_rmse", "rmse_by_perturbation",
    "segment_colinearity", "segment_covariance", "within_colinearity",
    "HELD_OUT", "PERTURBATIONS", "noisy_helix", "simulate_instance_pair", "simulate_sweep", "simulate_trajectories",
    "classify_tranche", "driver_analysis", "spearman_text", "evaluate_model", "evaluate_sweep", "instance_pca", "pareto_front", "run_sweep",
    "spline_curves", "ModelChoice", "select_model", "trend_from_interval",
]
