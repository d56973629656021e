"""Independent chains of Metropolis-within-Gibbs on p(θ, π | x), the assignments summed out.

Data augmentation (:func:`~latentlab.mcmc.aip_sample`, exact mode) mixes slowly
when the components overlap: a patient without involvement is likely under both,
so its sampled assignment barely depends on the data and the weights follow the
assignments only slowly. Here the assignments are never sampled. Each sweep
updates, for every chain at once,

- each component's θ_k by a random walk on logit θ_k (Beta prior, Jacobian
  included), accepted on the incomplete likelihood Σ_i log Σ_k π_{k,s(i)} p(x_i | θ_k);
- each subgroup's weights π_{·,s} by a random walk on their additive log-ratios
  (Dirichlet(α) prior, Jacobian included), the subgroups independently.

Every update is a Metropolis step on the exact posterior, so each chain leaves it
invariant. Chains start from ``init`` jittered on the unconstrained scale, so that
R̂ (:func:`latentlab.mcmc.rhat`) compares chains that did not start together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit
from threadpoolctl import threadpool_limits

from latentlab._lse import logsumexp
from latentlab._validation import as_generator, check_integer, check_positive, check_probabilities
from latentlab.mixture import encode_subgroups

__all__ = ["MarginalChains", "marginal_chains"]


@dataclass(frozen=True)
class MarginalChains:
    """Draws of :func:`marginal_chains`: ``thetas`` (C, D, K, P), ``weights`` (C, D, K, S),
    acceptance rates of the θ and π moves per chain, and the subgroup labels."""

    thetas: np.ndarray
    weights: np.ndarray
    accept_theta: np.ndarray
    accept_weights: np.ndarray
    subgroup_labels: tuple


def _weights_from_alr(u: np.ndarray) -> np.ndarray:
    """(…, K − 1, S) log-ratios → (…, K, S) weights, last component the reference."""
    padded = np.concatenate([u, np.zeros(u.shape[:-2] + (1, u.shape[-1]))], axis=-2)
    return np.exp(padded - logsumexp(padded, axis=-2, keepdims=True))


@threadpool_limits.wrap(limits=1, user_api="blas")
def marginal_chains(component, X, subgroups, init_thetas, init_weights, *, stage=None,
                    n_chains: int = 4, n_iter: int = 1000, theta_scale: float = 0.2,
                    weight_scale: float = 0.5, n_weight_steps: int = 2, jitter: float = 0.3,
                    alpha: float = 1.0, prior=(1.0, 1.0), adapt: int = 0,
                    rng=None) -> MarginalChains:
    """Run ``n_chains`` independent chains for ``n_iter`` sweeps (see the module notes).

    With ``adapt > 0``, the first ``adapt`` sweeps use isotropic proposals of sizes
    ``theta_scale`` and ``weight_scale``; from then on the θ_k proposals follow the
    covariance of logit θ_k, and each subgroup's proposal the spread of its log-ratios,
    over the second half of those sweeps (pooled over chains, scaled by 2.38/√d), and
    stay fixed. Discard at least the first ``adapt`` sweeps as burn-in.

    Examples
    --------
    >>> from latentlab.mixture import BernoulliComponent, simulate_mixture
    >>> comp = BernoulliComponent(2)
    >>> theta, w = np.array([[0.9, 0.8], [0.1, 0.2]]), np.array([[1.0, 0.2], [0.0, 0.8]])
    >>> X, _, _ = simulate_mixture(comp, theta, w, [40, 40], rng=0)
    >>> res = marginal_chains(comp, X, [0] * 40 + [1] * 40, theta, [[0.9, 0.3], [0.1, 0.7]],
    ...                       n_chains=2, n_iter=50, rng=1)
    >>> res.thetas.shape, res.weights.shape
    ((2, 50, 2, 2), (2, 50, 2, 2))
    """
    C = check_integer(n_chains, "n_chains", minimum=1)
    n_iter = check_integer(n_iter, "n_iter", minimum=1)
    check_integer(n_weight_steps, "n_weight_steps", minimum=0)
    check_integer(adapt, "adapt", minimum=0)
    for value, name in ((theta_scale, "theta_scale"), (weight_scale, "weight_scale"),
                        (alpha, "alpha")):
        check_positive(value, name)
    check_positive(jitter, "jitter", strict=False)
    gen = as_generator(rng)
    data = component.prepare(X, stage)
    index, labels = encode_subgroups(subgroups)
    S = len(labels)
    theta0 = check_probabilities(init_thetas, "init_thetas")
    weights0 = check_probabilities(init_weights, "init_weights", sums_to_one_axis=0)
    K, P = theta0.shape
    if theta0.shape != (K, component.n_params) or weights0.shape != (K, S):
        raise ValueError(f"init_thetas must be (K, {component.n_params}) and init_weights "
                         f"(K, {S}); got {theta0.shape} and {weights0.shape}")
    a, b = prior
    onehot = np.eye(S)[index]                                           # (N, S)

    def clip(t):
        return np.clip(t, 1e-9, 1 - 1e-9)

    eta = logit(clip(theta0))[None] + jitter * gen.standard_normal((C, K, P))
    theta = clip(expit(eta))
    w0 = np.clip(weights0, 1e-6, None)
    u = (np.log(w0[:-1]) - np.log(w0[-1:]))[None] + jitter * gen.standard_normal((C, K - 1, S))
    weights = _weights_from_alr(u)
    ll = component.log_likelihoods(theta.reshape(C * K, P), data).reshape(-1, C, K)

    def per_patient(ll_, weights_):  # log Σ_k π_{k,s(i)} p_ik, (N, C)
        with np.errstate(divide="ignore"):
            log_w = np.log(weights_)[:, :, index].transpose(2, 0, 1)    # (N, C, K)
        return logsumexp(ll_ + log_w, axis=2)

    def log_prior_theta(t):  # Beta(a, b) on θ, in logit coordinates, per chain
        return np.sum(a * np.log(t) + b * np.log1p(-t), axis=(-1,))

    current_pp = per_patient(ll, weights)
    out_theta = np.empty((C, n_iter, K, P))
    out_weights = np.empty((C, n_iter, K, S))
    acc_t = np.zeros(C)
    acc_w = np.zeros(C)
    chol = np.broadcast_to(theta_scale * np.eye(P), (K, P, P))
    w_step = np.full((K - 1, S), weight_scale)
    for it in range(n_iter):
        if adapt and it == adapt:
            half = out_theta[:, adapt // 2: adapt].reshape(-1, K, P)
            eta_draws = logit(clip(half))
            chol = np.stack([np.linalg.cholesky(np.cov(eta_draws[:, k].T) + 1e-6 * np.eye(P))
                             for k in range(K)]) * 2.38 / np.sqrt(P)
            w_half = np.clip(out_weights[:, adapt // 2: adapt].reshape(-1, K, S), 1e-12, None)
            u_draws = np.log(w_half[:, :-1]) - np.log(w_half[:, -1:])
            w_step = 2.38 / np.sqrt(K - 1) * np.maximum(u_draws.std(axis=0), 1e-3)
        for k in range(K):
            step = np.einsum("pq,cq->cp", chol[k], gen.standard_normal((C, P)))
            prop = clip(expit(logit(theta[:, k]) + step))
            ll_prop = ll.copy()
            ll_prop[:, :, k] = component.log_likelihoods(prop, data)
            pp = per_patient(ll_prop, weights)
            with np.errstate(invalid="ignore"):
                log_ratio = (pp.sum(axis=0) - current_pp.sum(axis=0)
                             + log_prior_theta(prop) - log_prior_theta(theta[:, k]))
            accept = np.log(gen.random(C)) < np.nan_to_num(log_ratio, nan=-np.inf)
            theta[accept, k] = prop[accept]
            ll[:, accept] = ll_prop[:, accept]
            current_pp[:, accept] = pp[:, accept]
            acc_t += accept
        for _ in range(n_weight_steps):
            u_prop = u + w_step * gen.standard_normal(u.shape)
            w_prop = _weights_from_alr(u_prop)
            pp = per_patient(ll, w_prop)
            by_group = np.einsum("nc,ns->cs", pp - current_pp, onehot)    # (C, S)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_ratio = by_group + alpha * (np.log(w_prop) - np.log(weights)).sum(axis=1)
            accept = np.log(gen.random((C, S))) < np.nan_to_num(log_ratio, nan=-np.inf)
            u = np.where(accept[:, None, :], u_prop, u)
            weights = _weights_from_alr(u)
            current_pp = per_patient(ll, weights)
            acc_w += accept.mean(axis=1)
        out_theta[:, it] = theta
        out_weights[:, it] = weights
    return MarginalChains(thetas=out_theta, weights=out_weights,
                          accept_theta=acc_t / (n_iter * K),
                          accept_weights=acc_w / max(n_iter * n_weight_steps, 1),
                          subgroup_labels=labels)
