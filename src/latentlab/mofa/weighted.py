r"""Weighted second-moment sums for per-entry precisions, as batched matrix products.

With missing values (a 0/1 mask ``M``) or pseudo-data (a per-entry precision
``T``), the coordinate updates of W need, for every feature d, the weighted
sums ``Σ_n T_nd ⟨z_n z_nᵀ⟩`` and ``Σ_n T_nd y_nd ⟨z_n⟩``; those of Z need
``Σ_d T_nd ⟨w_d w_dᵀ⟩`` and ``Σ_d T_nd y_nd ⟨w_d⟩``. Stacking the K(K+1)/2
distinct entries of ⟨z zᵀ⟩ as the columns of an ``N × P`` matrix turns the
sums for all features into one matrix product ``Tᵀ S`` (``D × P``); after it
every coordinate step costs O(DK) (or O(NK) for Z) instead of a pass over
the ``N × D`` data per factor.

Only the mean products ⟨z_i⟩⟨z_j⟩ (i < j) are needed off the diagonal: the
factorised posterior makes ⟨z_i z_j⟩ = ⟨z_i⟩⟨z_j⟩ there, and the diagonal
holds the second moments ⟨z_k²⟩.

When ``T_nd = m_nd τ_d`` (a Gaussian view with missing entries, a Poisson
view whose curvature bound is per feature) the mask product ``Mᵀ S`` does not
depend on τ, so it is computed once per Z and shared by the τ update, the
ELBO and the next W update.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # nodes imports this module
    from latentlab.mofa.nodes import Precision

__all__ = [
    "pair_moments",
    "split_pairs",
    "feature_sums",
    "sample_sums",
    "residuals_from_sums",
]


@lru_cache(maxsize=64)
def _pairs(K: int) -> tuple[np.ndarray, np.ndarray]:
    # the (i, j), i < j, index pairs of K factors; called several times per iteration
    i, j = np.triu_indices(K, 1)
    i.flags.writeable = False
    j.flags.writeable = False
    return i, j


def pair_moments(mean: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Columns ``[⟨x_k²⟩ for k] + [⟨x_i⟩⟨x_j⟩ for i < j]`` of each row.

    The result has shape ``n × K(K+1)/2``.

    Examples
    --------
    >>> from latentlab.mofa.weighted import pair_moments
    >>> pair_moments(np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])).tolist()
    [[3.0, 5.0, 2.0]]
    """
    n, K = mean.shape
    i, j = _pairs(K)
    out = np.empty((n, K + i.size))
    out[:, :K] = second
    np.multiply(mean[:, i], mean[:, j], out=out[:, K:])
    return out


def split_pairs(sums: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """The diagonal (``m × K``) and coupling tensor ``G`` (``K × m × K``) of pair sums.

    The diagonal of each ``G[:, d, :]`` is zero.

    ``G[k, d, j]`` holds the weighted sum of ⟨x_k⟩⟨x_j⟩ for row d and j ≠ k, so
    ``Σ_{j≠k} G[k, d, j] v_dj`` is ``(G[k] * v).sum(axis=1)``.

    Examples
    --------
    >>> from latentlab.mofa.weighted import split_pairs
    >>> diag, G = split_pairs(np.array([[3.0, 5.0, 2.0]]), 2)
    >>> diag.tolist(), G[0].tolist(), G[1].tolist()
    ([[3.0, 5.0]], [[0.0, 2.0]], [[2.0, 0.0]])
    """
    m = sums.shape[0]
    i, j = _pairs(K)
    G = np.zeros((K, m, K))
    off = sums[:, K:].T
    G[i, :, j] = off
    G[j, :, i] = off
    return sums[:, :K], G


def feature_sums(
    Y: np.ndarray,
    precision: Precision,
    Z_mean: np.ndarray,
    Z_second: np.ndarray,
    *,
    pair_sums: np.ndarray | None = None,
    cross: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per feature d: ``Σ_n T_nd [⟨z²⟩ | ⟨z_i⟩⟨z_j⟩]`` and ``Σ_n T_nd y_nd ⟨z_n⟩``.

    Returns arrays of shape ``D × P`` and ``D × K``.

    ``precision`` carries either ``full`` (T itself) or ``mask`` and ``tau``
    (T = M τ_d). For the mask form ``pair_sums = Mᵀ S`` and ``cross = Yᵀ⟨Z⟩``
    may be passed if already known; ``Y`` must be 0 where missing.

    Examples
    --------
    >>> from latentlab.mofa.nodes import Precision
    >>> from latentlab.mofa.weighted import feature_sums
    >>> P = Precision(np.ones(2, bool), full=np.array([[1.0], [0.0]]))
    >>> Q, C = feature_sums(np.array([[2.0], [5.0]]), P, np.array([[1.0], [3.0]]),
    ...                     np.array([[2.0], [9.0]]))
    >>> Q.tolist(), C.tolist()
    ([[2.0]], [[2.0]])
    """
    if precision.full is not None:
        T = precision.full
        return T.T @ pair_moments(Z_mean, Z_second), (T * Y).T @ Z_mean
    if pair_sums is None:
        pair_sums = precision.mask.T @ pair_moments(Z_mean, Z_second)
    if cross is None:
        cross = Y.T @ Z_mean
    tau = precision.tau[:, None]
    return tau * pair_sums, tau * cross


def sample_sums(
    Y: np.ndarray, precision: Precision, W_mean: np.ndarray, W_second: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per sample n: ``Σ_d T_nd [⟨w²⟩ | ⟨w_i⟩⟨w_j⟩]`` and ``Σ_d T_nd y_nd ⟨w_d⟩``.

    Returns arrays of shape ``N × P`` and ``N × K``.

    Examples
    --------
    >>> from latentlab.mofa.nodes import Precision
    >>> from latentlab.mofa.weighted import sample_sums
    >>> P = Precision(np.ones(1, bool), tau=np.array([2.0, 1.0]),
    ...               mask=np.array([[1.0, 0.0]]))
    >>> H, A = sample_sums(np.array([[3.0, 0.0]]), P, np.array([[1.0], [4.0]]),
    ...                    np.array([[2.0], [17.0]]))
    >>> H.tolist(), A.tolist()
    ([[4.0]], [[6.0]])
    """
    if precision.full is not None:
        T = precision.full
        return T @ pair_moments(W_mean, W_second), (T * Y) @ W_mean
    tau = precision.tau[:, None]
    return precision.mask @ (tau * pair_moments(W_mean, W_second)), Y @ (tau * W_mean)


def residuals_from_sums(
    y_squared: np.ndarray,
    cross: np.ndarray,
    pair_sums: np.ndarray,
    W_mean: np.ndarray,
    W_second: np.ndarray,
) -> np.ndarray:
    """Σ_n m_nd ⟨(y_nd − z_n·w_d)²⟩ per feature from ``Σ m y²``, ``Yᵀ⟨Z⟩`` and ``Mᵀ S``.

    (z·w)² − Σ_k z_k² w_k² = 2 Σ_{i<j} z_i z_j w_i w_j gives
    Σ m y² − 2 Σ_k w_k C_k + Σ_k ⟨w_k²⟩ (Mᵀ⟨z_k²⟩) + 2 Σ_{i<j} w_i w_j (Mᵀ z_i z_j).

    Examples
    --------
    >>> from latentlab.mofa.weighted import residuals_from_sums
    >>> residuals_from_sums(np.array([5.0]), np.array([[5.0]]), np.array([[6.0]]),
    ...                     np.array([[1.0]]), np.array([[1.0]])).tolist()
    [1.0]
    """
    K = W_mean.shape[1]
    i, j = _pairs(K)
    return (
        y_squared
        - 2.0 * np.einsum("dk,dk->d", W_mean, cross)
        + np.einsum("dk,dk->d", W_second, pair_sums[:, :K])
        + 2.0 * np.einsum("dp,dp->d", W_mean[:, i] * W_mean[:, j], pair_sums[:, K:])
    )
