"""Model selection for MOFA: cross-validated reconstruction of held-out entries, restarts.

The ELBO over K is read off fitted results (``result.elbo``); these helpers
add the two checks it cannot give: how well held-out entries are predicted
(k-fold over observed entries) and whether factors come back across random
restarts.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from latentlab._validation import as_generator, check_integer
from latentlab.mofa.metrics import restart_reproducibility
from latentlab.mofa.model import MOFA

__all__ = ["entry_folds", "cv_reconstruction_error", "fit_restarts", "project_samples",
           "cv_factor_classifier"]


def entry_folds(views: Sequence[np.ndarray], n_folds: int, rng=None) -> list[np.ndarray]:
    """Assign every observed entry of every view to one of ``n_folds`` folds (−1 where missing).

    Examples
    --------
    >>> from latentlab.mofa.selection import entry_folds
    >>> folds = entry_folds([np.array([[1.0, np.nan], [2.0, 3.0]])], n_folds=3, rng=0)
    >>> int(folds[0][0, 1]), bool(set(folds[0].ravel()) <= {-1, 0, 1, 2})
    (-1, True)
    """
    n_folds = check_integer(n_folds, "n_folds", minimum=2)
    generator = as_generator(rng)
    folds = []
    for view in views:
        view = np.asarray(view, dtype=float)
        assignment = generator.integers(n_folds, size=view.shape)
        folds.append(np.where(np.isnan(view), -1, assignment))
    return folds


def cv_reconstruction_error(
    views: Sequence[np.ndarray],
    n_factors: Sequence[int],
    *,
    n_folds: int = 3,
    rng=None,
    **options,
) -> np.ndarray:
    """k-fold cross-validated mean squared error of held-out entries, per K.

    Each fold's entries are set to NaN, the model is refitted and the held-out
    entries are predicted by ⟨Z⟩⟨W⟩ᵀ plus the feature means (Gaussian views).

    Parameters
    ----------
    views : list of ndarray of shape (n_samples, n_features_m)
        Gaussian views, NaN where missing.
    n_factors : sequence of int
        The K values to compare.
    n_folds : int
    rng : None, int or numpy.random.Generator
        Draws the folds and seeds every fit.
    **options
        Passed to :class:`~latentlab.mofa.MOFA` (``verbose`` defaults to False).

    Returns
    -------
    ndarray of shape (len(n_factors), n_folds)
        Mean squared error over all held-out entries of all views.

    Examples
    --------
    >>> from latentlab.mofa import simulate_mofa
    >>> from latentlab.mofa.selection import cv_reconstruction_error
    >>> sim = simulate_mofa(n_samples=60, view_sizes=(20, 15), rng=0)
    >>> errors = cv_reconstruction_error(sim.views, [1, 5], n_folds=3, rng=0, spike_slab=False, tol=1e-4)
    >>> errors.shape, bool(errors.mean(axis=1)[1] < errors.mean(axis=1)[0])
    ((2, 3), True)
    """
    views = [np.asarray(v, dtype=float) for v in views]
    generator = as_generator(rng)
    folds = entry_folds(views, n_folds, generator)
    seed = int(generator.integers(2**31 - 1))
    options.setdefault("verbose", False)
    errors = np.empty((len(n_factors), n_folds))
    for i, K in enumerate(n_factors):
        for fold in range(n_folds):
            masked = [np.where(f == fold, np.nan, v) for v, f in zip(views, folds)]
            result = MOFA(K, **options).fit(masked, rng=seed)
            squared, count = 0.0, 0
            for name, view, f in zip(result.view_names, views, folds):
                held = f == fold
                squared += float(np.sum((result.reconstruct(name)[held] - view[held]) ** 2))
                count += int(held.sum())
            errors[i, fold] = squared / count
    return errors


def fit_restarts(views, n_factors: int, n_restarts: int, *, rng=None, **options):
    """Refit from ``n_restarts`` random initialisations; return the results and
    the best |corr| of each factor of the first fit with the others'.

    Returns
    -------
    results : list of MOFAResult
    reproducibility : ndarray of shape (n_restarts - 1, n_active_first)
        Only factors with R² ≥ 1 % in some view are compared.

    Examples
    --------
    >>> from latentlab.mofa import simulate_mofa
    >>> from latentlab.mofa.selection import fit_restarts
    >>> sim = simulate_mofa(n_samples=60, view_sizes=(20, 20), rng=0)
    >>> results, corr = fit_restarts(sim.views, 5, 3, rng=0, tol=1e-5)
    >>> len(results), corr.shape[0]
    (3, 2)
    """
    n_restarts = check_integer(n_restarts, "n_restarts", minimum=2)
    generator = as_generator(rng)
    options.setdefault("verbose", False)
    options.setdefault("init", "random")
    results = [MOFA(n_factors, **options).fit(views, rng=generator) for _ in range(n_restarts)]
    factor_sets = [r.factors[:, r.active_factors()] for r in results]
    return results, restart_reproducibility(factor_sets)


def project_samples(result, views) -> np.ndarray:
    """Posterior means of the factors of new samples, with W and τ held at a fit's values.

    For each sample only its observed entries count:
    z = (I + Σ WᵀTW)⁻¹ Σ WᵀT(x − μ) over the observed features (Gaussian views;
    a sample missing from every view gets z = 0, the prior mean).

    Parameters
    ----------
    result : MOFAResult
    views : list or dict of ndarray of shape (n_new, n_features_m)
        In the fit's view order (or keyed by its view names); NaN where missing.

    Examples
    --------
    >>> from latentlab.mofa import MOFA, simulate_mofa
    >>> from latentlab.mofa.selection import project_samples
    >>> sim = simulate_mofa(n_samples=80, view_sizes=(30, 20), rng=0)
    >>> fit = MOFA(5, spike_slab=False, verbose=False).fit([v[:60] for v in sim.views], rng=0)
    >>> Z = project_samples(fit, [v[60:] for v in sim.views])
    >>> Z.shape
    (20, 5)
    """
    if isinstance(views, dict):
        views = [views[name] for name in result.view_names]
    views = [np.asarray(v, dtype=float) for v in views]
    if len(views) != len(result.view_names):
        raise ValueError(f"views must hold the fit's {len(result.view_names)} views; got {len(views)}")
    n = views[0].shape[0]
    K = result.factors.shape[1]
    Z = np.zeros((n, K))
    for i in range(n):
        precision, rhs = np.eye(K), np.zeros(K)
        for name, view in zip(result.view_names, views):
            x = view[i]
            seen = ~np.isnan(x)
            W = result.weights[name][seen]
            tau = result.noise_precision[name][seen]
            precision += W.T @ (tau[:, None] * W)
            rhs += W.T @ (tau * (x[seen] - result.offsets[name][seen]))
        Z[i] = np.linalg.solve(precision, rhs)
    return Z


def cv_factor_classifier(views, labels, n_factors: int, *, n_folds: int = 5, rng=None,
                         classifier=None, **options) -> np.ndarray:
    """Cross-validated accuracy of a classifier on MOFA factors refitted inside each fold.

    In every stratified fold MOFA is fitted on the training samples only, the
    held-out samples are projected onto its factors (:func:`project_samples`),
    and a classifier trained on the training factors predicts them. The labels
    never reach MOFA, and the held-out samples never shape the factors.

    Parameters
    ----------
    views : list or dict of ndarray of shape (n_samples, n_features_m)
        Gaussian views, NaN where missing.
    labels : array_like of shape (n_samples,)
    n_factors : int
    n_folds : int
    rng : None, int or numpy.random.Generator
        Seeds the folds and every fit.
    classifier : scikit-learn classifier, optional
        Default: logistic regression (``max_iter=2000``).
    **options
        Passed to :class:`~latentlab.mofa.MOFA` (``verbose`` defaults to False).

    Returns
    -------
    ndarray of shape (n_folds,)
        Accuracy in each fold.
    """
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    names = list(views) if isinstance(views, dict) else None
    blocks = [np.asarray(v, dtype=float) for v in (views.values() if names else views)]
    if any(len(b) != len(labels) for b in blocks):
        raise ValueError(f"every view must have one row per label ({len(labels)})")
    n_folds = check_integer(n_folds, "n_folds", minimum=2)
    generator = as_generator(rng)
    seed = int(generator.integers(2**31 - 1))
    options.setdefault("verbose", False)
    model = LogisticRegression(max_iter=2000) if classifier is None else classifier
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    accuracies = []
    for train, test in folds.split(labels, labels):
        train_views = [b[train] for b in blocks]
        if names:
            train_views = dict(zip(names, train_views))
        fit = MOFA(n_factors, **options).fit(train_views, rng=seed)
        Z_test = project_samples(fit, [b[test] for b in blocks])
        fitted = clone(model).fit(fit.factors, labels[train])
        accuracies.append(float(np.mean(fitted.predict(Z_test) == labels[test])))
    return np.array(accuracies)
