"""Out-of-fold predictions for view fusion, with the single view chosen inside the folds.

Comparing fused classifiers with "the best single view" is optimistic when the
best view is picked after looking at every view's cross-validated accuracy. Here
the choice is part of the fitted procedure: in each outer fold the view with the
best inner cross-validated accuracy *on the training part* is chosen, and only
then is the held-out part predicted. All methods share the same outer folds, so
their out-of-fold predictions can be compared sample by sample
(:func:`paired_difference_interval`); :func:`accuracy_interval` gives a Wilson
interval for one accuracy.
"""

from __future__ import annotations

from typing import Literal, Mapping

import numpy as np
import numpy.typing as npt
from scipy.stats import norm
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentlab._validation import as_generator, check_array, check_integer, check_same_length

__all__ = ["fusion_predictions", "accuracy_interval", "paired_difference_interval"]

Array = npt.NDArray[np.float64]


def _classifier(C: float):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def fusion_predictions(
    views: Mapping[str, Array],
    labels,
    *,
    mode: Literal["early", "late", "select"],
    n_splits: int = 5,
    C: float = 0.1,
    estimator=None,
    rng: None | int | np.random.Generator = None,
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold class predictions of one fusion strategy.

    Parameters
    ----------
    views : dict of name -> ndarray of shape (n_samples, n_features_m)
    labels : array_like of shape (n_samples,)
    mode : {"early", "late", "select"}
        ``"early"``: concatenate the views, one classifier; ``"late"``: one
        classifier per view, average their probabilities; ``"select"``: the view
        with the best inner cross-validated accuracy on the training folds.
    n_splits : int
        Outer (and, for ``"select"``, inner) stratified folds.
    C : float
        Inverse L2 strength of the logistic regressions.
    estimator : scikit-learn classifier, optional
        Replaces the standardise → logistic-regression pipeline in ``"early"``
        mode (for example a pipeline with a factor model in front).
    rng : None, int or numpy.random.Generator
        Seeds the folds: the same ``rng`` gives every mode the same folds.

    Returns
    -------
    predictions : ndarray of shape (n_samples,)
    chosen : list of str
        The view chosen in each outer fold (``"select"``; else empty).

    Examples
    --------
    >>> from latentlab.nn.fusion import fusion_predictions
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 30)
    >>> views = {"a": rng.normal(size=(60, 4)) + 2 * labels[:, None], "b": rng.normal(size=(60, 3))}
    >>> predicted, chosen = fusion_predictions(views, labels, mode="select", n_splits=3, rng=0)
    >>> bool(np.mean(predicted == labels) > 0.8), chosen
    (True, ['a', 'a', 'a'])
    """
    labels = np.asarray(labels)
    blocks = {name: check_array(v, f"views[{name!r}]", ndim=2) for name, v in views.items()}
    if not blocks:
        raise ValueError("views must hold at least one view; got an empty mapping")
    check_same_length({**blocks, "labels": labels})
    if mode not in ("early", "late", "select"):
        raise ValueError(f"mode must be 'early', 'late' or 'select'; got {mode!r}")
    n_splits = check_integer(n_splits, "n_splits", minimum=2)
    seed = int(as_generator(rng).integers(2**31))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    classes = np.unique(labels)
    predictions = np.empty(len(labels), dtype=labels.dtype)
    chosen: list[str] = []
    for train, test in folds.split(labels, labels):
        if mode == "early":
            X = np.hstack(list(blocks.values()))
            model = _classifier(C) if estimator is None else _clone(estimator)
            predictions[test] = model.fit(X[train], labels[train]).predict(X[test])
        elif mode == "late":
            probabilities = np.mean(
                [_classifier(C).fit(X[train], labels[train]).predict_proba(X[test])
                 for X in blocks.values()], axis=0)
            predictions[test] = classes[probabilities.argmax(axis=1)]
        else:
            inner = StratifiedKFold(n_splits, shuffle=True, random_state=seed + 1)
            scores = {name: np.mean(cross_val_score(_classifier(C), X[train], labels[train], cv=inner))
                      for name, X in blocks.items()}
            best = max(scores, key=scores.get)
            chosen.append(best)
            X = blocks[best]
            predictions[test] = _classifier(C).fit(X[train], labels[train]).predict(X[test])
    return predictions, chosen


def _clone(estimator):
    from sklearn.base import clone

    return clone(estimator)


def accuracy_interval(correct, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for an accuracy from a boolean vector of correct calls.

    Examples
    --------
    >>> from latentlab.nn.fusion import accuracy_interval
    >>> lo, hi = accuracy_interval(np.r_[np.ones(90, bool), np.zeros(10, bool)])
    >>> round(lo, 3), round(hi, 3)
    (0.826, 0.945)
    """
    correct = np.asarray(correct, dtype=bool)
    n = correct.size
    if n == 0:
        raise ValueError("correct must hold at least one prediction; got an empty array")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    z = float(norm.ppf(0.5 + level / 2))
    p = correct.mean()
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def paired_difference_interval(correct_a, correct_b, *, level: float = 0.95, n_boot: int = 2000,
                               rng: None | int | np.random.Generator = None) -> tuple[float, float]:
    """Percentile bootstrap interval of accuracy(a) − accuracy(b) over the same samples.

    Examples
    --------
    >>> from latentlab.nn.fusion import paired_difference_interval
    >>> a = np.ones(100, bool); b = a.copy(); b[:3] = False
    >>> lo, hi = paired_difference_interval(a, b, rng=0)
    >>> bool(lo >= 0 and hi <= 0.07)
    True
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    check_same_length({"correct_a": a, "correct_b": b})
    n_boot = check_integer(n_boot, "n_boot", minimum=100)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    rows = as_generator(rng).integers(len(a), size=(n_boot, len(a)))
    differences = a[rows].mean(axis=1) - b[rows].mean(axis=1)
    tail = (1 - level) / 2
    lo, hi = np.quantile(differences, [tail, 1 - tail])
    return float(lo), float(hi)
