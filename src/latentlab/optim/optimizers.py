"""Gradient-descent update rules, applied in place to a model's parameters.

Each optimiser is built from the lists ``model.parameters()`` and
``model.gradients()`` (arrays the layers update in place) and has a ``step()``.
The regularisation terms are added to the gradient before the update:
L2 (``weight_decay``, λ₂θ, the gradient of λ₂‖θ‖²/2, as torch's coupled weight
decay) and L1 (``l1``, λ₁ sign θ).

* SGD:      θ ← θ − η g
* Momentum: v ← μ v + g;  θ ← θ − η v                  (torch's SGD with momentum)
* Adam:     m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
            θ ← θ − η m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
* AdamW:    θ ← θ − η λ θ first (decoupled weight decay, Loshchilov & Hutter 2019),
            then the Adam step on the unpenalised gradient (``torch.optim.AdamW``)

With Adam, L2 in the loss (``weight_decay``) is divided by √v̂ like the rest of
the gradient, so parameters with large gradients are barely shrunk; AdamW
shrinks every parameter by the same factor 1 − ηλ per step.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_positive

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "AdamW", "clip_grad_norm", "penalty"]

Array = npt.NDArray[np.float64]


class Optimizer:
    """Holds parameters, their gradients, the learning rate and regularisation."""

    def __init__(
        self,
        parameters: Sequence[Array],
        gradients: Sequence[Array],
        *,
        lr: float,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        self.lr = check_positive(lr, "lr")
        self.weight_decay = check_positive(weight_decay, "weight_decay", strict=False)
        self.l1 = check_positive(l1, "l1", strict=False)
        self.parameters, self.gradients = list(parameters), list(gradients)
        if [p.shape for p in self.parameters] != [g.shape for g in self.gradients]:
            raise ValueError("parameters and gradients must be lists of arrays with matching shapes")
        self.n_steps = 0

    def _regularised(self, p: Array, g: Array) -> Array:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.l1:
            g = g + self.l1 * np.sign(p)
        return g

    def step(self) -> None:
        self.n_steps += 1
        for index, (p, g) in enumerate(zip(self.parameters, self.gradients)):
            self._update(index, p, self._regularised(p, g))

    def _update(self, index: int, p: Array, g: Array) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain (stochastic) gradient descent θ ← θ − η g.

    Examples
    --------
    >>> from latentlab.optim import SGD
    >>> theta, grad = np.array([1.0]), np.array([0.5])
    >>> SGD([theta], [grad], lr=0.1).step(); theta
    array([0.95])
    """

    def _update(self, index: int, p: Array, g: Array) -> None:
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum: v ← μ v + g, θ ← θ − η v (``torch.optim.SGD(momentum=μ)``)."""

    def __init__(self, parameters, gradients, *, lr: float, momentum: float = 0.9, **kwargs) -> None:
        super().__init__(parameters, gradients, lr=lr, **kwargs)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p) for p in self.parameters]

    def _update(self, index: int, p: Array, g: Array) -> None:
        v = self.velocity[index]
        v *= self.momentum
        v += g
        p -= self.lr * v


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba 2015), as ``torch.optim.Adam``.

    Examples
    --------
    >>> from latentlab.optim import Adam
    >>> theta, grad = np.array([1.0]), np.array([123.0])
    >>> Adam([theta], [grad], lr=0.1).step(); np.round(theta, 6)
    array([0.9])
    """

    def __init__(self, parameters, gradients, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, **kwargs) -> None:
        super().__init__(parameters, gradients, lr=lr, **kwargs)
        if not all(0 <= b < 1 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        self.beta1, self.beta2 = map(float, betas)
        self.eps = check_positive(eps, "eps")
        self.m = [np.zeros_like(p) for p in self.parameters]
        self.v = [np.zeros_like(p) for p in self.parameters]

    def _update(self, index: int, p: Array, g: Array) -> None:
        m, v, t = self.m[index], self.v[index], self.n_steps
        m += (1 - self.beta1) * (g - m)
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        correction1 = 1 - self.beta1**t
        correction2 = 1 - self.beta2**t
        denominator = np.sqrt(v) / np.sqrt(correction2) + self.eps
        p -= (self.lr / correction1) * m / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as ``torch.optim.AdamW``.

    ``decoupled_decay`` λ shrinks each parameter by θ ← (1 − ηλ) θ before the Adam
    step; ``weight_decay`` (L2 added to the gradient) and ``l1`` still work as in
    :class:`Adam`. torch's default λ is 0.01.

    Examples
    --------
    >>> from latentlab.optim import AdamW
    >>> theta, grad = np.array([1.0]), np.array([0.0])
    >>> AdamW([theta], [grad], lr=0.1, decoupled_decay=0.5).step(); theta
    array([0.95])
    """

    def __init__(self, parameters, gradients, *, lr: float = 1e-3, decoupled_decay: float = 1e-2,
                 **kwargs) -> None:
        super().__init__(parameters, gradients, lr=lr, **kwargs)
        self.decoupled_decay = check_positive(decoupled_decay, "decoupled_decay", strict=False)

    def _update(self, index: int, p: Array, g: Array) -> None:
        if self.decoupled_decay:
            p *= 1 - self.lr * self.decoupled_decay
        super()._update(index, p, g)


def clip_grad_norm(gradients: Sequence[Array], max_norm: float) -> float:
    """Rescale gradients in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping (as ``torch.nn.utils.clip_grad_norm_``).

    Examples
    --------
    >>> from latentlab.optim import clip_grad_norm
    >>> g = [np.array([3.0, 4.0])]
    >>> clip_grad_norm(g, 1.0), np.round(g[0], 3)
    (5.0, array([0.6, 0.8]))
    """
    max_norm = check_positive(max_norm, "max_norm")
    total = float(np.sqrt(sum(np.vdot(g, g) for g in gradients)))
    if not np.isfinite(total):
        raise ValueError(f"gradients must be finite to clip, got a joint norm of {total}")
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for g in gradients:
            g *= coefficient
    return total


def penalty(parameters: Sequence[Array], *, weight_decay: float = 0.0, l1: float = 0.0) -> float:
    """The regularisation term λ₂/2 Σθ² + λ₁ Σ|θ| whose gradient the optimisers add."""
    weight_decay = check_positive(weight_decay, "weight_decay", strict=False)
    l1 = check_positive(l1, "l1", strict=False)
    return float(sum(weight_decay / 2 * np.sum(p * p) + l1 * np.sum(np.abs(p)) for p in parameters))
