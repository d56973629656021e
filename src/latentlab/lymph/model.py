"""The lymph HMM component: a tiny hidden Markov model of lymphatic tumour spread.

Lymph node levels (LNLs) are binary hidden states on a directed graph with a
tumour node: the tumour drains into every LNL (``T -> I .. V``) and the LNLs
drain along a chain (``I -> II -> III -> IV -> V``). In one time step a healthy
LNL ``v`` becomes involved with probability

.. math:: 1 - (1 - b_{T v}) \\prod_{u \\to v,\\ u\\ \\text{involved}} (1 - b_{u v}),

involvement is absorbing, and LNLs update independently given the current
state. After ``t ~ Binomial(t_max, p_stage)`` steps from "all healthy" each
modality reports every LNL with its sensitivity and specificity. Unknown
entries (NaN) are marginalised: they contribute a factor 1.

Reference behaviour: the same model as ``lymph.models.Unilateral`` of
``lymph-model`` 1.3.8 with a binomial time prior (early ``p = 0.3`` fixed,
late ``p`` free); here it is a few vectorised numpy lines, evaluated for K
parameter vectors at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom

from latentlab._validation import (
    as_generator, check_array, check_in_range, check_integer, check_probabilities,
)

__all__ = ["LymphHMMComponent", "HMMData", "early_late"]


@dataclass(frozen=True)
class HMMData:
    """Data prepared for :class:`LymphHMMComponent`: the θ-independent part.

    Attributes
    ----------
    diagnosis : ndarray of shape (n_patients, n_states)
        P(observations of patient i | hidden state s), built once.
    stage : ndarray of shape (n_patients,)
        Index of each patient's T-stage group (0 = early, 1 = late).
    """

    diagnosis: np.ndarray
    stage: np.ndarray

    @property
    def n_patients(self) -> int:
        return self.diagnosis.shape[0]


def early_late(t_stage) -> np.ndarray:
    """Map T-stages 0–4 to the two time-prior groups: T0–T2 → 0 (early), T3–T4 → 1 (late).

    Examples
    --------
    >>> early_late([1, 2, 3, 4]).tolist()
    [0, 0, 1, 1]
    """
    stages = check_array(t_stage, "t_stage", ndim=1, dtype=int)
    if stages.size == 0:
        raise ValueError("t_stage must hold at least one T-stage, got an empty array")
    check_in_range(stages, "t_stage", 0, 4)
    return (stages >= 3).astype(np.int64)


class LymphHMMComponent:
    """Unilateral lymphatic-spread HMM as a mixture component.

    Parameters
    ----------
    lnls : sequence of str
        LNL names, in chain order (``("I", "II", "III", "IV", "V")``).
    lnl_edges : sequence of (str, str), optional
        Spread edges between LNLs; default the chain ``lnls[j] -> lnls[j+1]``.
        Every LNL also has an edge from the tumour.
    modalities : dict of str -> (specificity, sensitivity)
        One entry per diagnostic modality; data columns are ordered
        modality-major: all LNLs of the first modality, then the next.
    t_max : int
        Number of time steps of the binomial time prior.
    early_p : float
        Fixed binomial parameter of the early T-stage time prior.
    late_p : float, optional
        Fix the late T-stage parameter (shared by all components, removed from
        the parameter vector); default ``None`` leaves ``late_p`` free per component.

    Notes
    -----
    Parameters (in this order, all in [0, 1]): one ``"Tto<v>_spread"`` per LNL,
    one ``"<u>to<v>_spread"`` per LNL edge, then ``"late_p"`` (unless fixed). The hidden state
    index ``s`` has bit ``j`` set iff LNL ``j`` is involved, so the transition
    matrix is upper triangular with rows summing to one.

    Examples
    --------
    >>> hmm = LymphHMMComponent(lnls=("II", "III"), modalities={"path": (1.0, 1.0)})
    >>> hmm.param_names
    ('TtoII_spread', 'TtoIII_spread', 'IItoIII_spread', 'late_p')
    >>> X = np.array([[0.0, 0.0], [1.0, np.nan]])
    >>> data = hmm.prepare(X, stage=[0, 1])
    >>> theta = np.array([[0.3, 0.1, 0.5, 0.6]])
    >>> np.round(np.exp(hmm.log_likelihoods(theta, data)[:, 0]), 4)
    array([0.3083, 0.8626])
    """

    has_closed_form = False

    def __init__(
        self,
        lnls: Sequence[str] = ("I", "II", "III", "IV", "V"),
        lnl_edges: Sequence[tuple[str, str]] | None = None,
        modalities: dict[str, tuple[float, float]] | None = None,
        t_max: int = 10,
        early_p: float = 0.3,
        late_p: float | None = None,
    ) -> None:
        self.lnls = tuple(lnls)
        if len(self.lnls) < 1 or len(set(self.lnls)) != len(self.lnls):
            raise ValueError(f"lnls must be distinct names, got {lnls}")
        if lnl_edges is None:
            lnl_edges = list(zip(self.lnls[:-1], self.lnls[1:]))
        for u, v in lnl_edges:
            if u not in self.lnls or v not in self.lnls:
                raise ValueError(f"lnl_edges must connect names in lnls={self.lnls}, got ({u}, {v})")
        self.lnl_edges = tuple((u, v) for u, v in lnl_edges)
        self.modalities = dict(modalities or {"pathology": (1.0, 1.0)})
        for name, spec_sens in self.modalities.items():
            check_probabilities(spec_sens, f"modalities[{name!r}]")
        self.t_max = check_integer(t_max, "t_max", minimum=1)
        self.early_p = float(check_probabilities(early_p, "early_p"))
        L = len(self.lnls)
        self.n_states = 2**L
        # bits[s, j] = 1 iff LNL j is involved in state s
        self.bits = (np.arange(self.n_states)[:, None] >> np.arange(L)[None, :]) & 1
        self.param_names = tuple(
            [f"Tto{v}_spread" for v in self.lnls]
            + [f"{u}to{v}_spread" for u, v in self.lnl_edges]
            + ([] if late_p is not None else ["late_p"])
        )
        self.fixed_late_p = None if late_p is None else float(check_probabilities(late_p, "late_p"))
        self.n_edges = len(self.lnls) + len(self.lnl_edges)
        self.n_columns = len(self.lnls) * len(self.modalities)
        self.n_params = len(self.param_names)
        self.bounds = np.tile([0.0, 1.0], (self.n_params, 1))
        t = np.arange(self.t_max + 1)
        self._early_prior = binom.pmf(t, self.t_max, self.early_p)
        self._log_comb = np.log(binom.pmf(t, self.t_max, 0.5)) + self.t_max * np.log(2.0)
        self._edge_index = [(self.lnls.index(u), self.lnls.index(v)) for u, v in self.lnl_edges]

    # ----- the model ---------------------------------------------------------
    def _thetas(self, thetas: npt.ArrayLike) -> np.ndarray:
        """Parameter rows (n_sets, n_params), every entry a probability in [0, 1]."""
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        if thetas.ndim != 2 or thetas.shape[1] != self.n_params:
            raise ValueError(f"thetas must have shape (n_sets, {self.n_params}) for parameters "
                             f"{self.param_names}, got {thetas.shape}")
        if not np.all((thetas >= 0) & (thetas <= 1)):  # also catches NaN
            raise ValueError(f"thetas must lie in [0, 1], got values from {np.nanmin(thetas):g} "
                             f"to {np.nanmax(thetas):g}" + (" and NaN" if np.isnan(thetas).any() else ""))
        return thetas

    def transition_matrices(self, thetas: npt.ArrayLike) -> np.ndarray:
        """Transition matrices A of shape (n_sets, n_states, n_states), one per row of ``thetas``."""
        thetas = self._thetas(thetas)
        L = len(self.lnls)
        B = self.bits.astype(float)
        # log of the probability that LNL v stays healthy, given state s: (n_sets, S, L)
        with np.errstate(divide="ignore"):
            log_healthy = np.log1p(-thetas[:, : self.n_edges])  # log(1 - b) per edge, (n, n_edges)
        stay = np.broadcast_to(log_healthy[:, None, :L], (len(thetas), self.n_states, L)).copy()
        for e, (u, v) in enumerate(self._edge_index):
            stay[:, :, v] += np.where(B[None, :, u] == 1, log_healthy[:, None, L + e], 0.0)
        p_involved = np.where(B[None] == 1, 1.0, -np.expm1(stay))  # (n, S, L)
        # row s of A is the Kronecker product over LNLs of [1 − p_v(s), p_v(s)] (bit 0 least significant),
        # zero unless s' ⊇ s because involvement is absorbing
        A = np.ones((len(thetas), self.n_states, 1))
        for v in range(L):
            pair = np.stack([1.0 - p_involved[:, :, v], p_involved[:, :, v]], axis=-1)  # (n, S, 2)
            A = (pair[:, :, :, None] * A[:, :, None, :]).reshape(len(thetas), self.n_states, -1)
        return A

    def time_priors(self, thetas: npt.ArrayLike) -> np.ndarray:
        """Binomial time priors of shape (n_sets, 2, t_max + 1): early (fixed p) and late (``late_p``)."""
        thetas = self._thetas(thetas)
        t = np.arange(self.t_max + 1)
        early = np.broadcast_to(self._early_prior, (len(thetas), t.size))
        if self.fixed_late_p is None:
            p = np.clip(thetas[:, -1:], 0.0, 1.0)
        else:
            p = np.full((len(thetas), 1), self.fixed_late_p)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_pmf = self._log_comb + t * np.log(p) + (self.t_max - t) * np.log1p(-p)
        late = np.exp(np.where(np.isnan(log_pmf), -np.inf, log_pmf))
        late[p[:, 0] == 0, 0] = 1.0  # p = 0: all mass at t = 0
        late[p[:, 0] == 1, -1] = 1.0  # p = 1: all mass at t = t_max
        return np.stack([early, late], axis=1)

    def state_distributions(self, thetas: npt.ArrayLike) -> np.ndarray:
        """P(state | stage) of shape (n_sets, 2, n_states): Σ_t P_stage(t) e₀ᵀ Aᵗ."""
        A = self.transition_matrices(thetas)
        n = A.shape[0]
        evolved = np.empty((n, self.t_max + 1, self.n_states))
        dist = np.zeros((n, self.n_states))
        dist[:, 0] = 1.0
        for t in range(self.t_max + 1):
            evolved[:, t] = dist
            dist = np.matmul(dist[:, None, :], A)[:, 0, :]
        return np.einsum("ngt,nts->ngs", self.time_priors(thetas), evolved)

    # ----- the component protocol ------------------------------------------------
    def prepare(self, X: npt.ArrayLike, stage: npt.ArrayLike | None = None) -> HMMData:
        """Build the θ-independent diagnosis matrix P(obs_i | state) (N × 2^L).

        ``X`` has one column per (modality, LNL), modality-major, with values
        0, 1 or NaN (unknown). ``stage`` holds 0 (early) or 1 (late) per patient.
        """
        L, M = len(self.lnls), len(self.modalities)
        X = check_array(X, "X", ndim=2, shape=(None, L * M), allow_nan=True)
        observed = ~np.isnan(X)
        if np.any((X[observed] != 0) & (X[observed] != 1)):
            raise ValueError("X must hold involvement values 1 (True), 0 (False) or NaN (missing)")
        stage = np.zeros(len(X), dtype=np.int64) if stage is None else check_array(stage, "stage", shape=(len(X),), dtype=int)
        check_in_range(stage, "stage", 0, 1)
        diagnosis = np.ones((len(X), self.n_states))
        for m, (spec, sens) in enumerate(self.modalities.values()):
            for j in range(L):
                column = X[:, m * L + j]
                involved = self.bits[:, j] == 1
                p_pos = np.where(involved, sens, 1.0 - spec)  # P(o = 1 | state), (S,)
                factor = np.where(column[:, None] == 1, p_pos[None, :], 1.0 - p_pos[None, :])
                factor[np.isnan(column)] = 1.0
                diagnosis *= factor
        return HMMData(diagnosis=diagnosis, stage=stage)

    def log_likelihoods(self, thetas: npt.ArrayLike, data: HMMData) -> np.ndarray:
        """Per-patient log-likelihoods, shape (n_patients, n_sets), for each parameter row."""
        dists = self.state_distributions(thetas)  # (n, 2, S)
        lik = np.empty((data.n_patients, dists.shape[0]))
        for g in (0, 1):
            rows = data.stage == g
            if rows.any():
                lik[rows] = data.diagnosis[rows] @ dists[:, g, :].T
        with np.errstate(divide="ignore"):
            return np.log(lik)

    def closed_form_m_step(self, data: HMMData, responsibilities: np.ndarray) -> None:
        """No closed form exists for the HMM: returns ``None`` (the EM driver optimises)."""
        return None

    def init_params(self, n_components: int, rng=None) -> np.ndarray:
        """Random starting parameters of shape (n_components, n_params) inside (0.05, 0.95)."""
        return as_generator(rng).uniform(0.05, 0.95, size=(n_components, self.n_params))

    def simulate(self, theta: npt.ArrayLike, stage: npt.ArrayLike, rng=None) -> np.ndarray:
        """Draw diagnoses (n × L·M, modality-major, values 0/1) for patients at the given stages."""
        gen = as_generator(rng)
        theta = np.asarray(theta, dtype=float)
        stage = np.asarray(stage, dtype=int)
        dists = self.state_distributions(theta[None])[0]  # (2, S)
        cumulative = np.cumsum(dists[stage], axis=1)
        states = (gen.random(len(stage))[:, None] > cumulative).sum(axis=1).clip(0, self.n_states - 1)
        hidden = self.bits[states]
        columns = []
        for spec, sens in self.modalities.values():
            p_pos = np.where(hidden == 1, sens, 1.0 - spec)
            columns.append((gen.random(hidden.shape) < p_pos).astype(float))
        return np.hstack(columns)

