"""Autoencoder versus linear factor models on multi-omics views, and view fusion.

Everything is cross-validated and every preprocessing step (standardisation)
is fitted on the training fold only:

* :func:`heldout_mse` — held-out reconstruction error of PCA, factor analysis or
  our autoencoder at a given latent dimension;
* :func:`sample_size_curve` — the same error as the training set shrinks;
* :func:`latent_separability` — cross-validated accuracy of a logistic
  regression on the latents (the reducer is refitted inside each fold);
* :class:`MOFAReducer` — chapter 4's multi-view factor model (:mod:`latentlab.mofa`)
  as a transformer, projecting new samples by the posterior mean of z;
* :func:`fusion_accuracy` — early fusion (concatenate the views, one classifier)
  versus late fusion (one classifier per view, average their probabilities).

The autoencoder is wrapped as a scikit-learn transformer
(:class:`AutoencoderReducer`) so that all methods share one pipeline.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import numpy.typing as npt
from scipy.linalg import cho_factor, cho_solve
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentlab._validation import as_generator, check_array, check_integer, check_same_length
from latentlab.nn.autoencoder import Autoencoder
from latentlab.optim import Adam, train

__all__ = [
    "AutoencoderReducer",
    "MOFAReducer",
    "make_reducer",
    "reconstruct",
    "heldout_mse",
    "sample_size_curve",
    "latent_separability",
    "fusion_accuracy",
]

Array = npt.NDArray[np.float64]
METHODS = ("pca", "fa", "autoencoder", "mofa")


class AutoencoderReducer(TransformerMixin, BaseEstimator):
    """Our numpy :class:`~latentlab.nn.Autoencoder` as a scikit-learn transformer.

    Trained with Adam on the mean squared reconstruction error plus an L2 penalty
    ``weight_decay``·‖θ‖²/2 added to the loss (coupled, as ``torch.optim.Adam``'s
    ``weight_decay``; not AdamW's decoupled decay); ``transform`` returns the code z,
    ``inverse_transform`` the decoder output. ``batch_size=None`` trains full batch;
    with ``patience`` training stops once the training loss has not improved by
    ``min_delta`` for that many epochs (``converged_`` says whether it did).

    Examples
    --------
    >>> from latentlab.nn.compare import AutoencoderReducer
    >>> X = np.random.default_rng(0).normal(size=(30, 5))
    >>> AutoencoderReducer(n_components=2, epochs=5).fit(X).transform(X).shape
    (30, 2)
    """

    def __init__(self, n_components: int = 2, hidden: Sequence[int] = (), activation: str = "tanh",
                 epochs: int = 200, lr: float = 1e-2, batch_size: int | None = 32,
                 weight_decay: float = 1e-4, patience: int | None = None, min_delta: float = 0.0,
                 random_state: int = 0) -> None:
        self.n_components = n_components
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.min_delta = min_delta
        self.random_state = random_state

    def fit(self, X, y=None):
        X = check_array(X, "X", ndim=2)
        rng = as_generator(self.random_state)
        self.model_ = Autoencoder(X.shape[1], self.n_components, hidden=tuple(self.hidden),
                                  activation=self.activation, rng=rng)
        optimizer = Adam(self.model_.parameters(), self.model_.gradients(), lr=self.lr,
                         weight_decay=self.weight_decay)
        batch = None if self.batch_size is None else min(self.batch_size, X.shape[0])
        self.result_ = train(self.model_, "mse", X, X, optimizer=optimizer, epochs=self.epochs,
                             batch_size=batch, patience=self.patience, min_delta=self.min_delta,
                             rng=rng, verbose=False)
        self.converged_ = bool(self.result_.converged)
        return self

    def transform(self, X) -> Array:
        return self.model_.encode(check_array(X, "X", ndim=2))

    def inverse_transform(self, Z) -> Array:
        return self.model_.decode(check_array(Z, "Z", ndim=2))


class MOFAReducer(TransformerMixin, BaseEstimator):
    """Chapter 4's MOFA (:class:`latentlab.mofa.MOFA`) as a scikit-learn transformer.

    The columns of X are split into views by ``view_sizes`` (one view by default).
    ``fit`` runs MOFA (ARD on, spike-and-slab off by default) on the training rows.
    ``transform`` maps any sample to the posterior mean of its factors with the
    fitted loadings W_m and noise precisions τ_m held at their posterior means:

        z = (I + Σ_m W_mᵀ T_m W_m)⁻¹ Σ_m W_mᵀ T_m (x_m − μ_m),  T_m = diag(τ_m),

    and ``inverse_transform`` returns [z W_mᵀ + μ_m]_m. ARD may prune factors,
    so ``n_components_`` can be smaller than ``n_components``.

    Examples
    --------
    >>> from latentlab.nn.compare import MOFAReducer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 8)) + 0.1 * rng.normal(size=(50, 8))
    >>> reducer = MOFAReducer(n_components=2, view_sizes=(4, 4)).fit(X)
    >>> bool(np.mean((reducer.inverse_transform(reducer.transform(X)) - X) ** 2) < 0.05)
    True
    """

    def __init__(self, n_components: int = 10, view_sizes: Sequence[int] | None = None, spike_slab: bool = False,
                 max_iter: int = 500, tol: float = 1e-4, random_state: int = 0) -> None:
        self.n_components = n_components
        self.view_sizes = view_sizes
        self.spike_slab = spike_slab
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _split(self, X: Array) -> list[Array]:
        sizes = [X.shape[1]] if self.view_sizes is None else list(self.view_sizes)
        if sum(sizes) != X.shape[1]:
            raise ValueError(f"view_sizes must add up to the {X.shape[1]} columns of X, got {sizes}")
        return np.split(X, np.cumsum(sizes)[:-1], axis=1)

    def fit(self, X, y=None):
        from latentlab.mofa import MOFA  # chapter 4's package

        X = check_array(X, "X", ndim=2)
        views = {f"view{m}": block for m, block in enumerate(self._split(X))}
        result = MOFA(n_factors=self.n_components, spike_slab=self.spike_slab, max_iter=self.max_iter,
                      tol=self.tol, verbose=False).fit(views, rng=self.random_state)
        self.result_ = result
        self.weights_ = [result.weights[name] for name in views]
        self.precisions_ = [result.noise_precision[name] for name in views]
        self.offsets_ = [result.offsets[name] for name in views]
        self.n_components_ = result.n_factors
        return self

    def transform(self, X) -> Array:
        X = check_array(X, "X", ndim=2)
        precision = np.eye(self.n_components_)
        rhs = np.zeros((X.shape[0], self.n_components_))
        for block, W, tau, mu in zip(self._split(X), self.weights_, self.precisions_, self.offsets_):
            precision += W.T @ (tau[:, None] * W)
            rhs += (block - mu) @ (tau[:, None] * W)
        return cho_solve(cho_factor(precision), rhs.T).T

    def inverse_transform(self, Z) -> Array:
        Z = check_array(Z, "Z", ndim=2)
        return np.hstack([Z @ W.T + mu for W, mu in zip(self.weights_, self.offsets_)])


def make_reducer(method: str, n_components: int, *, random_state: int = 0, **reducer_options):
    """A fresh "pca", "fa" (sklearn FactorAnalysis), "autoencoder" (ours) or "mofa" (chapter 4) reducer.

    Extra keyword options go to :class:`AutoencoderReducer` or :class:`MOFAReducer`.
    """
    n_components = check_integer(n_components, "n_components", minimum=1)
    if method == "pca":
        return PCA(n_components=n_components, random_state=random_state)
    if method == "fa":
        return FactorAnalysis(n_components=n_components, random_state=random_state)
    if method == "autoencoder":
        return AutoencoderReducer(n_components=n_components, random_state=random_state, **reducer_options)
    if method == "mofa":
        return MOFAReducer(n_components=n_components, random_state=random_state, **reducer_options)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def reconstruct(reducer, X: Array) -> Array:
    """x̂ from a fitted reducer: ``inverse_transform(transform(X))``; for factor
    analysis the posterior mean of the factors mapped back, E[z|x] W + μ."""
    if isinstance(reducer, FactorAnalysis):
        return reducer.transform(X) @ reducer.components_ + reducer.mean_
    return reducer.inverse_transform(reducer.transform(X))


def _fit_and_score(method, n_components, X_train, X_test, random_state, options) -> float:
    scaler = StandardScaler().fit(X_train)
    train_std, test_std = scaler.transform(X_train), scaler.transform(X_test)
    reducer = make_reducer(method, n_components, random_state=random_state, **options).fit(train_std)
    return float(np.mean((reconstruct(reducer, test_std) - test_std) ** 2))


def heldout_mse(X, method: str, n_components: int, *, n_splits: int = 5,
                rng: None | int | np.random.Generator = None, **reducer_options) -> float:
    """Cross-validated reconstruction error: mean over folds and entries of (x̂ − x)² in
    standardised units (so 1.0 is the error of predicting the training mean).

    Examples
    --------
    >>> from latentlab.nn.compare import heldout_mse
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 8)) + 0.1 * rng.normal(size=(60, 8))
    >>> heldout_mse(X, "pca", 2, rng=0) < 0.05
    True
    """
    X = check_array(X, "X", ndim=2)
    seed = int(as_generator(rng).integers(2**31))
    folds = KFold(check_integer(n_splits, "n_splits", minimum=2), shuffle=True, random_state=seed)
    return float(np.mean([_fit_and_score(method, n_components, X[tr], X[te], seed, reducer_options)
                          for tr, te in folds.split(X)]))


def sample_size_curve(X, method: str, n_components: int, train_sizes: Sequence[int], *,
                      n_test: int, n_repeats: int = 3, rng: None | int | np.random.Generator = None,
                      **reducer_options) -> list[float]:
    """Held-out reconstruction error as the number of training samples shrinks.

    Each repeat draws a held-out set of ``n_test`` samples and, for every size,
    a training subset of that size from the rest; returns the mean error per size.
    """
    X = check_array(X, "X", ndim=2)
    rng = as_generator(rng)
    n_test = check_integer(n_test, "n_test", minimum=1, maximum=X.shape[0] - 1)
    largest = X.shape[0] - n_test
    sizes = [check_integer(s, "train_sizes", minimum=n_components + 1, maximum=largest) for s in train_sizes]
    errors = np.zeros((n_repeats, len(sizes)))
    for repeat in range(n_repeats):
        order = rng.permutation(X.shape[0])
        test, pool = order[:n_test], order[n_test:]
        seed = int(rng.integers(2**31))
        for j, size in enumerate(sizes):
            errors[repeat, j] = _fit_and_score(method, n_components, X[pool[:size]], X[test], seed,
                                               reducer_options)
    return [float(e) for e in errors.mean(axis=0)]


def latent_separability(X, labels, method: str | None, n_components: int = 2, *, n_splits: int = 5,
                        rng: None | int | np.random.Generator = None, **reducer_options) -> float:
    """Cross-validated accuracy of a logistic regression on the latents (``method=None``: on X itself).

    The pipeline standardise → reducer → logistic regression is refitted in each
    stratified fold, so the latents of a test sample never saw it during fitting.

    Examples
    --------
    >>> from latentlab.nn.compare import latent_separability
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 30)
    >>> X = rng.normal(size=(60, 6)) + 3 * labels[:, None]
    >>> latent_separability(X, labels, "pca", 1, rng=0) > 0.9
    True
    """
    X = check_array(X, "X", ndim=2)
    labels = np.asarray(labels)
    check_same_length({"X": X, "labels": labels})
    seed = int(as_generator(rng).integers(2**31))
    steps = [StandardScaler()]
    if method is not None:
        steps.append(make_reducer(method, n_components, random_state=seed, **reducer_options))
    steps.append(LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(check_integer(n_splits, "n_splits", minimum=2), shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(make_pipeline(*steps), X, labels, cv=folds)))


def fusion_accuracy(views: dict, labels, *, mode: Literal["early", "late"], n_splits: int = 5,
                    C: float = 0.1, rng: None | int | np.random.Generator = None) -> float:
    """Cross-validated subtype accuracy from several views, fused early or late.

    * early: concatenate the standardised views, fit one L2 logistic regression;
    * late: one logistic regression per view, average the out-of-fold class
      probabilities (soft voting) and take the most probable class.

    Examples
    --------
    >>> from latentlab.nn.compare import fusion_accuracy
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 30)
    >>> views = {"a": rng.normal(size=(60, 4)) + labels[:, None], "b": rng.normal(size=(60, 3))}
    >>> fusion_accuracy(views, labels, mode="early", rng=0) > 0.7
    True
    """
    labels = np.asarray(labels)
    blocks = {name: check_array(v, f"views[{name!r}]", ndim=2) for name, v in views.items()}
    check_same_length({**blocks, "labels": labels})
    seed = int(as_generator(rng).integers(2**31))
    folds = StratifiedKFold(check_integer(n_splits, "n_splits", minimum=2), shuffle=True, random_state=seed)

    def classifier():
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))

    if mode == "early":
        X = np.hstack(list(blocks.values()))
        return float(np.mean(cross_val_score(classifier(), X, labels, cv=folds)))
    if mode == "late":
        probabilities = np.mean([cross_val_predict(classifier(), X, labels, cv=folds, method="predict_proba")
                                 for X in blocks.values()], axis=0)
        classes = np.unique(labels)
        return float(np.mean(classes[probabilities.argmax(axis=1)] == labels))
    raise ValueError(f"mode must be 'early' or 'late', got {mode!r}")
