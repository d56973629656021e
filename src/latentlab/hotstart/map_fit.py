"""Fitting the stage-1 and stage-3 maps to the survival NLL (see :mod:`.robustness`).

:func:`fit_map` minimises the survival NLL per person plus λ's GP penalty (the
model's λ prior, zero-mean here) by full-batch Adam, from a start λ = s·z and,
optionally, φ frozen; :func:`map_nll` is the NLL per person of given λ and φ
under either map.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from latentlab._validation import as_generator, check_integer, check_positive
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.fit import relative_change_met
from latentlab.signatures.gp import GaussianProcessPrior

__all__ = ["MapFit", "fit_map", "map_nll"]

_EPS = 1e-8


@dataclass(frozen=True)
class MapFit:
    """A stage-1 or stage-3 fit: λ (N, K+1, T), φ (K+1, D, T), objective per epoch.

    ``nll`` is the final survival NLL per person (the data term alone).
    """

    stage: int
    lam: np.ndarray
    phi: np.ndarray
    nll: float
    history: tuple[float, ...]
    n_iter: int
    converged: bool
    seconds: float


def _check_stage(stage) -> int:
    if stage not in (1, 3):
        raise ValueError(f"stage must be 1 or 3, got {stage!r}")
    return int(stage)


def _masks(data: SurvivalData, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(survived, diagnosed) cell masks (N, D, T) as float64 tensors."""
    E = np.asarray(data.E)[:, :, None]
    event = np.asarray(data.event)[:, :, None]
    t = np.arange(data.n_times)[None, None, :]
    survived = (t < E) | ((t == E) & ~event)
    diagnosed = (t == E) & event
    return (torch.tensor(survived, dtype=torch.float64, device=device),
            torch.tensor(diagnosed, dtype=torch.float64, device=device))


def _nll(stage: int, lam, phi, survived, diagnosed) -> torch.Tensor:
    if stage == 1:  # exact log-space: log σ(x), log(1 − σ(x)) = log σ(−x)
        logits = torch.einsum("nkt,kdt->ndt", lam, phi)
        log_p = torch.nn.functional.logsigmoid(logits)
        log_q = torch.nn.functional.logsigmoid(-logits)
    else:
        pi = torch.einsum("nkt,kdt->ndt", torch.softmax(lam, dim=1), torch.sigmoid(phi))
        pi = pi.clamp(_EPS, 1 - _EPS)
        log_p, log_q = torch.log(pi), torch.log1p(-pi)
    return -(survived * log_q + diagnosed * log_p).sum()


def map_nll(stage: int, lam, phi, data: SurvivalData) -> float:
    """Survival NLL per person of ``data`` under stage ``stage`` at (λ, φ).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.robustness import map_nll
    >>> from latentlab.signatures.data import SurvivalData
    >>> data = SurvivalData(E=np.array([[2]]), event=np.array([[True]]),
    ...                     G=np.zeros((1, 1)), n_times=4)
    >>> lam, phi = np.zeros((1, 1, 4)), np.zeros((1, 1, 4))   # π = σ(0) = 1/2
    >>> bool(abs(map_nll(1, lam, phi, data) - 3 * np.log(2)) < 1e-12)
    True
    """
    stage = _check_stage(stage)
    if not isinstance(data, SurvivalData):
        raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
    survived, diagnosed = _masks(data, "cpu")
    lam_t, phi_t = (torch.as_tensor(np.asarray(a, dtype=np.float64), device="cpu")
                    for a in (lam, phi))
    return float(_nll(stage, lam_t, phi_t, survived, diagnosed)) / data.n_individuals


def fit_map(
    data: SurvivalData, n_signatures: int, *, stage: Literal[1, 3], init_scale: float = 0.1,
    phi: np.ndarray | None = None, max_epochs: int = 2000, learning_rate: float = 0.1,
    rtol: float = 1e-5, window: int = 10, prior_weight: float = 1e-4, rng=None,
    patience: int = 3,
) -> MapFit:
    """Fit stage 1 or stage 3 by Adam on the survival NLL per person, to convergence.

    Parameters
    ----------
    data : SurvivalData
    n_signatures : int
        K; K+1 components are fitted.
    stage : {1, 3}
        π = σ(Σλφ) or π = Σ softmax(λ) σ(φ).
    init_scale : float
        λ (and φ unless frozen) start as ``init_scale`` times standard normals.
    phi : array of shape (K+1, D, T), optional
        Frozen φ (a hot start); only λ is fitted.
    max_epochs : int
        Cap on Adam steps.
    learning_rate : float
    rtol : float
        Converged when the mean relative change per epoch of the objective over
        the last ``window`` epochs is at most ``rtol`` on ``patience``
        consecutive epochs.
    window, patience : int
    prior_weight : float
        W of λ's zero-mean GP penalty W·Q_λ/N (the model's λ prior, length scale
        T/4); 0 fits the NLL alone.
    rng : None, int or Generator

    Returns
    -------
    MapFit
        ``converged`` says whether the rule was met before ``max_epochs``.

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> from latentlab.hotstart.robustness import fit_map
    >>> sim = simulate_signatures(40, 5, 8, 2, 2, rng=0)
    >>> fit = fit_map(sim.data, 2, stage=3, phi=sim.truth.phi, max_epochs=400,
    ...               rtol=1e-4, rng=0)
    >>> fit.lam.shape, fit.converged, fit.nll < fit.history[0]
    ((40, 3, 8), True, True)
    """
    stage = _check_stage(stage)
    if not isinstance(data, SurvivalData):
        raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    scale = check_positive(init_scale, "init_scale", strict=False)
    max_epochs = check_integer(max_epochs, "max_epochs", minimum=1)
    rtol = check_positive(rtol, "rtol")
    window = check_integer(window, "window", minimum=1)
    patience = check_integer(patience, "patience", minimum=1)
    generator = as_generator(rng)
    N, D, T = data.n_individuals, data.n_diseases, data.n_times
    lam = torch.tensor(scale * generator.standard_normal((N, K + 1, T)), device="cpu",
                       requires_grad=True)
    if phi is None:
        phi_t = torch.tensor(scale * generator.standard_normal((K + 1, D, T)),
                             device="cpu", requires_grad=True)
        params = [lam, phi_t]
    else:
        phi_t = torch.tensor(np.asarray(phi, dtype=np.float64), device="cpu")
        if tuple(phi_t.shape) != (K + 1, D, T):
            raise ValueError(f"phi must have shape {(K + 1, D, T)}, got {tuple(phi_t.shape)}")
        params = [lam]
    survived, diagnosed = _masks(data, "cpu")
    prior_weight = check_positive(prior_weight, "prior_weight", strict=False)
    prior = GaussianProcessPrior(T, T / 4)
    optimiser = torch.optim.Adam(params, lr=check_positive(learning_rate, "learning_rate"))
    history: list[float] = []
    converged = False
    began = time.perf_counter()
    for epoch in range(max_epochs):
        optimiser.zero_grad()
        loss = _nll(stage, lam, phi_t, survived, diagnosed) / N
        if prior_weight:
            loss = loss + prior_weight * prior.quadratic_form_torch(lam) / N
        value = float(loss.detach())
        if not np.isfinite(value):
            raise FloatingPointError(f"the stage-{stage} loss became non-finite at epoch {epoch}")
        loss.backward()
        optimiser.step()
        history.append(value)
        if relative_change_met(history, rtol, window, patience):
            converged = True
            break
    seconds = time.perf_counter() - began
    with torch.no_grad():
        nll = float(_nll(stage, lam, phi_t, survived, diagnosed)) / N
    return MapFit(stage, lam.detach().numpy().copy(), phi_t.detach().numpy().copy(), nll,
                  tuple(history), len(history), converged, seconds)
