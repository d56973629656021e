"""Classification F1 over developmental time, as MorphSeq scores an embedding.

An elastic-net multinomial logistic regression (scikit-learn) predicts the
perturbation from the embedding; the test frames (a split grouped by embryo,
so no embryo is on both sides) are binned by stage, and a one-vs-rest F1 is
computed per perturbation and stage bin.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentlab._validation import check_array, check_integer, check_positive, check_same_length

__all__ = ["F1OverTime", "embryo_grouped_split", "f1_over_time"]


@dataclass(frozen=True)
class F1OverTime:
    """Per-perturbation, per-stage-bin F1 of one embedding.

    Attributes
    ----------
    labels : tuple of str
        Perturbations (sorted).
    bin_edges : ndarray of shape (n_bins + 1,)
    f1 : ndarray of shape (n_labels, n_bins)
        One-vs-rest F1; NaN where a bin is empty or lacks positives or negatives.
    mean_f1 : dict
        label -> NaN-ignoring mean over bins ("F1_score" per perturbation).
    avg_pert : float
        Mean of ``mean_f1`` over perturbations (NaN-ignoring).
    """

    labels: tuple[str, ...]
    bin_edges: np.ndarray
    f1: np.ndarray
    mean_f1: dict
    avg_pert: float


def embryo_grouped_split(
    groups: npt.ArrayLike, *, test_size: float = 0.2, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices with every group (embryo) on one side only.

    Examples
    --------
    >>> from latentlab.sweep.classification import embryo_grouped_split
    >>> train, test = embryo_grouped_split(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"])
    >>> len(test), len(train)
    (2, 8)
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) < 2:
        raise ValueError(f"groups must be a 1-D array with at least 2 entries, got shape {groups.shape}")
    if len(np.unique(groups)) < 2:
        raise ValueError("groups must contain at least 2 distinct embryos to split")
    if not 0 < check_positive(test_size, "test_size") < 1:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train), np.sort(test)


def _binary_f1(truth, predicted):
    tp = np.sum(truth & predicted)
    fp = np.sum(~truth & predicted)
    fn = np.sum(truth & ~predicted)
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def f1_over_time(
    features: npt.ArrayLike,
    labels: npt.ArrayLike,
    stage: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    n_bins: int = 20,
    max_stage: float = 40.0,
    test_size: float = 0.2,
    seed: int = 42,
    C: float = 10.0,
    l1_ratio: float = 0.2,
    max_iter: int = 250,
    tol: float = 1e-3,
) -> F1OverTime:
    """MorphSeq's F1 over stage bins for one embedding.

    Pipeline: mean imputation, standardisation, multinomial logistic
    regression with an elastic-net penalty (saga, ``C=10``, ``l1_ratio=0.2``,
    ``max_iter=250``, ``tol=1e-3``), trained on an 80/20 split grouped by
    embryo (seed 42). Test rows with stage <= ``max_stage`` fall into
    ``n_bins`` equal-width bins; per label and bin the one-vs-rest F1 of the
    argmax predictions is computed. Saga's convergence warnings at
    ``max_iter=250`` are silenced (the reference runs with them).

    Parameters
    ----------
    features : array_like of shape (n, d)
        Embedding (NaN allowed: imputed).
    labels, stage, groups : array_like of shape (n,)
        Perturbation, stage (hpf) and embryo of each row.

    Returns
    -------
    F1OverTime

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.classification import f1_over_time
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["a", "b"], 50)
    >>> X = rng.normal(size=(100, 2)) + np.where(labels == "a", 5.0, -5.0)[:, None]
    >>> stage, groups = np.tile(np.linspace(10, 40, 10), 10), np.repeat(np.arange(10), 10)
    >>> f1_over_time(X, labels, stage, groups, n_bins=3).avg_pert
    1.0
    """
    X = check_array(features, "features", ndim=2, allow_nan=True)
    labels = np.asarray(labels).astype(str)
    stage = check_array(stage, "stage", ndim=1)
    groups = np.asarray(groups)
    check_same_length({"features": X, "labels": labels, "stage": stage, "groups": groups})
    n_bins = check_integer(n_bins, "n_bins", minimum=1)
    if np.unique(labels).size < 2:
        raise ValueError(f"labels must hold at least 2 classes to classify, got {np.unique(labels).tolist()}")
    train, test = embryo_grouped_split(groups, test_size=test_size, seed=seed)
    if np.unique(labels[train]).size < 2:
        raise ValueError("labels must hold at least 2 classes among the training embryos (groups); "
                         f"the grouped split left only {np.unique(labels[train]).tolist()}")
    model = make_pipeline(
        SimpleImputer(strategy="mean"),
        StandardScaler(),
        LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", max_iter=max_iter, tol=tol, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[train], labels[train])
    predicted = model.predict(X[test])
    truth, stage_test = labels[test], stage[test]
    keep = stage_test <= max_stage
    truth, predicted, stage_test = truth[keep], predicted[keep], stage_test[keep]
    classes = tuple(sorted(np.unique(labels)))
    low = float(stage_test.min()) if stage_test.size else 0.0
    high = float(stage_test.max()) if stage_test.size else 1.0
    edges = np.linspace(low, high if high > low else low + 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, stage_test, side="right") - 1, 0, n_bins - 1)
    f1 = np.full((len(classes), n_bins), np.nan)
    for b in range(n_bins):
        in_bin = which == b
        for k, label in enumerate(classes):
            positives = truth[in_bin] == label
            if in_bin.any() and positives.any() and (~positives).any():
                f1[k, b] = _binary_f1(positives, predicted[in_bin] == label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = {label: float(np.nanmean(f1[k])) for k, label in enumerate(classes)}
        avg = float(np.nanmean(list(means.values())))
    return F1OverTime(classes, edges, f1, means, avg)
