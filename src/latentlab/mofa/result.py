"""The frozen result of a MOFA fit: posterior moments, variance explained, ELBO trace."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from latentlab.mofa.likelihoods import poisson_rate
from latentlab.mofa.metrics import _r2_filled
from latentlab.mofa.nodes import gamma_expectations

__all__ = ["MOFAResult"]


@dataclass(frozen=True)
class MOFAResult:
    """A fitted multi-view factor model.

    Attributes
    ----------
    factors, factor_variances : ndarray of shape (n_samples, K)
        Posterior means ⟨z⟩ and variances of q(Z). Factors are ordered by
        decreasing R² summed over views (Factor1 explains the most).
    weights, weight_variances : dict of str -> ndarray of shape (n_features_m, K)
        ⟨s w⟩ and Var(s w) per view.
    slab_probability : dict of str -> ndarray of shape (n_features_m, K)
        q(s_dk = 1) (all ones without spike-and-slab).
    r2_per_factor : ndarray of shape (n_views, K)
        Variance explained per view and factor (fraction; mofapy2's definition,
        on the pseudo-data for non-Gaussian views).
    r2_total : ndarray of shape (n_views,)
    ard_precision, sparsity : ndarray of shape (n_views, K)
        ⟨α_k^(m)⟩ and ⟨θ_k^(m)⟩.
    noise_precision : dict of str -> ndarray of shape (n_features_m,)
        ⟨τ_d⟩ (the bound's curvature τ for Poisson views, NaN for Bernoulli).
    offsets : dict of str -> ndarray of shape (n_features_m,)
        Feature means removed from Gaussian views; intercepts of the others.
    elbo : float
        The final ELBO.
    history : list of float
        ELBO after each iteration.
    elbo_terms : list of dict
        ELBO per node (Y, Z, W, Tau, AlphaW, ThetaW) after each iteration.
    n_factors_history : list of int
        K after each iteration (changes only when pruning).
    n_iter : int
    converged : bool
    view_names, likelihoods : list of str
    feature_names : dict of str -> list of str
    fit_seconds : float
        Wall time of the fit.
    """

    factors: np.ndarray
    factor_variances: np.ndarray
    weights: dict
    weight_variances: dict
    slab_probability: dict
    r2_per_factor: np.ndarray
    r2_total: np.ndarray
    ard_precision: np.ndarray
    sparsity: np.ndarray
    noise_precision: dict
    offsets: dict
    elbo: float
    history: list
    elbo_terms: list
    n_factors_history: list
    n_iter: int
    converged: bool
    view_names: list
    likelihoods: list
    feature_names: dict
    fit_seconds: float

    @classmethod
    def from_state(cls, data, feature_names, state, options, **fields) -> "MOFAResult":
        names = [v.name for v in data]
        weights, variances, slab, tau, offsets, r2_k, r2, alpha, theta = {}, {}, {}, {}, {}, [], [], [], []
        for view, vs, features in zip(data, state.views, feature_names):
            weights[view.name] = vs.mean.copy()
            variances[view.name] = vs.second - vs.mean**2
            slab[view.name] = vs.gamma.copy()
            if view.likelihood == "gaussian":
                tau[view.name] = vs.tau_a / vs.tau_b
                offsets[view.name] = view.offset.copy()
            else:
                tau[view.name] = vs.curvature.copy() if vs.curvature is not None else np.full(vs.mu.shape[0], np.nan)
                offsets[view.name] = vs.intercept.copy()
            per_factor, total = _r2_filled(vs.Y, view.observed, state.Z_mean, vs.mean)
            r2_k.append(per_factor)
            r2.append(total)
            alpha.append(gamma_expectations(vs.alpha_a, vs.alpha_b)[0] if options.ard else np.ones(vs.mu.shape[1]))
            theta.append(vs.theta_a / (vs.theta_a + vs.theta_b) if options.spike_slab else np.ones(vs.mu.shape[1]))
        history = [float(v) for v in fields.pop("history")]
        # factors in decreasing order of R² summed over views (as in mofapy2's output files)
        order = np.argsort(-np.sum(r2_k, axis=0), kind="stable")
        for table in (weights, variances, slab):
            for name in table:
                table[name] = table[name][:, order]
        return cls(
            factors=state.Z_mean[:, order], factor_variances=state.Z_var[:, order], weights=weights,
            weight_variances=variances, slab_probability=slab, r2_per_factor=np.array(r2_k)[:, order],
            r2_total=np.array(r2), ard_precision=np.array(alpha)[:, order], sparsity=np.array(theta)[:, order],
            noise_precision=tau, offsets=offsets, elbo=history[-1], history=history,
            view_names=names, likelihoods=[v.likelihood for v in data],
            feature_names=dict(zip(names, feature_names)), **fields)

    @property
    def n_factors(self) -> int:
        """Number of factors K at the end of the fit."""
        return int(self.factors.shape[1])

    def reconstruct(self, view: str) -> np.ndarray:
        """⟨Z⟩⟨W⟩ᵀ of a view in data units: plus the feature means (Gaussian),
        through the link for Bernoulli (probabilities) and Poisson (rates).

        Examples
        --------
        >>> from latentlab.mofa import fit_mofa, simulate_mofa
        >>> sim = simulate_mofa(n_samples=40, view_sizes=(10, 10), rng=0)
        >>> fit = fit_mofa(sim.views, n_factors=3, rng=0, verbose=False, spike_slab=False)
        >>> fit.reconstruct("view0").shape
        (40, 10)
        """
        if view not in self.weights:
            raise ValueError(f"view must be one of {self.view_names}, got {view!r}")
        linear = self.factors @ self.weights[view].T + self.offsets[view]
        likelihood = self.likelihoods[self.view_names.index(view)]
        if likelihood == "bernoulli":
            return expit(linear)
        if likelihood == "poisson":
            return poisson_rate(linear)
        return linear

    def impute(self, views) -> dict:
        """Copies of ``views`` (dict or list, the fitted order) with NaN replaced by :meth:`reconstruct`."""
        items = views.items() if isinstance(views, dict) else zip(self.view_names, views)
        filled = {}
        for name, values in items:
            values = np.asarray(values, dtype=float)
            filled[name] = np.where(np.isnan(values), self.reconstruct(name), values)
        return filled

    def r2_table(self):
        """R² per view × factor as a pandas DataFrame (percent, like mofapy2's HDF5)."""
        import pandas as pd

        return pd.DataFrame(100 * self.r2_per_factor, index=self.view_names,
                            columns=[f"Factor{k + 1}" for k in range(self.n_factors)])

    def active_factors(self, min_r2: float = 0.01) -> np.ndarray:
        """Indices of factors explaining at least ``min_r2`` of some view."""
        return np.flatnonzero(self.r2_per_factor.max(axis=0) >= min_r2)
