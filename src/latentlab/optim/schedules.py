"""Learning-rate schedules. Call ``step()`` once per epoch, after the optimiser's steps.

Each schedule sets ``optimizer.lr`` from the epoch count t (closed forms, with the
same values as ``torch.optim.lr_scheduler``):

* step:        η_t = η₀ γ^⌊t/s⌋
* exponential: η_t = η₀ γ^t
* cosine:      η_t = η_min + (η₀ − η_min)(1 + cos(π t/T))/2
* plateau:     η ← max(f η, η_min) when the monitored loss has not improved by a
  relative ``threshold`` for more than ``patience`` epochs
"""

from __future__ import annotations

import math

from latentlab._validation import check_integer, check_positive
from latentlab.optim.optimizers import Optimizer

__all__ = ["Schedule", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau",
           "make_schedule"]


class Schedule:
    """Base class: remembers η₀ and the epoch count."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a latentlab.optim Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self, metric: float | None = None) -> float:
        """Advance one epoch; returns the new learning rate."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)
        return self.optimizer.lr


class StepLR(Schedule):
    """Multiply η by ``gamma`` every ``step_size`` epochs.

    Examples
    --------
    >>> from latentlab.optim import SGD, StepLR
    >>> schedule = StepLR(SGD([], [], lr=1.0), step_size=2, gamma=0.5)
    >>> [schedule.step() for _ in range(5)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = check_integer(step_size, "step_size", minimum=1)
        self.gamma = check_positive(gamma, "gamma")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(Schedule):
    """η_t = η₀ γ^t."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = check_positive(gamma, "gamma")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(Schedule):
    """Half a cosine from η₀ down to ``eta_min`` over ``t_max`` epochs.

    Examples
    --------
    >>> from latentlab.optim import SGD, CosineAnnealingLR
    >>> schedule = CosineAnnealingLR(SGD([], [], lr=1.0), t_max=2)
    >>> [round(schedule.step(), 3) for _ in range(2)]
    [0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, t_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.t_max = check_integer(t_max, "t_max", minimum=1)
        self.eta_min = check_positive(eta_min, "eta_min", strict=False)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.t_max)) / 2


class ReduceLROnPlateau(Schedule):
    """Cut η by ``factor`` when the monitored loss stalls (``step(metric)`` each epoch).

    Examples
    --------
    >>> from latentlab.optim import SGD, ReduceLROnPlateau
    >>> schedule = ReduceLROnPlateau(SGD([], [], lr=1.0), factor=0.5, patience=1)
    >>> [schedule.step(loss) for loss in [3.0, 2.0, 2.0, 2.0, 2.0]]
    [1.0, 1.0, 1.0, 0.5, 0.5]
    """

    def __init__(self, optimizer: Optimizer, *, factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(optimizer)
        if not 0 < factor < 1:
            raise ValueError(f"factor must lie in (0, 1), got {factor}")
        self.factor = float(factor)
        self.patience = check_integer(patience, "patience", minimum=0)
        self.threshold = check_positive(threshold, "threshold", strict=False)
        self.cooldown = check_integer(cooldown, "cooldown", minimum=0)
        self.min_lr = check_positive(min_lr, "min_lr", strict=False)
        self.best, self.n_bad, self.cooldown_left = math.inf, 0, 0

    def step(self, metric: float | None = None) -> float:
        if metric is None or not math.isfinite(metric):
            raise ValueError(f"ReduceLROnPlateau.step needs the finite loss it monitors, got {metric}")
        self.epoch += 1
        if metric < self.best * (1 - self.threshold):
            self.best, self.n_bad = metric, 0
        else:
            self.n_bad += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.n_bad = 0
        if self.n_bad > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > 1e-8:
                self.optimizer.lr = new_lr
            self.cooldown_left, self.n_bad = self.cooldown, 0
        return self.optimizer.lr


#: The schedules :func:`make_schedule` builds, by name ("constant" builds none).
SCHEDULES = {"step": StepLR, "exponential": ExponentialLR, "cosine": CosineAnnealingLR,
             "plateau": ReduceLROnPlateau}


def make_schedule(name: str, optimizer: Optimizer, **options) -> Schedule | None:
    """Build "constant" (``None``: the rate stays), "step", "exponential", "cosine" or "plateau".

    ``options`` go to the schedule (e.g. ``step_size`` and ``gamma`` for "step",
    ``t_max`` for "cosine"); "constant" takes none. The result is what
    :func:`latentlab.optim.train` expects as ``schedule``.

    Examples
    --------
    >>> from latentlab.optim import SGD, make_schedule
    >>> optimizer = SGD([], [], lr=1.0)
    >>> type(make_schedule("step", optimizer, step_size=20, gamma=0.3)).__name__
    'StepLR'
    >>> make_schedule("constant", optimizer) is None
    True
    """
    if name == "constant":
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a latentlab.optim Optimizer, got {type(optimizer).__name__}")
        if options:
            raise TypeError(f"the constant schedule takes no options, got {sorted(options)}")
        return None
    if name not in SCHEDULES:
        raise ValueError(f"name must be 'constant' or one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name](optimizer, **options)
