"""Discrimination and calibration of risk scores: AUC with a bootstrap interval, binned calibration.

The AUC itself comes from :func:`sklearn.metrics.roc_auc_score`; this module
only adds the percentile bootstrap over individuals (100 resamples by default,
as in the reference) and log-spaced calibration bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from latentlab._validation import (
    as_generator,
    check_array,
    check_in_range,
    check_integer,
    check_same_length,
)

__all__ = ["AucResult", "CalibrationResult", "auc_with_ci", "binned_calibration"]


@dataclass(frozen=True)
class AucResult:
    """AUC with a percentile bootstrap interval.

    Attributes
    ----------
    auc : float
        AUC on the full sample.
    low, high : float
        Bounds of the bootstrap interval at ``level``.
    level : float
    n_boot : int
        Resamples that contained both classes (the others are skipped).
    n_cases, n_controls : int
    """

    auc: float
    low: float
    high: float
    level: float
    n_boot: int
    n_cases: int
    n_controls: int


def _outcome_and_score(outcome, score, mask):
    y = check_array(outcome, "outcome", ndim=1, dtype=bool)
    s = check_array(score, "score", ndim=1)
    check_same_length({"outcome": y, "score": s})
    if mask is not None:
        keep = check_array(mask, "mask", shape=y.shape, dtype=bool)
        y, s = y[keep], s[keep]
    return y, s


def auc_with_ci(
    outcome: npt.ArrayLike,
    score: npt.ArrayLike,
    *,
    mask: npt.ArrayLike | None = None,
    n_boot: int = 100,
    level: float = 0.95,
    rng: None | int | np.random.Generator = None,
) -> AucResult:
    """AUC of ``score`` for a binary ``outcome`` with a percentile bootstrap interval.

    Parameters
    ----------
    outcome : bool array of shape (n,)
    score : array of shape (n,)
        Higher means more likely an event.
    mask : bool array of shape (n,), optional
        Rows to use (e.g. ``WindowOutcome.evaluable``: censored and prevalent
        rows excluded).
    n_boot : int
        Bootstrap resamples of individuals (0 gives the point estimate only,
        with NaN bounds).
    level : float
        Interval coverage in (0, 1).
    rng : None, int or numpy.random.Generator

    Raises
    ------
    ValueError
        If the (masked) outcome holds only one class: the AUC is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import auc_with_ci
    >>> y = np.array([0, 0, 1, 1, 0, 1] * 5, bool); s = np.arange(30) % 6
    >>> res = auc_with_ci(y, s, n_boot=50, rng=0)
    >>> round(res.auc, 3), res.low <= res.auc <= res.high
    (0.778, True)
    """
    y, s = _outcome_and_score(outcome, score, mask)
    n_boot = check_integer(n_boot, "n_boot", minimum=0)
    check_in_range(level, "level", 1e-9, 1 - 1e-9)
    n_cases = int(y.sum())
    if n_cases == 0 or n_cases == y.size:
        raise ValueError(
            f"outcome must contain both events and non-events to compute an AUC; got {n_cases} "
            f"events among {y.size} rows"
        )
    auc = float(roc_auc_score(y, s))
    generator = as_generator(rng)
    draws = []
    for _ in range(n_boot):
        index = generator.integers(0, y.size, size=y.size)
        yb = y[index]
        if yb.all() or not yb.any():
            continue
        draws.append(roc_auc_score(yb, s[index]))
    if draws:
        alpha = (1 - level) / 2
        low, high = (float(v) for v in np.quantile(draws, [alpha, 1 - alpha]))
    else:
        low = high = float("nan")
    return AucResult(
        auc=auc, low=low, high=high, level=float(level), n_boot=len(draws),
        n_cases=n_cases, n_controls=int(y.size - n_cases),
    )


@dataclass(frozen=True)
class CalibrationResult:
    """Mean predicted risk against the observed event rate, bin by bin.

    Attributes
    ----------
    edges : ndarray of shape (n_bins + 1,)
    mean_predicted, observed_rate : ndarray of shape (n_bins,)
        NaN in empty bins.
    counts : ndarray of int, shape (n_bins,)
    """

    edges: np.ndarray
    mean_predicted: np.ndarray
    observed_rate: np.ndarray
    counts: np.ndarray

    @property
    def overall_predicted(self) -> float:
        """Mean predicted risk over every binned row."""
        filled = self.counts > 0
        return float(np.sum(self.mean_predicted[filled] * self.counts[filled]) / self.counts.sum())

    @property
    def overall_observed(self) -> float:
        """Observed event rate over every binned row."""
        filled = self.counts > 0
        return float(np.sum(self.observed_rate[filled] * self.counts[filled]) / self.counts.sum())


def binned_calibration(
    predicted: npt.ArrayLike,
    outcome: npt.ArrayLike,
    *,
    mask: npt.ArrayLike | None = None,
    n_bins: int = 10,
    log_spaced: bool = True,
) -> CalibrationResult:
    """Calibration table: bins of predicted risk, mean prediction and event rate per bin.

    Parameters
    ----------
    predicted : array of shape (n,)
        Predicted probabilities in (0, 1].
    outcome : bool array of shape (n,)
    mask : bool array of shape (n,), optional
        Rows to use.
    n_bins : int
    log_spaced : bool
        Log-spaced bin edges between the smallest and largest prediction (the
        reference's choice for small yearly risks); otherwise equal width.

    Returns
    -------
    CalibrationResult
        Empty bins hold NaN (an undefined rate, not zero).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import binned_calibration
    >>> p = np.array([0.01, 0.01, 0.1, 0.1]); y = np.array([0, 0, 0, 1], bool)
    >>> cal = binned_calibration(p, y, n_bins=2)
    >>> cal.mean_predicted.round(2).tolist(), cal.observed_rate.tolist()
    ([0.01, 0.1], [0.0, 0.5])
    """
    y, p = _outcome_and_score(outcome, predicted, mask)
    n_bins = check_integer(n_bins, "n_bins", minimum=1)
    if p.size == 0:
        raise ValueError("predicted must contain at least one row after masking")
    check_in_range(p, "predicted", 0.0, 1.0)
    if log_spaced:
        if np.any(p <= 0):
            raise ValueError("predicted must be > 0 for log-spaced bins; pass log_spaced=False")
        lo, hi = np.log10(p.min()), np.log10(p.max())
        edges = np.logspace(lo, hi if hi > lo else lo + 1e-12, n_bins + 1)
    else:
        lo, hi = p.min(), p.max()
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(which, weights=p, minlength=n_bins) / counts
        observed = np.bincount(which, weights=y.astype(float), minlength=n_bins) / counts
    return CalibrationResult(edges=edges, mean_predicted=mean_predicted, observed_rate=observed, counts=counts)
