"""Discrete-time survival negative log-likelihood with at-risk masking.

For person i and disease d with event-or-censoring index E = E_id,

    ℓ_id = Σ_{t<E} log(1 − π_idt) + y_id log π_idE + (1 − y_id) log(1 − π_idE),

with y_id the event flag; ages after E are not in the likelihood. The NLL is
−Σ ℓ_id. No dense N×D×T mask is ever stored: the at-risk terms are selected by
comparing the age index with E inside each chunk of individuals, and the event
term is gathered at E.

Two entry points:

* :func:`survival_nll_from_pi` takes any π tensor (N×D×T) and is plain torch
  autograd (small data, tests, other forward maps).
* :func:`signature_nll` takes λ (N×(K+1)×T), φ ((K+1)×D×T) and κ for the
  stage-3 map π = κ Σ_k softmax(λ)_k σ(φ_k); it evaluates π in chunks of
  individuals with batched matrix products over ages and computes the
  gradient with respect to θ, σ(φ) and κ analytically in the same pass, so
  memory stays O(chunk × D × T).
"""

from __future__ import annotations

import weakref

import numpy as np
import torch

from latentlab._validation import (
    check_array,
    check_integer,
    check_option,
    check_positive,
)
from latentlab.signatures import _ages, _kernel
from latentlab.signatures._fused import _fused_terms, _SignatureNLL  # noqa: F401
from latentlab.signatures.device import auto_chunk_size, resolve_device

__all__ = [
    "survival_nll_from_pi",
    "signature_nll",
    "signature_pi",
    "as_survival_tensors",
]

#: Default clamp of π, as in the reference model: [1e−6, 1 − 1e−6].
DEFAULT_EPS = 1e-6


def as_survival_tensors(
    E, event, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert E and the event flag to (int64, bool) tensors, checking shapes.

    Raises
    ------
    ValueError
        If E is not 2-D or the two shapes differ.
    """
    E_t = (E if torch.is_tensor(E) else torch.tensor(np.array(E), device=device)).to(
        device
    )
    event_t = (
        event
        if torch.is_tensor(event)
        else torch.tensor(np.array(event), device=device)
    ).to(device)
    if E_t.ndim != 2:
        raise ValueError(
            f"E must be a 2-D (n_individuals, n_diseases) array, got shape {tuple(E_t.shape)}"
        )
    if tuple(event_t.shape) != tuple(E_t.shape):
        raise ValueError(
            f"event must have shape {tuple(E_t.shape)} like E, got {tuple(event_t.shape)}"
        )
    if E_t.dtype.is_floating_point or E_t.dtype == torch.bool:
        raise ValueError(f"E must hold integers, got dtype {E_t.dtype}")
    if E_t.numel() and int(E_t.min()) < 0:
        raise ValueError(f"E must hold age indices >= 0, got a minimum of {int(E_t.min())}")
    return E_t.to(torch.int64), event_t.to(torch.bool)


_CHECKED: list = [None]  # the last E and event that passed _checked_survival


def _checked_survival(E, event, device, n_times: int):
    """:func:`as_survival_tensors` plus the check 0 ≤ E < T, skipped for the tensors
    that passed it last (unchanged since): a fit passes the same ones every epoch."""
    last = _CHECKED[0]
    if (
        last is not None
        and last[0]() is E
        and last[1]() is event
        and last[2:] == (E._version, event._version, n_times, device)
    ):
        return E, event
    E_t, event_t = as_survival_tensors(E, event, device=device)
    if E_t.numel() and int(E_t.max()) >= n_times:
        raise ValueError(f"E must lie in [0, {n_times - 1}]")
    if E_t is E and event_t is event:
        _CHECKED[0] = (
            weakref.ref(E), weakref.ref(event), E._version, event._version, n_times,
            device,
        )
    return E_t, event_t


def _check_nll_options(eps, reduction) -> None:
    if not 0 < check_positive(eps, "eps") < 0.5:
        raise ValueError(f"eps must lie in (0, 0.5) (π is clamped to [eps, 1 - eps]), got {eps}")
    check_option(reduction, "reduction", ("sum", "none"))


def survival_nll_from_pi(
    pi: torch.Tensor, E, event, *, eps: float = DEFAULT_EPS, reduction: str = "sum"
) -> torch.Tensor:
    """Survival NLL for a given hazard tensor π (plain autograd).

    Parameters
    ----------
    pi : Tensor of shape (N, D, T)
        Yearly hazards; clamped to ``[eps, 1 − eps]``.
    E : array_like or Tensor of int, shape (N, D)
    event : array_like or Tensor of bool, shape (N, D)
    eps : float
        Clamp. The clamp is straight-through: the loss uses the clamped value
        and its gradient is taken at the clamped value and passed on unchanged.
    reduction : {"sum", "none"}
        Total NLL, or the (N, D) per-pair NLL.

    Examples
    --------
    >>> import torch
    >>> from latentlab.signatures import survival_nll_from_pi
    >>> pi = torch.full((1, 1, 4), 0.1, dtype=torch.float64)
    >>> round(float(survival_nll_from_pi(pi, [[2]], [[True]])), 4)   # -(2 log 0.9 + log 0.1)
    2.5133
    """
    _check_nll_options(eps, reduction)
    if not torch.is_tensor(pi):
        raise TypeError(f"pi must be a torch.Tensor, got {type(pi).__name__}")
    E_t, event_t = as_survival_tensors(E, event, device=pi.device)
    if pi.ndim != 3 or tuple(pi.shape[:2]) != tuple(E_t.shape):
        raise ValueError(
            f"pi must have shape (N, D, T) with (N, D) = {tuple(E_t.shape)}, got {tuple(pi.shape)}"
        )
    T = pi.shape[2]
    if E_t.numel() and (int(E_t.max()) >= T or int(E_t.min()) < 0):
        raise ValueError(f"E must lie in [0, {T - 1}]")
    p = pi + (pi.clamp(eps, 1 - eps) - pi).detach()  # straight-through clamp
    log1m = torch.log1p(-p)
    cumulative = torch.cumsum(log1m, dim=2)
    index = E_t.unsqueeze(2)
    through_E = cumulative.gather(2, index).squeeze(2)  # Σ_{t≤E} log(1−π)
    p_E = p.gather(2, index).squeeze(2)
    log1m_E = log1m.gather(2, index).squeeze(2)
    ell = through_E + torch.where(
        event_t, torch.log(p_E) - log1m_E, torch.zeros_like(p_E)
    )
    if reduction == "none":
        return -ell
    if reduction != "sum":
        raise ValueError(f"reduction must be 'sum' or 'none', got {reduction!r}")
    return -ell.sum()


def signature_nll(
    lam: torch.Tensor,
    phi: torch.Tensor,
    kappa: torch.Tensor | float,
    E,
    event,
    *,
    chunk_size: int | None = None,
    eps: float = DEFAULT_EPS,
    reduction: str = "sum",
) -> torch.Tensor:
    """Survival NLL of the stage-3 model π = κ Σ_k softmax(λ)_k σ(φ_k), chunked.

    Parameters
    ----------
    lam : Tensor of shape (N, K+1, T)
        Signature logits λ per person; θ = softmax over axis 1.
    phi : Tensor of shape (K+1, D, T)
        Signature–disease logits φ.
    kappa : Tensor (0-d) or float
        Global calibration κ.
    E, event : int and bool, shape (N, D)
        Event-or-censoring index and event flag (tensors avoid a conversion per call).
    chunk_size : int, optional
        Individuals per chunk. On a CPU the chunk is walked age by age (work
        memory ≈ chunk_size × (3 D + 3 K1 T) × itemsize per worker; default
        512); on a GPU all ages at once (≈ 2 × chunk_size × D × T × itemsize;
        default from :func:`~latentlab.signatures.device.auto_chunk_size`, up
        to 8192, sized from its free memory).
    eps : float
        π is clamped to ``[eps, 1 − eps]``; a ``RuntimeWarning`` says when the
        upper clamp binds (κ Σ θ σ(φ) ≥ 1 − eps).
    reduction : {"sum", "none"}
        Differentiable total NLL (float dtype of ``lam``), or the (N, D)
        per-pair NLL in float64 without gradient (for held-out evaluation).

    Notes
    -----
    The gradient is analytic: with g = ∂(−ℓ)/∂π (1/(1−π) at risk, −1/π at an
    event), ∂/∂θ_ikt = κ Σ_d g_idt σ(φ_kdt), ∂/∂σ(φ)_kdt = κ Σ_i g_idt θ_ikt and
    ∂/∂κ = Σ g π/κ; autograd takes it from there through softmax and sigmoid.

    Reference behaviour: the reference clamps π with ``torch.clamp``, whose
    gradient is zero where the clamp binds, so a cell stuck above 1 − eps
    never learns to come back. Here the clamp is straight-through: the value
    is clamped, and the gradient is evaluated at the clamped value. Away from
    the clamp both agree exactly.

    Examples
    --------
    >>> import torch
    >>> from latentlab.signatures import signature_nll
    >>> lam = torch.zeros(2, 2, 3, dtype=torch.float64)
    >>> phi = torch.full((2, 1, 3), -2.0, dtype=torch.float64)
    >>> round(float(signature_nll(lam, phi, 1.0, [[2], [1]], [[True], [False]])), 4)
    2.6346
    """
    s, kappa, plan = _prepare(lam, phi, kappa, E, event, chunk_size, eps, reduction)
    N, D, T = lam.shape[0], phi.shape[1], lam.shape[2]
    if reduction == "none":
        with torch.no_grad():
            s_T = (s * float(kappa)).permute(2, 0, 1).contiguous()
            low, high = _kernel.clamp_may_bind(s, float(kappa), eps)
            n_max = max(c.stop - c.start for c in plan.chunks)
            K1 = lam.shape[1]
            buffers = _kernel.Chunk(T, n_max, D, K1, lam.dtype, lam.device)
            ages = torch.arange(T, dtype=lam.dtype, device=lam.device).view(T, 1, 1)
            parts = [
                _kernel.chunk_pairs(
                    buffers,
                    lam,
                    chunk.rows,
                    s_T,
                    plan.E1,
                    ages,
                    chunk,
                    eps,
                    clamp=low or high,
                )
                for chunk in plan.chunks
            ]
            pairs = torch.zeros((N, D), dtype=torch.float64, device=lam.device)
            pairs[plan.order] = torch.cat(parts, dim=0)
        return pairs
    if reduction != "sum":
        raise ValueError(f"reduction must be 'sum' or 'none', got {reduction!r}")
    return _SignatureNLL.apply(lam, s, kappa, plan, float(eps))


def _prepare(lam, phi, kappa, E, event, chunk_size, eps, reduction="sum"):
    """Check the arguments of :func:`signature_nll`; return σ(φ), κ as a tensor on
    λ's device and the plan of E and event.

    The plan is looked up here, where E and event are the caller's tensors (the
    cache knows them by identity). ``reduction="none"`` gets the chunk plan
    with the at-risk indicator (no list of cells after E)."""
    _check_nll_options(eps, reduction)
    if chunk_size is not None:
        check_integer(chunk_size, "chunk_size", minimum=1)
    for name, value in (("lam", lam), ("phi", phi)):
        if not torch.is_tensor(value):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if (
        lam.ndim != 3
        or phi.ndim != 3
        or lam.shape[1] != phi.shape[0]
        or lam.shape[2] != phi.shape[2]
    ):
        raise ValueError(
            f"lam must be (N, K+1, T) and phi (K+1, D, T) with matching K+1 and T; "
            f"got {tuple(lam.shape)} and {tuple(phi.shape)}"
        )
    E_t, event_t = _checked_survival(E, event, lam.device, lam.shape[2])
    if tuple(E_t.shape) != (lam.shape[0], phi.shape[1]):
        raise ValueError(
            f"E must have shape (N, D) = {(lam.shape[0], phi.shape[1])}, got {tuple(E_t.shape)}"
        )
    if not torch.is_tensor(kappa):
        kappa = torch.tensor(float(kappa), dtype=lam.dtype, device=lam.device)
    elif kappa.device != lam.device:
        kappa = kappa.to(lam.device)
    N, D, T = lam.shape[0], phi.shape[1], lam.shape[2]
    ages = lam.device.type == "cpu" and _kernel.CPU_LAYOUT == "ages"
    if chunk_size is None and ages and reduction == "sum":
        chunk_size = _kernel.CPU_BLOCK
    elif chunk_size is None:
        chunk_size = auto_chunk_size(N, D, T, lam.dtype, lam.device)
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    if reduction == "none":
        plan = _kernel.plan(E_t, event_t, chunk_size, lam.dtype, sparse=False)
    elif ages:
        plan = _ages.plan(E_t, event_t, chunk_size, T)
    else:
        plan = _kernel.plan(E_t, event_t, chunk_size, lam.dtype)
    return torch.sigmoid(phi), kappa, plan


def signature_pi(
    lam,
    phi,
    kappa,
    *,
    eps: float = DEFAULT_EPS,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Dense π = clamp(κ Σ_k softmax(λ)_k σ(φ_k)) as an (N, D, T) float64 array (small data).

    The product runs on ``device`` (default CPU); the result is numpy.

    Examples
    --------
    >>> from latentlab.signatures import signature_pi
    >>> signature_pi(np.zeros((1, 2, 1)), np.zeros((2, 1, 1)), 1.0).tolist()
    [[[0.5]]]
    """
    lam = check_array(lam, "lam", ndim=3)
    phi = check_array(phi, "phi", shape=(lam.shape[1], None, lam.shape[2]))
    kappa = check_positive(float(kappa) if isinstance(kappa, torch.Tensor) else kappa, "kappa")
    if not 0 <= check_positive(eps, "eps", strict=False) < 0.5:
        raise ValueError(f"eps must lie in [0, 0.5), got {eps}")
    device = resolve_device(device)
    lam_t = torch.tensor(np.array(lam, dtype=np.float64), device=device)
    phi_t = torch.tensor(np.array(phi, dtype=np.float64), device=device)
    theta = torch.softmax(lam_t, dim=1)
    pi = float(kappa) * torch.einsum("nkt,kdt->ndt", theta, torch.sigmoid(phi_t))
    return pi.clamp(eps, 1 - eps).cpu().numpy()
