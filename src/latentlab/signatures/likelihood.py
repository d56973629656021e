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

import warnings

import numpy as np
import torch

__all__ = ["survival_nll_from_pi", "signature_nll", "signature_pi", "as_survival_tensors"]

#: Default clamp of π, as in the reference model: [1e−6, 1 − 1e−6].
DEFAULT_EPS = 1e-6


def as_survival_tensors(E, event, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Convert E and the event flag to (int64, bool) tensors, checking shapes.

    Raises
    ------
    ValueError
        If E is not 2-D or the two shapes differ.
    """
    E_t = (E if torch.is_tensor(E) else torch.tensor(np.array(E), device=device)).to(device)
    event_t = (event if torch.is_tensor(event) else torch.tensor(np.array(event), device=device)).to(device)
    if E_t.ndim != 2:
        raise ValueError(f"E must be a 2-D (n_individuals, n_diseases) array, got shape {tuple(E_t.shape)}")
    if tuple(event_t.shape) != tuple(E_t.shape):
        raise ValueError(f"event must have shape {tuple(E_t.shape)} like E, got {tuple(event_t.shape)}")
    if E_t.dtype.is_floating_point or E_t.dtype == torch.bool:
        raise ValueError(f"E must hold integers, got dtype {E_t.dtype}")
    return E_t.to(torch.int64), event_t.to(torch.bool)


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
        Clamp (the gradient is zero where the clamp binds, as in the reference).
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
    E_t, event_t = as_survival_tensors(E, event, device=pi.device)
    if pi.ndim != 3 or tuple(pi.shape[:2]) != tuple(E_t.shape):
        raise ValueError(f"pi must have shape (N, D, T) with (N, D) = {tuple(E_t.shape)}, got {tuple(pi.shape)}")
    T = pi.shape[2]
    p = pi.clamp(eps, 1 - eps)
    log1m = torch.log1p(-p)
    cumulative = torch.cumsum(log1m, dim=2)
    index = E_t.unsqueeze(2)
    through_E = cumulative.gather(2, index).squeeze(2)  # Σ_{t≤E} log(1−π)
    p_E = p.gather(2, index).squeeze(2)
    log1m_E = log1m.gather(2, index).squeeze(2)
    ell = through_E + torch.where(event_t, torch.log(p_E) - log1m_E, torch.zeros_like(p_E))
    if int(E_t.max()) >= T or int(E_t.min()) < 0:
        raise ValueError(f"E must lie in [0, {T - 1}]")
    if reduction == "none":
        return -ell
    if reduction != "sum":
        raise ValueError(f"reduction must be 'sum' or 'none', got {reduction!r}")
    return -ell.sum()


def _chunk_terms(theta_T, s_T, kappa, E_c, event_c, eps, want_grad):
    """NLL of one chunk of individuals and (optionally) its analytic gradient.

    theta_T: (T, n, K1) mixing weights; s_T: (T, K1, D) sigmoid(φ); E_c, event_c: (n, D).
    Returns (per-pair NLL (n, D) float64, grad wrt mix (T, n, D) or None,
    d loss / d kappa contribution, number of clamped-above cells).
    """
    T = theta_T.shape[0]
    mix = torch.bmm(theta_T, s_T)  # (T, n, D) = Σ_k θ σ(φ)
    raw = mix * kappa
    high = raw > 1 - eps
    n_high = int(high.sum())
    p = raw.clamp(eps, 1 - eps)
    log1m = torch.log1p(-p)
    ages = torch.arange(T, device=p.device).view(T, 1, 1)
    risk = ages <= E_c.unsqueeze(0)  # chunk-local (T, n, D) comparison, not stored
    index = E_c.unsqueeze(0)
    p_E = p.gather(0, index).squeeze(0)
    log1m_E = log1m.gather(0, index).squeeze(0)
    survival = torch.where(risk, log1m, torch.zeros((), dtype=p.dtype)).sum(0, dtype=torch.float64)
    event_term = torch.where(event_c, torch.log(p_E) - log1m_E, torch.zeros((), dtype=p.dtype))
    per_pair = -(survival + event_term.to(torch.float64))
    if not want_grad:
        return per_pair, None, 0.0, n_high
    # d(−ℓ)/dp: 1/(1−p) at risk, −1/p at an event age.
    grad = torch.where(risk, 1.0 / (1.0 - p), torch.zeros((), dtype=p.dtype))
    grad_E = torch.where(event_c, -1.0 / p_E, 1.0 / (1.0 - p_E))
    grad.scatter_(0, index, grad_E.unsqueeze(0))
    grad = grad * ((raw >= eps) & ~high)  # the clamp passes no gradient
    d_kappa = float((grad * mix).sum(dtype=torch.float64))
    return per_pair, grad, d_kappa, n_high


class _SignatureNLL(torch.autograd.Function):
    """Fused, chunked NLL of π = κ Σ θ σ(φ) with analytic gradients."""

    @staticmethod
    def forward(ctx, theta, s, kappa, E, event, chunk_size, eps):
        N, _, T = theta.shape
        theta_T = theta.permute(2, 0, 1)  # (T, N, K1) view
        s_T = s.permute(2, 0, 1).contiguous()  # (T, K1, D)
        kappa_value = kappa.detach()
        want = any(ctx.needs_input_grad[:3])
        grad_theta = torch.zeros_like(theta_T) if want else None
        grad_s = torch.zeros_like(s_T) if want else None
        grad_kappa = 0.0
        total = torch.zeros((), dtype=torch.float64)
        n_high = 0
        for start in range(0, N, chunk_size):
            stop = min(start + chunk_size, N)
            th = theta_T[:, start:stop].contiguous()
            per_pair, g, dk, nh = _chunk_terms(th, s_T, kappa_value, E[start:stop], event[start:stop], eps, want)
            total = total + per_pair.sum()
            n_high += nh
            if want:
                g_mix = g * kappa_value
                grad_theta[:, start:stop] = torch.bmm(g_mix, s_T.transpose(1, 2))
                grad_s += torch.bmm(th.transpose(1, 2), g_mix)
                grad_kappa += dk
        if n_high:
            warnings.warn(
                f"kappa * sum(theta * sigmoid(phi)) exceeded 1 - {eps:g} in {n_high} cells; "
                "the clamp binds there and passes no gradient",
                RuntimeWarning,
                stacklevel=3,
            )
        if want:
            ctx.save_for_backward(
                grad_theta.permute(1, 2, 0), grad_s.permute(1, 2, 0),
                torch.tensor(grad_kappa, dtype=kappa.dtype),
            )
        return total.to(theta.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        grad_theta, grad_s, grad_kappa = ctx.saved_tensors
        go = grad_output.to(grad_theta.dtype)
        return grad_theta * go, grad_s * go, (grad_kappa * go).reshape(()), None, None, None, None


def signature_nll(
    lam: torch.Tensor,
    phi: torch.Tensor,
    kappa: torch.Tensor | float,
    E,
    event,
    *,
    chunk_size: int = 1024,
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
    chunk_size : int
        Individuals per chunk; peak memory ≈ 6 × chunk_size × D × T × itemsize.
    eps : float
        π is clamped to ``[eps, 1 − eps]``; a ``RuntimeWarning`` says when the
        upper clamp binds (κ Σ θ σ(φ) > 1).
    reduction : {"sum", "none"}
        Differentiable total NLL (float dtype of ``lam``), or the (N, D)
        per-pair NLL in float64 without gradient (for held-out evaluation).

    Notes
    -----
    The gradient is analytic: with g = ∂(−ℓ)/∂π (1/(1−π) at risk, −1/π at an
    event), ∂/∂θ_ikt = κ Σ_d g_idt σ(φ_kdt), ∂/∂σ(φ)_kdt = κ Σ_i g_idt θ_ikt and
    ∂/∂κ = Σ g π/κ; autograd takes it from there through softmax and sigmoid.

    Examples
    --------
    >>> import torch
    >>> from latentlab.signatures import signature_nll
    >>> lam = torch.zeros(2, 2, 3, dtype=torch.float64)
    >>> phi = torch.full((2, 1, 3), -2.0, dtype=torch.float64)
    >>> round(float(signature_nll(lam, phi, 1.0, [[2], [1]], [[True], [False]])), 4)
    2.6346
    """
    if lam.ndim != 3 or phi.ndim != 3 or lam.shape[1] != phi.shape[0] or lam.shape[2] != phi.shape[2]:
        raise ValueError(
            f"lam must be (N, K+1, T) and phi (K+1, D, T) with matching K+1 and T; "
            f"got {tuple(lam.shape)} and {tuple(phi.shape)}"
        )
    E_t, event_t = as_survival_tensors(E, event, device=lam.device)
    if tuple(E_t.shape) != (lam.shape[0], phi.shape[1]):
        raise ValueError(f"E must have shape (N, D) = {(lam.shape[0], phi.shape[1])}, got {tuple(E_t.shape)}")
    if E_t.numel() and (int(E_t.min()) < 0 or int(E_t.max()) >= lam.shape[2]):
        raise ValueError(f"E must lie in [0, {lam.shape[2] - 1}]")
    if not torch.is_tensor(kappa):
        kappa = torch.tensor(float(kappa), dtype=lam.dtype)
    theta = torch.softmax(lam, dim=1)
    s = torch.sigmoid(phi)
    if reduction == "none":
        with torch.no_grad():
            theta_T = theta.permute(2, 0, 1)
            s_T = s.permute(2, 0, 1).contiguous()
            parts = [
                _chunk_terms(theta_T[:, a : a + chunk_size].contiguous(), s_T, kappa.detach(),
                             E_t[a : a + chunk_size], event_t[a : a + chunk_size], eps, False)[0]
                for a in range(0, lam.shape[0], chunk_size)
            ]
        return torch.cat(parts, dim=0)
    if reduction != "sum":
        raise ValueError(f"reduction must be 'sum' or 'none', got {reduction!r}")
    return _SignatureNLL.apply(theta, s, kappa, E_t, event_t, int(chunk_size), float(eps))


def signature_pi(lam, phi, kappa, *, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Dense π = clamp(κ Σ_k softmax(λ)_k σ(φ_k)) as an (N, D, T) float64 array (small data).

    Examples
    --------
    >>> from latentlab.signatures import signature_pi
    >>> signature_pi(np.zeros((1, 2, 1)), np.zeros((2, 1, 1)), 1.0).tolist()
    [[[0.5]]]
    """
    lam_t = torch.tensor(np.array(lam, dtype=np.float64))
    phi_t = torch.tensor(np.array(phi, dtype=np.float64))
    theta = torch.softmax(lam_t, dim=1)
    pi = float(kappa) * torch.einsum("nkt,kdt->ndt", theta, torch.sigmoid(phi_t))
    return pi.clamp(eps, 1 - eps).numpy()
