"""Robustness of a fit to the scale of its random start: stage 1 against stage 3.

Both maps are fitted the same way, so that the map is the only difference:

* stage 1: π = σ(Σ_k λ_k φ_k) (the "linear" teaching story; no reference code);
* stage 3: π = Σ_k softmax(λ)_k σ(φ_k) (the real map, with κ = 1, which loses
  nothing because κ → cκ with σ(φ) → σ(φ)/c changes no hazard).

:func:`~latentlab.hotstart.map_fit.fit_map` minimises the survival NLL per person plus λ's GP penalty (the
model's λ prior, zero-mean here) by full-batch Adam. :func:`init_scale_grid`
gives both maps the **same start**: φ frozen at the same signatures and
λ = s·z with the same standard normal z, so the map is the only difference.
A fit stops when its objective has converged (mean relative change per epoch
over the last ``window`` epochs at most ``rtol`` on ``patience`` consecutive
epochs: :func:`~latentlab.signatures.fit.relative_change_met`, the rule of the
trainers); each fit records whether that happened before ``max_epochs``.

Stage 1 without a penalty on λ has no finite minimiser: at a person-age with no
diagnosis, adding c > 0 to the λ of a signature whose logits φ are negative for
every disease there lowers every logit, so that age's NLL falls strictly and
tends to 0 as c → ∞ (:func:`escape_nll`). Its fits never converge; where one
stops says how far Adam has gone down an endless slope, not where a best fit
lies. Stage 3's π stays inside the range of σ(φ), so its NLL is bounded below
by a value it can reach.

Why stage 1 is fragile: its starting logits Σ_k λ_k φ_k grow with s times the
size of φ (rare-disease logits near −5), so at s = 3 most cells start where σ
is flat and its slope σ(1 − σ) has all but vanished (:func:`saturated_fraction`).
Stage 3 mixes the fixed probabilities σ(φ) with softmax weights: whatever λ is,
π stays inside the range of σ(φ), and no start can push it to 0 or 1.
With φ frozen, λ → cλ changes stage 1's π: the start scale is not a symmetry
(that needs φ → φ/c as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from latentlab._validation import as_generator, check_integer, check_positive
from latentlab.hotstart.map_fit import MapFit, fit_map, map_nll
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.evaluation import match_signatures, matched_correlation

__all__ = [
    "MapFit",
    "fit_map",
    "map_nll",
    "saturated_fraction",
    "phi_recovery",
    "coefficient_of_variation",
    "RobustnessRow",
    "init_scale_grid",
    "escape_nll",
]

def saturated_fraction(scale: float, phi: np.ndarray, *, threshold: float = 6.0,
                       n_draws: int = 200, rng=0) -> float:
    """Share of stage-1 starting logits Σ_k λ_k φ_kdt, λ = s·z, with |x| > ``threshold``.

    At |x| > 6 the slope σ(x)(1 − σ(x)) is below 1 % of its peak, so Adam's
    gradient through those cells has all but vanished. ``n_draws`` people are
    drawn; every (disease, age) of ``phi`` (K+1, D, T) counts.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.robustness import saturated_fraction
    >>> phi = np.full((5, 3, 4), -5.0)
    >>> saturated_fraction(0.01, phi), saturated_fraction(3.0, phi) > 0.5
    (0.0, True)
    """
    scale = check_positive(scale, "scale", strict=False)
    threshold = check_positive(threshold, "threshold")
    phi = np.asarray(phi, dtype=float)
    if phi.ndim != 3:
        raise ValueError(f"phi must have shape (K+1, D, T), got {phi.shape}")
    n_draws = check_integer(n_draws, "n_draws", minimum=1)
    z = as_generator(rng).standard_normal((n_draws, phi.shape[0], phi.shape[2]))
    logits = np.einsum("nkt,kdt->ndt", scale * z, phi)
    return float(np.mean(np.abs(logits) > threshold))


def phi_recovery(phi: np.ndarray, true_phi: np.ndarray) -> float:
    """Correlation of matched, time-averaged, per-disease-centred φ profiles with the truth."""
    order = match_signatures(phi, true_phi)
    fitted = phi[order][:-1].mean(axis=2)
    truth = true_phi[:-1].mean(axis=2)
    return matched_correlation(fitted - fitted.mean(axis=0), truth - truth.mean(axis=0))


def coefficient_of_variation(values: Sequence[float]) -> float:
    """sd / |mean| (population sd); 0 for identical values.

    Examples
    --------
    >>> from latentlab.hotstart.robustness import coefficient_of_variation
    >>> round(coefficient_of_variation([1.0, 3.0]), 3)
    0.5
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("values must not be empty")
    return float(x.std() / abs(x.mean()))


@dataclass(frozen=True)
class RobustnessRow:
    """One fit of the grid: stage, start scale, seed, final NLL/N, epochs, convergence."""

    stage: int
    scale: float
    seed: int
    final_nll: float
    epochs: int
    converged: bool
    seconds: float


def init_scale_grid(
    data: SurvivalData, n_signatures: int, *, phi: np.ndarray, scales: Sequence[float],
    seeds: Sequence[int], max_epochs: int = 2000, rtol: float = 1e-5,
    learning_rate: float = 0.1, prior_weight: float = 1e-4,
) -> list[RobustnessRow]:
    """λ-only fits of ``data`` against the same frozen ``phi`` for both stages.

    Every (stage, scale, seed) starts from λ = s·z with the same z for both
    stages (the seed), so the map is the only difference.

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> from latentlab.hotstart.robustness import init_scale_grid
    >>> sim = simulate_signatures(30, 5, 8, 2, 2, rng=0)
    >>> rows = init_scale_grid(sim.data, 2, phi=sim.truth.phi, scales=[0.1, 1.0],
    ...                        seeds=[0], max_epochs=20)
    >>> [(r.stage, r.scale) for r in rows]
    [(1, 0.1), (1, 1.0), (3, 0.1), (3, 1.0)]
    """
    rows = []
    for stage in (1, 3):
        for scale in scales:
            for seed in seeds:
                fit = fit_map(data, n_signatures, stage=stage, init_scale=scale, phi=phi,
                              max_epochs=max_epochs, rtol=rtol, learning_rate=learning_rate,
                              prior_weight=prior_weight, rng=seed)
                rows.append(RobustnessRow(stage, float(scale), int(seed), fit.nll,
                                          fit.n_iter, fit.converged, fit.seconds))
    return rows


def escape_nll(lam: np.ndarray, phi: np.ndarray, data: SurvivalData,
               shifts: Sequence[float] = (0.0, 1.0, 2.0, 4.0), signature: int = -1) -> np.ndarray:
    """Stage-1 NLL per person after adding c to one signature's λ where nothing happens.

    For each c in ``shifts``, λ[i, signature, t] += c at every person-age (i, t)
    without a diagnosis; the stage-1 NLL per person of ``data`` is returned
    for each c. If φ[signature] < 0 at every disease and age (the healthy
    signature of a fitted model), every logit at those ages falls, so the
    result decreases strictly with c, from any λ: the stage-1 likelihood
    without a penalty on λ has no finite maximiser.

    Raises
    ------
    ValueError
        If φ of ``signature`` is not negative at every disease and age.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.robustness import escape_nll
    >>> from latentlab.signatures.data import SurvivalData
    >>> data = SurvivalData(E=np.array([[3], [5]]), event=np.array([[True], [False]]),
    ...                     G=np.zeros((2, 1)), n_times=6)
    >>> phi = np.full((2, 1, 6), -1.0)
    >>> nll = escape_nll(np.zeros((2, 2, 6)), phi, data, shifts=[0, 1, 10])
    >>> bool(np.all(np.diff(nll) < 0))
    True
    """
    if not isinstance(data, SurvivalData):
        raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
    phi = np.asarray(phi, dtype=float)
    lam = np.asarray(lam, dtype=float)
    N, D, T = data.n_individuals, data.n_diseases, data.n_times
    if phi.ndim != 3 or phi.shape[1:] != (D, T):
        raise ValueError(f"phi must have shape (K+1, {D}, {T}), got {phi.shape}")
    if lam.shape != (N, phi.shape[0], T):
        raise ValueError(f"lam must have shape {(N, phi.shape[0], T)}, got {lam.shape}")
    signature = check_integer(signature, "signature", minimum=-phi.shape[0],
                              maximum=phi.shape[0] - 1)
    if not np.all(phi[signature] < 0):
        raise ValueError(f"phi[{signature}] must be negative at every disease and age, "
                         f"got a maximum of {phi[signature].max():.3g}")
    shifts = [check_positive(float(c), "shifts", strict=False) for c in shifts]
    E, event = np.asarray(data.E), np.asarray(data.event)
    ages = np.arange(T)[None, None, :]
    quiet = ~(event[:, :, None] & (E[:, :, None] == ages)).any(axis=1)  # (N, T)
    out = []
    for c in shifts:
        moved = lam.copy()
        moved[:, signature, :] += c * quiet
        out.append(map_nll(1, moved, phi, data))
    return np.array(out)
