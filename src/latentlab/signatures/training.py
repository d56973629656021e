"""Training loop pieces of the signature fit: Adam groups, the loop, stopping rules.

:func:`adam_param_groups` gives each parameter the reference trainer's
learning-rate multiplier; :func:`adam_loop` runs any objective with a tqdm bar,
a non-finite check and early stopping, either absolute (|ΔL| < ``tol``) or
relative (:func:`relative_change_met`: the mean relative change per epoch over
a window, on consecutive epochs). :mod:`latentlab.signatures.fit` re-exports
them.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from latentlab._divergence import DivergenceGuard
from latentlab._validation import check_integer, check_positive

__all__ = ["DEFAULT_LR_MULTIPLIERS", "adam_param_groups", "adam_loop", "relative_change",
           "relative_change_met"]

#: Learning-rate multipliers of the reference trainer, per parameter name.
DEFAULT_LR_MULTIPLIERS = {"lam": 1.0, "delta": 1.0, "phi": 0.1, "epsilon": 0.1, "psi": 0.1, "gamma": 1.0, "kappa": 1.0}


def relative_change(history: Sequence[float], window: int = 10) -> float:
    """Mean relative change per epoch of the loss over the last ``window`` epochs.

    |L_t − L_(t−window)| / (window · |L_t|) at the last epoch t; ``inf`` while
    the history holds ``window`` values or fewer. A loss at exactly 0 gives
    ``inf`` unless it did not move (then 0).

    Examples
    --------
    >>> from latentlab.signatures.training import relative_change
    >>> relative_change([10.0, 9.0, 8.0], window=2)
    0.125
    >>> relative_change([10.0, 9.0], window=2)
    inf
    """
    window = check_integer(window, "window", minimum=1)
    values = np.asarray(history, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"history must be one-dimensional, got shape {values.shape}")
    if values.size <= window:
        return float("inf")
    step = abs(values[-1] - values[-1 - window]) / window
    if step == 0:
        return 0.0
    return float(step / abs(values[-1])) if values[-1] != 0 else float("inf")


def relative_change_met(history: Sequence[float], rtol: float, window: int = 10,
                        patience: int = 3) -> bool:
    """Whether the relative stopping rule holds at the end of ``history``.

    The rule: :func:`relative_change` (mean relative change per epoch over the
    last ``window`` epochs) is at most ``rtol`` at each of the last
    ``patience`` epochs. Comparing epochs ``window`` apart ignores Adam's
    epoch-to-epoch wobble; asking for ``patience`` consecutive checks keeps one
    lucky epoch on a slow stretch from ending the fit. Scale-free: a loss per
    person and a loss per cohort stop at the same epoch.

    Examples
    --------
    >>> from latentlab.signatures.training import relative_change_met
    >>> flat = [2.0, 1.5, 1.2] + [1.0] * 5
    >>> relative_change_met(flat, 1e-6, window=2, patience=3)
    True
    >>> relative_change_met(flat[:6], 1e-6, window=2, patience=3)
    False
    """
    rtol = check_positive(rtol, "rtol")
    window = check_integer(window, "window", minimum=1)
    patience = check_integer(patience, "patience", minimum=1)
    if len(history) < window + patience:
        return False
    tail = np.asarray(history[len(history) - window - patience:], dtype=float)
    return all(relative_change(tail[: tail.size - lag], window) <= rtol
               for lag in range(patience))


def adam_param_groups(params: dict[str, torch.Tensor], learning_rate: float = 0.1,
                      multipliers: dict[str, float] | None = None) -> list[dict]:
    """Adam parameter groups with per-name learning rates ``learning_rate × multiplier``.

    Examples
    --------
    >>> import torch
    >>> from latentlab.signatures import adam_param_groups
    >>> groups = adam_param_groups({"lam": torch.zeros(2, requires_grad=True),
    ...                             "phi": torch.zeros(2, requires_grad=True)}, 0.1)
    >>> [(g["name"], round(g["lr"], 3)) for g in groups]
    [('lam', 0.1), ('phi', 0.01)]
    """
    learning_rate = check_positive(learning_rate, "learning_rate")
    for key, value in (multipliers or {}).items():
        check_positive(value, f"multipliers[{key!r}]")
    table = dict(DEFAULT_LR_MULTIPLIERS)
    table.update(multipliers or {})
    groups = []
    for name, tensor in params.items():
        if name not in table:
            raise ValueError(f"no learning-rate multiplier for parameter {name!r}; pass it in multipliers")
        groups.append({"params": [tensor], "lr": learning_rate * table[name], "name": name})
    return groups


def adam_loop(objective: Callable[[], torch.Tensor], optimizer: torch.optim.Optimizer, n_epochs: int, *,
              tol: float | None = 1e-6, verbose: bool = True, desc: str = "fit",
              guard: DivergenceGuard | None = None, snapshot: Callable[[], object] | None = None,
              domain: Callable[[], dict[str, str]] | None = None, rtol: float | None = None,
              window: int = 10, patience: int = 3) -> tuple[tuple[float, ...], int, bool]:
    """Run ``n_epochs`` full-batch steps; stop early when a stopping rule holds.

    Two rules, either of which stops the loop (``None`` switches one off): the
    absolute rule |ΔL| < ``tol`` from one epoch to the next, and the relative
    rule of :func:`relative_change_met` (mean relative change per epoch over
    ``window`` epochs at most ``rtol`` on ``patience`` consecutive epochs).

    Returns (history of floats, epochs run, converged). Every epoch the loss is
    checked by ``guard`` (default: a :class:`~latentlab._divergence.DivergenceGuard`
    naming the optimiser's largest learning rate) before the step; ``domain()``
    reports parameters out of their domain and ``snapshot()`` copies the state
    that produced an accepted loss. Raises :class:`~latentlab.DivergenceError`
    (a ``FloatingPointError``) naming the epoch and the learning rate if the
    loss is not finite, explodes, or a parameter leaves its domain.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    n_epochs = check_integer(n_epochs, "n_epochs", minimum=1)
    if tol is not None:
        tol = check_positive(tol, "tol")
    if rtol is not None:
        relative_change_met([], rtol, window, patience)  # validates the three options
    if guard is None:
        guard = DivergenceGuard(desc, learning_rate=max(g["lr"] for g in optimizer.param_groups))
    history: list[float] = []
    converged = False
    bar = tqdm(range(n_epochs), desc=desc, disable=not verbose, leave=False)
    for epoch in bar:
        optimizer.zero_grad(set_to_none=True)
        loss = objective()
        value = float(loss.detach())
        guard.check(epoch, value, domain=domain() if domain is not None else None)
        if snapshot is not None:
            guard.keep(epoch, snapshot())
        loss.backward()
        optimizer.step()
        history.append(value)
        if verbose:
            bar.set_postfix(loss=f"{value:.5f}")
        if tol is not None and epoch > 0 and abs(history[-2] - value) < tol:
            converged = True
            break
        if rtol is not None and relative_change_met(history, rtol, window, patience):
            converged = True
            break
    bar.close()
    return tuple(history), len(history), converged
