r"""Coordinate-ascent updates of the variational nodes Z, W, α, θ and τ.

Each function is pure: it takes the current moments and returns the new
variational parameters. The noise precision enters as a :class:`Precision`:
one value per feature on the observed rows (``T_nd = rows_n τ_d``, which
lets the updates use Gram matrices), one value per feature times a 0/1 mask
(``T_nd = m_nd τ_d``: any missingness pattern), or a full ``N × D`` matrix
(Bernoulli pseudo-data). For the last two, the weighted second-moment sums of
all features come from one matrix product each (:mod:`latentlab.mofa.weighted`),
after which every coordinate step costs O(DK) (W) or O(NK) (Z).

Notes
-----
For factor k of a view (book notation, ⟨·⟩ under q):

.. math::

    λ_{dk} = \sum_n τ_{nd}⟨z_{nk}^2⟩ + ⟨α_k⟩, \quad
    r_{dk} = \sum_n τ_{nd}⟨z_{nk}⟩\Big(y_{nd} - \sum_{j≠k}⟨z_{nj}⟩⟨s_{dj}w_{dj}⟩\Big),

μ = r/λ, σ² = 1/λ and, with spike-and-slab,
γ = σ(⟨ln θ⟩ − ⟨ln(1−θ)⟩ + ½ ln⟨α⟩ − ½ ln λ + ½ r²/λ).

Reference behaviour: as in mofapy2 the γ update uses ln⟨α⟩ (not ⟨ln α⟩), and
the second moment of the spike ŵ is frozen at 1/⟨α⟩ of the W update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit

from latentlab.mofa import weighted as _weighted

__all__ = [
    "Precision",
    "update_weights",
    "update_factors",
    "update_ard",
    "update_sparsity",
    "update_noise",
    "expected_squared_residuals",
    "weight_moments",
]


@dataclass(frozen=True)
class Precision:
    """Noise precision of one view: per feature on observed rows, masked, or per entry.

    Attributes
    ----------
    rows : ndarray of bool, shape (n_samples,)
    tau : ndarray of shape (n_features,), optional
        Per-feature precision (used when ``full`` is None).
    full : ndarray of shape (n_samples, n_features), optional
        Per-entry precision, 0 where the entry is missing.
    mask : ndarray of float, shape (n_samples, n_features), optional
        1.0 where observed, 0.0 where missing: the precision is ``mask * tau``.
    """

    rows: np.ndarray
    tau: np.ndarray | None = None
    full: np.ndarray | None = None
    mask: np.ndarray | None = None

    @property
    def per_entry(self) -> bool:
        """Whether the precision varies within a feature's observed rows (mask or full)."""
        return self.full is not None or self.mask is not None

    def subset(self, index: np.ndarray) -> "Precision":
        """The precision of a subset of samples (for minibatches)."""
        full = None if self.full is None else self.full[index]
        mask = None if self.mask is None else self.mask[index]
        return Precision(self.rows[index], self.tau, full, mask)


def _observed_rows(rows: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays restricted to observed rows, without a copy when every row is observed."""
    if rows.all():
        return arrays
    return tuple(a[rows] for a in arrays)


def weight_moments(mu, var, gamma):
    """Return ⟨s w⟩ and ⟨(s w)²⟩ of the spike-and-slab weights.

    Examples
    --------
    >>> from latentlab.mofa.nodes import weight_moments
    >>> [float(v) for v in weight_moments(np.array(2.0), np.array(1.0), np.array(0.5))]
    [1.0, 2.5]
    """
    return gamma * mu, gamma * (mu**2 + var)


def update_weights(
    Y: np.ndarray,
    precision: Precision,
    Z_mean: np.ndarray,
    Z_second: np.ndarray,
    W_mean: np.ndarray,
    alpha: np.ndarray,
    log_theta_odds: np.ndarray | None,
    *,
    scale: float = 1.0,
    cross: np.ndarray | None = None,
    pair_sums: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One coordinate-ascent sweep over the factors of q(W) of one view.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_features)
        (Pseudo-)data, 0 where missing.
    precision : Precision
    Z_mean, Z_second : ndarray of shape (n_samples, n_factors)
        ⟨z⟩ and ⟨z²⟩.
    W_mean : ndarray of shape (n_features, n_factors)
        Current ⟨s w⟩; factor k uses the fresh values of factors < k.
    alpha : ndarray of shape (n_factors,)
        ⟨α_k⟩.
    log_theta_odds : ndarray of shape (n_factors,) or None
        ⟨ln θ_k⟩ − ⟨ln(1 − θ_k)⟩; ``None`` for plain ARD (γ = 1).
    scale : float
        Multiplies the data statistics (N/|B| for a minibatch).
    cross : ndarray of shape (n_features, n_factors), optional
        Yᵀ⟨Z⟩ (Y is 0 where missing), if already computed (not for ``full``).
    pair_sums : ndarray of shape (n_features, K(K+1)/2), optional
        ``Mᵀ S`` of :func:`latentlab.mofa.weighted.feature_sums` (``mask`` only).

    Returns
    -------
    mu, var, gamma : ndarray of shape (n_features, n_factors)

    Examples
    --------
    >>> from latentlab.mofa.nodes import Precision, update_weights
    >>> Z = np.array([[1.0], [-1.0]])
    >>> Y = 2 * Z
    >>> mu, var, gamma = update_weights(Y, Precision(np.ones(2, bool), tau=np.ones(1)),
    ...                                 Z, Z**2, np.zeros((1, 1)), np.array([1e-9]), None)
    >>> round(float(mu[0, 0]), 6), round(float(var[0, 0]), 6)
    (2.0, 0.5)
    """
    D, K = W_mean.shape
    W_mean = W_mean.copy()
    mu, var, gamma = np.empty((D, K)), np.empty((D, K)), np.ones((D, K))
    if not precision.per_entry:
        rows, tau = precision.rows, precision.tau
        Yo, Zo, Z2o = _observed_rows(rows, Y, Z_mean, Z_second)
        C = Yo.T @ Zo if cross is None else cross
        G = Zo.T @ Zo
        s = Z2o.sum(axis=0)
    else:
        sums, C = _weighted.feature_sums(Y, precision, Z_mean, Z_second,
                                         pair_sums=pair_sums, cross=cross)
        TZ2, coupling = _weighted.split_pairs(sums, K)
    for k in range(K):
        if not precision.per_entry:
            lam = scale * tau * s[k] + alpha[k]
            r = scale * tau * (C[:, k] - W_mean @ G[:, k] + W_mean[:, k] * G[k, k])
        else:
            lam = scale * TZ2[:, k] + alpha[k]
            r = scale * (C[:, k] - np.einsum("dj,dj->d", coupling[k], W_mean))
        mu[:, k] = r / lam
        var[:, k] = 1.0 / lam
        if log_theta_odds is not None:
            logit = log_theta_odds[k] + 0.5 * np.log(alpha[k]) - 0.5 * np.log(lam) + 0.5 * r**2 / lam
            gamma[:, k] = expit(logit)
        W_mean[:, k] = gamma[:, k] * mu[:, k]
    return mu, var, gamma


def update_factors(
    Ys: list[np.ndarray],
    precisions: list[Precision],
    Z_mean: np.ndarray,
    W_means: list[np.ndarray],
    W_seconds: list[np.ndarray],
    *,
    prior_precision: float | np.ndarray = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One coordinate-ascent sweep over the factors of q(Z), all views at once.

    Returns
    -------
    Z_mean, Z_var : ndarray of shape (n_samples, n_factors)

    Examples
    --------
    >>> from latentlab.mofa.nodes import Precision, update_factors
    >>> W = np.array([[1.0], [1.0]])
    >>> Z, V = update_factors([np.array([[2.0, 2.0]])], [Precision(np.ones(1, bool), tau=np.ones(2))],
    ...                       np.zeros((1, 1)), [W], [W**2])
    >>> round(float(Z[0, 0]), 4), round(float(V[0, 0]), 4)
    (1.3333, 0.3333)
    """
    N, K = Z_mean.shape
    precision_total = np.broadcast_to(np.asarray(prior_precision, dtype=float), (N, K)).copy()
    parts = []
    sums, linear = None, None  # Σ_d T_nd [⟨w²⟩ | w_i w_j] and Σ_d T_nd y_nd w_d, per-entry views
    for Y, P, Wm, W2 in zip(Ys, precisions, W_means, W_seconds):
        if not P.per_entry:
            rows = P.rows.astype(float)
            tau_W = P.tau[:, None] * Wm
            A = (Y @ tau_W) * rows[:, None]
            B = Wm.T @ tau_W
            precision_total += rows[:, None] * (P.tau @ W2)[None, :]
            parts.append((A, B, rows))
        else:
            H, A = _weighted.sample_sums(Y, P, Wm, W2)
            sums, linear = (H, A) if sums is None else (sums + H, linear + A)
    coupling = None
    if sums is not None:
        diagonal, coupling = _weighted.split_pairs(sums, K)
        precision_total += diagonal
    Z = Z_mean.copy()
    Z_var = 1.0 / precision_total
    for k in range(K):
        numerator = np.zeros(N)
        for A, B, rows in parts:
            numerator += rows * (A[:, k] - Z @ B[:, k] + Z[:, k] * B[k, k])
        if coupling is not None:
            numerator += linear[:, k] - np.einsum("nj,nj->n", coupling[k], Z)
        Z[:, k] = Z_var[:, k] * numerator
    return Z, Z_var


def update_ard(hat_second: np.ndarray, a0: float = 1e-14, b0: float = 1e-14, *, scale=1.0):
    """q(α_k) = Gamma(a0 + D/2, b0 + ½ Σ_d ⟨ŵ_dk²⟩) (or Σ_n ⟨z_nk²⟩ for Z).

    Examples
    --------
    >>> from latentlab.mofa.nodes import update_ard
    >>> a, b = update_ard(np.ones((4, 1)), a0=1.0, b0=1.0)
    >>> float(a[0]), float(b[0])
    (3.0, 3.0)
    """
    D = hat_second.shape[0]
    return np.full(hat_second.shape[1], a0 + scale * D / 2.0), b0 + 0.5 * scale * hat_second.sum(axis=0)


def update_sparsity(gamma: np.ndarray, a0: float = 1.0, b0: float = 1.0):
    """q(θ_k) = Beta(a0 + Σ_d γ_dk, b0 + D − Σ_d γ_dk).

    Examples
    --------
    >>> from latentlab.mofa.nodes import update_sparsity
    >>> a, b = update_sparsity(np.array([[1.0], [0.0], [0.5]]))
    >>> float(a[0]), float(b[0])
    (2.5, 2.5)
    """
    on = gamma.sum(axis=0)
    return a0 + on, b0 + gamma.shape[0] - on


def expected_squared_residuals(
    Y: np.ndarray,
    observed: np.ndarray,
    rows: np.ndarray,
    row_wise: bool,
    Z_mean: np.ndarray,
    Z_second: np.ndarray,
    W_mean: np.ndarray,
    W_second: np.ndarray,
    y_squared: np.ndarray | None = None,
    cross: np.ndarray | None = None,
    pair_sums: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Σ_n over observed entries of ⟨(y_nd − z_n·w_d)²⟩, per feature.

    ``y_squared`` (Σ_n y_nd² over observed entries) and ``cross`` (Yᵀ⟨Z⟩ over
    observed rows, Y being 0 where missing) may be passed to save passes over
    the data; without ``row_wise`` so may ``pair_sums`` (``Mᵀ S`` of
    :func:`latentlab.mofa.weighted.feature_sums`) and ``mask`` (``observed``
    as floats).

    ⟨(y − zw)²⟩ = y² − 2y⟨z⟩⟨w⟩ + (Σ_k⟨z_k⟩⟨w_k⟩)² − Σ_k⟨z_k⟩²⟨w_k⟩² + Σ_k⟨z_k²⟩⟨w_k²⟩.

    Examples
    --------
    >>> from latentlab.mofa.nodes import expected_squared_residuals
    >>> Y = np.array([[1.0], [2.0]]); ok = np.ones((2, 1), bool)
    >>> Z = np.array([[1.0], [2.0]])
    >>> expected_squared_residuals(Y, ok, ok[:, 0], True, Z, Z**2 + 1, np.ones((1, 1)), np.ones((1, 1)))
    array([2.])
    """
    if row_wise:
        Yo, Zo, Z2o = _observed_rows(rows, Y, Z_mean, Z_second)
        C = Yo.T @ Zo if cross is None else cross
        G = Zo.T @ Zo
        if y_squared is None:
            y_squared = np.einsum("nd,nd->d", Yo, Yo)
        return (
            y_squared
            - 2.0 * (W_mean * C).sum(axis=1)
            + ((W_mean @ G) * W_mean).sum(axis=1)
            - W_mean**2 @ np.diag(G)
            + W_second @ Z2o.sum(axis=0)
        )
    if cross is None or y_squared is None:
        Y = np.where(observed, Y, 0.0)
    if pair_sums is None:
        O = observed.astype(float) if mask is None else mask
        pair_sums = O.T @ _weighted.pair_moments(Z_mean, Z_second)
    if cross is None:
        cross = Y.T @ Z_mean
    if y_squared is None:
        y_squared = np.einsum("nd,nd->d", Y, Y)
    return _weighted.residuals_from_sums(y_squared, cross, pair_sums, W_mean, W_second)


def update_noise(n_observed: np.ndarray, squared_residuals: np.ndarray, a0: float = 1e-3, b0: float = 1e-3):
    """q(τ_d) = Gamma(a0 + ½ n_d, b0 + ½ Σ_n ⟨(y_nd − z_n w_d)²⟩); n_d counts observed entries only.

    Examples
    --------
    >>> from latentlab.mofa.nodes import update_noise
    >>> a, b = update_noise(np.array([4]), np.array([2.0]), a0=1.0, b0=1.0)
    >>> float(a[0]), float(b[0])
    (3.0, 2.0)
    """
    return a0 + 0.5 * np.asarray(n_observed, dtype=float), b0 + 0.5 * squared_residuals


def gamma_expectations(a, b):
    """⟨x⟩ and ⟨ln x⟩ of Gamma(a, b) (rate b).

    Examples
    --------
    >>> from latentlab.mofa.nodes import gamma_expectations
    >>> [round(float(v), 4) for v in gamma_expectations(np.array(2.0), np.array(4.0))]
    [0.5, -0.9635]
    """
    return a / b, digamma(a) - np.log(b)


def beta_expectations(a, b):
    """⟨ln θ⟩ and ⟨ln(1 − θ)⟩ of Beta(a, b).

    Examples
    --------
    >>> from latentlab.mofa.nodes import beta_expectations
    >>> [round(float(v), 4) for v in beta_expectations(np.array(1.0), np.array(1.0))]
    [-1.0, -1.0]
    """
    total = digamma(a + b)
    return digamma(a) - total, digamma(b) - total
