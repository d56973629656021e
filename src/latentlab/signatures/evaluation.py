"""Comparing fitted signatures with the truth (simulations) and held-out discrimination."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import roc_auc_score

from latentlab._validation import check_array, check_integer, check_positive, check_probabilities
from latentlab.signatures.data import check_survival_data

__all__ = ["match_signatures", "matched_correlation", "event_auc", "signature_contrasts", "window_outcomes", "frozen_theta_risk",
           "mean_disease_auc"]


def _profiles(phi: np.ndarray) -> np.ndarray:
    """Time-averaged φ of the disease signatures, centred per disease: (K, D)."""
    mean = phi[:-1].mean(axis=2)
    return mean - mean.mean(axis=0, keepdims=True)


def match_signatures(estimated_phi, true_phi) -> npt.NDArray[np.int64]:
    """Hungarian matching of fitted to true disease signatures (healthy stays at K).

    Signatures are compared by the correlation of their time-averaged φ
    profiles across diseases, centred per disease (which removes μ_d).

    Returns
    -------
    order : ndarray of shape (K+1,)
        ``estimated_phi[order]`` lines up with ``true_phi``; ``order[K] = K``.

    Examples
    --------
    >>> from latentlab.signatures import match_signatures
    >>> true = np.random.default_rng(0).normal(size=(4, 5, 2))
    >>> match_signatures(true[[2, 0, 1, 3]], true).tolist()
    [1, 2, 0, 3]
    """
    est = check_array(estimated_phi, "estimated_phi", ndim=3)
    tru = check_array(true_phi, "true_phi", shape=est.shape)
    a, b = _profiles(est), _profiles(tru)
    a = (a - a.mean(axis=1, keepdims=True)) / (a.std(axis=1, keepdims=True) + 1e-12)
    b = (b - b.mean(axis=1, keepdims=True)) / (b.std(axis=1, keepdims=True) + 1e-12)
    similarity = b @ a.T / a.shape[1]  # (true K, estimated K)
    rows, cols = linear_sum_assignment(-similarity)
    order = np.empty(est.shape[0], dtype=np.int64)
    order[rows] = cols
    order[-1] = est.shape[0] - 1
    return order


def matched_correlation(estimated, truth) -> float:
    """Pearson correlation of two arrays after flattening (apply the matching first)."""
    x = np.ravel(check_array(estimated, "estimated"))
    y = np.ravel(check_array(truth, "truth", shape=np.shape(estimated)))
    return float(np.corrcoef(x, y)[0, 1])


def signature_contrasts(gamma) -> npt.NDArray[np.float64]:
    """γ minus its mean over the disease signatures (columns), shape (P, K).

    θ = softmax(λ) is unchanged when every signature's λ moves by the same
    amount, so G γ_k is identified only up to a common shift across k (pinned
    only weakly by the healthy signature's prior mean). The contrasts are the
    identified part.

    Examples
    --------
    >>> from latentlab.signatures import signature_contrasts
    >>> signature_contrasts([[1.0, 3.0]]).tolist()
    [[-1.0, 1.0]]
    """
    gamma = check_array(gamma, "gamma", ndim=2)
    return gamma - gamma.mean(axis=1, keepdims=True)


def event_auc(scores, outcomes) -> float:
    """ROC AUC of risk ``scores`` for binary ``outcomes`` (scikit-learn); NaN if one class only."""
    s = np.ravel(check_array(scores, "scores"))
    y = np.ravel(check_array(outcomes, "outcomes", shape=np.shape(scores), dtype=bool))
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))


def window_outcomes(data, start: int, stop: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Events in the age window [start, stop) and who can be scored for it.

    Returns
    -------
    outcome : ndarray of bool, shape (N, D)
        Diagnosed at an age in [start, stop).
    eligible : ndarray of bool, shape (N, D)
        At risk at ``start`` (E ≥ start) and either diagnosed in the window or
        followed to ``stop − 1``; people censored inside the window are excluded.
    """
    check_survival_data(data)
    start, stop = check_integer(start, "start"), check_integer(stop, "stop")
    if not 0 <= start < stop <= data.n_times:
        raise ValueError(f"need 0 <= start < stop <= n_times = {data.n_times}, got start={start}, stop={stop}")
    in_window = (data.E >= start) & (data.E < stop)
    outcome = data.event & in_window
    eligible = (data.E >= start) & (outcome | (data.E >= stop - 1))
    return outcome, eligible


def frozen_theta_risk(theta_at, phi, kappa: float, start: int, stop: int) -> npt.NDArray[np.float64]:
    """Risk of a diagnosis in [start, stop) with θ frozen at its value at ``start``.

    risk_id = 1 − Π_{t=start}^{stop−1} (1 − κ Σ_k θ_ik σ(φ_kdt)).

    Parameters
    ----------
    theta_at : array_like of shape (N, K+1)
        Mixing weights at the last age seen in training.
    phi : array_like of shape (K+1, D, T)
    """
    theta_at = check_probabilities(theta_at, "theta_at", sums_to_one_axis=1)
    if theta_at.ndim != 2:
        raise ValueError(f"theta_at must be a 2-D array (N, K+1), got shape {theta_at.shape}")
    phi = check_array(phi, "phi", ndim=3, shape=(theta_at.shape[1], None, None))
    kappa = check_positive(kappa, "kappa")
    start = check_integer(start, "start", minimum=0, maximum=phi.shape[2] - 1)
    stop = check_integer(stop, "stop", minimum=start + 1, maximum=phi.shape[2])
    s = 1.0 / (1.0 + np.exp(-phi[:, :, start:stop]))  # (K+1, D, W)
    pi = np.clip(kappa * np.einsum("nk,kdw->ndw", theta_at, s), 0.0, 1.0 - 1e-12)
    return -np.expm1(np.log1p(-pi).sum(axis=2))


def mean_disease_auc(scores, outcome, eligible, *, min_events: int = 5) -> float:
    """Mean over diseases of the within-disease ROC AUC among eligible people.

    Diseases with fewer than ``min_events`` events (or non-events) among the
    eligible are skipped; NaN if none is left.
    """
    scores = check_array(scores, "scores", ndim=2)
    outcome = check_array(outcome, "outcome", shape=scores.shape, dtype=bool)
    eligible = check_array(eligible, "eligible", shape=scores.shape, dtype=bool)
    min_events = check_integer(min_events, "min_events", minimum=1)
    values = []
    for d in range(scores.shape[1]):
        y = outcome[eligible[:, d], d]
        if y.sum() >= min_events and (~y).sum() >= min_events:
            values.append(roc_auc_score(y, scores[eligible[:, d], d]))
    return float(np.mean(values)) if values else float("nan")
