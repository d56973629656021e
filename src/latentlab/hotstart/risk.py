"""Risk scores from yearly hazards, with ONE window shared by predictions and outcomes.

The signature model gives a yearly hazard π_idt for every person i, disease d
and age index t. A *disease group* g (ASCVD, say) is an explicit list of
disease indices; its yearly risk at age t is

    r_i(t) = 1 − Π_{d∈g} (1 − π_idt).

Over a window of k years starting at t₀ the book uses two k-year risks:

* static:  1 − (1 − r_i(t₀))^k  (the yearly risk at t₀ held constant);
* dynamic: 1 − Π_{s=0}^{k−1} (1 − r_i(t₀ + s)).

Both cover exactly the years [t₀, t₀ + k), and so does the outcome returned by
:func:`window_outcomes`: one :class:`RiskWindow` object defines all three.

Reference behaviour
-------------------
The reference's dynamic risk uses years t₀+1 … t₀+10 while its outcome uses
t₀ … t₀+9, one of its "1-year" helpers actually spans 10 years, censoring is
ignored and disease groups are matched by substring. Here the window is one
object, censored rows are flagged (and excluded by :func:`evaluable`), and groups
are index lists checked against D.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_in_range, check_integer, check_probabilities

__all__ = [
    "RiskWindow",
    "WindowOutcome",
    "disease_group",
    "yearly_group_risk",
    "static_risk",
    "dynamic_risk",
    "window_outcomes",
    "forward_nll",
]


@dataclass(frozen=True)
class RiskWindow:
    """The years [start, start + horizon) on the age grid 0 … T−1.

    Parameters
    ----------
    start : int
        First age index t₀ of the window.
    horizon : int
        Number of years k ≥ 1.

    Examples
    --------
    >>> from latentlab.hotstart import RiskWindow
    >>> window = RiskWindow(start=10, horizon=5)
    >>> window.stop, list(window.times)
    (15, [10, 11, 12, 13, 14])
    """

    start: int
    horizon: int

    def __post_init__(self) -> None:
        check_integer(self.start, "start", minimum=0)
        check_integer(self.horizon, "horizon", minimum=1)

    @property
    def stop(self) -> int:
        """One past the last year of the window."""
        return self.start + self.horizon

    @property
    def times(self) -> range:
        """The age indices t₀, …, t₀ + k − 1."""
        return range(self.start, self.stop)

    def check_fits(self, n_times: int) -> None:
        """Raise ``ValueError`` if the window runs past the age grid 0 … n_times−1."""
        if self.stop > n_times:
            raise ValueError(
                f"window [{self.start}, {self.stop}) runs past the age grid 0..{n_times - 1}; "
                "use a smaller start or horizon"
            )


def disease_group(diseases: Sequence[int] | npt.ArrayLike, n_diseases: int, name: str = "diseases") -> np.ndarray:
    """Validate a disease group given as an explicit list of indices.

    Returns the sorted unique indices. Duplicates, an empty group or an index
    outside 0 … n_diseases−1 raise ``ValueError`` (no substring matching).

    Examples
    --------
    >>> from latentlab.hotstart import disease_group
    >>> disease_group([3, 1], n_diseases=5)
    array([1, 3])
    >>> disease_group([7], n_diseases=5)
    Traceback (most recent call last):
    ...
    ValueError: diseases must lie in [0, 4], got values from 7 to 7
    """
    index = check_array(diseases, name, ndim=1, dtype=int)
    if index.size == 0:
        raise ValueError(f"{name} must list at least one disease index, got an empty group")
    check_in_range(index, name, 0, n_diseases - 1)
    if np.unique(index).size != index.size:
        raise ValueError(f"{name} must not repeat a disease index, got {index.tolist()}")
    return np.sort(index)


def _check_hazards(hazards) -> np.ndarray:
    pi = check_probabilities(hazards, "hazards")
    if pi.ndim != 3:
        raise ValueError(
            f"hazards must have shape (n_individuals, n_diseases, n_times), got {pi.shape}"
        )
    return pi


def _log_survival(pi: np.ndarray, group: np.ndarray, times) -> np.ndarray:
    """Σ_{d∈g} log(1 − π_idt) for each person and each t in ``times``: shape (N, len(times))."""
    return np.log1p(-pi[:, group][:, :, list(times)]).sum(axis=1)


def yearly_group_risk(hazards: npt.ArrayLike, diseases: Sequence[int], t: int) -> np.ndarray:
    """Probability of at least one disease of the group in year t: 1 − Π_d (1 − π_idt).

    Parameters
    ----------
    hazards : array of shape (n_individuals, n_diseases, n_times)
        Yearly hazards π in [0, 1).
    diseases : list of int
        The group, as explicit disease indices.
    t : int
        Age index.

    Returns
    -------
    ndarray of shape (n_individuals,)

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import yearly_group_risk
    >>> pi = np.full((1, 2, 3), 0.1)
    >>> round(float(yearly_group_risk(pi, [0, 1], t=0)[0]), 4)
    0.19
    """
    pi = _check_hazards(hazards)
    group = disease_group(diseases, pi.shape[1])
    t = check_integer(t, "t", minimum=0, maximum=pi.shape[2] - 1)
    return -np.expm1(_log_survival(pi, group, [t])[:, 0])


def _check_window(window) -> "RiskWindow":
    if not isinstance(window, RiskWindow):
        raise TypeError(f"window must be a RiskWindow, got {type(window).__name__}")
    return window


def static_risk(hazards: npt.ArrayLike, diseases: Sequence[int], window: RiskWindow) -> np.ndarray:
    """k-year risk holding the yearly group risk at t₀ constant: 1 − (1 − r(t₀))^k.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import RiskWindow, static_risk
    >>> pi = np.full((1, 1, 10), 0.1)
    >>> round(float(static_risk(pi, [0], RiskWindow(0, 2))[0]), 4)
    0.19
    """
    pi = _check_hazards(hazards)
    _check_window(window).check_fits(pi.shape[2])
    group = disease_group(diseases, pi.shape[1])
    return -np.expm1(window.horizon * _log_survival(pi, group, [window.start])[:, 0])


def dynamic_risk(hazards: npt.ArrayLike, diseases: Sequence[int], window: RiskWindow) -> np.ndarray:
    """k-year risk from the yearly risks of every year in the window: 1 − Π_s (1 − r(t₀+s)).

    Equals :func:`static_risk` when the yearly risk is constant over the window.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import RiskWindow, dynamic_risk
    >>> pi = np.zeros((1, 1, 10)); pi[0, 0, 3] = 0.5
    >>> float(dynamic_risk(pi, [0], RiskWindow(0, 3))[0]), float(dynamic_risk(pi, [0], RiskWindow(0, 4))[0])
    (0.0, 0.5)
    """
    pi = _check_hazards(hazards)
    _check_window(window).check_fits(pi.shape[2])
    group = disease_group(diseases, pi.shape[1])
    return -np.expm1(_log_survival(pi, group, window.times).sum(axis=1))


@dataclass(frozen=True)
class WindowOutcome:
    """Outcome of a disease group over a :class:`RiskWindow`, person by person.

    Attributes
    ----------
    event : ndarray of bool, shape (n_individuals,)
        A disease of the group was diagnosed in [t₀, t₀ + k).
    prevalent : ndarray of bool
        A disease of the group was diagnosed before t₀ (not at risk; excluded).
    censored : ndarray of bool
        No event in the window, but follow-up ended before the window's last
        year for some disease of the group (outcome unknown; excluded).
    """

    event: np.ndarray
    prevalent: np.ndarray
    censored: np.ndarray

    @property
    def evaluable(self) -> np.ndarray:
        """People whose outcome over the window is known and who were at risk at t₀."""
        return ~self.prevalent & ~self.censored


def window_outcomes(
    event_times: npt.ArrayLike,
    events: npt.ArrayLike,
    diseases: Sequence[int],
    window: RiskWindow,
    n_times: int | None = None,
) -> WindowOutcome:
    """Who had a disease of the group inside the window, who was prevalent, who was censored.

    Parameters
    ----------
    event_times : int array of shape (n_individuals, n_diseases)
        E_id, the event-or-censoring age index.
    events : bool array of shape (n_individuals, n_diseases)
        True where E_id is a diagnosis, False where it is the last follow-up.
    diseases : list of int
        The group, as explicit indices.
    window : RiskWindow
        The same window passed to :func:`static_risk` / :func:`dynamic_risk`.
    n_times : int, optional
        Length of the age grid, to check that the window fits.

    Returns
    -------
    WindowOutcome

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import RiskWindow, window_outcomes
    >>> E = np.array([[2], [5], [12], [6]]); ev = np.array([[1], [1], [1], [0]], bool)
    >>> out = window_outcomes(E, ev, [0], RiskWindow(4, 5))
    >>> out.event.tolist(), out.prevalent.tolist(), out.censored.tolist()
    ([False, True, False, False], [True, False, False, False], [False, False, False, True])
    """
    E = check_array(event_times, "event_times", ndim=2, dtype=int)
    observed = check_array(events, "events", shape=E.shape, dtype=bool)
    if n_times is not None:
        window.check_fits(check_integer(n_times, "n_times", minimum=1))
    group = disease_group(diseases, E.shape[1])
    E_g, ev_g = E[:, group], observed[:, group]
    prevalent = (ev_g & (E_g < window.start)).any(axis=1)
    event = (ev_g & (E_g >= window.start) & (E_g < window.stop)).any(axis=1) & ~prevalent
    # follow-up must reach the last year of the window for every disease of the group
    short = (~ev_g & (E_g < window.stop - 1)).any(axis=1)
    censored = short & ~event & ~prevalent
    return WindowOutcome(event=event, prevalent=prevalent, censored=censored)


def forward_nll(hazards: npt.ArrayLike, event_times: npt.ArrayLike, events: npt.ArrayLike, start: int) -> np.ndarray:
    """Per-person NLL of the follow-up from age ``start`` on, under the given hazards.

    For every (i, d) still at risk at ``start`` (E_id ≥ start),
    −[Σ_{start≤t≤E} log(1 − π_idt) + y_id (log π_idE − log(1 − π_idE))],
    summed over diseases; pairs that ended before ``start`` contribute 0. With
    ``start = 0`` this is the full survival NLL; with ``start`` = the
    enrollment age it scores predictions on data the fit never saw.

    Returns
    -------
    ndarray of shape (n_individuals,)

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import forward_nll
    >>> pi = np.full((1, 1, 5), 0.1)
    >>> round(float(forward_nll(pi, [[3]], [[True]], start=2)[0]), 4)   # -(log 0.9 + log 0.1)
    2.4079
    """
    pi = _check_hazards(hazards)
    E = check_array(event_times, "event_times", shape=pi.shape[:2], dtype=int)
    observed = check_array(events, "events", shape=pi.shape[:2], dtype=bool)
    start = check_integer(start, "start", minimum=0, maximum=pi.shape[2] - 1)
    check_in_range(E, "event_times", 0, pi.shape[2] - 1)
    p = np.clip(pi, 1e-12, 1 - 1e-12)
    log1m = np.log1p(-p)
    ages = np.arange(pi.shape[2])
    window = (ages[None, None, :] >= start) & (ages[None, None, :] <= E[:, :, None])
    survival = np.where(window, log1m, 0.0).sum(axis=2)
    p_E = np.take_along_axis(p, E[:, :, None], axis=2)[:, :, 0]
    event_term = np.where(observed & (E >= start), np.log(p_E) - np.log1p(-p_E), 0.0)
    return -(survival + event_term).sum(axis=1)
