"""The variational state, its initialisation, one full-batch sweep and the ELBO.

Update order per iteration (as in mofapy2): pseudo-data of non-Gaussian
views, then per view W, α, θ; then Z; then τ. The ELBO is evaluated after τ,
from the exact expected residuals (no "Tau trick" is needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, logit

from latentlab.mofa import elbo as _elbo
from latentlab.mofa import expansion as _expansion
from latentlab.mofa import likelihoods as _lik
from latentlab.mofa import local_bounds as _bounds
from latentlab.mofa.data import ViewData
from latentlab.mofa.nodes import (
    Precision,
    beta_expectations,
    expected_squared_residuals,
    gamma_expectations,
    update_ard,
    update_factors,
    update_noise,
    update_sparsity,
    update_weights,
)
from latentlab.mofa.start import pca_start as _pca_init
from latentlab.mofa.weighted import pair_moments

__all__ = ["Options", "ViewState", "State", "initial_state", "sweep", "elbo_terms", "keep_factors"]


@dataclass(frozen=True)
class Options:
    """Model options shared by the full-batch and stochastic sweeps."""

    ard: bool = True
    spike_slab: bool = True
    start_sparsity: int = 50
    alpha_prior: tuple[float, float] = (1e-14, 1e-14)
    theta_prior: tuple[float, float] = (1.0, 1.0)
    tau_prior: tuple[float, float] = (1e-3, 1e-3)
    rescale: bool = True  # the scale step of latentlab.mofa.expansion after each Z update


@dataclass
class ViewState:
    """Variational parameters of one view (mutable while fitting)."""

    mu: np.ndarray
    var: np.ndarray
    gamma: np.ndarray
    spike_var: np.ndarray
    alpha_a: np.ndarray
    alpha_b: np.ndarray
    theta_a: np.ndarray
    theta_b: np.ndarray
    tau_a: np.ndarray
    tau_b: np.ndarray
    Y: np.ndarray  # the (pseudo-)data the Gaussian updates see
    precision: Precision | None = None
    intercept: np.ndarray | None = None
    zeta: np.ndarray | None = None
    curvature: np.ndarray | None = None
    y_squared: np.ndarray | None = None  # Σ_n y² per feature of a Gaussian view (constant)
    residuals: np.ndarray | None = None  # expected squared residuals cached by the τ update
    cross: np.ndarray | None = None  # Yᵀ⟨Z⟩ for the current Y and Z (Gaussian views)
    mask: np.ndarray | None = None  # observed entries as 0/1 floats, views with scattered missing values
    pair_sums: np.ndarray | None = None  # Mᵀ[⟨z²⟩ | z_i z_j] for the current Z (masked Gaussian views)
    moments: tuple | None = None  # (key, ⟨x⟩, ⟨x²⟩) of the linear predictor, see linear_moments
    zeta_cache: tuple | None = None  # (ζ, λ(ζ)) of a Bernoulli view, (ζ, g(ζ)) of a Poisson view
    log_factorial: float | None = None  # Σ ln y! over observed entries of a Poisson view
    low: tuple | None = None  # (dtype, 2y − 1 or y, mask, κ) for the bound refresh
    bound: _bounds.BoundCache | None = None  # the bound's ELBO pieces at the current ζ

    @property
    def mean(self) -> np.ndarray:
        return self.gamma * self.mu

    @property
    def second(self) -> np.ndarray:
        return self.gamma * (self.mu**2 + self.var)

    @property
    def hat_second(self) -> np.ndarray:
        return self.second + (1 - self.gamma) * self.spike_var

    def alpha_moments(self, ard: bool) -> tuple[np.ndarray, np.ndarray]:
        if not ard:
            K = self.mu.shape[1]
            return np.ones(K), np.zeros(K)
        return gamma_expectations(self.alpha_a, self.alpha_b)


@dataclass
class State:
    Z_mean: np.ndarray
    Z_var: np.ndarray
    views: list[ViewState] = field(default_factory=list)

    @property
    def Z_second(self) -> np.ndarray:
        return self.Z_mean**2 + self.Z_var


def initial_state(data: list[ViewData], n_factors: int, init: str, rng: np.random.Generator) -> State:
    """Z from a whitened PCA rescaled to [−1, 1] (``init="pca"``) or N(0, 1) draws
    (``"random"``), with variance 1; W with μ = 0, σ² = 1, γ = 1; q(α), q(θ), q(τ) at (1, 1)."""
    N = data[0].Y.shape[0]
    K = n_factors
    if init == "pca":
        Z = _pca_init(data, K, rng)
    else:
        Z = rng.normal(size=(N, K))
    state = State(Z_mean=Z, Z_var=np.ones((N, K)))
    for view in data:
        D = view.Y.shape[1]
        vs = ViewState(
            mu=np.zeros((D, K)), var=np.ones((D, K)), gamma=np.ones((D, K)), spike_var=np.ones(K),
            alpha_a=np.ones(K), alpha_b=np.ones(K), theta_a=np.ones(K), theta_b=np.ones(K),
            tau_a=np.ones(D), tau_b=np.ones(D), Y=view.Y,
            mask=None if view.row_wise else view.observed.astype(float),
        )
        if view.likelihood != "gaussian":
            rate = np.array([view.Y[view.observed[:, d], d].mean() for d in range(D)])
            if view.likelihood == "bernoulli":
                vs.intercept = logit(np.clip(rate, 0.02, 0.98))
            else:
                vs.intercept = np.log(np.expm1(np.maximum(rate, 0.05)))
                vs.curvature = _lik.poisson_curvature(view.Y, view.observed)
        state.views.append(vs)
    return state


def linear_moments(state: State, vs: ViewState) -> tuple[np.ndarray, np.ndarray]:
    """⟨x⟩ = ⟨Z⟩⟨W⟩ᵀ (+ intercept) and ⟨x²⟩ for the entries of a view.

    The result is kept on ``vs`` keyed by the identity of the arrays it was
    computed from (every update assigns new arrays), so the ELBO and the next
    pseudo-data refresh, which see the same Z and W, share one computation.
    """
    key = (state.Z_mean, state.Z_var, vs.mu, vs.var, vs.gamma, vs.intercept)
    if vs.moments is not None and all(a is b for a, b in zip(vs.moments[0], key)):
        return vs.moments[1], vs.moments[2]
    Zm, Z2 = state.Z_mean, state.Z_second
    mean = Zm @ vs.mean.T
    if vs.intercept is not None:
        mean = mean + vs.intercept
    second = mean**2 - Zm**2 @ (vs.mean**2).T + Z2 @ vs.second.T
    vs.moments = (key, mean, second)
    return mean, second


REFRESH_DTYPE = np.float32  # the elementwise N × D passes of the local bounds


def refresh_likelihood(view: ViewData, state: State, vs: ViewState, dtype=None) -> None:
    """Set the precision and the data the Gaussian updates see (the "Y node").

    The local bounds of Bernoulli and Poisson views are refreshed in ``dtype``
    (default :data:`REFRESH_DTYPE`, float32: these passes are memory-bound and
    float32 halves their traffic); the precision and pseudo-data handed to the
    updates, and every sum, are float64.
    """
    if view.likelihood == "gaussian":
        tau = vs.tau_a / vs.tau_b
        if view.row_wise:
            vs.precision = Precision(view.rows, tau=tau)
        else:
            vs.precision = Precision(view.rows, tau=tau, mask=vs.mask)
        vs.Y = view.Y
        return
    mean, second = linear_moments(state, vs)
    weights = vs.mask if vs.mask is not None else view.observed.astype(float)
    dtype = np.dtype(REFRESH_DTYPE if dtype is None else dtype)
    if vs.low is None or vs.low[0] != dtype:  # the view's constant arrays in dtype
        data = view.Y
        if view.likelihood == "bernoulli":
            data = (2.0 * view.Y - 1.0) * weights
        curvature = None if vs.curvature is None else vs.curvature.astype(dtype)
        vs.low = (dtype, data.astype(dtype), weights.astype(dtype), curvature)
    _, data, low_weights, low_curvature = vs.low
    # one pass of tanh/softplus/log per iteration; the ELBO reuses vs.bound
    if view.likelihood == "bernoulli":
        tau, pseudo, vs.bound = _bounds.bernoulli_refresh(
            data, second.astype(dtype, copy=False), low_weights)
        tau = tau.astype(np.float64, copy=False)
        vs.precision = Precision(view.rows, full=tau)
    else:
        tau = weights
        pseudo, vs.bound = _bounds.poisson_refresh(
            data, mean.astype(dtype, copy=False), low_curvature, low_weights)
        if view.row_wise:
            vs.precision = Precision(view.rows, tau=vs.curvature)
        else:
            vs.precision = Precision(view.rows, tau=vs.curvature, mask=vs.mask)
    pseudo = pseudo.astype(np.float64, copy=False)
    vs.zeta = vs.bound.zeta
    vs.zeta_cache = None
    # intercept Σ_n τ(ŷ − ⟨zw⟩) / Σ_n τ with ⟨zw⟩ = ⟨x⟩ − b (as _lik.weighted_intercept)
    numerator = np.einsum("nd,nd->d", tau, pseudo) - np.einsum("nd,nd->d", tau, mean)
    total = tau.sum(axis=0)
    vs.intercept = (numerator + total * vs.intercept) / np.maximum(total, 1e-300)
    pseudo -= vs.intercept
    pseudo *= weights
    vs.Y = pseudo
    vs.cross = None
    vs.pair_sums = None


def update_view_weights(vs: ViewState, Z_mean, Z_second, options: Options, iteration: int, *,
                        scale: float = 1.0, Y=None, precision=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The W update of one view with the current α and θ; returns (μ, σ², γ)."""
    alpha_mean, _ = vs.alpha_moments(options.ard)
    odds = None
    if options.spike_slab:
        log_theta, log_1m = beta_expectations(vs.theta_a, vs.theta_b)
        odds = log_theta - log_1m
    vs.spike_var = 1.0 / alpha_mean
    if Y is None:
        return update_weights(vs.Y, vs.precision, Z_mean, Z_second, vs.mean, alpha_mean, odds,
                              scale=scale, cross=vs.cross, pair_sums=vs.pair_sums)
    return update_weights(Y, precision, Z_mean, Z_second, vs.mean, alpha_mean, odds, scale=scale)


def update_view_priors(vs: ViewState, options: Options, iteration: int) -> None:
    """α then θ of one view (θ only from ``options.start_sparsity`` on)."""
    if options.ard:
        vs.alpha_a, vs.alpha_b = update_ard(vs.hat_second if options.spike_slab else vs.second, *options.alpha_prior)
    if options.spike_slab and iteration >= options.start_sparsity:
        vs.theta_a, vs.theta_b = update_sparsity(vs.gamma, *options.theta_prior)


def squared_residuals(view: ViewData, state: State, vs: ViewState, rows=None) -> np.ndarray:
    """Σ_n ⟨(y_nd − z_n w_d)²⟩ over the observed entries of a Gaussian view (optionally a row subset)."""
    if rows is None:
        if vs.y_squared is None:
            vs.y_squared = np.einsum("nd,nd->d", view.Y, view.Y)
        return expected_squared_residuals(view.Y, view.observed, view.rows, view.row_wise,
                                          state.Z_mean, state.Z_second, vs.mean, vs.second, vs.y_squared,
                                          mask=vs.mask)
    return expected_squared_residuals(view.Y[rows], view.observed[rows], view.rows[rows], view.row_wise,
                                      state.Z_mean[rows], state.Z_second[rows], vs.mean, vs.second)


def update_view_noise(view: ViewData, state: State, vs: ViewState, options: Options) -> None:
    """q(τ) of a Gaussian view (no-op for pseudo-data views, whose τ is set by the bound)."""
    if view.likelihood == "gaussian":
        # Yᵀ⟨Z⟩ (and Mᵀ S with missing entries) are reused by the next W update: Y and Z
        # do not change until then.
        if view.row_wise:
            Y, Z = (view.Y, state.Z_mean) if view.rows.all() else (view.Y[view.rows], state.Z_mean[view.rows])
            vs.cross = Y.T @ Z
        else:
            vs.cross = view.Y.T @ state.Z_mean
            vs.pair_sums = vs.mask.T @ pair_moments(state.Z_mean, state.Z_second)
        if vs.y_squared is None:
            vs.y_squared = np.einsum("nd,nd->d", view.Y, view.Y)
        vs.residuals = expected_squared_residuals(view.Y, view.observed, view.rows, view.row_wise, state.Z_mean,
                                                  state.Z_second, vs.mean, vs.second, vs.y_squared, vs.cross,
                                                  vs.pair_sums, vs.mask)
        vs.tau_a, vs.tau_b = update_noise(view.n_observed, vs.residuals, *options.tau_prior)


def sweep(data: list[ViewData], state: State, options: Options, iteration: int) -> None:
    """One full-batch iteration: Y, then W/α/θ per view, then Z, then τ (in place)."""
    for view, vs in zip(data, state.views):
        vs.residuals = None
        refresh_likelihood(view, state, vs)
    Z_second = state.Z_second
    for vs in state.views:
        vs.mu, vs.var, vs.gamma = update_view_weights(vs, state.Z_mean, Z_second, options, iteration)
        update_view_priors(vs, options, iteration)
    state.Z_mean, state.Z_var = update_factors(
        [vs.Y for vs in state.views], [vs.precision for vs in state.views], state.Z_mean,
        [vs.mean for vs in state.views], [vs.second for vs in state.views])
    if options.rescale:
        _expansion.rescale(state, options.ard, options.alpha_prior)
    for vs in state.views:
        vs.cross = None
        vs.pair_sums = None
    for view, vs in zip(data, state.views):
        update_view_noise(view, state, vs, options)


def elbo_terms(data: list[ViewData], state: State, options: Options) -> dict[str, float]:
    """The ELBO per node: Y, Z, W, Tau, AlphaW, ThetaW (plain floats)."""
    terms = {"Y": 0.0, "Z": _elbo.factors_term(state.Z_mean, state.Z_var), "W": 0.0,
             "Tau": 0.0, "AlphaW": 0.0, "ThetaW": 0.0}
    for view, vs in zip(data, state.views):
        alpha_mean, alpha_log = vs.alpha_moments(options.ard)
        theta = (vs.theta_a, vs.theta_b) if options.spike_slab else (None, None)
        gamma = vs.gamma if options.spike_slab else np.ones_like(vs.gamma)
        terms["W"] += _elbo.weights_term(vs.mu, vs.var, gamma, vs.spike_var, alpha_mean, alpha_log, *theta)
        if options.ard:
            terms["AlphaW"] += _elbo.gamma_term(*options.alpha_prior, vs.alpha_a, vs.alpha_b)
        if options.spike_slab:
            terms["ThetaW"] += _elbo.beta_term(*options.theta_prior, vs.theta_a, vs.theta_b)
        if view.likelihood == "gaussian":
            residuals = vs.residuals if vs.residuals is not None else squared_residuals(view, state, vs)
            terms["Y"] += _elbo.gaussian_term(view.n_observed, vs.tau_a, vs.tau_b, residuals)
            terms["Tau"] += _elbo.gamma_term(*options.tau_prior, vs.tau_a, vs.tau_b)
        else:
            mean, second = linear_moments(state, vs)
            if vs.bound is not None and vs.bound.zeta is vs.zeta:
                log_factorial = 0.0
                if view.likelihood == "poisson":
                    if vs.log_factorial is None:
                        observed = view.Y[view.observed]
                        vs.log_factorial = float(np.sum(gammaln(observed + 1.0)))
                    log_factorial = vs.log_factorial
                terms["Y"] += _bounds.bound_sum(vs.bound, mean, second) - log_factorial
                continue
            known = vs.zeta_cache[1] if vs.zeta_cache is not None and vs.zeta_cache[0] is vs.zeta else None
            if view.likelihood == "bernoulli":
                terms["Y"] += _lik.bernoulli_term(view.Y, mean, second, vs.zeta, view.observed, lam=known)
            else:
                if vs.log_factorial is None:
                    vs.log_factorial = float(np.sum(gammaln(view.Y[view.observed] + 1.0)))
                terms["Y"] += _lik.poisson_term(view.Y, mean, second, vs.zeta, vs.curvature, view.observed,
                                                rate=known, log_factorial=vs.log_factorial)
    return terms


def keep_factors(state: State, keep: np.ndarray) -> None:
    """Drop factors (columns) from every node, in place."""
    state.Z_mean, state.Z_var = state.Z_mean[:, keep], state.Z_var[:, keep]
    for vs in state.views:
        vs.residuals = None
        vs.cross = None
        vs.pair_sums = None
        vs.moments = None
        for name in ("mu", "var", "gamma"):
            setattr(vs, name, getattr(vs, name)[:, keep])
        for name in ("spike_var", "alpha_a", "alpha_b", "theta_a", "theta_b"):
            setattr(vs, name, getattr(vs, name)[keep])
