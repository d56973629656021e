"""The validated survival-data container of the signature model.

A cohort is stored as one event-or-censoring index per person and disease
(``E``, N×D integers in ``0 … T−1``) plus an event flag (N×D booleans), never
as a dense N×D×T array of 0/1 outcomes. Person ``i`` is at risk for disease
``d`` at ages ``t ≤ E[i, d]``; if ``event[i, d]`` the disease was diagnosed at
``t = E[i, d]``, otherwise the person was censored after that age.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_integer

__all__ = ["SurvivalData"]


@dataclass(frozen=True)
class SurvivalData:
    """Discrete-time survival outcomes of N people for D diseases over T ages.

    Parameters
    ----------
    E : array_like of int, shape (n_individuals, n_diseases)
        Event-or-censoring age index, each in ``[0, n_times − 1]``.
    event : array_like of bool, shape (n_individuals, n_diseases)
        True where the disease was diagnosed at age ``E[i, d]``; False where the
        person was censored after age ``E[i, d]``.
    G : array_like of float, shape (n_individuals, n_covariates)
        Covariates (genetic scores, sex, principal components), finite and
        ideally z-scored. Use ``np.zeros((N, 0))`` for none.
    n_times : int
        Number of yearly ages T on the grid ``0 … T−1``.

    Raises
    ------
    ValueError
        If ``E`` is not a 2-D integer array (a 1-D ``E`` would silently
        broadcast in the reference code), an entry is outside ``[0, T−1]``,
        ``event`` or ``G`` disagree in shape, or ``G`` holds NaN/infinity.

    Examples
    --------
    >>> from latentlab.signatures import SurvivalData
    >>> data = SurvivalData(E=[[3, 4], [1, 4]], event=[[1, 0], [1, 0]],
    ...                     G=[[0.5], [-0.5]], n_times=5)
    >>> data.n_individuals, data.n_diseases, data.n_times, data.n_events
    (2, 2, 5, 2)
    >>> data.to_dense()[0, 0].tolist()
    [0, 0, 0, 1, 0]
    """

    E: npt.NDArray[np.int64]
    event: npt.NDArray[np.bool_]
    G: npt.NDArray[np.float64]
    n_times: int

    def __post_init__(self) -> None:
        n_times = check_integer(self.n_times, "n_times", minimum=1)
        if np.ndim(self.E) != 2:
            raise ValueError(
                f"E must be a 2-D array of shape (n_individuals, n_diseases), got shape "
                f"{np.shape(self.E)}; pass one event/censoring index per person and disease"
            )
        E = check_array(self.E, "E", ndim=2, dtype=int)
        if E.size and (E.min() < 0 or E.max() > n_times - 1):
            raise ValueError(
                f"E must lie in [0, {n_times - 1}] (n_times = {n_times}), "
                f"got values from {E.min()} to {E.max()}"
            )
        event = check_array(self.event, "event", shape=E.shape, dtype=bool)
        if np.ndim(self.G) != 2:
            raise ValueError(
                f"G must be a 2-D array of shape (n_individuals, n_covariates) = "
                f"({E.shape[0]}, P), got shape {np.shape(self.G)}"
            )
        G = check_array(self.G, "G", shape=(E.shape[0], None), dtype=float)
        for name, value in (("E", E), ("event", event), ("G", G)):
            value = np.ascontiguousarray(value)
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "n_times", n_times)

    @classmethod
    def from_dense(cls, Y, G, *, E=None) -> "SurvivalData":
        """Build from a dense 0/1 outcome array ``Y`` (N×D×T).

        Parameters
        ----------
        Y : array_like of {0, 1}, shape (n_individuals, n_diseases, n_times)
            At most one 1 per (i, d), at the age of diagnosis.
        G : array_like, shape (n_individuals, n_covariates)
        E : array_like of int, shape (n_individuals, n_diseases), optional
            Censoring/event indices. If omitted: the event age where Y has a 1,
            else T − 1 (followed to the end of the grid). If given, every 1 in
            Y must sit at ``t = E[i, d]``.

        Raises
        ------
        ValueError
            If Y is not 3-D 0/1, has two 1s for one (i, d), or a 1 not at E.

        Examples
        --------
        >>> import numpy as np
        >>> Y = np.zeros((1, 2, 4)); Y[0, 1, 2] = 1
        >>> data = SurvivalData.from_dense(Y, G=np.zeros((1, 0)))
        >>> data.E.tolist(), data.event.tolist()
        ([[3, 2]], [[False, True]])
        """
        Y = check_array(Y, "Y", ndim=3, dtype=bool)
        counts = Y.sum(axis=2)
        if np.any(counts > 1):
            i, d = np.argwhere(counts > 1)[0]
            raise ValueError(
                f"Y must hold at most one event per (individual, disease); "
                f"Y[{i}, {d}] has {counts[i, d]} events"
            )
        event = counts == 1
        first = np.argmax(Y, axis=2)
        if E is None:
            E = np.where(event, first, Y.shape[2] - 1)
        else:
            if np.ndim(E) != 2:
                raise ValueError(
                    f"E must be a 2-D array of shape (n_individuals, n_diseases) = "
                    f"{Y.shape[:2]}, got shape {np.shape(E)}"
                )
            E = check_array(E, "E", shape=Y.shape[:2], dtype=int)
            if np.any(event & (first != E)):
                i, d = np.argwhere(event & (first != E))[0]
                raise ValueError(
                    f"Y and E are inconsistent: Y[{i}, {d}] has its event at t={first[i, d]} "
                    f"but E[{i}, {d}] = {E[i, d]}"
                )
        return cls(E=E, event=event, G=G, n_times=Y.shape[2])

    @property
    def n_individuals(self) -> int:
        """N, the number of people."""
        return int(self.E.shape[0])

    @property
    def n_diseases(self) -> int:
        """D, the number of diseases."""
        return int(self.E.shape[1])

    @property
    def n_covariates(self) -> int:
        """P, the number of covariates (columns of G)."""
        return int(self.G.shape[1])

    @property
    def n_events(self) -> int:
        """Total number of diagnoses."""
        return int(self.event.sum())

    def to_dense(self) -> npt.NDArray[np.int8]:
        """Return Y as an N×D×T int8 array (for small data and tests only)."""
        Y = np.zeros((self.n_individuals, self.n_diseases, self.n_times), dtype=np.int8)
        i, d = np.nonzero(self.event)
        Y[i, d, self.E[i, d]] = 1
        return Y

    def at_risk(self) -> npt.NDArray[np.bool_]:
        """Return the dense N×D×T at-risk indicator ``t ≤ E`` (small data and tests only)."""
        return np.arange(self.n_times)[None, None, :] <= self.E[:, :, None]

    def subset(self, individuals) -> "SurvivalData":
        """Return the data of the selected individuals (index array or boolean mask)."""
        index = np.asarray(individuals)
        return SurvivalData(
            E=self.E[index], event=self.event[index], G=self.G[index], n_times=self.n_times
        )

    def capped(self, max_index) -> "SurvivalData":
        """Censor follow-up after ``max_index`` (scalar or per-person array of length N).

        Events after the cap become censorings at the cap; used to cap E at
        enrollment for prediction (chapter 2).
        """
        cap = np.broadcast_to(np.asarray(max_index), (self.n_individuals,))[:, None]
        cap = check_array(cap, "max_index", dtype=int)
        if cap.min() < 0:
            raise ValueError(f"max_index must be >= 0, got {cap.min()}")
        E = np.minimum(self.E, cap)
        event = self.event & (self.E <= cap)
        return SurvivalData(E=E, event=event, G=self.G, n_times=self.n_times)


def check_survival_data(data, name: str = "data") -> SurvivalData:
    """Raise ``TypeError`` unless ``data`` is a :class:`SurvivalData`; return it."""
    if not isinstance(data, SurvivalData):
        raise TypeError(f"{name} must be a SurvivalData, got {type(data).__name__}")
    return data
