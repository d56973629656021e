"""The start of a fit: Z from a varimax-rotated PCA of the views.

Principal axes of the stacked views mix the true factors (any rotation of them
explains the same variance); the spike-and-slab prior separates them again only
slowly, over hundreds of iterations (the slow mode that
``benchmarks/results/mofa.md`` traces). Varimax (Kaiser 1958) rotates the axes
towards sparse loadings, the structure the prior looks for, so the fit starts
close to the separated factors.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from latentlab.mofa.data import ViewData

__all__ = ["pca_start", "varimax"]


def pca_start(
    data: list[ViewData], n_factors: int, rng: np.random.Generator
) -> np.ndarray:
    """Whitened PCA scores of the stacked views (missing entries 0), features centred,
    rotated by varimax of the loadings, then rescaled to [−1, 1].

    Bernoulli and Poisson views (Poisson counts as ln(1 + y)) are standardised
    per feature and scaled to the mean feature spread of the Gaussian views, so
    raw counts do not outweigh the rest; Gaussian views enter as they are. The
    varimax rotation (orthogonal, so the scores stay whitened) turns the
    principal axes, which mix factors, towards sparse loadings, the structure
    the spike-and-slab prior looks for; without it the fit spends hundreds of
    iterations rotating the factors apart.

    Examples
    --------
    >>> from latentlab.mofa import simulate_mofa
    >>> from latentlab.mofa.data import prepare_views
    >>> from latentlab.mofa.start import pca_start
    >>> sim = simulate_mofa(n_samples=40, view_sizes=(10, 8), rng=0)
    >>> data, _ = prepare_views(sim.views)
    >>> Z = pca_start(data, 3, np.random.default_rng(0))
    >>> Z.shape, float(Z.min()), float(Z.max())
    ((40, 3), -1.0, 1.0)
    """
    blocks, spreads = [], []
    for view in data:
        Y = np.where(view.observed, view.Y, np.nan)
        if view.likelihood == "poisson":
            Y = np.log1p(Y)
        Y = Y - np.nanmean(Y, axis=0)
        sd = np.sqrt(np.nanmean(Y**2, axis=0))
        if view.likelihood == "gaussian":
            spreads.append(sd)
        else:
            Y = Y / np.where(sd > 0, sd, 1.0)
        blocks.append(np.where(view.observed, Y, 0.0))
    spread = float(np.mean(np.concatenate(spreads))) if spreads else 1.0
    blocks = [b if v.likelihood == "gaussian" else spread * b
              for b, v in zip(blocks, data)]
    stacked = np.hstack(blocks)
    n_components = min(n_factors, min(stacked.shape))
    pca = PCA(n_components=n_components, whiten=True, svd_solver="randomized",
              random_state=int(rng.integers(2**31 - 1)))
    scores = pca.fit_transform(stacked)
    loadings = pca.components_.T * np.sqrt(pca.explained_variance_)
    scores = scores @ varimax(loadings)
    if n_components < n_factors:
        extra = rng.normal(size=(stacked.shape[0], n_factors - n_components))
        scores = np.hstack([scores, extra])
    span = np.ptp(scores, axis=0)
    return 2.0 * (scores - scores.min(axis=0)) / np.where(span > 0, span, 1.0) - 1.0


def varimax(
    loadings: np.ndarray, max_iter: int = 100, tol: float = 1e-8
) -> np.ndarray:
    """The orthogonal rotation R (K × K) that maximises the varimax criterion of
    ``loadings @ R`` (Kaiser 1958; the SVD iteration).

    Examples
    --------
    >>> from latentlab.mofa.start import varimax
    >>> simple = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, -1.0]])
    >>> turn = np.array([[0.6, -0.8], [0.8, 0.6]])
    >>> back = simple @ turn @ varimax(simple @ turn)
    >>> np.round(np.abs(back), 3).tolist()  # the simple structure, columns swapped
    [[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [1.0, 0.0]]
    """
    p, k = loadings.shape
    rotation = np.eye(k)
    total = 0.0
    for _ in range(max_iter):
        rotated = loadings @ rotation
        target = rotated**3 - rotated * (np.sum(rotated**2, axis=0) / p)
        u, s, vt = np.linalg.svd(loadings.T @ target)
        rotation = u @ vt
        previous, total = total, float(s.sum())
        if previous > 0 and total < previous * (1 + tol):
            break
    return rotation
