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
    E_t, event_t = as_survival_tensors(E, event, device=pi.device)
    if pi.ndim != 3 or tuple(pi.shape[:2]) != tuple(E_t.shape):
        raise ValueError(f"pi must have shape (N, D, T) with (N, D) = {tuple(E_t.shape)}, got {tuple(pi.shape)}")
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
    ell = through_E + torch.where(event_t, torch.log(p_E) - log1m_E, torch.zeros_like(p_E))
    if reduction == "none":
        return -ell
    if reduction != "sum":
        raise ValueError(f"reduction must be 'sum' or 'none', got {reduction!r}")
    return -ell.sum()


class _Chunk:
    """Reusable (T, n, D) work buffers, so no chunk allocates (or page-faults) afresh."""

    def __init__(self, T, n, D, dtype):
        self.hazard = torch.empty((T, n, D), dtype=dtype)
        self.work = torch.empty((T, n, D), dtype=dtype)
        self.keep = torch.empty((T, n, D), dtype=dtype)
        self.ages = torch.arange(T, dtype=dtype).view(T, 1, 1)
        self.one = torch.ones((), dtype=dtype)

    def view(self, n):
        if n == self.hazard.shape[1]:
            return self.hazard, self.work, self.keep
        return (self.hazard[:, :n].contiguous(), self.work[:, :n].contiguous(), self.keep[:, :n].contiguous())


def _chunk_terms(buffers, theta_T, s_T, E_c, events, eps, want_grad, clamp=True, count_high=True, per_pair=False):
    """NLL of one chunk of individuals and, optionally, the gradient wrt π.

    theta_T: (T, n, K1) contiguous; s_T: (T, K1, D), already multiplied by κ;
    E_c: (n, D); events: (i, d) index tensors of the chunk's events (local i).
    Returns (total NLL, per-pair NLL (n, D) or None, gradient buffer
    g = ∂(−ℓ)/∂π of shape (T, n, D) or None, clamped-above count).

    Every large operation works in place on the chunk's reusable buffers, in
    as few passes as possible: π by a batched matrix product; the at-risk
    indicator [t ≤ E] = clamp(E + 1 − t, 0, 1) written into a float buffer
    (rebuilt per chunk, never stored for all individuals); 1 − π; its log, summed against the
    indicator by one dot product; and the gradient as indicator / (1 − π) in
    one division.
    """
    n = theta_T.shape[1]
    p, work, keep = buffers.view(n)
    torch.bmm(theta_T, s_T, out=p)  # π = κ Σ_k θ σ(φ), batched over ages
    n_high = 0
    if clamp:
        p.clamp_(eps, 1 - eps)
        if count_high:
            n_high = int(torch.count_nonzero(p >= 1 - eps))
    i_ev, d_ev = events
    t_ev = E_c[i_ev, d_ev]
    p_ev = p[t_ev, i_ev, d_ev]
    event_terms = torch.log(p_ev) - torch.log1p(-p_ev)  # log π_E − log(1 − π_E)
    torch.sub(E_c.unsqueeze(0).to(p.dtype) + 1.0, buffers.ages, out=keep)
    keep.clamp_(0.0, 1.0)  # [t ≤ E] as 0/1 floats
    torch.sub(buffers.one, p, out=work)  # 1 − π
    torch.log(work, out=p)  # log(1 − π); π itself is no longer needed
    if per_pair:
        pairs = -(p * keep).sum(0).to(torch.float64)
        pairs[i_ev, d_ev] -= event_terms.to(torch.float64)
        total = float(pairs.sum())
    else:
        pairs = None
        total = -(float(torch.dot(p.view(-1), keep.view(-1))) + float(event_terms.sum()))
    if not want_grad:
        return total, pairs, None, n_high
    # d(−ℓ)/dπ = [t ≤ E] / (1 − π), and −1/π at an event
    torch.div(keep, work, out=work)
    work[t_ev, i_ev, d_ev] = -1.0 / p_ev
    return total, pairs, work, n_high


def _event_slices(event, chunk_size):
    """Per chunk, the (local i, d) indices of its events, from one nonzero call."""
    i_all, d_all = torch.nonzero(event, as_tuple=True)
    starts = torch.arange(0, event.shape[0] + chunk_size, chunk_size)
    bounds = torch.searchsorted(i_all, starts).tolist()
    return [(i_all[a:b] - start, d_all[a:b]) for start, a, b in zip(starts.tolist(), bounds[:-1], bounds[1:])]


def _clamp_may_bind(s, kappa, eps):
    """(lower, upper): can the clamp bind? κ min_k σ(φ_k) ≤ π ≤ κ max_k σ(φ_k) decides it cheaply."""
    return float(kappa) * float(s.min()) <= eps, float(kappa) * float(s.max()) >= 1 - eps


class _SignatureNLL(torch.autograd.Function):
    """Fused, chunked NLL of π = κ Σ θ σ(φ) with analytic gradients."""

    @staticmethod
    def forward(ctx, theta, s, kappa, E, event, chunk_size, eps):
        N, _, T = theta.shape
        D = s.shape[1]
        theta_T = theta.permute(2, 0, 1)  # (T, N, K1) view
        kappa_value = float(kappa.detach())
        s_T = (s * kappa_value).permute(2, 0, 1).contiguous()  # κ σ(φ) as (T, K1, D)
        s_T_t = s_T.transpose(1, 2).contiguous()  # (T, D, K1)
        low, high = _clamp_may_bind(s, kappa_value, eps)
        events = _event_slices(event, chunk_size)
        want = any(ctx.needs_input_grad[:3])
        grad_theta = torch.empty_like(theta_T) if want else None
        grad_s = torch.zeros_like(s_T) if want else None
        total = 0.0
        n_high = 0
        buffers = _Chunk(T, min(chunk_size, N), D, theta.dtype)
        for chunk, start in enumerate(range(0, N, chunk_size)):
            stop = min(start + chunk_size, N)
            th = theta_T[:, start:stop].contiguous()
            value, _, g, nh = _chunk_terms(buffers, th, s_T, E[start:stop], events[chunk], eps, want,
                                           clamp=low or high, count_high=high)
            total += value
            n_high += nh
            if want:
                grad_theta[:, start:stop] = torch.bmm(g, s_T_t)  # already carries κ
                grad_s.baddbmm_(th.transpose(1, 2), g)
        if n_high:
            warnings.warn(
                f"kappa * sum(theta * sigmoid(phi)) reached the clamp 1 - {eps:g} in {n_high} cells; "
                "there the clamp binds (the gradient is taken at the clamped value)",
                RuntimeWarning,
                stacklevel=3,
            )
        if want:
            # ∂/∂κ = Σ g Σ_k θ σ(φ) = Σ_kdt σ(φ_kdt) Σ_i θ_ikt g_idt: from the small (T, K1, D) sum, no dense pass
            grad_kappa = (grad_s * s_T).sum() / kappa_value
            ctx.save_for_backward(
                grad_theta.permute(1, 2, 0), (grad_s * kappa_value).permute(1, 2, 0), grad_kappa.to(kappa.dtype),
            )
        return torch.tensor(total, dtype=theta.dtype)

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
    chunk_size: int = 64,
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
        Individuals per chunk; peak memory ≈ 3 × chunk_size × D × T × itemsize.
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
            s_T = (s * float(kappa)).permute(2, 0, 1).contiguous()
            buffers = _Chunk(lam.shape[2], min(chunk_size, lam.shape[0]), phi.shape[1], lam.dtype)
            events = _event_slices(event_t, chunk_size)
            parts = [
                _chunk_terms(buffers, theta_T[:, a : a + chunk_size].contiguous(), s_T, E_t[a : a + chunk_size],
                             events[c], eps, False, per_pair=True)[1]
                for c, a in enumerate(range(0, lam.shape[0], chunk_size))
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
