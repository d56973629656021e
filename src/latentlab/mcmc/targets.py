"""Log-posterior targets for emcee over component parameters θ and subgroup weights π.

- :class:`MarginalTarget`: p(θ | x, π) with π fixed (the reference's "fixed
  mixture" target), the incomplete likelihood times Beta priors on θ.
- :class:`ConditionalTarget`: p(θ, π | z, x) given hard assignments (the
  complete likelihood). π[:, s] is sampled through additive log-ratios
  u (K−1 per subgroup) with a Dirichlet(α) prior and its Jacobian.

Reference behaviour: lymixture puts uniform [0, 1] boxes on every weight and
renormalises them, which leaves a flat, unidentified scale direction; here
every point of the sampler's space maps to exactly one simplex point.
Both targets are vectorised over walkers (``emcee`` with ``vectorize=True``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, log_softmax

from latentlab._lse import logsumexp
from latentlab._validation import check_array, check_in_range, check_positive, check_probabilities

__all__ = ["simplex_from_alr", "alr_from_simplex", "log_beta_prior", "MarginalTarget", "ConditionalTarget"]


def simplex_from_alr(u: np.ndarray) -> np.ndarray:
    """Map log-ratios u (..., K−1, S) to weights (..., K, S); the last component is the reference.

    Examples
    --------
    >>> np.round(simplex_from_alr(np.zeros((1, 2))), 2)
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    u = check_array(u, "u")
    if u.ndim < 2:
        raise ValueError(f"u must have at least 2 axes (..., K-1, S), got shape {u.shape}")
    padded = np.concatenate([u, np.zeros(u.shape[:-2] + (1, u.shape[-1]))], axis=-2)
    return np.exp(log_softmax(padded, axis=-2))


def alr_from_simplex(weights: np.ndarray) -> np.ndarray:
    """Inverse of :func:`simplex_from_alr` (weights must be > 0)."""
    w = check_probabilities(weights, "weights", sums_to_one_axis=-2)
    if w.ndim < 2 or np.any(w <= 0):
        raise ValueError("weights must have shape (..., K, S) with every entry > 0")
    return np.log(w[..., :-1, :]) - np.log(w[..., -1:, :])


def log_beta_prior(theta: np.ndarray, a: float = 1.0, b: float = 1.0) -> np.ndarray:
    """Σ_j log Beta(θ_j | a, b) over the last axis; −∞ outside [0, 1].

    Examples
    --------
    >>> float(log_beta_prior(np.array([0.5, 0.2])))
    0.0
    >>> float(log_beta_prior(np.array([1.2])))
    -inf
    """
    theta = check_array(theta, "theta", finite=False)
    if np.isnan(theta).any():
        raise ValueError("theta must not hold NaN")
    a, b = check_positive(a, "a"), check_positive(b, "b")
    inside = np.all((theta >= 0) & (theta <= 1), axis=-1)
    t = np.clip(theta, 1e-300, 1 - 1e-16)
    log_norm = gammaln(a + b) - gammaln(a) - gammaln(b)
    value = np.sum(log_norm + (a - 1) * np.log(t) + (b - 1) * np.log1p(-t), axis=-1)
    return np.where(inside, value, -np.inf)


class _Target:
    def __init__(self, component, data, subgroup_index, n_components: int, prior=(1.0, 1.0)) -> None:
        self.component, self.data = component, data
        self.subgroup_index = check_array(subgroup_index, "subgroup_index", ndim=1, dtype=int)
        check_in_range(self.subgroup_index, "subgroup_index", 0, np.inf)
        prior = check_array(prior, "prior", shape=(2,))
        if np.any(prior <= 0):
            raise ValueError(f"prior must hold two Beta shape parameters > 0, got {prior.tolist()}")
        self.n_subgroups = int(self.subgroup_index.max()) + 1
        self.K, self.P = int(n_components), component.n_params
        self.prior = prior

    def _theta_loglik(self, flat: np.ndarray):
        """Split walkers (W, ·) into θ (W, K, P), evaluate ll (N, W, K) and the Beta log prior (W,)."""
        W = len(flat)
        theta = flat[:, : self.K * self.P].reshape(W, self.K, self.P)
        log_prior = log_beta_prior(theta.reshape(W, -1), *self.prior)
        safe = np.where(np.isfinite(log_prior)[:, None, None], theta, 0.5)
        ll = self.component.log_likelihoods(safe.reshape(W * self.K, self.P), self.data)
        return ll.reshape(-1, W, self.K), log_prior


class MarginalTarget(_Target):
    """log p(θ | x, π) up to a constant: Σ_i log Σ_k π_{k,s(i)} p(x_i|θ_k) + Σ log Beta(θ).

    Call with a flat vector (K·P,) or a walker array (W, K·P); returns a float or (W,).
    """

    def __init__(self, component, data, weights, subgroup_index, prior=(1.0, 1.0)) -> None:
        weights = check_probabilities(weights, "weights", sums_to_one_axis=0)
        super().__init__(component, data, subgroup_index, weights.shape[0], prior)
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(weights)[:, self.subgroup_index].T  # (N, K)
        self.ndim = self.K * self.P

    def __call__(self, flat):
        flat = np.asarray(flat, dtype=float)
        single = flat.ndim == 1
        flat = np.atleast_2d(flat)
        ll, log_prior = self._theta_loglik(flat)
        value = logsumexp(ll + self.log_weights[:, None, :], axis=2).sum(axis=0) + log_prior
        value = np.where(np.isfinite(log_prior), value, -np.inf)
        return float(value[0]) if single else value


class ConditionalTarget(_Target):
    """log p(θ, u | z, x): complete likelihood at hard z, Beta priors on θ, Dirichlet(α) on π = alr⁻¹(u).

    The flat vector is ``[θ (K·P), u ((K−1)·S)]``. Change z with :meth:`set_latent`.
    """

    def __init__(self, component, data, subgroup_index, n_components: int, latent, alpha: float = 1.0,
                 prior=(1.0, 1.0)) -> None:
        super().__init__(component, data, subgroup_index, n_components, prior)
        self.alpha = check_positive(alpha, "alpha")
        self.ndim = self.K * self.P + (self.K - 1) * self.n_subgroups
        self.set_latent(latent)

    def set_latent(self, latent) -> None:
        z = check_array(latent, "latent", shape=(len(self.subgroup_index),), dtype=int)
        self.z = z
        self.counts = np.zeros((self.K, self.n_subgroups))
        np.add.at(self.counts, (z, self.subgroup_index), 1.0)

    def __call__(self, flat):
        flat = np.asarray(flat, dtype=float)
        single = flat.ndim == 1
        flat = np.atleast_2d(flat)
        W = len(flat)
        ll, log_prior = self._theta_loglik(flat)
        u = flat[:, self.K * self.P:].reshape(W, self.K - 1, self.n_subgroups)
        log_pi = log_softmax(np.concatenate([u, np.zeros((W, 1, self.n_subgroups))], axis=1), axis=1)
        picked = ll[np.arange(len(self.z)), :, self.z]  # (N, W): log p(x_i | θ_{z_i})
        data_term = np.where(np.isfinite(picked), picked, -np.inf).sum(axis=0)
        a = self.alpha
        # Dirichlet(α) density of π times the ALR Jacobian Π_k π_k  ->  Σ_k α log π_k + const
        log_dirichlet = gammaln(a * self.K) - self.K * gammaln(a) + a * log_pi.sum(axis=1)
        value = data_term + np.einsum("ks,wks->w", self.counts, log_pi) + log_dirichlet.sum(axis=1) + log_prior
        value = np.where(np.isfinite(log_prior), value, -np.inf)
        return float(value[0]) if single else value
