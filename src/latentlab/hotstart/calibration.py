"""Calibration of a master checkpoint: measure it, interval it, and fix its level.

* :func:`hazard_ratio` compares predicted with true (simulated) hazards over a
  window, summed over the person-disease-years still at risk: 1 is calibrated.
* :func:`poisson_interval` is the exact (Garwood) interval of a Poisson count,
  for calibration bins that hold a handful of events.
* :func:`recalibrate` shifts a master's signature logits so that the λ-only
  prediction pipeline, run on the *training* batches with their follow-up cut at
  enrollment, predicts as many diagnoses after enrollment as those batches had.
  Because κσ(φ) is the only thing the likelihood sees (κ → cκ with
  σ(φ) → σ(φ)/c changes nothing), a common factor on κσ(φ) per disease cluster
  is the natural calibration parameter: it is κ, re-estimated with everything
  else frozen.

Examples
--------
>>> from latentlab.hotstart.calibration import poisson_interval
>>> low, high = poisson_interval(4)
>>> poisson_interval(0)[0], round(poisson_interval(0)[1], 3), round(low, 2), round(high, 2)
(0.0, 3.689, 1.09, 10.24)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import expit, logit
from scipy.stats import chi2

from latentlab._validation import check_array, check_integer
from latentlab.hotstart.checkpoints import Checkpoint
from latentlab.hotstart.predict import FixedSignaturePredictor, predict_hazards
from latentlab.signatures.data import SurvivalData

__all__ = [
    "at_risk_window",
    "hazard_ratio",
    "poisson_interval",
    "calibration_bins",
    "recalibrate",
]


def at_risk_window(event_times, n_times: int, start: int, stop: int) -> np.ndarray:
    """Mask (N, D, T) of the person-disease-years at risk inside ``[start, stop)``.

    A pair (i, d) is at risk at age t while t ≤ E_id (its event or censoring age).
    """
    E = check_array(event_times, "event_times", ndim=2)
    T = check_integer(n_times, "n_times", minimum=1)
    start = check_integer(start, "start", minimum=0, maximum=T - 1)
    stop = check_integer(stop, "stop", minimum=start + 1)
    t = np.arange(T)[None, None, :]
    return (t >= start) & (t < min(stop, T)) & (t <= E[:, :, None])


def hazard_ratio(predicted, true, mask, diseases: Sequence[int] | None = None) -> float:
    """Σ predicted / Σ true hazards over the masked person-disease-years.

    Parameters
    ----------
    predicted, true : array of shape (N, D, T)
    mask : bool array of shape (N, D, T)
        Usually :func:`at_risk_window`.
    diseases : sequence of int, optional
        Restrict to these diseases (a disease group).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.calibration import hazard_ratio
    >>> true = np.full((2, 1, 3), 0.01)
    >>> hazard_ratio(2 * true, true, np.ones((2, 1, 3), bool))
    2.0
    """
    predicted = check_array(predicted, "predicted", ndim=3)
    true = check_array(true, "true", shape=predicted.shape)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != predicted.shape:
        raise ValueError(f"mask must have shape {predicted.shape}; got {mask.shape}")
    if diseases is not None:
        keep = np.zeros(predicted.shape[1], bool)
        keep[np.asarray(diseases, dtype=int)] = True
        mask = mask & keep[None, :, None]
    expected = true[mask].sum()
    if not expected > 0:
        raise ValueError(
            "the mask selects no person-disease-year with a positive true hazard"
        )
    return float(predicted[mask].sum() / expected)


def poisson_interval(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean, given one observed ``count``."""
    count = check_integer(count, "count", minimum=0)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    alpha = 1 - level
    low = 0.0 if count == 0 else chi2.ppf(alpha / 2, 2 * count) / 2
    return float(low), float(chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2)


def calibration_bins(
    predicted, outcome, true_risk, *, mask=None, n_bins: int = 4, level: float = 0.95
) -> dict[str, np.ndarray]:
    """Quantile bins of predicted risk: people, events (Poisson interval), true risk.

    Parameters
    ----------
    predicted, true_risk : array of shape (N,)
        Predicted and true (simulated) risk of the same window.
    outcome : bool array of shape (N,)
    mask : bool array of shape (N,), optional
        People to use (the evaluable ones).
    n_bins : int
        Bins with (about) equal numbers of people.

    Returns
    -------
    dict of arrays, one entry per bin
        ``people``, ``mean_predicted``, ``mean_true``, ``events``, ``expected_true``
        (Σ true risk), ``observed_rate`` and its exact Poisson ``rate_low`` and
        ``rate_high``.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.calibration import calibration_bins
    >>> p = np.linspace(0.01, 0.2, 8); y = np.array([0, 0, 0, 1, 0, 1, 1, 1], bool)
    >>> calibration_bins(p, y, p, n_bins=2)["events"].tolist()
    [1, 3]
    """
    predicted = check_array(predicted, "predicted", ndim=1)
    true_risk = check_array(true_risk, "true_risk", shape=predicted.shape)
    outcome = np.asarray(outcome, dtype=bool)
    keep = np.ones(predicted.shape, bool) if mask is None else np.asarray(mask, bool)
    n_bins = check_integer(n_bins, "n_bins", minimum=1)
    p, y, r = predicted[keep], outcome[keep], true_risk[keep]
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, n_bins)
    events = np.array([int(y[i].sum()) for i in parts])
    people = np.array([len(i) for i in parts])
    bounds = np.array([poisson_interval(int(k), level) for k in events])
    return {
        "people": people,
        "mean_predicted": np.array([p[i].mean() for i in parts]),
        "mean_true": np.array([r[i].mean() for i in parts]),
        "expected_true": np.array([r[i].sum() for i in parts]),
        "events": events,
        "observed_rate": events / people,
        "rate_low": bounds[:, 0] / people,
        "rate_high": bounds[:, 1] / people,
    }


def recalibrate(
    master: Checkpoint,
    batches: Sequence[SurvivalData],
    *,
    enrollment: int,
    horizon: int,
    clusters=None,
    predictor: FixedSignaturePredictor | None = None,
    rng=0,
) -> Checkpoint:
    """Shift the signature risks until training batches are predicted at their rate.

    For every training batch (raw G) the λ-only predictor is fitted on the
    follow-up before ``enrollment``, exactly as for new people; its predicted
    hazards over ``[enrollment, enrollment + horizon)`` are summed over the
    person-disease-years at risk and compared with the diagnoses observed there.
    Every logit of κσ(φ) in a disease cluster is shifted by one number b_g, chosen so
    that predicted equals observed for that cluster (bisection; the prediction
    rises monotonically with b_g); κ is folded into σ(φ) and set to 1. For rare
    diseases σ(φ + b) ≈ e^b σ(φ): the shift is a per-cluster factor on the risk
    that can never push a hazard past 1.

    Parameters
    ----------
    master : Checkpoint
    batches : sequence of SurvivalData
        The training batches (never the people to be predicted).
    enrollment, horizon : int
    clusters : array of shape (D,), optional
        Disease clusters that share a factor (default: one factor for all).
    predictor : FixedSignaturePredictor, optional
        Settings of the λ-only fit (default: 25 epochs, learning rate 0.03).

    Returns
    -------
    Checkpoint
        ``metadata["calibration_shift"]`` holds b_g per cluster.
    """
    D, T = master.prevalence_logit.shape
    clusters = (
        np.zeros(D, int)
        if clusters is None
        else check_array(clusters, "clusters", shape=(D,), dtype=int)
    )
    settings = predictor or FixedSignaturePredictor(
        master, n_epochs=25, learning_rate=0.03
    )
    n_groups = int(clusters.max()) + 1
    observed = np.zeros(n_groups)
    thetas, windows = [], []
    for batch in batches:
        fit = FixedSignaturePredictor(
            master, n_epochs=settings.n_epochs, learning_rate=settings.learning_rate
        ).fit(batch, enrollment=enrollment, rng=rng)
        theta = np.exp(fit.lam - fit.lam.max(axis=1, keepdims=True))
        thetas.append(theta / theta.sum(axis=1, keepdims=True))
        window = at_risk_window(batch.E, T, enrollment, enrollment + horizon)
        windows.append(window)
        events = (
            window
            & batch.event[:, :, None]
            & (np.arange(T)[None, None, :] == batch.E[:, :, None])
        )
        np.add.at(observed, clusters, events.sum(axis=(0, 2)))

    base = master.kappa * expit(master.phi)
    if np.any(base >= 1):
        raise ValueError(
            "the master's κσ(φ) reaches 1; pool on the probability scale first"
        )
    base = logit(base)  # logit of the signature risks κσ(φ)

    def predicted(shift: np.ndarray) -> np.ndarray:
        total = np.zeros(n_groups)
        risk = expit(base + shift[clusters][None, :, None])
        for theta, window in zip(thetas, windows):
            hazards = np.einsum("nkt,kdt->ndt", theta, risk)
            np.add.at(total, clusters, (hazards * window).sum(axis=(0, 2)))
        return total

    if np.any(observed == 0):
        raise ValueError(
            "a cluster has no diagnosis in the training window; use fewer clusters"
        )
    # the predicted count rises monotonically with the shift: bisection per cluster
    low, high = np.full(n_groups, -10.0), np.full(n_groups, 10.0)
    for _ in range(50):
        middle = (low + high) / 2
        too_high = predicted(middle) > observed
        high = np.where(too_high, middle, high)
        low = np.where(too_high, low, middle)
    shift = (low + high) / 2
    return master.replace(
        phi=base + shift[clusters][None, :, None],
        kappa=1.0,
        metadata={
            **master.metadata,
            "calibration_shift": shift.tolist(),
            "calibration_events": observed.astype(int).tolist(),
        },
    )
