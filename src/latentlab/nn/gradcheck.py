"""Gradient checking by central differences.

∂L/∂θ_j ≈ (L(θ + h e_j) − L(θ − h e_j)) / (2h), error O(h²). Each entry costs
two forward passes, so use small networks and batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_positive
from latentlab.nn.losses import Loss
from latentlab.nn.model import loss_and_gradients

__all__ = ["GradCheckResult", "numerical_gradient", "gradcheck"]

Array = npt.NDArray[np.float64]


def numerical_gradient(function: Callable[[], float], array: Array, step: float = 1e-6) -> Array:
    """Central-difference gradient of a scalar ``function()`` w.r.t. ``array``, perturbed in place.

    Examples
    --------
    >>> from latentlab.nn.gradcheck import numerical_gradient
    >>> x = np.array([1.0, 2.0])
    >>> np.round(numerical_gradient(lambda: float(np.sum(x**3)), x), 6)
    array([ 3., 12.])
    """
    step = check_positive(step, "step")
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")
    grad = np.zeros_like(array, dtype=np.float64)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        original = flat[j]
        flat[j] = original + step
        upper = function()
        flat[j] = original - step
        lower = function()
        flat[j] = original
        flat_grad[j] = (upper - lower) / (2 * step)
    return grad


@dataclass(frozen=True)
class GradCheckResult:
    """Backprop gradients next to central differences, per parameter array.

    ``max_relative_error`` is max_j |analytic_j − numeric_j| / max_j |numeric_j|: the
    worst error relative to the gradient's scale (entry-wise ratios blow up on
    entries that are nearly zero, where differences only see round-off).
    """

    analytic: list
    numeric: list
    max_relative_error: float
    max_absolute_error: float


def gradcheck(model, loss: Loss, X: Array, y, *, step: float = 1e-6) -> GradCheckResult:
    """Compare a model's backprop gradients with central differences.

    Examples
    --------
    >>> from latentlab.nn import MLP, MSELoss, gradcheck
    >>> net = MLP([3, 4, 2], activation="tanh", rng=0)
    >>> X, Y = np.random.default_rng(1).normal(size=(5, 3)), np.zeros((5, 2))
    >>> gradcheck(net, MSELoss(), X, Y).max_relative_error < 1e-6
    True
    """
    loss_and_gradients(model, loss, X, y)
    analytic = [g.copy() for g in model.gradients()]
    numeric = [
        numerical_gradient(lambda: loss.forward(model.forward(X), y), p, step)
        for p in model.parameters()
    ]
    a = np.concatenate([g.ravel() for g in analytic])
    n = np.concatenate([g.ravel() for g in numeric])
    absolute = np.abs(a - n)
    scale = max(float(np.abs(n).max()), 1e-300)
    return GradCheckResult(analytic, numeric, float(absolute.max() / scale), float(absolute.max()))
