r"""The evidence lower bound of the multi-view factor model, node by node.

ELBO = Σ over nodes of E_q[log p] − E_q[log q], with every constant kept, so
the value is comparable with mofapy2's (which reports the same terms):

* **Y** (Gaussian view): Σ_d [−½ n_d ln 2π + ½ n_d ⟨ln τ_d⟩ − ½⟨τ_d⟩ Σ_n ⟨(y_nd − z_n w_d)²⟩],
  observed entries only. Bernoulli and Poisson views contribute their local
  bounds (:mod:`latentlab.mofa.likelihoods`).
* **Z**: Σ [−½⟨z²⟩] + ½ Σ ln σ² + NK/2 (the 2π constants cancel).
* **W**: ½ D Σ_k⟨ln α_k⟩ − ½ Σ⟨α_k⟩⟨ŵ²⟩ + ½DK + ½ Σ[γ ln σ² + (1−γ) ln(1/⟨α⟩)]
  + Σ[γ⟨ln θ⟩ + (1−γ)⟨ln(1−θ)⟩ − γ ln γ − (1−γ) ln(1−γ)].
* **Tau**, **AlphaW**: Gamma(a0, b0) prior against q = Gamma(â, b̂); **ThetaW**: Beta.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, xlogy

__all__ = [
    "gamma_term",
    "gamma_terms",
    "beta_term",
    "factors_term",
    "weights_term",
    "gaussian_term",
]

_LOG_2PI = float(np.log(2 * np.pi))


def gamma_term(a0: float, b0: float, a: np.ndarray, b: np.ndarray) -> float:
    """E_q[ln Gamma(x; a0, b0)] − E_q[ln q(x)] for q = Gamma(a, b), summed.

    Equals −KL(q ‖ p).

    Examples
    --------
    >>> from latentlab.mofa.elbo import gamma_term
    >>> round(gamma_term(2.0, 3.0, np.array([2.0]), np.array([3.0])), 12)
    0.0
    """
    return float(np.sum(gamma_terms(a0, b0, a, b)))


def gamma_terms(a0: float, b0: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`gamma_term` per entry, unsummed (an array like ``a``).

    Examples
    --------
    >>> from latentlab.mofa.elbo import gamma_terms
    >>> gamma_terms(2.0, 3.0, np.array([2.0, 4.0]), np.array([3.0, 6.0]))[0] == 0.0
    np.True_
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    mean, log_mean = a / b, digamma(a) - np.log(b)
    lb_p = a0 * np.log(b0) - gammaln(a0) + (a0 - 1) * log_mean - b0 * mean
    lb_q = a * np.log(b) - gammaln(a) + (a - 1) * log_mean - b * mean
    return lb_p - lb_q


def beta_term(a0: float, b0: float, a: np.ndarray, b: np.ndarray) -> float:
    """E_q[ln Beta(θ; a0, b0)] − E_q[ln q(θ)] for q = Beta(a, b), summed.

    Examples
    --------
    >>> from latentlab.mofa.elbo import beta_term
    >>> round(beta_term(1.0, 1.0, np.array([1.0]), np.array([1.0])), 12)
    0.0
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    total = digamma(a + b)
    log_theta, log_1m = digamma(a) - total, digamma(b) - total
    lb_p = (a0 - 1) * log_theta + (b0 - 1) * log_1m - betaln(a0, b0)
    lb_q = (a - 1) * log_theta + (b - 1) * log_1m - betaln(a, b)
    return float(np.sum(lb_p - lb_q))


def factors_term(Z_mean: np.ndarray, Z_var: np.ndarray) -> float:
    """Z node with a N(0, 1) prior: −½Σ⟨z²⟩ + ½Σ ln σ² + NK/2.

    Examples
    --------
    >>> from latentlab.mofa.elbo import factors_term
    >>> factors_term(np.zeros((3, 2)), np.ones((3, 2)))
    0.0
    """
    return float(-0.5 * np.sum(Z_mean**2 + Z_var) + 0.5 * np.sum(np.log(Z_var)) + 0.5 * Z_mean.size)


def weights_term(
    mu: np.ndarray,
    var: np.ndarray,
    gamma: np.ndarray,
    spike_var: np.ndarray,
    alpha_mean: np.ndarray,
    alpha_log: np.ndarray,
    theta_a: np.ndarray | None,
    theta_b: np.ndarray | None,
) -> float:
    """W node of one view (spike-and-slab when ``theta_a`` is given, else plain ARD).

    Parameters
    ----------
    mu, var, gamma : ndarray of shape (n_features, n_factors)
        Slab mean and variance, q(s = 1).
    spike_var : ndarray of shape (n_factors,)
        1/⟨α⟩ frozen at the W update (the variance of ŵ when s = 0).
    alpha_mean, alpha_log : ndarray of shape (n_factors,)
        ⟨α_k⟩ and ⟨ln α_k⟩ (1 and 0 for a fixed N(0, 1) prior).
    theta_a, theta_b : ndarray of shape (n_factors,) or None

    Examples
    --------
    >>> from latentlab.mofa.elbo import weights_term
    >>> one = np.ones((1, 1))
    >>> round(weights_term(0 * one, one, one, np.ones(1), np.ones(1), np.zeros(1), None, None), 4)
    0.0
    """
    D, K = mu.shape
    if theta_a is None:
        second = mu**2 + var
        lb_p = 0.5 * D * alpha_log.sum() - 0.5 * np.sum(alpha_mean * second)
        lb_q = -0.5 * (np.sum(np.log(var)) + D * K)
        return float(lb_p - lb_q)
    hat_second = gamma * (mu**2 + var) + (1 - gamma) * spike_var
    lb_p = 0.5 * D * alpha_log.sum() - 0.5 * np.sum(alpha_mean * hat_second)
    lb_q = -0.5 * D * K - 0.5 * np.sum(gamma * np.log(var) + (1 - gamma) * np.log(1.0 / alpha_mean))
    total = digamma(theta_a + theta_b)
    log_theta, log_1m = digamma(theta_a) - total, digamma(theta_b) - total
    lb_s = np.sum(gamma * log_theta + (1 - gamma) * log_1m - xlogy(gamma, gamma) - xlogy(1 - gamma, 1 - gamma))
    return float(lb_p - lb_q + lb_s)


def gaussian_term(n_observed: np.ndarray, tau_a: np.ndarray, tau_b: np.ndarray, squared_residuals: np.ndarray) -> float:
    """Expected Gaussian log-likelihood of one view over its observed entries.

    Σ_d [−½ n_d ln 2π + ½ n_d ⟨ln τ_d⟩ − ½ ⟨τ_d⟩ Σ_n⟨(y_nd − z_n w_d)²⟩].

    Examples
    --------
    >>> from latentlab.mofa.elbo import gaussian_term
    >>> round(gaussian_term(np.array([1]), np.array([1e6]), np.array([1e6]), np.array([0.0])), 4)
    -0.9189
    """
    n = np.asarray(n_observed, dtype=float)
    tau_mean, tau_log = tau_a / tau_b, digamma(tau_a) - np.log(tau_b)
    return float(np.sum(-0.5 * n * _LOG_2PI + 0.5 * n * tau_log - 0.5 * tau_mean * squared_residuals))
