"""The MOFA estimator: multi-view Bayesian factor analysis fitted by variational inference.

X^(m) = Z W^(m)ᵀ + ε^(m): factors z_nk ~ N(0, 1) shared by all views; weights
w_dk = s_dk ŵ_dk with an ARD precision ŵ_dk ~ N(0, 1/α_k^(m)) and a
spike-and-slab switch s_dk ~ Bern(θ_k^(m)); α ~ Gamma, θ ~ Beta, noise
precision τ_d ~ Gamma per feature. The updates and ELBO follow mofapy2 term by
term (see :mod:`latentlab.mofa.nodes` and :mod:`latentlab.mofa.elbo`).

Reference behaviour: convergence is judged on the relative change of the
ELBO per iteration (mofapy2 compares changes over 5 iterations with the
pre-training ELBO), factors are pruned all at once and deterministically
(mofapy2 drops one at random per iteration and exits when none is left), and
nothing is printed, seeded globally or silenced.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from tqdm import tqdm

from latentlab._divergence import DivergenceGuard
from latentlab._validation import as_generator, check_integer, check_positive
from latentlab.mofa.data import prepare_views
from latentlab.mofa.inference import Options, elbo_terms, initial_state, keep_factors, sweep
from latentlab.mofa.metrics import _r2_filled
from latentlab.mofa.result import MOFAResult
from latentlab.mofa import svi as _svi

__all__ = ["MOFA", "fit_mofa", "ELBODecreaseWarning"]


class ELBODecreaseWarning(UserWarning):
    """The ELBO of a full-batch Gaussian fit decreased by more than the tolerance."""


def _r2_of_state(data, state) -> np.ndarray:
    return np.array([_r2_filled(vs.Y, view.observed, state.Z_mean, vs.mean)[0]
                     for view, vs in zip(data, state.views)])


def _snapshot(data, state, elbo: float) -> dict:
    """Copies of the posterior means a diverged fit leaves in ``DivergenceError.last_good``."""
    return {"elbo": elbo, "factors": state.Z_mean.copy(), "factor_variances": state.Z_var.copy(),
            "weights": {view.name: vs.mean.copy() for view, vs in zip(data, state.views)},
            "noise_precision": {view.name: vs.tau_a / vs.tau_b for view, vs in zip(data, state.views)}}


def _check_feature_names(feature_names, data, default_names) -> list[list[str]]:
    if feature_names is None:
        return default_names
    if isinstance(feature_names, dict):
        missing = [v.name for v in data if v.name not in feature_names]
        if missing:
            raise ValueError(f"feature_names has no entry for view(s) {missing}")
        feature_names = [feature_names[v.name] for v in data]
    feature_names = [[str(name) for name in names] for names in feature_names]
    if len(feature_names) != len(data):
        raise ValueError(f"feature_names must have one list per view ({len(data)}), got {len(feature_names)}")
    for view, names in zip(data, feature_names):
        if len(names) != view.Y.shape[1]:
            raise ValueError(
                f"feature_names of view {view.name!r} must have {view.Y.shape[1]} entries, got {len(names)}")
    return feature_names


class MOFA:
    """Multi-view factor analysis (MOFA / MOFA+) by mean-field variational Bayes.

    Parameters
    ----------
    n_factors : int
        Initial number of factors K (ARD and pruning may switch some off).
    likelihoods : list or dict of {"gaussian", "bernoulli", "poisson"}, optional
        Declared per view; ``None`` means every view is Gaussian. Never guessed.
    ard : bool
        ARD prior α_k^(m) on the weights (else a fixed N(0, 1)).
    spike_slab : bool
        Spike-and-slab switches on the weights.
    max_iter : int
        Maximum number of iterations (full sweeps, or epochs under SVI).
    tol : float
        Converged when |ΔELBO| / |ELBO| < tol on two consecutive iterations
        (with ``elbo_every=k``: when the change between consecutive
        evaluations, k iterations apart, is below k·tol·|ELBO| twice in a row).
    elbo_every : int
        Evaluate the ELBO (and the convergence rule, the divergence guard and
        ``history``) every this many iterations and at the last one; 1 (default)
        every iteration. mofapy2 uses 5. ``history`` then has one entry per
        evaluation.
    start_sparsity : int
        First iteration at which q(θ) is updated (mofapy2: 50).
    drop_r2 : float, optional
        Prune, every iteration, all factors whose R² is below this fraction in
        every view (never the last one). ``None`` (default) never prunes.
    init : {"pca", "random"}
        Z from a whitened PCA of the concatenated views, or from N(0, 1) draws.
    center : bool
        Centre Gaussian views per feature.
    stochastic : bool
        Stochastic VI over minibatches of samples (Gaussian views only).
    batch_fraction, learning_rate, forgetting_rate : float
        SVI options: share of samples per minibatch, and the step size
        ρ_t = learning_rate / (1 + forgetting_rate · t)^(3/4); ``learning_rate`` in
        (0, 1] (1 with ``forgetting_rate=0`` and ``batch_fraction=1`` is full batch).
    decrease_tol : float
        A relative ELBO decrease larger than this in a full-batch Gaussian fit
        triggers an :class:`ELBODecreaseWarning`.
    verbose : bool
        Show a tqdm progress bar with the current ELBO.

    Raises
    ------
    ValueError
        From :meth:`fit`, if ``n_factors`` exceeds the number of samples (the
        factors are then not identifiable; without ARD R² collapses silently).
    DivergenceError
        From :meth:`fit`, if the ELBO becomes non-finite or falls by orders of
        magnitude below its best. Its
        ``last_good`` is a dict with the ``"elbo"``, ``"factors"``,
        ``"factor_variances"``, ``"weights"`` and ``"noise_precision"`` (per view)
        of the last good iteration (iteration 0: the initial state, ``"elbo"`` None).

    Examples
    --------
    >>> from latentlab.mofa import MOFA, simulate_mofa
    >>> sim = simulate_mofa(n_samples=60, view_sizes=(30, 20), rng=0)
    >>> result = MOFA(n_factors=4, verbose=False, max_iter=200).fit(sim.views, rng=0)
    >>> result.factors.shape, result.converged
    ((60, 4), True)
    >>> bool(result.r2_total.min() > 0.3)
    True
    """

    def __init__(
        self,
        n_factors: int = 10,
        *,
        likelihoods=None,
        ard: bool = True,
        spike_slab: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-6,
        start_sparsity: int = 50,
        drop_r2: float | None = None,
        init: str = "pca",
        center: bool = True,
        stochastic: bool = False,
        batch_fraction: float = 0.5,
        learning_rate: float = 0.5,
        forgetting_rate: float = 0.25,
        decrease_tol: float = 1e-5,
        elbo_every: int = 1,
        verbose: bool = True,
    ):
        self.n_factors = n_factors
        self.likelihoods = likelihoods
        self.ard = ard
        self.spike_slab = spike_slab
        self.max_iter = max_iter
        self.tol = tol
        self.start_sparsity = start_sparsity
        self.drop_r2 = drop_r2
        self.init = init
        self.center = center
        self.stochastic = stochastic
        self.batch_fraction = batch_fraction
        self.learning_rate = learning_rate
        self.forgetting_rate = forgetting_rate
        self.decrease_tol = decrease_tol
        self.elbo_every = elbo_every
        self.verbose = verbose

    def _check(self) -> None:
        check_integer(self.n_factors, "n_factors", minimum=1)
        check_integer(self.max_iter, "max_iter", minimum=1)
        check_integer(self.elbo_every, "elbo_every", minimum=1)
        check_integer(self.start_sparsity, "start_sparsity", minimum=1)
        check_positive(self.tol, "tol")
        check_positive(self.decrease_tol, "decrease_tol")
        if self.init not in ("pca", "random"):
            raise ValueError(f"init must be 'pca' or 'random', got {self.init!r}")
        if self.drop_r2 is not None and not 0 <= self.drop_r2 < 1:
            raise ValueError(f"drop_r2 must be None or a fraction in [0, 1), got {self.drop_r2}")
        if self.stochastic:
            if not 0 < self.batch_fraction <= 1:
                raise ValueError(f"batch_fraction must lie in (0, 1], got {self.batch_fraction}")
            rate = check_positive(self.learning_rate, "learning_rate")
            if rate > 1:  # ρ_t mixes old and new natural parameters; above 1 variances turn negative
                raise ValueError(f"learning_rate must lie in (0, 1] for stochastic VI, got {rate:g}")
            check_positive(self.forgetting_rate, "forgetting_rate", strict=False)

    def fit(self, views, *, feature_names=None, rng: None | int | np.random.Generator = None) -> MOFAResult:
        """Fit the model to ``views`` and return a frozen :class:`MOFAResult`.

        Parameters
        ----------
        views : list or dict of array_like of shape (n_samples, n_features_m)
            NaN for missing entries, all-NaN rows for samples missing from a view.
        feature_names : list or dict of list of str, optional
            Names of each view's features (default: DataFrame columns, else
            ``"<view>_<j>"``).
        rng : None, int or numpy.random.Generator
            Seeds the PCA solver (or the random initialisation) and SVI minibatches.
        """
        self._check()
        data, default_names = prepare_views(views, self.likelihoods, center=self.center)
        feature_names = _check_feature_names(feature_names, data, default_names)
        n_samples = int(data[0].Y.shape[0])
        if self.n_factors > n_samples:
            # Z (N x K) has rank at most N: extra factors are not identifiable, and
            # without ARD they spread the signal until R² collapses while the fit
            # still reports convergence.
            raise ValueError(
                f"n_factors must be at most the number of samples ({n_samples}); "
                f"got n_factors={self.n_factors}")
        if self.stochastic and any(v.likelihood != "gaussian" for v in data):
            raise ValueError("stochastic=True supports Gaussian views only; fit non-Gaussian views in full batch")
        generator = as_generator(rng)
        options = Options(ard=self.ard, spike_slab=self.spike_slab, start_sparsity=self.start_sparsity)
        started = time.perf_counter()
        state = initial_state(data, self.n_factors, self.init, generator)
        gaussian_batch = not self.stochastic and all(v.likelihood == "gaussian" for v in data)
        history, terms_history, k_history = [], [], []
        decreases: list[tuple[int, float]] = []
        converged, small_changes = False, 0
        bar = tqdm(range(1, self.max_iter + 1), disable=not self.verbose, desc="MOFA", leave=False)
        n_iter = 0
        guard = DivergenceGuard("MOFA (stochastic)" if self.stochastic else "MOFA", maximise=True,
                                learning_rate=self.learning_rate if self.stochastic else None,
                                unit="iteration")
        guard.keep(0, _snapshot(data, state, None))  # the initial state (no ELBO evaluated)
        every, pruned, last = self.elbo_every, False, 0
        for iteration in bar:
            n_iter = iteration
            if self.stochastic:
                _svi.stochastic_step(data, state, options, iteration, self.batch_fraction,
                                      self.learning_rate, self.forgetting_rate, generator)
            else:
                sweep(data, state, options, iteration)
            if self.drop_r2 is not None and state.Z_mean.shape[1] > 1:
                r2 = _r2_of_state(data, state).max(axis=0)
                keep = r2 >= self.drop_r2
                if not keep.any():
                    keep[np.argmax(r2)] = True
                if not keep.all():
                    keep_factors(state, keep)
                    pruned = True
            if iteration % every and iteration != self.max_iter:
                continue  # no ELBO this iteration (elbo_every > 1)
            terms = elbo_terms(data, state, options)
            value = float(sum(terms.values()))
            guard.check(iteration, value)
            guard.keep(iteration, _snapshot(data, state, value))
            if history and not pruned:
                change = value - history[-1]
                if gaussian_batch and change < -self.decrease_tol * abs(value):
                    decreases.append((iteration, change))
                small = abs(change) < self.tol * (iteration - last) * abs(value)
                small_changes = small_changes + 1 if small else 0
            else:
                small_changes = 0
            pruned, last = False, iteration
            history.append(value)
            terms_history.append(terms)
            k_history.append(int(state.Z_mean.shape[1]))
            bar.set_postfix(elbo=f"{value:.6g}", K=k_history[-1])
            ready = not self.spike_slab or iteration > self.start_sparsity
            if small_changes >= 2 and ready:
                converged = True
                break
        bar.close()
        elapsed = time.perf_counter() - started
        if decreases:
            worst = min(decreases, key=lambda item: item[1])
            warnings.warn(
                f"the ELBO decreased at {len(decreases)} iteration(s) of a full-batch Gaussian fit "
                f"(largest: {worst[1]:.3g} at iteration {worst[0]}); this points to a numerical problem",
                ELBODecreaseWarning, stacklevel=2)
        if not converged:
            warnings.warn(
                f"MOFA did not converge in max_iter={self.max_iter} iterations "
                f"(relative ELBO change above tol={self.tol:g}); increase max_iter or tol",
                ConvergenceWarning, stacklevel=2)
        self.result_ = MOFAResult.from_state(
            data, feature_names, state, options, history=history, elbo_terms=terms_history,
            n_factors_history=k_history, n_iter=n_iter, converged=converged, fit_seconds=elapsed)
        return self.result_


def fit_mofa(views, n_factors: int = 10, *, rng: None | int | np.random.Generator = None, **options) -> MOFAResult:
    """Shortcut for ``MOFA(n_factors, **options).fit(views, rng=rng)``.

    Examples
    --------
    >>> from latentlab.mofa import fit_mofa, simulate_mofa
    >>> sim = simulate_mofa(n_samples=50, view_sizes=(20, 20), rng=1)
    >>> result = fit_mofa(sim.views, n_factors=3, rng=0, verbose=False, spike_slab=False)
    >>> result.r2_per_factor.shape
    (2, 3)
    """
    return MOFA(n_factors, **options).fit(views, rng=rng)
