"""Reading the sweep table: tranches, the Pareto front and what drives a metric.

:func:`classify_tranche` puts each model in a quadrant of the (F1, aligned
RMSE) plane, :func:`pareto_front` marks the models no other beats on both,
and :func:`driver_analysis` asks which hyper-parameters move a metric.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

from latentlab._validation import as_generator, check_integer
from latentlab.claims import estimate

__all__ = ["classify_tranche", "pareto_front", "driver_analysis", "spearman_text"]


def classify_tranche(f1, rmse, *, f1_threshold: float = 0.7, rmse_threshold: float = 1.0) -> np.ndarray:
    """Quadrant of the (F1, aligned RMSE) plane: "best", "second", "third", "fourth" or "undefined".

    best: F1 > 0.7 and RMSE < 1; second: F1 > 0.7, RMSE >= 1; third: F1 <= 0.7,
    RMSE < 1; fourth: F1 <= 0.7, RMSE >= 1; NaN in either gives "undefined".
    Which F1 the lab note thresholded is not recorded; the sweep table's
    ``f1_all`` and pooled ``aligned_rmse`` are our (labelled) assumption.

    Examples
    --------
    >>> from latentlab.sweep.reading import classify_tranche
    >>> classify_tranche([0.7, 0.71, 0.9, 0.2, float("nan")], [0.5, 1.0, 0.3, 3.0, 0.1]).tolist()
    ['third', 'second', 'best', 'fourth', 'undefined']
    """
    f1, rmse = np.atleast_1d(np.asarray(f1, dtype=float)), np.atleast_1d(np.asarray(rmse, dtype=float))
    if f1.shape != rmse.shape:
        raise ValueError(f"f1 and rmse must have the same length, got {f1.shape} and {rmse.shape}")
    if np.any(np.iscomplex(f1)) or np.any((f1 < 0) | (f1 > 1)):
        raise ValueError(f"f1 must lie in [0, 1] (NaN for undefined), got values from {np.nanmin(f1):g} "
                         f"to {np.nanmax(f1):g}")
    good_f1, good_rmse = f1 > f1_threshold, rmse < rmse_threshold
    out = np.where(good_f1, np.where(good_rmse, "best", "second"), np.where(good_rmse, "third", "fourth"))
    return np.where(np.isnan(f1) | np.isnan(rmse), "undefined", out).astype(object)


def pareto_front(f1, rmse) -> np.ndarray:
    """Mask of models no other model beats on both F1 (higher) and aligned RMSE (lower).

    Examples
    --------
    >>> from latentlab.sweep.reading import pareto_front
    >>> pareto_front([0.9, 0.8, 0.7, 0.95], [1.0, 0.5, 0.6, 2.0]).tolist()
    [True, True, False, True]
    """
    f1, rmse = np.asarray(f1, dtype=float), np.asarray(rmse, dtype=float)
    if f1.shape != rmse.shape or f1.ndim != 1:
        raise ValueError(f"f1 and rmse must be 1-D of the same length, got {f1.shape} and {rmse.shape}")
    valid = ~(np.isnan(f1) | np.isnan(rmse))
    geq = (f1[None, :] >= f1[:, None]) & (rmse[None, :] <= rmse[:, None])
    strict = (f1[None, :] > f1[:, None]) | (rmse[None, :] < rmse[:, None])
    dominated = np.any(geq & strict & valid[None, :], axis=1)
    return valid & ~dominated


def _row_correlations(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pearson correlation of row i of A with row i of B (NaN for a constant row)."""
    A = A - A.mean(axis=1, keepdims=True)
    B = B - B.mean(axis=1, keepdims=True)
    scale = np.sqrt(np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", B, B))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.einsum("ij,ij->i", A, B) / scale


def driver_analysis(
    table: pd.DataFrame,
    parameters: Sequence[str],
    metric: str,
    *,
    n_boot: int = 200,
    rng: None | int | np.random.Generator = None,
) -> pd.DataFrame:
    """Which hyper-parameters drive a metric across the sweep.

    Categorical parameters are coded as integers in sorted order (e.g.
    nt-xent 0, triplet 1); rows with NaN are dropped. Reported per parameter:
    ``coefficient`` (least squares on standardised parameters and metric, the
    lab note's analysis), ``spearman`` with a bootstrap 95 % interval
    (``spearman_low``, ``spearman_high``; our addition).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from latentlab.sweep.reading import driver_analysis
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame({"b": rng.uniform(size=40), "m": rng.uniform(size=40)})
    >>> t["score"] = 2 * t.b + 0.1 * rng.normal(size=40)
    >>> result = driver_analysis(t, ["b", "m"], "score", rng=0)
    >>> round(float(result.spearman["b"]), 1), bool(result.spearman_low["b"] > 0.9)
    (1.0, True)
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    columns = list(parameters) + [metric]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"table is missing the column(s) {missing}")
    data = table[columns].copy()
    for column in parameters:
        if not pd.api.types.is_numeric_dtype(data[column]):
            data[column] = data[column].map({v: i for i, v in enumerate(sorted(data[column].unique()))})
    data = data.astype(float).dropna()
    if len(data) < 4:
        raise ValueError(f"need at least 4 complete rows for a driver analysis, got {len(data)}")
    X, y = data[list(parameters)].to_numpy(), data[metric].to_numpy()
    sd = X.std(axis=0)
    Xs = np.where(sd > 0, (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)
    ys = (y - y.mean()) / (y.std() if y.std() > 0 else 1.0)
    coefficients = np.linalg.lstsq(np.column_stack([np.ones(len(ys)), Xs]), ys, rcond=None)[0][1:]
    rng = as_generator(rng)
    boots = np.empty((check_integer(n_boot, "n_boot", minimum=1), len(parameters)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = [spearmanr(X[:, j], y)[0] if sd[j] > 0 else np.nan for j in range(len(parameters))]
        draws = np.array([rng.integers(0, len(y), len(y)) for _ in range(len(boots))])
        y_ranks = rankdata(y[draws], axis=1)
        for j in range(len(parameters)):  # Spearman = Pearson on ranks, every resample
            boots[:, j] = _row_correlations(rankdata(X[draws, j], axis=1), y_ranks)
        # a constant parameter has no correlation: NaN interval, no warning
        low, high = np.nanpercentile(boots, [2.5, 97.5], axis=0)
    return pd.DataFrame({"coefficient": coefficients, "spearman": np.asarray(rho, dtype=float),
                         "spearman_low": low, "spearman_high": high}, index=list(parameters))


def spearman_text(result: pd.DataFrame, parameter: str, digits: int = 2) -> str:
    """One parameter's Spearman ρ from :func:`driver_analysis` as ``"ρ [low, high]"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from latentlab.sweep.reading import spearman_text
    >>> result = pd.DataFrame({"spearman": [0.52], "spearman_low": [0.31],
    ...                        "spearman_high": [0.7]}, index=["beta"])
    >>> spearman_text(result, "beta")
    '0.52 [0.31, 0.70]'
    """
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"result must be a pandas DataFrame, got {type(result).__name__}")
    if parameter not in result.index:
        raise ValueError(f"parameter must be one of {list(result.index)}, got {parameter!r}")
    row = result.loc[parameter]
    return estimate(row["spearman"], row["spearman_low"], row["spearman_high"], digits)

