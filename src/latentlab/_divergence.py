"""One divergence check shared by every iterative fitter.

Each fitter (signature fit, λ-only prediction, numpy ``train``, MOFA, EM, AIP)
creates a :class:`DivergenceGuard` and calls :meth:`DivergenceGuard.check` once per
epoch or iteration with the objective it monitors. The guard raises
:class:`DivergenceError` when

* the objective is NaN or infinite,
* the objective has grown by orders of magnitude over the best value seen so far
  (by more than ``growth`` × max(|best|, ``floor``); the default, 10³, is far beyond
  the wobble of a healthy fit), or
* a parameter has left its domain (for example κ ≤ 0), reported by the caller.

The message names the fitter, the learning rate and the epoch. The fitter stores
the state behind each accepted objective with :meth:`DivergenceGuard.keep`; the
exception carries it as :attr:`DivergenceError.last_good` (with its epoch), so a
diverged fit can still be inspected or restarted from its last good point.
A result's ``converged`` flag is unrelated: it only says whether the tolerance
was reached.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["DivergenceError", "DivergenceGuard"]


class DivergenceError(FloatingPointError):
    """An iterative fit diverged (non-finite or exploding objective, parameter out of domain).

    A subclass of :class:`FloatingPointError`, so code that caught the older
    non-finite-loss error still catches it.

    Attributes
    ----------
    fitter : str
        Which fit diverged.
    epoch : int
        The epoch (or iteration) at which the check failed.
    learning_rate : float or None
        The fit's (base) learning rate; ``None`` for fitters without one (EM, AIP).
    value : float
        The objective at that epoch.
    best : float
        The best objective before it.
    reason : str
        ``"non-finite"``, ``"growth"`` or ``"domain"``.
    last_good : object
        The state at the last epoch that passed the check (what it is depends on
        the fitter and is documented there; ``None`` if no epoch passed).
    last_good_epoch : int or None
    history : tuple of float
        The monitored objective up to the last good epoch.

    Examples
    --------
    >>> from latentlab import DivergenceError
    >>> issubclass(DivergenceError, FloatingPointError)
    True
    """

    def __init__(
        self,
        message: str,
        *,
        fitter: str,
        epoch: int,
        learning_rate: float | None,
        value: float,
        best: float,
        reason: str,
        last_good: Any = None,
        last_good_epoch: int | None = None,
        history: tuple = (),
    ) -> None:
        super().__init__(message)
        self.fitter = fitter
        self.epoch = epoch
        self.learning_rate = learning_rate
        self.value = value
        self.best = best
        self.reason = reason
        self.last_good = last_good
        self.last_good_epoch = last_good_epoch
        self.history = tuple(history)


class DivergenceGuard:
    """Per-epoch divergence check for one fit (see the module notes).

    Parameters
    ----------
    fitter : str
        Name used in messages, e.g. ``"fit_signatures"``.
    learning_rate : float, optional
        Named in the message (``None``: the fitter has none).
    maximise : bool
        The objective is maximised (an ELBO or a log-likelihood); the guard
        then watches its negative.
    growth : float
        How many times max(|best|, ``floor``) the objective may rise above its best.
    floor : float
        Scale below which |best| is not trusted (objectives near zero).
    unit : str
        ``"epoch"`` or ``"iteration"`` (wording only).

    Examples
    --------
    >>> from latentlab._divergence import DivergenceGuard
    >>> guard = DivergenceGuard("demo", learning_rate=10.0)
    >>> for epoch, loss in enumerate([7.8, 5.0, 7e12]):
    ...     try:
    ...         guard.check(epoch, loss)
    ...     except FloatingPointError as err:
    ...         print(err.reason, err.epoch, err.last_good)
    ...     else:
    ...         guard.keep(epoch, {"loss": loss})
    growth 2 {'loss': 5.0}
    """

    def __init__(
        self,
        fitter: str,
        *,
        learning_rate: float | None = None,
        maximise: bool = False,
        growth: float = 1e3,
        floor: float = 1.0,
        unit: str = "epoch",
    ) -> None:
        self.fitter = fitter
        self.learning_rate = learning_rate
        self.sign = -1.0 if maximise else 1.0
        self.growth = float(growth)
        self.floor = float(floor)
        self.unit = unit
        self.best = math.inf
        self.history: list[float] = []
        self.last_good: Any = None
        self.last_good_epoch: int | None = None

    def check(
        self,
        epoch: int,
        value: float,
        *,
        domain: dict[str, str] | None = None,
        at: str | None = None,
    ) -> None:
        """Raise :class:`DivergenceError` if ``value`` (or a reported parameter) diverged.

        ``domain`` maps a parameter name to a description of its violation
        (e.g. ``{"kappa": "κ = -5e+06, expected > 0"}``); only violations are passed.
        ``at`` replaces "epoch N" in the message (e.g. ``"epoch 3, batch 2"``).
        """
        value = float(value)
        objective = self.sign * value
        reason = detail = None
        if not math.isfinite(value):
            reason, detail = "non-finite", f"the objective is {value}"
        elif domain:
            reason = "domain"
            detail = "; ".join(
                f"{name} left its domain: {text}" for name, text in domain.items()
            )
        elif math.isfinite(self.best) and (
            objective - self.best > self.growth * max(abs(self.best), self.floor)
        ):
            reason = "growth"
            detail = (
                f"the objective grew to {value:.4g} from a best of {self.sign * self.best:.4g} "
                f"(more than {self.growth:g} times its scale)"
            )
        if reason is not None:
            rate = (
                "no learning rate"
                if self.learning_rate is None
                else f"learning rate {self.learning_rate:g}"
            )
            kept = (
                ""
                if self.last_good_epoch is None
                else f"; the state of {self.unit} {self.last_good_epoch} is kept in .last_good"
            )
            raise DivergenceError(
                f"{self.fitter} diverged at {at or f'{self.unit} {epoch}'} ({rate}): {detail}{kept}; "
                "lower the learning rate or check the data",
                fitter=self.fitter,
                epoch=epoch,
                learning_rate=self.learning_rate,
                value=value,
                best=self.sign * self.best,
                reason=reason,
                last_good=self.last_good,
                last_good_epoch=self.last_good_epoch,
                history=tuple(self.history),
            )
        self.best = min(self.best, objective)
        self.history.append(value)

    def keep(self, epoch: int, state: Any) -> None:
        """Remember ``state`` (already copied by the caller) as the last good one."""
        self.last_good = state
        self.last_good_epoch = epoch
