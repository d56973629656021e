"""Our MLP as a scikit-learn classifier, so sklearn tools (permutation importance,
cross-validation, pipelines) apply to it unchanged."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from latentlab._validation import as_generator, check_array
from latentlab.nn.activations import sigmoid, softmax
from latentlab.nn.model import MLP
from latentlab.optim import make_optimizer, train

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A numpy MLP trained with cross-entropy from logits (binary or multi-class).

    Parameters
    ----------
    hidden : sequence of int
    activation : str
    optimizer : {"sgd", "momentum", "adam"}
    lr, epochs, batch_size, weight_decay : training options (see :func:`latentlab.optim.train`)
    random_state : int
        Seeds the initial weights and the mini-batch order.

    Attributes
    ----------
    model_ : Sequential
    classes_ : ndarray
    result_ : TrainResult

    Examples
    --------
    >>> from latentlab.nn.estimator import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(80, 3)); y = (X[:, 0] > 0).astype(int)
    >>> round(MLPClassifier(hidden=(4,), epochs=100).fit(X, y).score(X, y), 2) >= 0.95
    True
    """

    def __init__(self, hidden: Sequence[int] = (16,), activation: str = "tanh", optimizer: str = "adam",
                 lr: float = 3e-3, epochs: int = 100, batch_size: int = 32, weight_decay: float = 0.0,
                 random_state: int = 0) -> None:
        self.hidden = hidden
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.random_state = random_state

    def fit(self, X, y):
        X = check_array(X, "X", ndim=2)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least two classes, got {self.classes_.tolist()}")
        binary = len(self.classes_) == 2
        rng = as_generator(self.random_state)
        self.model_ = MLP([X.shape[1], *self.hidden, 1 if binary else len(self.classes_)],
                          activation=self.activation, rng=rng)
        optimizer = make_optimizer(self.optimizer, self.model_, lr=self.lr, weight_decay=self.weight_decay)
        self.result_ = train(self.model_, "bce" if binary else "cross_entropy", X,
                             codes.astype(float) if binary else codes, optimizer=optimizer, epochs=self.epochs,
                             batch_size=min(self.batch_size, X.shape[0]), rng=rng, verbose=False)
        return self

    def decision_function(self, X) -> np.ndarray:
        logits = self.model_.forward(check_array(X, "X", ndim=2))
        return logits.ravel() if logits.shape[1] == 1 else logits

    def predict_proba(self, X) -> np.ndarray:
        logits = self.model_.forward(check_array(X, "X", ndim=2))
        if logits.shape[1] == 1:
            p = sigmoid(logits)
            return np.hstack([1 - p, p])
        return softmax(logits)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
