"""The dense (fully connected) layer: z = W a + b, with its backward pass.

Rows are samples, so a batch A of shape (n, n_in) maps to Z = A Wᵀ + b with
W of shape (n_out, n_in) (the layout of ``torch.nn.Linear``, so weights can be
copied across). The backward pass receives δ = ∂L/∂Z and returns ∂L/∂A:

    ∂L/∂W = δᵀ A,   ∂L/∂b = Σ_rows δ,   ∂L/∂A = δ W.

Gradients are written *in place* into ``grad_weight`` and ``grad_bias``, so the
lists returned by :meth:`Dense.gradients` stay valid for an optimiser.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from latentlab._validation import as_generator, check_float_dtype, check_integer, check_positive

__all__ = ["Dense", "init_weights"]

Array = npt.NDArray[np.float64]


def init_weights(
    n_in: int,
    n_out: int,
    *,
    init: Literal["xavier", "he"] = "xavier",
    gain: float = 1.0,
    rng: None | int | np.random.Generator = None,
    dtype=np.float64,
) -> Array:
    """Draw a (n_out, n_in) weight matrix with Xavier (Glorot) or He scaling.

    Xavier: N(0, 2/(n_in + n_out)), which keeps activations' variance for
    tanh/sigmoid; He: N(0, 2/n_in), the same for ReLU. ``gain`` multiplies the
    standard deviation (``gain > 1`` makes gradients explode in deep nets).

    Examples
    --------
    >>> from latentlab.nn.layers import init_weights
    >>> W = init_weights(400, 100, init="he", rng=0)
    >>> W.shape, round(float(W.std() * np.sqrt(400 / 2)), 1)
    ((100, 400), 1.0)
    """
    n_in = check_integer(n_in, "n_in", minimum=1)
    n_out = check_integer(n_out, "n_out", minimum=1)
    gain = check_positive(gain, "gain")
    dtype = check_float_dtype(dtype)
    if init == "xavier":
        std = np.sqrt(2.0 / (n_in + n_out))
    elif init == "he":
        std = np.sqrt(2.0 / n_in)
    else:
        raise ValueError(f"init must be 'xavier' or 'he', got {init!r}")
    return (gain * std * as_generator(rng).standard_normal((n_out, n_in))).astype(dtype)


class Dense:
    """A fully connected layer z = W a + b.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    bias : bool
        Include the bias b (the classic XOR network of chapter 5 has none).
    init : {"xavier", "he"}
        Weight initialisation; biases start at zero.
    gain : float
        Multiplier of the initial weights' standard deviation.
    rng : None, int or numpy.random.Generator
    dtype : numpy dtype
        float64 by default.

    Examples
    --------
    >>> from latentlab.nn import Dense
    >>> layer = Dense(3, 2, rng=0)
    >>> out = layer.forward(np.ones((4, 3)))
    >>> grad_in = layer.backward(np.ones((4, 2)))
    >>> out.shape, grad_in.shape, layer.grad_bias.tolist()
    ((4, 2), (4, 3), [4.0, 4.0])
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        bias: bool = True,
        init: Literal["xavier", "he"] = "xavier",
        gain: float = 1.0,
        rng: None | int | np.random.Generator = None,
        dtype=np.float64,
    ) -> None:
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.weight = init_weights(n_in, n_out, init=init, gain=gain, rng=rng, dtype=dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self.bias = np.zeros(n_out, dtype=dtype) if bias else None
        self.grad_bias = np.zeros(n_out, dtype=dtype) if bias else None

    def forward(self, a: Array) -> Array:
        """Z = A Wᵀ + b; caches A for the backward pass."""
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ValueError(
                f"input to Dense({self.n_in}, {self.n_out}) must have shape (n, {self.n_in}), "
                f"got {a.shape}"
            )
        self._a = a
        z = a @ self.weight.T
        if self.bias is not None:
            z += self.bias
        return z

    def backward(self, delta: Array) -> Array:
        """Store ∂L/∂W = δᵀA and ∂L/∂b = Σδ; return ∂L/∂A = δW."""
        np.matmul(delta.T, self._a, out=self.grad_weight)
        if self.bias is not None:
            np.sum(delta, axis=0, out=self.grad_bias)
        return delta @ self.weight

    def parameters(self) -> list[Array]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def gradients(self) -> list[Array]:
        return [self.grad_weight] if self.bias is None else [self.grad_weight, self.grad_bias]

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out}, bias={self.bias is not None})"
