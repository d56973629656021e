"""Full-batch Adam fit of the signature model, returning a frozen :class:`FitResult`.

The pieces are reusable and live in :mod:`latentlab.signatures.training`
(re-exported here): :func:`adam_param_groups` builds the per-group learning
rates, :func:`adam_loop` runs any objective with tqdm, early stopping by an
absolute or a relative rule (:func:`relative_change_met`) and a non-finite
check (a λ-only predictor needs only these two and
:func:`~latentlab.signatures.map_objective` or
:func:`~latentlab.signatures.signature_nll`).

Note (Adam rescaling): Adam divides each parameter's step by a running RMS of
its gradient, so the prior weight W changes the *direction* of the updates of
γ and ψ but does not bound their step size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch

from latentlab._divergence import DivergenceError, DivergenceGuard
from latentlab._validation import check_integer, check_positive
from latentlab.signatures._checks import check_fit_options
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.device import resolve_device
from latentlab.signatures.gp import GaussianProcessPrior
from latentlab.signatures.init import InitialState, initialize
from latentlab.signatures.likelihood import DEFAULT_EPS, as_survival_tensors, signature_pi
from latentlab.signatures.objective import (
    ModelPriors,
    lambda_prior_mean,
    map_objective,
    signature_parameters,
)
from latentlab.signatures.training import (
    DEFAULT_LR_MULTIPLIERS,
    adam_loop,
    adam_param_groups,
    relative_change,
    relative_change_met,
)

__all__ = ["FitResult", "DEFAULT_LR_MULTIPLIERS", "adam_param_groups", "adam_loop", "fit_signatures",
           "relative_change", "relative_change_met"]



@dataclass(frozen=True)
class FitResult:
    """A fitted signature model (numpy float64 arrays; healthy signature at index K).

    Attributes
    ----------
    lam : ndarray (N, K+1, T)
        λ; θ = softmax(λ) over axis 1 (see :meth:`theta`).
    phi : ndarray (K+1, D, T)
        Signature–disease logits φ.
    psi : ndarray (K+1, D)
        Signature–disease associations ψ.
    gamma : ndarray (P, K)
        Covariate effects on the disease signatures (the healthy one has none).
    kappa : float
        Global calibration κ.
    mu : ndarray (D, T)
        Prevalence logits used as the φ prior mean.
    reference : ndarray (K, T)
        r_k(t), the λ prior-mean reference curves.
    clusters : ndarray (D,)
        Initial cluster label of each disease.
    history : tuple of float
        Objective value after each epoch (plain floats, never tensors).
    n_iter : int
        Epochs run.
    converged : bool
        Whether a stopping rule (``tol`` or ``rtol``) was met before ``n_epochs``.
    parameterization : {"centered", "noncentered"}
    """

    lam: npt.NDArray[np.float64]
    phi: npt.NDArray[np.float64]
    psi: npt.NDArray[np.float64]
    gamma: npt.NDArray[np.float64]
    kappa: float
    mu: npt.NDArray[np.float64]
    reference: npt.NDArray[np.float64]
    clusters: npt.NDArray[np.int64]
    history: tuple[float, ...]
    n_iter: int
    converged: bool
    parameterization: str = "centered"

    @property
    def n_signatures(self) -> int:
        """K, the number of disease signatures."""
        return int(self.phi.shape[0] - 1)

    @property
    def healthy_index(self) -> int:
        """Index of the healthy signature (= K)."""
        return self.n_signatures

    def theta(self) -> npt.NDArray[np.float64]:
        """Mixing weights softmax(λ) over signatures, shape (N, K+1, T)."""
        shifted = self.lam - self.lam.max(axis=1, keepdims=True)
        weights = np.exp(shifted)
        return weights / weights.sum(axis=1, keepdims=True)

    def pi(self, *, eps: float = DEFAULT_EPS) -> npt.NDArray[np.float64]:
        """Dense hazards π (N, D, T) (small data only)."""
        return signature_pi(self.lam, self.phi, self.kappa, eps=eps)


def fit_signatures(
    data: SurvivalData,
    n_signatures: int,
    *,
    parameterization: Literal["centered", "noncentered"] = "centered",
    n_epochs: int = 200,
    learning_rate: float = 0.1,
    lr_multipliers: dict[str, float] | None = None,
    learn_kappa: bool | None = None,
    prior_weight: float = 1e-4,
    tol: float | None = 1e-6,
    rtol: float | None = None,
    window: int = 10,
    patience: int = 3,
    init: InitialState | None = None,
    rng=None,
    noise_scale: float = 0.1,
    dtype: torch.dtype = torch.float32,
    chunk_size: int | None = None,
    eps: float = DEFAULT_EPS,
    verbose: bool = True,
    num_threads: int | None = None,
    lambda_length_scale: float | None = None,
    phi_length_scale: float | None = None,
    jitter: float = 1e-6,
    device: str | torch.device | None = None,
) -> FitResult:
    """Fit the signature model by Adam on the MAP objective.

    Parameters
    ----------
    data : SurvivalData
    n_signatures : int
        K ≥ 1 disease signatures (plus a healthy one at index K).
    parameterization : {"centered", "noncentered"}
        Centered (the reference's production model, default) or non-centered.
    n_epochs, learning_rate : int, float
        200 epochs at base lr 0.1 in the reference.
    lr_multipliers : dict, optional
        Overrides of :data:`DEFAULT_LR_MULTIPLIERS`.
    learn_kappa : bool, optional
        Default: learnable κ for centered, κ ≡ 1 for non-centered.
    prior_weight : float
        W, the weight of the GP quadratic forms.
    tol : float or None
        Stop when the absolute change of the loss from one epoch to the next is
        below ``tol`` (the reference trainer's rule; it depends on the loss's
        scale).
    rtol, window, patience : float or None, int, int
        Relative rule (off by default): stop when the mean relative change per
        epoch of the loss over the last ``window`` epochs is at most ``rtol`` on
        ``patience`` consecutive epochs (:func:`relative_change_met`). Pass
        ``tol=None`` to stop by this rule alone. ``converged`` records whether
        either rule held before ``n_epochs``.
    init : InitialState, optional
        Starting values; default :func:`initialize` with ``rng`` and ``noise_scale``.
    dtype : torch.dtype
        Likelihood precision (float32 default; the GP algebra is float64).
    chunk_size : int, optional
        Individuals per likelihood chunk. Default: from the device
        (:func:`~latentlab.signatures.device.auto_chunk_size`); on a CPU each
        torch thread works through its own share of the chunks.
    verbose : bool
        tqdm progress bar.
    num_threads : int, optional
        Torch intra-op threads during the fit (restored afterwards). Default:
        1 for small problems (N·D·T < 4·10⁶), where thread start-up costs more
        than it saves on a shared machine, else torch's current setting.

    lambda_length_scale, phi_length_scale : float, optional
        GP length scales in age steps (default T/4 and T/3, as in the reference).
    jitter : float
        Diagonal jitter of both GP kernels (1e−6 in the reference).
    device : str or torch.device, optional
        Where the fit runs: ``"cpu"`` (default), ``"cuda"``, ``"cuda:1"``, …
        Every tensor of the fit lives there; the result is numpy either way.

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        If K < 1 or an option is out of range.
    DivergenceError
        If the loss becomes non-finite or explodes, or κ ≤ 0 (the message names
        the learning rate and the epoch); its ``last_good`` attribute holds the
        :class:`FitResult` of the last good epoch (``converged=False``).

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> from latentlab.signatures import fit_signatures
    >>> sim = simulate_signatures(n_individuals=60, n_diseases=6, n_times=12, n_signatures=2, rng=0)
    >>> fit = fit_signatures(sim.data, 2, n_epochs=5, rng=0, verbose=False)
    >>> fit.lam.shape, fit.phi.shape, fit.n_iter, all(type(h) is float for h in fit.history)
    ((60, 3, 12), (3, 6, 12), 5, True)
    """
    if not isinstance(data, SurvivalData):
        raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    n_epochs = check_integer(n_epochs, "n_epochs", minimum=1)
    learning_rate = check_positive(learning_rate, "learning_rate")
    prior_weight = check_positive(prior_weight, "prior_weight", strict=False)
    if parameterization not in ("centered", "noncentered"):
        raise ValueError(f"parameterization must be 'centered' or 'noncentered', got {parameterization!r}")
    check_fit_options(data, K, DEFAULT_LR_MULTIPLIERS, lr_multipliers=lr_multipliers, tol=tol, noise_scale=noise_scale, dtype=dtype,
                       chunk_size=chunk_size, eps=eps, learn_kappa=learn_kappa, jitter=jitter,
                       lambda_length_scale=lambda_length_scale, phi_length_scale=phi_length_scale)
    if learn_kappa is None:
        learn_kappa = parameterization == "centered"
    if init is None:
        init = initialize(data, K, rng=rng, noise_scale=noise_scale)
    if init.psi.shape != (K + 1, data.n_diseases) or init.lam.shape != (data.n_individuals, K + 1, data.n_times):
        raise ValueError(f"init does not match K = {K} and the data's shape")
    T = data.n_times
    device = resolve_device(device)

    def const(value):  # fixed float64 input on the fit's device
        return torch.tensor(np.array(value, dtype=np.float64), device=device)

    priors = ModelPriors(
        mu=const(init.mu), reference=const(init.reference), G=const(data.G),
        lambda_prior=GaussianProcessPrior(T, lambda_length_scale or T / 4, jitter=jitter),
        phi_prior=GaussianProcessPrior(T, phi_length_scale or T / 3, jitter=jitter),
        prior_weight=prior_weight,
    )

    def tensor(value):
        return torch.tensor(np.asarray(value), dtype=dtype, device=device, requires_grad=True)

    params = {"psi": tensor(init.psi), "gamma": tensor(init.gamma)}
    if parameterization == "centered":
        params = {"lam": tensor(init.lam), "phi": tensor(init.phi), **params}
    else:
        lam_mean = lambda_prior_mean(priors.G, const(init.gamma), priors.reference).cpu().numpy()
        params = {"delta": tensor(init.lam - lam_mean),
                  "epsilon": tensor(init.phi - init.mu[None] - init.psi[:, :, None]), **params}
    kappa_fixed = None
    if learn_kappa:
        params["kappa"] = tensor(init.kappa)
    else:
        kappa_fixed = torch.tensor(float(init.kappa), dtype=dtype, device=device)
    # fused: one pass per parameter and step instead of about ten (CPU and CUDA)
    groups = adam_param_groups(params, learning_rate, lr_multipliers)
    optimizer = torch.optim.Adam(groups, fused=True)
    E, event = as_survival_tensors(data.E, data.event, device=device)

    def objective() -> torch.Tensor:
        return map_objective(params, E, event, priors, parameterization=parameterization,
                             kappa=kappa_fixed, chunk_size=chunk_size, eps=eps).loss

    if num_threads is None:
        cells = data.n_individuals * data.n_diseases * data.n_times
        num_threads = 1 if cells < 4_000_000 else torch.get_num_threads()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(check_integer(num_threads, "num_threads", minimum=1))
    guard = DivergenceGuard("fit_signatures", learning_rate=learning_rate)
    buffers = {name: torch.empty_like(value) for name, value in params.items()}

    def snapshot() -> dict[str, torch.Tensor]:  # one reused buffer set: no allocation per epoch
        with torch.no_grad():
            for name, value in params.items():
                buffers[name].copy_(value)
        return buffers

    def domain() -> dict[str, str]:
        kappa = float(params["kappa"].detach()) if learn_kappa else 1.0
        return {} if kappa > 0 else {"kappa": f"κ = {kappa:.4g}, expected > 0"}

    def result(values, history, n_iter, converged) -> FitResult:
        with torch.no_grad():
            if parameterization == "centered":  # λ, φ are parameters: no deviations
                lam, phi = values["lam"], values["phi"]
            else:
                lam, phi, _, _ = signature_parameters(values, priors, parameterization)
            kappa = values["kappa"] if learn_kappa else kappa_fixed
            def out(tensor):  # one float64 numpy copy, wherever the fit ran
                return tensor.detach().to("cpu", torch.float64, copy=True).numpy()

            return FitResult(
                lam=out(lam), phi=out(phi), psi=out(values["psi"]), gamma=out(values["gamma"]),
                kappa=float(kappa), mu=np.asarray(init.mu, dtype=float),
                reference=np.asarray(init.reference, dtype=float), clusters=np.asarray(init.clusters),
                history=tuple(history), n_iter=n_iter, converged=converged,
                parameterization=parameterization,
            )

    try:
        history, n_iter, converged = adam_loop(objective, optimizer, n_epochs, tol=tol, verbose=verbose,
                                               desc=f"signatures ({parameterization})", guard=guard,
                                               snapshot=snapshot, domain=domain, rtol=rtol,
                                               window=window, patience=patience)
    except DivergenceError as error:
        if error.last_good is not None:  # the FitResult of the last good epoch, not converged
            error.last_good = result(error.last_good, error.history, len(error.history), False)
        raise
    finally:
        torch.set_num_threads(previous_threads)
    # free the gradients, the Adam state and the snapshot before the result's copies
    optimizer.zero_grad(set_to_none=True)
    optimizer.state.clear()
    buffers.clear()
    return result(params, history, n_iter, converged)
