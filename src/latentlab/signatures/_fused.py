"""The fused CPU/GPU kernel behind :func:`~latentlab.signatures.signature_nll`
(private): the NLL of π = κ Σ_k softmax(λ)_k σ(φ_k) and its analytic gradients
in one pass over blocks of people (:mod:`._ages` on a CPU, :mod:`._kernel`'s
chunks on a GPU), and the autograd function around it.
"""

from __future__ import annotations

import warnings

import torch

from latentlab.signatures import _ages, _kernel


def _fused_terms(lam, s, kappa_value: float, plan, eps: float, grad_lam, tail=None,
                 extra: int = 0):
    """The fused kernel: NLL (float64 0-d), ∂(−ℓ)/∂(κσ(φ)) as (T, K1, D) or None,
    and κσ(φ) as (T, K1, D). Writes ∂(−ℓ)/∂λ into ``grad_lam`` (N, K1, T) when
    given. ``lam`` and ``s`` = σ(φ) are detached; ``plan`` is a CPU block list
    (:func:`._ages.plan`) or a chunk plan (:func:`._kernel.plan`).

    ``tail(blocks)`` (CPU blocks only) runs in the worker of each task right after
    the task's blocks, on the list of them (the λ prior of their people,
    :mod:`._centered`); ``extra`` is its cost per person in ages of the kernel,
    for cutting the blocks into tasks."""
    K1, T = lam.shape[1:]
    D = s.shape[1]
    device, dtype = lam.device, lam.dtype
    low, high = _kernel.clamp_may_bind(s, kappa_value, eps)
    w_min = eps if high else max(eps, 1.0 - kappa_value * float(s.max()) * 1.001)
    levels = _kernel.product_levels(w_min, dtype)
    want = grad_lam is not None
    ages_layout = isinstance(plan, list)  # the CPU's age-major blocks (._ages)
    if ages_layout:
        factors = _ages.factors(s * kappa_value, low, high)
        s_T = factors.by_age
        n_max = max((b.stop - b.start for b in plan), default=1)
    else:
        s_T = (s * kappa_value).permute(2, 0, 1).contiguous()  # κσ(φ), (T, K1, D)
        ages = torch.arange(T, dtype=dtype, device=device).view(T, 1, 1)
        n_max = max((c.stop - c.start for c in plan.chunks), default=1)

    def run(part):
        total = torch.zeros((), dtype=torch.float64, device=device)
        n_high = torch.zeros((), dtype=torch.int64, device=device)
        grad_s = torch.zeros_like(s_T) if want else None
        if ages_layout:
            buffers = _ages.Buffers.reuse(T, n_max, D, K1, dtype, device)
            for c in part:
                value, nh = _ages.block_terms(
                    buffers, lam, factors, plan[c], eps, levels,
                    clamp=low or high, count_high=high, grad_s=grad_s,
                    grad_lam=grad_lam,
                )
                total += value
                if nh is not None:
                    n_high += nh
            if tail is not None:
                tail([plan[c] for c in part])
            return total, n_high, grad_s
        buffers = _kernel.Chunk.reuse(T, n_max, D, K1, dtype, device)
        for c in part:
            chunk = plan.chunks[c]
            value, g, nh = _kernel.chunk_terms(
                buffers, lam, chunk.rows, s_T, plan.E1, ages, chunk, eps, levels,
                clamp=low or high, count_high=high, grad_s=grad_s,
            )
            total += value
            if nh is not None:
                n_high += nh
            if want and isinstance(chunk.rows, slice):
                grad_lam[chunk.rows] = g
            elif want:
                grad_lam.index_copy_(0, chunk.rows, g)
        return total, n_high, grad_s

    if ages_layout:  # threads take tasks as they finish (their costs vary)
        results = _kernel.run_tasks(run, _kernel.guided(plan, device, extra=extra))
    else:
        results = _kernel.run_parts(run, _kernel.split(plan.chunks, device, extra=extra))
    total = results[0][0]
    for r in results[1:]:
        total = total + r[0]
    n_high = int(sum(r[1] for r in results)) if high else 0
    if n_high:
        warnings.warn(
            f"kappa * sum(theta * sigmoid(phi)) reached the clamp 1 - {eps:g} in "
            f"{n_high} cells; there the clamp binds (the gradient is taken at the "
            "clamped value)",
            RuntimeWarning,
            stacklevel=4,
        )
    grad_s = None
    if want:
        grad_s = results[0][2]
        for r in results[1:]:
            grad_s += r[2]
    return total, grad_s, s_T


class _SignatureNLL(torch.autograd.Function):
    """Fused, chunked NLL of π = κ Σ softmax(λ) σ(φ), analytic gradients (:mod:`._kernel`)."""

    @staticmethod
    def forward(ctx, lam, s, kappa, plan, eps):
        kappa_value = float(kappa.detach())
        want = any(ctx.needs_input_grad[:3])
        grad_lam = None
        if want:
            grad_lam = torch.empty_like(lam, memory_format=torch.contiguous_format)
        total, grad_s, s_T = _fused_terms(
            lam.detach(), s.detach(), kappa_value, plan, eps, grad_lam
        )
        if want:
            # ∂/∂κ = Σ g Σ_k θ σ(φ) = Σ_kdt σ(φ_kdt) Σ_i θ_ikt g_idt: from the small
            # (T, K1, D) sum
            grad_kappa = (grad_s * s_T).sum() / kappa_value
            ctx.save_for_backward(
                grad_lam,
                (grad_s * kappa_value).permute(1, 2, 0),
                grad_kappa.to(kappa.dtype),
            )
        return total.to(lam.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        grad_lam, grad_s, grad_kappa = ctx.saved_tensors
        go = grad_output.to(grad_lam.dtype)
        # ∂/∂λ is scaled in place (no second (N, K1, T) array); a second backward
        # through the same graph then fails on the saved tensor's version check
        return (
            grad_lam.mul_(go) if float(go) != 1.0 else grad_lam,
            grad_s * go,
            (grad_kappa * go).reshape(()),
            None,
            None,
        )
