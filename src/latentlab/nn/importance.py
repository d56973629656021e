"""Gradient-based feature importance: how strongly the loss reacts to each input.

For sample i the input gradient is ∂ℓ_i/∂x_i, obtained by back-propagating one
step further than the first layer's weights. The importance of feature j is
the mean over samples of |∂ℓ_i/∂x_ij| (the "saliency"). It depends on the
scale of the features, so standardise them first.

:func:`neg_log_loss` scores a classifier for scikit-learn's permutation
importance without the per-call input validation of ``scoring="neg_log_loss"``,
which dominates the cost when the model is small.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from latentlab.nn.losses import Loss
from latentlab.nn.model import Sequential

__all__ = ["input_gradients", "gradient_importance", "neg_log_loss"]

Array = npt.NDArray[np.float64]


def input_gradients(model: Sequential, loss: Loss, X: Array, y) -> Array:
    """Per-sample input gradients ∂ℓ_i/∂x_i, shape (n, n_features).

    The losses average over the batch, so ∂(mean ℓ)/∂x_i = (1/n) ∂ℓ_i/∂x_i;
    we multiply by n to return the per-sample gradient.

    Examples
    --------
    >>> from latentlab.nn import MLP, MSELoss, input_gradients
    >>> net = MLP([2, 1], activation="identity", rng=0)
    >>> net.layers[0].weight[...] = [[2.0, -1.0]]
    >>> input_gradients(net, MSELoss(), np.zeros((1, 2)), np.array([1.0]))
    array([[-4.,  2.]])
    """
    output = model.forward(X)
    loss.forward(output, y)
    return model.backward(loss.backward()) * output.shape[0]


def gradient_importance(model: Sequential, loss: Loss, X: Array, y) -> Array:
    """Mean absolute input gradient per feature, shape (n_features,).

    Examples
    --------
    >>> from latentlab.nn import MLP, MSELoss, gradient_importance
    >>> net = MLP([2, 1], activation="identity", rng=0)
    >>> net.layers[0].weight[...] = [[2.0, -1.0]]
    >>> gradient_importance(net, MSELoss(), np.zeros((2, 2)), np.array([1.0, -1.0]))
    array([4., 2.])
    """
    return np.mean(np.abs(input_gradients(model, loss, X, y)), axis=0)


def neg_log_loss(estimator, X, y) -> float:
    """Minus the mean log-loss of ``estimator.predict_proba(X)`` for labels ``y``.

    A scorer (``scorer(estimator, X, y)``, greater is better) with the numbers
    of scikit-learn's ``"neg_log_loss"``: probabilities clipped to
    [eps, 1 - eps] (eps of their dtype) and renormalised, class order from
    ``estimator.classes_``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.metrics import log_loss
    >>> from latentlab.nn.importance import neg_log_loss
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 1, 0, 1])
    >>> model = LogisticRegression().fit(X, y)
    >>> bool(abs(neg_log_loss(model, X, y) + log_loss(y, model.predict_proba(X))) < 1e-12)
    True
    """
    classes = np.asarray(estimator.classes_)
    y = np.asarray(y)
    index = np.searchsorted(classes, y)
    unknown = (index >= len(classes)) | (classes[np.minimum(index, len(classes) - 1)] != y)
    if unknown.any():
        raise ValueError(f"y holds labels the estimator was not fitted on: {np.unique(y[unknown])}")
    probabilities = np.asarray(estimator.predict_proba(X), dtype=float)
    eps = np.finfo(probabilities.dtype).eps
    probabilities = np.clip(probabilities, eps, 1 - eps)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    return float(np.mean(np.log(probabilities[np.arange(len(y)), index])))
