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

__all__ = ["entry_folds", "cv_reconstruction_error", "fit_restarts"]


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
