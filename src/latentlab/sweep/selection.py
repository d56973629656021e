"""Choosing a model from the sweep table: the lab note's rule, minus collapsed embeddings.

The lab note accepts a model when F1 > 0.7 and the aligned RMSE < 1
(:func:`~latentlab.sweep.reading.classify_tranche`). An RMSE in latent units
rewards a model that simply shrinks its latent space (a large KL weight pulls
every posterior mean towards 0): a collapsed embedding has tiny curves, so
every distance between them is tiny too. :func:`select_model` therefore

1. drops rows whose curve fits failed (``status != "ok"``);
2. drops *collapsed* embeddings, whose curves are smaller than
   ``scale_floor`` times the sweep's median curve size (``curve_scale``, the
   RMS distance of the curves from their centroid);
3. applies the lab note's thresholds to the rest and, among the acceptable
   models, picks the lowest aligned RMSE *relative to the curve size*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from latentlab._validation import check_positive
from latentlab.sweep.reading import classify_tranche

__all__ = ["ModelChoice", "select_model", "trend_from_interval"]


@dataclass(frozen=True)
class ModelChoice:
    """The outcome of :func:`select_model`.

    Attributes
    ----------
    row : pandas.Series or None
        The chosen model's row (None when no model is eligible and acceptable).
    collapsed : pandas.Series of bool
        Rows whose curves are smaller than ``scale_floor`` x the median size.
    failed : pandas.Series of bool
        Rows with a failed curve fit.
    acceptable : pandas.Series of bool
        Rows that pass the thresholds and are neither collapsed nor failed.
    naive_row : pandas.Series or None
        What the rule without the floor would pick: the lowest raw aligned
        RMSE among all rows in the best tranche.
    scale_threshold : float
        The curve size below which a row counts as collapsed.
    """

    row: pd.Series | None
    collapsed: pd.Series
    failed: pd.Series
    acceptable: pd.Series
    naive_row: pd.Series | None
    scale_threshold: float


def select_model(
    table: pd.DataFrame,
    *,
    f1_threshold: float = 0.7,
    rmse_threshold: float = 1.0,
    scale_floor: float = 0.25,
) -> ModelChoice:
    """Choose a model: the lab note's thresholds on non-collapsed, successfully fitted rows.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep table (:func:`~latentlab.sweep.table.run_sweep`): needs
        ``f1_all``, ``aligned_rmse``, ``curve_scale``,
        ``relative_aligned_rmse`` and ``status``.
    f1_threshold, rmse_threshold : float
        The lab note's acceptance thresholds (F1 above, RMSE below).
    scale_floor : float
        A row is collapsed when its ``curve_scale`` is below this fraction of
        the median ``curve_scale`` of the successfully fitted rows.

    Returns
    -------
    ModelChoice

    Examples
    --------
    >>> import pandas as pd
    >>> from latentlab.sweep.selection import select_model
    >>> t = pd.DataFrame({"f1_all": [0.9, 0.8, 0.9, 0.5],
    ...                   "aligned_rmse": [0.02, 0.2, 0.3, 0.1],
    ...                   "curve_scale": [0.05, 1.0, 1.2, 1.1],
    ...                   "status": ["ok"] * 4})
    >>> t["relative_aligned_rmse"] = t.aligned_rmse / t.curve_scale
    >>> choice = select_model(t)
    >>> int(choice.naive_row.name), int(choice.row.name), choice.collapsed.tolist()
    (0, 1, [True, False, False, False])
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    needed = [
        "f1_all",
        "aligned_rmse",
        "curve_scale",
        "relative_aligned_rmse",
        "status",
    ]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"table is missing the column(s) {missing}")
    scale_floor = check_positive(scale_floor, "scale_floor", strict=False)
    tranche = pd.Series(
        classify_tranche(
            table.f1_all,
            table.aligned_rmse,
            f1_threshold=f1_threshold,
            rmse_threshold=rmse_threshold,
        ),
        index=table.index,
    )
    failed = (table.status != "ok") | table.curve_scale.isna()
    median_scale = (
        float(np.median(table.curve_scale[~failed])) if (~failed).any() else np.nan
    )
    threshold = scale_floor * median_scale
    collapsed = ~failed & (table.curve_scale < threshold)
    acceptable = (tranche == "best") & ~failed & ~collapsed
    row = None
    if acceptable.any():
        row = table[acceptable].sort_values("relative_aligned_rmse").iloc[0]
    best = table[tranche == "best"]
    naive = best.sort_values("aligned_rmse").iloc[0] if len(best) else None
    return ModelChoice(row, collapsed, failed, acceptable, naive, float(threshold))


def trend_from_interval(low: float, high: float) -> str:
    """Word a correlation's direction by its confidence interval, not by its size.

    "rises" when the whole interval is above 0, "falls" when it is below 0,
    and "shows no clear trend" when it contains 0 (or is undefined).

    Examples
    --------
    >>> from latentlab.sweep.selection import trend_from_interval
    >>> trend_from_interval(0.1, 0.8), trend_from_interval(-0.9, -0.2)
    ('rises', 'falls')
    >>> trend_from_interval(-0.2, 0.6)
    'shows no clear trend'
    """
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a real number (NaN for undefined), got {type(value).__name__}")
    low, high = float(low), float(high)
    if low > high:
        raise ValueError(f"low must not exceed high; got low={low}, high={high}")
    if low > 0:
        return "rises"
    if high < 0:
        return "falls"
    return "shows no clear trend"
