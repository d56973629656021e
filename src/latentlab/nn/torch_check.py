"""Cross-checks against torch autograd: copy a network into torch (float64) and compare gradients.

Only this module imports torch; the network itself is numpy only.
"""

from __future__ import annotations

import numpy as np

from latentlab.nn.layers import Dense
from latentlab.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from latentlab.nn.model import Sequential, loss_and_gradients

__all__ = ["to_torch", "torch_gradients", "max_gradient_difference"]


def to_torch(net: Sequential, dtype=None):
    """The same network as a ``torch.nn.Sequential`` (float64 by default) with our weights copied in.

    Examples
    --------
    >>> from latentlab.nn import MLP
    >>> from latentlab.nn.torch_check import to_torch
    >>> to_torch(MLP([2, 3, 1], activation="relu", rng=0))
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=1, bias=True)
      (3): Identity()
    )
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    activations = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
                   "identity": torch.nn.Identity, "softmax": lambda: torch.nn.Softmax(dim=-1)}
    modules = []
    for layer in net.layers:
        if isinstance(layer, Dense):
            linear = torch.nn.Linear(layer.n_in, layer.n_out, bias=layer.bias is not None, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.weight))
                if layer.bias is not None:
                    linear.bias.copy_(torch.from_numpy(layer.bias))
            modules.append(linear)
        else:
            modules.append(activations[layer.name]())
    return torch.nn.Sequential(*modules)


def _torch_loss(loss: Loss):
    import torch.nn.functional as F

    if isinstance(loss, MSELoss):
        return F.mse_loss
    if isinstance(loss, BCEWithLogitsLoss):
        return F.binary_cross_entropy_with_logits
    if isinstance(loss, CrossEntropyLoss):
        return F.cross_entropy
    raise TypeError(f"no torch counterpart for {type(loss).__name__}")


def torch_gradients(net: Sequential, loss: Loss, X, y) -> list[np.ndarray]:
    """∂L/∂θ from torch autograd in float64, in the order of ``net.parameters()``."""
    import torch

    twin = to_torch(net)
    target = torch.as_tensor(np.asarray(y))
    if isinstance(loss, (MSELoss, BCEWithLogitsLoss)):
        target = target.to(torch.float64).reshape(len(y), -1)
    _torch_loss(loss)(twin(torch.as_tensor(np.asarray(X, dtype=np.float64))), target).backward()
    return [p.grad.numpy().copy() for p in twin.parameters()]


def max_gradient_difference(net: Sequential, loss: Loss, X, y) -> float:
    """max |ours − torch| / max |torch| over every parameter entry.

    Examples
    --------
    >>> from latentlab.nn import MLP, CrossEntropyLoss
    >>> from latentlab.nn.torch_check import max_gradient_difference
    >>> net = MLP([3, 5, 4], activation="tanh", rng=0)
    >>> X = np.random.default_rng(1).normal(size=(6, 3))
    >>> max_gradient_difference(net, CrossEntropyLoss(), X, np.array([0, 1, 2, 3, 0, 1])) < 1e-12
    True
    """
    loss_and_gradients(net, loss, X, y)
    ours = np.concatenate([g.ravel() for g in net.gradients()])
    theirs = np.concatenate([g.ravel() for g in torch_gradients(net, loss, X, y)])
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())
