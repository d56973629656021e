"""Robustness of a fit to the scale of its random initialisation, stage 1 versus stage 3.

For each initialisation scale s and seed, fit and record the final NLL per
person and the recovery of φ (correlation of matched, time-averaged signature
profiles with the truth); the coefficient of variation (sd/mean) across scales
and seeds measures how much the result depends on the start.

* stage 3 (the real model), cold: :func:`latentlab.signatures.initialize` with
  ``noise_scale = s`` and :func:`latentlab.signatures.fit_signatures`;
  hot: :class:`~latentlab.hotstart.FixedSignaturePredictor` with ``init_scale = s``.
* stage 1, π = σ(Σ_k λ_k φ_k): no reference implementation exists (the design
  note's teaching story), so :func:`fit_stage1` is a minimal Adam fit of the
  survival NLL alone, from λ = s·z, φ = s·z (cold) or with φ frozen (hot).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from latentlab._validation import as_generator, check_integer, check_positive
from latentlab.hotstart.checkpoints import Checkpoint
from latentlab.hotstart.experiments import standardised
from latentlab.hotstart.predict import FixedSignaturePredictor
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.device import resolve_device
from latentlab.signatures.evaluation import match_signatures, matched_correlation
from latentlab.signatures.fit import fit_signatures
from latentlab.signatures.init import initialize
from latentlab.signatures.likelihood import as_survival_tensors, signature_nll, survival_nll_from_pi

__all__ = ["Stage1Fit", "fit_stage1", "phi_recovery", "coefficient_of_variation", "RobustnessRow", "init_scale_grid"]


@dataclass(frozen=True)
class Stage1Fit:
    """A stage-1 fit: λ (N, K+1, T), φ (K+1, D, T), NLL/N history (plain floats)."""

    lam: np.ndarray
    phi: np.ndarray
    history: tuple[float, ...]
    n_iter: int
    converged: bool = False


def fit_stage1(
    data: SurvivalData, n_signatures: int, *, init_scale: float = 0.1, phi: np.ndarray | None = None,
    n_epochs: int = 100, learning_rate: float = 0.1, rng=None,
    device: str | torch.device | None = None,
) -> Stage1Fit:
    """Fit π = σ(Σ_k λ_ikt φ_kdt) by Adam on the survival NLL per person (no priors).

    Parameters
    ----------
    data : SurvivalData
    n_signatures : int
        K; K+1 components are fitted (no healthy mean is imposed in stage 1).
    init_scale : float
        λ and φ start as ``init_scale`` times standard normals.
    phi : array of shape (K+1, D, T), optional
        Frozen φ (a hot start); only λ is fitted.
    n_epochs, learning_rate : int, float
    rng : None, int or Generator
    device : str or torch.device, optional
        Where the fit runs (default CPU); the result is numpy.

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> from latentlab.hotstart.robustness import fit_stage1
    >>> sim = simulate_signatures(40, 5, 8, 2, 2, rng=0)
    >>> fit = fit_stage1(sim.data, 2, n_epochs=20, rng=0)
    >>> fit.phi.shape, fit.history[-1] < fit.history[0]
    ((3, 5, 8), True)
    """
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    check_positive(init_scale, "init_scale", strict=False)
    generator = as_generator(rng)
    N, D, T = data.n_individuals, data.n_diseases, data.n_times
    device = resolve_device(device)
    lam = torch.tensor(init_scale * generator.standard_normal((N, K + 1, T)),
                       device=device, requires_grad=True)
    if phi is None:
        phi_t = torch.tensor(init_scale * generator.standard_normal((K + 1, D, T)),
                             device=device, requires_grad=True)
        params = [lam, phi_t]
    else:
        phi_t = torch.tensor(np.asarray(phi, dtype=np.float64), device=device)
        if tuple(phi_t.shape) != (K + 1, D, T):
            raise ValueError(f"phi must have shape {(K + 1, D, T)}, got {tuple(phi_t.shape)}")
        params = [lam]
    E, event = as_survival_tensors(np.array(data.E), np.array(data.event),
                                   device=device)
    optimiser = torch.optim.Adam(params, lr=check_positive(learning_rate, "learning_rate"))
    history = []
    for epoch in range(check_integer(n_epochs, "n_epochs", minimum=1)):
        optimiser.zero_grad()
        pi = torch.sigmoid(torch.einsum("nkt,kdt->ndt", lam, phi_t))
        loss = survival_nll_from_pi(pi, E, event) / N
        value = float(loss.detach())
        if not np.isfinite(value):
            raise FloatingPointError(f"the stage-1 loss became non-finite at epoch {epoch}")
        loss.backward()
        optimiser.step()
        history.append(value)
    return Stage1Fit(lam.detach().cpu().numpy().copy(),
                     phi_t.detach().cpu().numpy().copy(), tuple(history), len(history))


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
    """One fit of the grid: formulation, start, scale, seed, final NLL/N, φ recovery."""

    formulation: str
    start: str
    scale: float
    seed: int
    final_nll: float
    phi_recovery: float


def init_scale_grid(
    data: SurvivalData, true_phi: np.ndarray, n_signatures: int, *, master: Checkpoint, stage1_phi: np.ndarray,
    clusters, psi, scales: Sequence[float], seeds: Sequence[int], n_epochs: int, learning_rate_hot: float = 0.03,
) -> list[RobustnessRow]:
    """Fit ``data`` (RAW G) for every (formulation, start, scale, seed).

    ``master`` gives the frozen φ, γ, κ of the stage-3 hot start and
    ``stage1_phi`` the frozen φ of the stage-1 hot start.
    """
    rows = []
    scaled = standardised(data, master.covariate_mean, master.covariate_scale)
    E, event = as_survival_tensors(np.array(data.E), np.array(data.event))
    N = data.n_individuals
    for scale in scales:
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*clamp binds.*|.*exceeded 1.*|.*not writable.*")
                init = initialize(scaled, n_signatures, rng=seed, noise_scale=scale, clusters=clusters, psi=psi)
                cold3 = fit_signatures(scaled, n_signatures, init=init, n_epochs=n_epochs, tol=None, verbose=False)
                lam3, phi3 = (torch.tensor(a, device=E.device)
                              for a in (cold3.lam, cold3.phi))
                nll3 = float(signature_nll(lam3, phi3, cold3.kappa, E, event)) / N
                hot3 = FixedSignaturePredictor(master, n_epochs=n_epochs, init_scale=scale,
                                               learning_rate=learning_rate_hot).fit(data, rng=seed)
            cold1 = fit_stage1(data, n_signatures, init_scale=scale, n_epochs=n_epochs, rng=seed)
            hot1 = fit_stage1(data, n_signatures, init_scale=scale, phi=stage1_phi, n_epochs=n_epochs, rng=seed)
            rows += [
                RobustnessRow("stage 3", "cold", scale, seed, nll3, phi_recovery(cold3.phi, true_phi)),
                RobustnessRow("stage 3", "hot", scale, seed, hot3.nll_history[-1], phi_recovery(master.phi, true_phi)),
                RobustnessRow("stage 1", "cold", scale, seed, cold1.history[-1], phi_recovery(cold1.phi, true_phi)),
                RobustnessRow("stage 1", "hot", scale, seed, hot1.history[-1], phi_recovery(stage1_phi, true_phi)),
            ]
    return rows
