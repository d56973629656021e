"""Optimisers, learning-rate schedules, gradient clipping and the training loop (chapter 5).

Works on anything with ``forward``/``backward``/``parameters()``/``gradients()``
(the networks of :mod:`latentlab.nn`).
"""

from latentlab.optim.optimizers import (
    SGD,
    Adam,
    AdamW,
    Momentum,
    Optimizer,
    clip_grad_norm,
    penalty,
)
from latentlab.optim.schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    ReduceLROnPlateau,
    Schedule,
    StepLR,
    make_schedule,
)
from latentlab.optim.training import TrainResult, make_optimizer, train

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Adam",
    "AdamW",
    "clip_grad_norm",
    "penalty",
    "Schedule",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
    "make_schedule",
    "TrainResult",
    "make_optimizer",
    "train",
]
