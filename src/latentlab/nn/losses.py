"""Losses with their gradients: mean squared error and cross-entropy from logits.

Every loss is averaged over the batch (as torch's default ``reduction="mean"``).
``forward(output, target)`` returns a Python float and caches what
``backward()`` needs; ``backward()`` returns ∂L/∂output.

Cross-entropies take *logits*, never probabilities, and are computed in log
space, so they stay finite for logits of ±1000:

* binary:      ℓ = softplus(z) − y z = max(z, 0) − y z + log1p(e^{−|z|}),  ∂ℓ/∂z = σ(z) − y
* multi-class: ℓ = −log_softmax(z)_y,                                         ∂ℓ/∂z = softmax(z) − onehot(y)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_in_range
from latentlab.nn.activations import log_softmax, sigmoid

__all__ = ["Loss", "MSELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "get_loss"]

Array = npt.NDArray[np.float64]


def _check_output(output: Array) -> Array:
    if not isinstance(output, np.ndarray) or output.ndim != 2:
        raise ValueError(f"output must be a 2-D array (n, n_outputs), got shape {np.shape(output)}")
    return output


class Loss:
    """Base class of a loss averaged over a batch."""

    name = "loss"

    def forward(self, output: Array, target, *, check: bool = True) -> float:
        """L(output, target); ``check=False`` skips validation (for pre-validated batches)."""
        raise NotImplementedError

    def backward(self) -> Array:
        raise NotImplementedError

    def __call__(self, output: Array, target) -> float:
        return self.forward(output, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """L = mean over all entries of (output − target)².

    Examples
    --------
    >>> from latentlab.nn import MSELoss
    >>> loss = MSELoss()
    >>> loss(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    2.5
    >>> loss.backward().ravel().tolist()
    [1.0, 2.0]
    """

    name = "mse"

    def forward(self, output: Array, target, *, check: bool = True) -> float:
        if check:
            output = _check_output(output)
            target = check_array(target, "target", dtype=float)
        if target.ndim == 1 and output.shape[1] == 1:
            target = target[:, None]
        if check and target.shape != output.shape:
            raise ValueError(f"target must have the output's shape {output.shape}, got {target.shape}")
        self._residual = output - target
        return float(np.mean(self._residual**2))

    def backward(self) -> Array:
        return 2.0 * self._residual / self._residual.size


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy from logits z of shape (n, 1) (or (n, k) for k independent labels).

    Examples
    --------
    >>> from latentlab.nn import BCEWithLogitsLoss
    >>> loss = BCEWithLogitsLoss()
    >>> round(loss(np.array([[1000.0], [-1000.0]]), np.array([0.0, 1.0])), 1)
    1000.0
    """

    name = "bce"

    def forward(self, output: Array, target, *, check: bool = True) -> float:
        z, y = output, target
        if check:
            z = _check_output(output)
            y = check_array(target, "target", dtype=float)
        if y.ndim == 1 and z.shape[1] == 1:
            y = y[:, None]
        if check:
            if y.shape != z.shape:
                raise ValueError(f"target must have the output's shape {z.shape}, got {y.shape}")
            check_in_range(y, "target", 0, 1)
        self._z, self._y = z, y
        losses = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
        return float(np.mean(losses))

    def backward(self) -> Array:
        return (sigmoid(self._z) - self._y) / self._z.size


class CrossEntropyLoss(Loss):
    """Multi-class cross-entropy from logits (n, K) and integer labels in {0, …, K−1}.

    Examples
    --------
    >>> from latentlab.nn import CrossEntropyLoss
    >>> loss = CrossEntropyLoss()
    >>> round(loss(np.array([[0.0, 0.0], [1000.0, -1000.0]]), np.array([0, 1])), 3)
    1000.347
    >>> loss(np.zeros((1, 2)), np.array([2]))
    Traceback (most recent call last):
    ...
    ValueError: target must lie in [0, 1], got values from 2 to 2
    """

    name = "cross_entropy"

    def forward(self, output: Array, target, *, check: bool = True) -> float:
        z, y = output, target
        if check:
            z = _check_output(output)
            y = check_array(target, "target", ndim=1, dtype=int)
            if y.shape[0] != z.shape[0]:
                raise ValueError(f"target must have one label per row of output ({z.shape[0]}), got {y.shape[0]}")
            check_in_range(y, "target", 0, z.shape[1] - 1)
        log_p = log_softmax(z)
        self._p, self._y = np.exp(log_p), y
        return float(-np.mean(log_p[np.arange(len(y)), y]))

    def backward(self) -> Array:
        grad = self._p.copy()
        grad[np.arange(len(self._y)), self._y] -= 1.0
        return grad / len(self._y)


_LOSSES = {cls.name: cls for cls in (MSELoss, BCEWithLogitsLoss, CrossEntropyLoss)}


def get_loss(loss: str | Loss) -> Loss:
    """Return a loss object for a name ("mse", "bce", "cross_entropy") or pass one through."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise ValueError(f"loss must be one of {sorted(_LOSSES)} or a Loss, got {loss!r}")
    return _LOSSES[loss]()
