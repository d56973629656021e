"""Mixture components and EM warnings: :class:`BernoulliComponent` (latent class model).

The component protocol is described in :mod:`latentlab.mixture`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from latentlab._validation import as_generator, check_array, check_integer

__all__ = ["BernoulliComponent", "LikelihoodDecreaseWarning", "ConvergenceWarning"]

_EPS = 1e-10


class LikelihoodDecreaseWarning(RuntimeWarning):
    """The EM log-likelihood dropped (a bug or a failed numerical M-step)."""


class ConvergenceWarning(RuntimeWarning):
    """``max_iter`` was reached before the EM tolerance."""


class BernoulliComponent:
    """Independent Bernoulli features (latent class model); NaN entries are marginalised.

    Examples
    --------
    >>> comp = BernoulliComponent(n_features=2)
    >>> data = comp.prepare([[1.0, np.nan], [0.0, 1.0]])
    >>> np.round(np.exp(comp.log_likelihoods([[0.8, 0.5]], data)[:, 0]), 3)
    array([0.8, 0.1])
    """

    has_closed_form = True

    def __init__(self, n_features: int, feature_names=None) -> None:
        self.n_params = check_integer(n_features, "n_features", minimum=1)
        self.n_columns = self.n_params
        names = [f"p{j}" for j in range(self.n_params)] if feature_names is None else list(feature_names)
        if len(names) != self.n_params:
            raise ValueError(f"feature_names must have {self.n_params} names, got {len(names)}")
        self.param_names = tuple(str(n) for n in names)
        self.bounds = np.tile([0.0, 1.0], (self.n_params, 1))

    def prepare(self, X: npt.ArrayLike, stage=None) -> np.ndarray:
        X = check_array(X, "X", ndim=2, shape=(None, self.n_params), allow_nan=True)
        observed = X[~np.isnan(X)]
        if np.any((observed != 0) & (observed != 1)):
            raise ValueError("X must hold involvement values 1 (True), 0 (False) or NaN (missing)")
        return X

    def log_likelihoods(self, thetas: npt.ArrayLike, data: np.ndarray) -> np.ndarray:
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        with np.errstate(divide="ignore"):
            log_p, log_q = np.log(thetas), np.log1p(-thetas)
        ones, zeros = np.nan_to_num(data) == 1, np.nan_to_num(data, nan=1.0) == 0
        # 0 · (−∞) := 0: unobserved or absent entries contribute nothing
        return _masked_matmul(ones, log_p.T) + _masked_matmul(zeros, log_q.T)

    def closed_form_m_step(self, data: np.ndarray, responsibilities: np.ndarray) -> np.ndarray:
        """θ_kd = Σ_i r_ik x_id / Σ_i r_ik [x_id observed], clipped to [1e-10, 1 − 1e-10]."""
        observed = ~np.isnan(data)
        ones = responsibilities.T @ np.nan_to_num(data)
        counts = responsibilities.T @ observed.astype(float)
        theta = np.divide(ones, counts, out=np.full_like(ones, 0.5), where=counts > 0)
        return np.clip(theta, _EPS, 1 - _EPS)

    def init_params(self, n_components: int, rng=None) -> np.ndarray:
        return as_generator(rng).uniform(0.1, 0.9, size=(n_components, self.n_params))

    def simulate(self, theta: npt.ArrayLike, stage: npt.ArrayLike, rng=None) -> np.ndarray:
        gen = as_generator(rng)
        return (gen.random((len(np.asarray(stage)), self.n_params)) < np.asarray(theta)).astype(float)


def _masked_matmul(mask: np.ndarray, log_values: np.ndarray) -> np.ndarray:
    """mask (N, D) @ log_values (D, K) with 0 · (−∞) = 0."""
    finite = np.isfinite(log_values)
    out = mask.astype(float) @ np.where(finite, log_values, 0.0)
    hits = mask.astype(float) @ (~finite).astype(float)
    return np.where(hits > 0, -np.inf, out)

