"""Autoencoder versus linear factor models on multi-omics views, and view fusion.

Everything is cross-validated and every preprocessing step (standardisation)
is fitted on the training fold only:

* :func:`heldout_mse` — held-out reconstruction error of PCA, factor analysis or
  our autoencoder at a given latent dimension;
* :func:`sample_size_curve` — the same error as the training set shrinks;
* :func:`latent_separability` — cross-validated accuracy of a logistic
  regression on the latents (the reducer is refitted inside each fold);
* :func:`fusion_accuracy` — early fusion (concatenate the views, one classifier)
  versus late fusion (one classifier per view, average their probabilities).

The autoencoder is wrapped as a scikit-learn transformer
(:class:`AutoencoderReducer`) so that all methods share one pipeline.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import numpy.typing as npt
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
    "make_reducer",
    "reconstruct",
    "heldout_mse",
    "sample_size_curve",
    "latent_separability",
    "fusion_accuracy",
]

Array = npt.NDArray[np.float64]
METHODS = ("pca", "fa", "autoencoder")


class AutoencoderReducer(TransformerMixin, BaseEstimator):
    """Our numpy :class:`~latentlab.nn.Autoencoder` as a scikit-learn transformer.

    Trained with Adam on the mean squared reconstruction error, with L2 weight
    decay; ``transform`` returns the code z, ``inverse_transform`` the decoder output.

    Examples
    --------
    >>> from latentlab.nn.compare import AutoencoderReducer
    >>> X = np.random.default_rng(0).normal(size=(30, 5))
    >>> AutoencoderReducer(n_components=2, epochs=5).fit(X).transform(X).shape
    (30, 2)
    """

    def __init__(self, n_components: int = 2, hidden: Sequence[int] = (), activation: str = "tanh",
                 epochs: int = 200, lr: float = 1e-2, batch_size: int = 32, weight_decay: float = 1e-4,
                 random_state: int = 0) -> None:
        self.n_components = n_components
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.random_state = random_state

    def fit(self, X, y=None):
        X = check_array(X, "X", ndim=2)
        rng = as_generator(self.random_state)
        self.model_ = Autoencoder(X.shape[1], self.n_components, hidden=tuple(self.hidden),
                                  activation=self.activation, rng=rng)
        optimizer = Adam(self.model_.parameters(), self.model_.gradients(), lr=self.lr,
                         weight_decay=self.weight_decay)
        self.result_ = train(self.model_, "mse", X, X, optimizer=optimizer, epochs=self.epochs,
                             batch_size=min(self.batch_size, X.shape[0]), rng=rng, verbose=False)
        return self

    def transform(self, X) -> Array:
        return self.model_.encode(check_array(X, "X", ndim=2))

    def inverse_transform(self, Z) -> Array:
        return self.model_.decode(check_array(Z, "Z", ndim=2))


def make_reducer(method: str, n_components: int, *, random_state: int = 0, **autoencoder_options):
    """A fresh "pca", "fa" (sklearn FactorAnalysis) or "autoencoder" (ours) reducer."""
    n_components = check_integer(n_components, "n_components", minimum=1)
    if method == "pca":
        return PCA(n_components=n_components, random_state=random_state)
    if method == "fa":
        return FactorAnalysis(n_components=n_components, random_state=random_state)
    if method == "autoencoder":
        return AutoencoderReducer(n_components=n_components, random_state=random_state, **autoencoder_options)
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
                rng: None | int | np.random.Generator = None, **autoencoder_options) -> float:
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
    return float(np.mean([_fit_and_score(method, n_components, X[tr], X[te], seed, autoencoder_options)
                          for tr, te in folds.split(X)]))


def sample_size_curve(X, method: str, n_components: int, train_sizes: Sequence[int], *,
                      n_test: int, n_repeats: int = 3, rng: None | int | np.random.Generator = None,
                      **autoencoder_options) -> list[float]:
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
                                               autoencoder_options)
    return [float(e) for e in errors.mean(axis=0)]


def latent_separability(X, labels, method: str | None, n_components: int = 2, *, n_splits: int = 5,
                        rng: None | int | np.random.Generator = None, **autoencoder_options) -> float:
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
        steps.append(make_reducer(method, n_components, random_state=seed, **autoencoder_options))
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
