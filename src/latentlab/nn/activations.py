"""Activation functions g(z) and their backward passes.

Each activation is a tiny layer without parameters: ``forward(z)`` caches what
the backward pass needs and ``backward(grad)`` returns ∂L/∂z = ∂L/∂a ⊙ g'(z)
(for softmax, the vector–Jacobian product, because its Jacobian is not
diagonal). The plain functions ``sigmoid``, ``softmax`` and ``log_softmax`` are
stable for large |z|.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_softmax as _log_softmax

from latentlab._validation import check_array

__all__ = [
    "sigmoid",
    "softmax",
    "log_softmax",
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "Softmax",
    "Identity",
    "get_activation",
]

Array = npt.NDArray[np.float64]


def sigmoid(z: Array) -> Array:
    """σ(z) = 1/(1 + e^{-z}), without overflow for large |z|.

    Examples
    --------
    >>> from latentlab.nn.activations import sigmoid
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    return expit(check_array(z, "z", dtype=None))


def log_softmax(z: Array) -> Array:
    """log softmax along the last axis, computed as z − logsumexp(z)."""
    return _log_softmax(check_array(z, "z", dtype=None), axis=-1)


def softmax(z: Array) -> Array:
    """softmax along the last axis (rows sum to one).

    Examples
    --------
    >>> from latentlab.nn.activations import softmax
    >>> softmax(np.array([[1000.0, 1000.0]]))
    array([[0.5, 0.5]])
    """
    return np.exp(log_softmax(z))


class Activation:
    """Base class: a parameter-free layer a = g(z)."""

    name = "activation"

    def forward(self, z: Array) -> Array:
        raise NotImplementedError

    def backward(self, grad: Array) -> Array:
        raise NotImplementedError

    def parameters(self) -> list[Array]:
        return []

    def gradients(self) -> list[Array]:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """g(z) = σ(z), g'(z) = σ(z)(1 − σ(z)) ≤ 1/4."""

    name = "sigmoid"

    def forward(self, z: Array) -> Array:
        self._a = expit(z)
        return self._a

    def backward(self, grad: Array) -> Array:
        return grad * self._a * (1.0 - self._a)


class Tanh(Activation):
    """g(z) = tanh z, g'(z) = 1 − tanh² z."""

    name = "tanh"

    def forward(self, z: Array) -> Array:
        self._a = np.tanh(z)
        return self._a

    def backward(self, grad: Array) -> Array:
        return grad * (1.0 - self._a * self._a)


class ReLU(Activation):
    """g(z) = max(z, 0), g'(z) = 1[z > 0] (we take g'(0) = 0, as torch does)."""

    name = "relu"

    def forward(self, z: Array) -> Array:
        self._mask = z > 0
        return z * self._mask

    def backward(self, grad: Array) -> Array:
        return grad * self._mask


class Softmax(Activation):
    """a = softmax(z) per row; backward: a ⊙ (grad − Σ_k grad_k a_k)."""

    name = "softmax"

    def forward(self, z: Array) -> Array:
        self._a = np.exp(_log_softmax(z, axis=-1))
        return self._a

    def backward(self, grad: Array) -> Array:
        a = self._a
        return a * (grad - np.sum(grad * a, axis=-1, keepdims=True))


class Identity(Activation):
    """g(z) = z, g'(z) = 1 (linear output layer)."""

    name = "identity"

    def forward(self, z: Array) -> Array:
        return z

    def backward(self, grad: Array) -> Array:
        return grad


_ACTIVATIONS = {cls.name: cls for cls in (Sigmoid, Tanh, ReLU, Softmax, Identity)}


def get_activation(activation: str | Activation) -> Activation:
    """Return a fresh activation layer for a name ("sigmoid", "tanh", "relu", "softmax", "identity").

    Examples
    --------
    >>> from latentlab.nn.activations import get_activation
    >>> get_activation("relu")
    ReLU()
    """
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str) or activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(_ACTIVATIONS)} or an Activation, got {activation!r}"
        )
    return _ACTIVATIONS[activation]()
