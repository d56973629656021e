"""Networks as a list of layers: ``Sequential`` and the ``MLP`` builder.

Backpropagation is the chain rule applied layer by layer in reverse order:
each layer's ``backward`` receives ∂L/∂(its output) and returns ∂L/∂(its input),
storing its own parameter gradients on the way.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import numpy.typing as npt

from latentlab._validation import as_generator, check_array, check_integer
from latentlab.nn.activations import Activation, get_activation
from latentlab.nn.layers import Dense
from latentlab.nn.losses import Loss

__all__ = ["Sequential", "MLP", "loss_and_gradients", "layer_gradient_norms"]

Array = npt.NDArray[np.float64]


class Sequential:
    """Layers applied in order; ``backward`` runs them in reverse.

    Parameters
    ----------
    layers : sequence of layers
        Each has ``forward``, ``backward``, ``parameters()`` and ``gradients()``.
        Consecutive ``Dense`` layers must agree in width.

    Examples
    --------
    >>> from latentlab.nn import Sequential, Dense, Tanh
    >>> net = Sequential([Dense(2, 4, rng=0), Tanh(), Dense(4, 1, rng=1)])
    >>> net.forward(np.zeros((5, 2))).shape
    (5, 1)
    >>> Sequential([Dense(2, 4), Dense(3, 1)])
    Traceback (most recent call last):
    ...
    ValueError: layer 1 expects 3 inputs but the previous Dense layer gives 4
    """

    def __init__(self, layers: Sequence) -> None:
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("layers must hold at least one layer, got none")
        for index, layer in enumerate(self.layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"layers[{index}] must be a layer (Dense or an activation), "
                                f"got {type(layer).__name__}")
        width = None
        for index, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                if width is not None and layer.n_in != width:
                    raise ValueError(
                        f"layer {index} expects {layer.n_in} inputs but the previous Dense layer gives {width}"
                    )
                width = layer.n_out
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        self.n_in = dense[0].n_in if dense else None
        self.n_out = dense[-1].n_out if dense else None

    def forward(self, X: Array, *, check: bool = True) -> Array:
        """Run the layers on X of shape (n, n_in); NaN or infinite inputs are rejected.

        ``check=False`` skips the input checks (the training loop validates once).
        """
        if not check:
            for layer in self.layers:
                X = layer.forward(X)
            return X
        X = check_array(X, "X", ndim=2, dtype=None)
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        if not np.isfinite(X).all():
            raise ValueError(f"X contains {int((~np.isfinite(X)).sum())} NaN or infinite value(s); expected finite numbers")
        if self.n_in is not None and X.shape[1] != self.n_in:
            raise ValueError(f"X must have {self.n_in} columns (the network's input width), got {X.shape[1]}")
        for layer in self.layers:
            X = layer.forward(X)
        return X

    __call__ = forward

    def backward(self, grad: Array) -> Array:
        """Back-propagate ∂L/∂output; returns ∂L/∂X and fills every layer's gradients."""
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def parameters(self) -> list[Array]:
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list[Array]:
        return [g for layer in self.layers for g in layer.gradients()]

    def get_state(self) -> list[Array]:
        """Copies of the parameters (for early stopping's best weights)."""
        return [p.copy() for p in self.parameters()]

    def set_state(self, state: Sequence[Array]) -> None:
        """Write parameter values back in place."""
        for p, value in zip(self.parameters(), state, strict=True):
            p[...] = value

    def __repr__(self) -> str:
        return "Sequential([" + ", ".join(map(repr, self.layers)) + "])"


def MLP(
    sizes: Sequence[int],
    *,
    activation: str | Activation = "tanh",
    output_activation: str | Activation = "identity",
    bias: bool = True,
    init: Literal["xavier", "he", "auto"] = "auto",
    gain: float = 1.0,
    rng: None | int | np.random.Generator = None,
    dtype=np.float64,
) -> Sequential:
    """A multilayer perceptron: Dense → activation → … → Dense → output activation.

    Parameters
    ----------
    sizes : sequence of int
        Widths [n_in, hidden..., n_out], at least two entries.
    activation : str
        Hidden activation ("sigmoid", "tanh", "relu", "identity").
    output_activation : str
        "identity" (logits; pair with a loss from logits) or e.g. "sigmoid".
    init : {"auto", "xavier", "he"}
        "auto" uses He for ReLU and Xavier otherwise.
    gain : float
        Multiplier of every layer's initial weight scale.
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> from latentlab.nn import MLP
    >>> MLP([2, 3, 1], activation="sigmoid", bias=False, rng=0)
    Sequential([Dense(2, 3, bias=False), Sigmoid(), Dense(3, 1, bias=False), Identity()])
    """
    sizes = [check_integer(s, "sizes", minimum=1) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the input and output widths, got {sizes}")
    rng = as_generator(rng)
    if init == "auto":
        init = "he" if _fresh(activation).name == "relu" else "xavier"
    layers: list = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, bias=bias, init=init, gain=gain, rng=rng, dtype=dtype))
        last = index == len(sizes) - 2
        layers.append(_fresh(output_activation if last else activation))
    return Sequential(layers)


def _fresh(activation: str | Activation) -> Activation:
    """A new activation layer (layers cache state, so they are never shared)."""
    if isinstance(activation, Activation):
        return type(activation)()
    return get_activation(activation)


def loss_and_gradients(model: Sequential, loss: Loss, X: Array, y) -> float:
    """One forward and backward pass: returns L and leaves ∂L/∂θ in ``model.gradients()``.

    Examples
    --------
    >>> from latentlab.nn import MLP, MSELoss, loss_and_gradients
    >>> net = MLP([2, 1], rng=0)
    >>> value = loss_and_gradients(net, MSELoss(), np.ones((3, 2)), np.zeros(3))
    >>> [g.shape for g in net.gradients()]
    [(1, 2), (1,)]
    """
    value = loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return value


def layer_gradient_norms(model: Sequential) -> list[float]:
    """Frobenius norm of ∂L/∂W for each Dense layer, input side first (after a backward pass)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (or MLP), got {type(model).__name__}")
    return [float(np.linalg.norm(layer.grad_weight)) for layer in model.layers if isinstance(layer, Dense)]
