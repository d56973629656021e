r"""A parameter-expanded step along the scale mode of Z and W.

Scaling factor k by c_k (⟨z_nk⟩ ← c_k⟨z_nk⟩, σ²_z ← c_k²σ²_z, and the slab of
every view's W by 1/c_k: μ ← μ/c_k, σ² ← σ²/c_k², the spike's variance by
1/c_k²) leaves ⟨x⟩ = ⟨Z⟩⟨W⟩ᵀ and ⟨x²⟩ unchanged, so the likelihood terms (and
the local bounds of Bernoulli and Poisson views) do not move; only the Z prior,
the W prior and q(α) do. With ARD and its near-flat Gamma(1e-14, 1e-14)
hyperprior the W side is (nearly) scale-free once q(α) is re-updated, so the
best c_k sets Σ_n⟨z_nk²⟩ = N. The coordinate updates approach that balance
only slowly (⟨z²⟩ starts far from 1 and decays over hundreds of iterations),
which is the slow tail of the ELBO; this step takes it in one move (a
diagonal case of the rotation of Luttinen and Ilin 2010 for VB factor
analysis, exact here because it keeps q factorised).

Every factor's change of the bound is computed exactly (Z, W and AlphaW terms,
per factor) and a factor is rescaled only where the bound does not fall, so
the ELBO stays non-decreasing.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from latentlab.mofa.elbo import gamma_terms

__all__ = ["rescale", "scale_terms"]


def scale_terms(Z_mean, Z_var, views, ard: bool, alpha_prior) -> np.ndarray:
    """The Z, W and AlphaW terms of the ELBO per factor (length K), without
    the parts that a rescaling leaves unchanged (θ, γ entropies, constants).

    ``views`` holds ``(mu, var, gamma, spike_var, alpha_a, alpha_b)`` per view;
    with ``ard=False`` α is fixed at 1 (``alpha_a``, ``alpha_b`` ignored).
    Differences of this function between two states equal the differences of
    :func:`latentlab.mofa.inference.elbo_terms` (Z + W + AlphaW), factor by factor.

    Examples
    --------
    >>> from latentlab.mofa.expansion import scale_terms
    >>> one = np.ones((3, 1))
    >>> view = (0 * one, one, one, np.ones(1), np.ones(1), np.ones(1))
    >>> Z_mean, Z_var = np.zeros((4, 1)), np.ones((4, 1))
    >>> scale_terms(Z_mean, Z_var, [view], False, (1.0, 1.0)).tolist()
    [-3.5]
    """
    out = -0.5 * np.sum(Z_mean**2 + Z_var, axis=0) + 0.5 * np.sum(np.log(Z_var), axis=0)
    for mu, var, gamma, spike_var, alpha_a, alpha_b in views:
        D = mu.shape[0]
        if ard:
            alpha_mean = alpha_a / alpha_b
            alpha_log = digamma(alpha_a) - np.log(alpha_b)
            out = out + gamma_terms(*alpha_prior, alpha_a, alpha_b)
        else:
            alpha_mean, alpha_log = np.ones(mu.shape[1]), np.zeros(mu.shape[1])
        hat = np.sum(gamma * (mu**2 + var) + (1 - gamma) * spike_var, axis=0)
        slab_log = np.sum(gamma * np.log(var), axis=0)
        spike = np.sum(1 - gamma, axis=0)
        out = out + 0.5 * D * alpha_log - 0.5 * alpha_mean * hat + 0.5 * slab_log
        out = out - 0.5 * spike * np.log(alpha_mean)
    return out


def _best_scale(Z_mean, Z_var, views, ard: bool) -> np.ndarray:
    """c_k maximising the bound: √(N/Σ⟨z²⟩) with ARD; without ARD (α = 1) the
    root of A u² − (N − G) u − H = 0 in u = c²
    (A = Σ⟨z²⟩, G = Σγ, H = Σ⟨ŵ²⟩)."""
    N = Z_mean.shape[0]
    A = np.sum(Z_mean**2 + Z_var, axis=0)
    if ard:
        return np.sqrt(N / A)
    G = sum(np.sum(view[2], axis=0) for view in views)
    H = sum(np.sum(gamma * (mu**2 + var) + (1 - gamma) * spike, axis=0)
            for mu, var, gamma, spike, _, _ in views)
    u = ((N - G) + np.sqrt((N - G) ** 2 + 4 * A * H)) / (2 * A)
    return np.sqrt(u)


def rescale(state, ard: bool, alpha_prior) -> np.ndarray:
    """Rescale the factors of ``state`` in place where that raises the bound.

    q(α) is re-updated for the rescaled weights (its exact coordinate
    update). Returns the scales applied (1 where a factor was left alone).

    Examples
    --------
    >>> from latentlab.mofa import simulate_mofa
    >>> from latentlab.mofa.data import prepare_views
    >>> from latentlab.mofa.expansion import rescale
    >>> from latentlab.mofa.inference import Options, initial_state, sweep
    >>> sim = simulate_mofa(n_samples=40, view_sizes=(10, 8), rng=0)
    >>> data, _ = prepare_views(sim.views)
    >>> state = initial_state(data, 3, "pca", np.random.default_rng(0))
    >>> sweep(data, state, Options(rescale=False), 1)
    >>> scales = rescale(state, True, Options().alpha_prior)
    >>> np.round(np.sum(state.Z_mean**2 + state.Z_var, axis=0), 6).tolist()
    [40.0, 40.0, 40.0]
    """
    old = [(vs.mu, vs.var, vs.gamma, vs.spike_var, vs.alpha_a, vs.alpha_b)
           for vs in state.views]
    c = _best_scale(state.Z_mean, state.Z_var, old, ard)
    c2 = c**2
    new = []
    for mu, var, gamma, spike_var, alpha_a, alpha_b in old:
        mu, var, spike_var = mu / c, var / c2, spike_var / c2
        if ard:
            hat = gamma * (mu**2 + var) + (1 - gamma) * spike_var
            alpha_a = np.full_like(alpha_a, alpha_prior[0] + 0.5 * mu.shape[0])
            alpha_b = alpha_prior[1] + 0.5 * hat.sum(axis=0)
        new.append((mu, var, gamma, spike_var, alpha_a, alpha_b))
    before = scale_terms(state.Z_mean, state.Z_var, old, ard, alpha_prior)
    after = scale_terms(state.Z_mean * c, state.Z_var * c2, new, ard, alpha_prior)
    keep = np.isfinite(after) & (after >= before)
    if not keep.any():
        return np.ones_like(c)
    c = np.where(keep, c, 1.0)
    state.Z_mean = state.Z_mean * c
    state.Z_var = state.Z_var * c**2
    for vs, (mu, var, _, spike_var, alpha_a, alpha_b) in zip(state.views, new):
        vs.mu = np.where(keep, mu, vs.mu)
        vs.var = np.where(keep, var, vs.var)
        vs.spike_var = np.where(keep, spike_var, vs.spike_var)
        vs.alpha_a = np.where(keep, alpha_a, vs.alpha_a)
        vs.alpha_b = np.where(keep, alpha_b, vs.alpha_b)
        vs.moments = None
    return c
