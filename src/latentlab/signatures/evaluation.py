"""Comparing fitted signatures with the truth (simulations) and held-out discrimination."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import roc_auc_score

from latentlab._validation import check_array

__all__ = ["match_signatures", "matched_correlation", "event_auc"]


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


def event_auc(scores, outcomes) -> float:
    """ROC AUC of risk ``scores`` for binary ``outcomes`` (scikit-learn); NaN if one class only."""
    s = np.ravel(check_array(scores, "scores"))
    y = np.ravel(check_array(outcomes, "outcomes", shape=np.shape(scores), dtype=bool))
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))
