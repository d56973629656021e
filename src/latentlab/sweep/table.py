"""From embeddings to one row of the sweep table, and the sweep itself.

:func:`spline_curves` turns one instance's embedding into one curve per
perturbation (PCA to 3-D on the whole instance, a local principal curve from
the early anchor, equal-arc-length resampling); :func:`evaluate_model`
compares a model's "all" and "hld" instances and returns one row;
:func:`run_sweep` trains and evaluates a grid of models. Reading the table
(tranches, the Pareto front, drivers) is :mod:`latentlab.sweep.reading`.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from latentlab._validation import check_integer, check_positive
from latentlab.curves import fit_local_principal_curve, resample_equal_arclength
from latentlab.alignment import horn_quaternion
from latentlab.sweep.classification import f1_over_time
from latentlab.sweep.metrics import (
    dispersion_summary, joint_aligned_rmse, rmse_by_perturbation, segment_colinearity,
    segment_covariance, within_colinearity,
)
from latentlab.sweep.simulate import HELD_OUT, feature_columns

__all__ = [
    "instance_pca", "spline_curves", "evaluate_model", "evaluate_sweep", "run_sweep",
]

_META = ("embryo_id", "phenotype", "predicted_stage_hpf")


def _check_table(table, name):
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in _META if c not in table.columns]
    if missing:
        raise ValueError(f"{name} is missing the column(s) {missing}")
    return feature_columns(table)


def instance_pca(table: pd.DataFrame, n_components: int = 3) -> np.ndarray:
    """The instance's own PCA coordinates of its feature columns, shape (n_rows, n_components).

    Each instance gets its own PCA (MorphSeq), so the axes of two instances
    may differ by a rotation and by sign flips.

    Examples
    --------
    >>> from latentlab.sweep.simulate import simulate_instance_pair
    >>> from latentlab.sweep.table import instance_pca
    >>> instance_pca(simulate_instance_pair(0.5, rng=0)[0]).shape
    (450, 3)
    """
    features = _check_table(table, "table")
    return PCA(check_integer(n_components, "n_components", minimum=1), svd_solver="full").fit_transform(
        table[features].to_numpy(dtype=float))


def spline_curves(
    table: pd.DataFrame,
    *,
    n_points: int = 500,
    bandwidth: float = 0.5,
    n_components: int = 3,
    max_iter: int | None = None,
    creep_stop: float = 0.01,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """One equal-arc-length curve per perturbation in the instance's own 3-D PCA frame.

    Following MorphSeq: PCA (3 components) on the whole instance; per
    perturbation, the anchor is the mean of its frames with stage in
    [min, min + 1) hpf; a local principal curve starts at the observation
    nearest the anchor, and its ``n_points`` resampled points run from the
    early end. (MorphSeq subsamples 5-10 % of the frames; our tables are small,
    so every frame is used.) The fit is :func:`latentlab.curves.fit_local_principal_curve`
    in LPCM mode with ``creep_stop`` (our improvement: no creeping tips);
    ``bandwidth`` is in the units of the PCA coordinates (MorphSeq: 0.5).

    Returns
    -------
    curves : dict
        phenotype -> ndarray (n_points, n_components); only successful fits.
    status : dict
        phenotype -> "ok" or the fit's failure status ("revisit", "truncated",
        "incomplete", "too_few_points", "empty_neighbourhood", or "degenerate"
        when the fitter refused the points; see
        :class:`latentlab.curves.LocalPrincipalCurve`). Failed curves are left
        out of ``curves``.
    """
    n_points = check_integer(n_points, "n_points", minimum=2)
    bandwidth = check_positive(bandwidth, "bandwidth")
    Z = instance_pca(table, n_components)
    curves, status = {}, {}
    stage = table["predicted_stage_hpf"].to_numpy(dtype=float)
    for name in sorted(table["phenotype"].unique()):
        rows = table["phenotype"].to_numpy() == name
        points, early = Z[rows], stage[rows]
        if len(points) < 3:
            status[name] = "too_few_points"
            continue
        anchor = points[early < early.min() + 1.0].mean(axis=0)
        try:
            fit = fit_local_principal_curve(points, bandwidth, start=anchor, max_iter=max_iter,
                                            creep_stop=creep_stop, warn=False)
        except ValueError:  # degenerate cloud (e.g. a collapsed embedding): no curve
            status[name] = "degenerate"
            continue
        if fit.status != "ok":  # a jump, loop, truncation or skipped data: not used
            status[name] = fit.status
            continue
        spline = "arclength" if len(fit.points) >= 4 else None
        curves[name] = resample_equal_arclength(fit, n_points, spline=spline)
        status[name] = "ok"
    return curves, status


def _f1(table, features, **options):
    return f1_over_time(table[features].to_numpy(dtype=float), table["phenotype"].to_numpy(),
                        table["predicted_stage_hpf"].to_numpy(dtype=float), table["embryo_id"].to_numpy(),
                        **options)


def evaluate_model(
    table_all: pd.DataFrame,
    table_hld: pd.DataFrame,
    params: dict | None = None,
    *,
    n_points: int = 500,
    bandwidth: float = 0.5,
    n_segments: int = 100,
    n_dispersion: int = 5,
    f1_options: dict | None = None,
) -> dict:
    """Evaluate one model (its "all" and "hld" instances) into one row of the sweep table.

    Columns (``avg_pert`` summaries unless named per perturbation):
    ``f1_all``, ``f1_hld``, ``f1_all_hld_diff``; ``initial_rmse``,
    ``aligned_rmse`` (pooled, each perturbation aligned by its own proper
    rotation, MorphSeq); ``aligned_rmse_reflect`` (ours: reflections allowed);
    ``joint_aligned_rmse`` (ours: one transform); ``across_colinearity`` and
    ``across_covariance`` (hld-aligned vs all curve, mean over perturbations);
    ``within_colinearity_{all,hld}`` and ``_sd``; ``first_n``, ``last_n``,
    ``disp_coefficient`` for each instance; ``aligned_rmse_<perturbation>``;
    ``curve_scale`` (RMS distance of the "all" curves from their centroid)
    and ``relative_aligned_rmse`` (aligned RMSE / curve scale; ours: an RMSE
    in latent units rewards any model that simply shrinks its latent space);
    ``status``. A failed curve fit does not raise: its
    metrics are NaN and ``status`` names it.

    Parameters
    ----------
    table_all, table_hld : pandas.DataFrame
        The same frames embedded by the two instances (MorphSeq column names).
    params : dict, optional
        Hyper-parameters copied into the row.
    """
    features_all = _check_table(table_all, "table_all")
    check_positive(bandwidth, "bandwidth")
    features_hld = _check_table(table_hld, "table_hld")
    row = dict(params or {})
    f1_options = dict(f1_options or {})
    f1_all, f1_hld = _f1(table_all, features_all, **f1_options), _f1(table_hld, features_hld, **f1_options)
    row.update(f1_all=f1_all.avg_pert, f1_hld=f1_hld.avg_pert, f1_all_hld_diff=f1_all.avg_pert - f1_hld.avg_pert)
    options = dict(n_points=n_points, bandwidth=bandwidth)
    curves_all, status_all = spline_curves(table_all, **options)
    curves_hld, status_hld = spline_curves(table_hld, **options)
    failed = sorted({f"{k}:{v}" for s in (status_all, status_hld) for k, v in s.items() if v != "ok"})
    row["status"] = "ok" if not failed else "failed " + ",".join(failed)
    names = sorted(set(curves_all) & set(curves_hld))
    nan = float("nan")
    if names:
        rmse = rmse_by_perturbation(curves_all, curves_hld)
        reflect = rmse_by_perturbation(curves_all, curves_hld, method="svd", allow_reflection=True)
        row.update(initial_rmse=rmse["avg_pert"]["initial"], aligned_rmse=rmse["avg_pert"]["aligned"],
                   aligned_rmse_reflect=reflect["avg_pert"]["aligned"],
                   joint_aligned_rmse=joint_aligned_rmse(curves_all, curves_hld))
        across, covariance = [], []
        for name in names:
            aligned = horn_quaternion(curves_all[name], curves_hld[name]).apply(curves_hld[name])
            across.append(segment_colinearity(aligned, curves_all[name], n_segments=n_segments))
            covariance.append(segment_covariance(aligned, curves_all[name], n_segments=n_segments))
            row[f"aligned_rmse_{name}"] = rmse[name]["aligned"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            row.update(across_colinearity=float(np.nanmean(across)), across_covariance=float(np.nanmean(covariance)))
        stacked = np.vstack([curves_all[n] for n in names])
        row["curve_scale"] = float(np.sqrt(np.mean(np.sum((stacked - stacked.mean(axis=0)) ** 2, axis=1))))
        row["relative_aligned_rmse"] = row["aligned_rmse"] / row["curve_scale"] if row["curve_scale"] > 0 else nan
    else:
        row.update(initial_rmse=nan, aligned_rmse=nan, aligned_rmse_reflect=nan, joint_aligned_rmse=nan,
                   across_colinearity=nan, across_covariance=nan, curve_scale=nan, relative_aligned_rmse=nan)
    for label, curves in (("all", curves_all), ("hld", curves_hld)):
        if len(curves) >= 2:
            mean, sd = within_colinearity(curves, n_segments=n_segments)
            summary = dispersion_summary(curves, n=n_dispersion)
        else:
            mean, sd, summary = nan, nan, {"first_n": nan, "last_n": nan, "disp_coefficient": nan}
        row[f"within_colinearity_{label}"], row[f"within_colinearity_{label}_sd"] = mean, sd
        row.update({f"{key}_{label}": value for key, value in summary.items()})
    return row


def evaluate_sweep(
    models: Sequence[tuple[dict, pd.DataFrame, pd.DataFrame]], *, n_jobs: int = 1, **options
) -> pd.DataFrame:
    """Evaluate precomputed embeddings ``[(params, table_all, table_hld), ...]``; one row per model.

    ``n_jobs > 1`` evaluates models in parallel processes (joblib); the table
    is the same, in the same order.
    """
    n_jobs = check_integer(n_jobs, "n_jobs", minimum=1)
    models = list(models)
    for i, model in enumerate(models):
        if not (isinstance(model, tuple) and len(model) == 3):
            raise TypeError(f"models[{i}] must be a (params, table_all, table_hld) tuple, got {type(model).__name__}")
    if n_jobs == 1:
        rows = [evaluate_model(a, h, p, **options) for p, a, h in models]
    else:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=n_jobs)(delayed(evaluate_model)(a, h, p, **options) for p, a, h in models)
    return pd.DataFrame([{"model_index": i, **row} for i, row in enumerate(rows)])


def run_sweep(
    table: pd.DataFrame,
    configs: Sequence,
    *,
    held_out: Sequence[str] = HELD_OUT,
    verbose: bool = False,
    **options,
) -> pd.DataFrame:
    """Train every configuration twice ("all" and "hld") on ``table`` and evaluate each pair.

    Parameters
    ----------
    table : pandas.DataFrame
        Raw frames (e.g. :func:`latentlab.sweep.simulate.simulate_trajectories`):
        metadata columns plus observation columns named ``x_..``.
    configs : sequence of EmbeddingConfig
        One per model; ``config.seed`` seeds both instances, so the same
        configs give the same table.
    held_out : sequence of str
        Perturbations the "hld" instance never sees in training.
    **options
        Passed to :func:`evaluate_model`.
    """
    from tqdm import tqdm

    from latentlab.sweep.models import train_embedding_model

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    columns = [c for c in table.columns if c.startswith("x_")]
    if not columns:
        raise ValueError("table must have observation columns named 'x_00', 'x_01', ...")
    X = table[columns].to_numpy(dtype=float)
    embryos, stage = table["embryo_id"].to_numpy(), table["predicted_stage_hpf"].to_numpy(dtype=float)
    keep = ~table["phenotype"].isin(list(held_out)).to_numpy()
    meta = table[["embryo_id", "snip_id", "phenotype", "predicted_stage_hpf"]].reset_index(drop=True)
    rows = []
    for index, config in enumerate(tqdm(configs, disable=not verbose, desc="sweep")):
        instances = []
        for mask in (np.ones(len(X), bool), keep):
            model = train_embedding_model(X[mask], embryos[mask], stage[mask], config)
            Z = model.embed(X)
            embedded = pd.DataFrame(Z, columns=[f"z_mu_b_{j:02d}" for j in range(Z.shape[1])])
            instances.append(pd.concat([meta, embedded], axis=1))
        rows.append({"model_index": index, **evaluate_model(*instances, config.as_params(), **options)})
    return pd.DataFrame(rows)
