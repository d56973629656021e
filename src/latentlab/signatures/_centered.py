"""Fused terms of the centered MAP objective (private; see :mod:`.objective`).

* :func:`prior_pass`: Q_λ = ½ Σ_ik δ_ikᵀ P δ_ik with
  δ = λ − (r_k + G_i γ_k) (healthy: λ − h), and its gradients, in float64 row
  blocks.
* :class:`CenteredObjective`: NLL/N + (W/N) Q_λ in one pass: the fused
  likelihood kernel writes ∂NLL/∂λ into one array and the λ prior adds its
  gradient to it block by block, so λ gets a single gradient array per epoch
  (no second array, no scaling or summing passes over (N, K+1, T) arrays), and
  that array is reused from epoch to epoch once the optimiser has let go of it
  (:func:`._kernel.recycled_empty`).
"""

from __future__ import annotations

import torch

from latentlab.signatures import _ages, _kernel, _native, _native_prior
from latentlab.signatures._fused import _fused_terms

#: Trajectories (rows of λ's (N·(K+1), T) view) per block of the fused λ prior
#: (4096 × 52 float64: 1.7 MB per work buffer; 8192 rows ran the product about
#: 2x slower).
PRIOR_ROWS = 4096
#: The same on a GPU, where each block costs a handful of kernel launches: blocks
#: of 4096 rows made the 400,000-person fit 2.3x slower on an H200 (0.59 against
#: 0.26 s per epoch); 2**20 rows (436 MB per float64 work buffer) keep the
#: launches few and the memory bounded.
GPU_PRIOR_ROWS = 1 << 20
#: Bytes of δ per group of people in the C pass (its four work arrays of that
#: size then stay in a 512 KB L2 cache together).
NATIVE_PRIOR_BYTES = 64 * 1024


def _work_buffers(rows: int, shape: tuple, dtype, device):
    """δ and P δ (float64) and P δ cast to ``dtype``, each (rows, *shape): this
    thread's, kept on a CPU (fresh ones page-fault each epoch)."""

    def make():
        return tuple(
            torch.empty((rows,) + shape, dtype=d, device=device)
            for d in (torch.float64, torch.float64, dtype)
        )

    if torch.device(device).type != "cpu":  # the CUDA caching allocator reuses memory
        return make()
    return _kernel.thread_cached("prior", (rows, shape, dtype, str(device)), make)


def _prior_library(lam, grad, reference, offsets, precision):
    """The compiled library where the λ prior can run in C
    (:func:`._native_prior.prior_rows`: contiguous float32 λ and gradient and
    float64 constants on a CPU), else None."""
    if not (_ages.NATIVE and lam.device.type == "cpu" and lam.dtype == torch.float32
            and lam.is_contiguous()):
        return None
    for constant in (reference, offsets, precision):
        if not (constant.dtype == torch.float64 and constant.is_contiguous()
                and constant.device.type == "cpu"):
            return None
    if grad is not None and not (grad.dtype == torch.float32 and grad.is_contiguous()):
        return None
    lib = _native.library()
    return lib if lib is not None and lib.dgemm is not None else None


def prior_pass(lam, gamma, G, reference, healthy_mean: float, precision, grad,
               alpha: float = 1.0, beta: float | None = None, want_gamma: bool = True):
    """Q_λ (float64 0-d) and ∂Q/∂γ (or None), in row blocks of detached λ.

    Per block of people a float64 copy of λ is turned into δ in place, one
    matrix product gives P δ and one dot product adds to Q. Where ``grad`` (an
    array like λ) is given, its rows become α P δ (``beta`` None) or
    β grad + α P δ; ∂Q/∂γ = −Gᵀ Σ_t (P δ)[:, :K] is formed in the same pass.
    On a CPU with several torch threads the blocks are split into one
    contiguous part per thread (as the likelihood's), summed in order.
    """
    K, T = reference.shape
    N = lam.shape[0]
    offsets = G @ gamma.to(torch.float64)  # (N, K)
    row_sums = None
    if want_gamma:
        row_sums = torch.empty((N, K), dtype=torch.float64, device=lam.device)
    rows = PRIOR_ROWS if lam.device.type == "cpu" else GPU_PRIOR_ROWS
    step = max(1, rows // lam.shape[1])
    starts = list(range(0, N, step))
    dtype = lam.dtype if grad is None else grad.dtype

    lib = _prior_library(lam, grad, reference, offsets, precision)
    group = max(1, min(N, NATIVE_PRIOR_BYTES // (8 * lam.shape[1] * T)))
    precision_halves = _native_prior.halves(precision) if lib is not None else None

    def run(part):
        if lib is not None:  # the whole part in C, ``group`` people at a time
            a, b = starts[part[0]], min(starts[part[-1]] + step, N)
            size = 4 * group * lam.shape[1] * T
            work = _kernel.thread_cached("native prior", (size,), lambda: torch.empty(
                (size,), dtype=torch.float64, device="cpu"))
            return _native_prior.prior_rows(
                lib, lam[a:b], reference, offsets[a:b], float(healthy_mean),
                precision_halves, work, None if row_sums is None else row_sums[a:b],
                None if grad is None else grad[a:b], alpha, beta, group,
            )
        value = torch.zeros((), dtype=torch.float64, device=lam.device)
        work = _work_buffers(min(step, N), tuple(lam.shape[1:]), dtype, lam.device)
        for a in (starts[j] for j in part):  # row blocks: the work stays in cache
            b = min(a + step, N)
            delta, solved, cast = (x[: b - a] for x in work)
            delta.copy_(lam[a:b])  # contiguous float64 copy, whatever λ's layout
            disease = delta[:, :K]
            disease.sub_(reference.unsqueeze(0))
            disease.sub_(offsets[a:b].unsqueeze(2))
            delta[:, K:].sub_(healthy_mean)
            torch.mm(delta.view(-1, T), precision, out=solved.view(-1, T))  # P δ
            value += torch.dot(delta.view(-1), solved.view(-1))
            if want_gamma:
                torch.sum(solved[:, :K], dim=2, out=row_sums[a:b])
            if grad is not None and beta is None:
                grad[a:b] = solved if alpha == 1.0 else solved.mul_(alpha)
            elif grad is not None:
                part_ = solved
                if grad.dtype != solved.dtype:  # a mixed-dtype add_ is much slower
                    part_ = cast.copy_(solved)
                grad[a:b].mul_(beta).add_(part_, alpha=alpha)
        return value

    workers = 1
    if lam.device.type == "cpu":
        workers = max(1, min(torch.get_num_threads(), len(starts)))
    bounds = [len(starts) * w // workers for w in range(workers + 1)]
    parts = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    values = _kernel.run_parts(run, parts) if parts else []
    value = torch.zeros((), dtype=torch.float64, device=lam.device)
    for v in values:
        value = value + v  # a float from the C pass, a 0-d tensor from torch's
    grad_gamma = -(G.T @ row_sums) if want_gamma else None
    return 0.5 * value, grad_gamma


#: The C λ prior's cost per person in ages of the kernel's per-age loop (0.089
#: thread-seconds for 10,000 people against 0.62 for 501,000 person-ages in the
#: benchmark): how the kernel's blocks are split when the prior runs in its workers.
PRIOR_EXTRA_AGES = 7


def objective_terms(lam, s, kappa_value: float, plan, eps: float, grad_lam, gamma, G,
                    reference, healthy_mean: float, precision, alpha: float,
                    beta: float, want_gamma: bool):
    """NLL, ∂/∂(κσ(φ)), κσ(φ) (as :func:`._fused._fused_terms`), Q_λ and ∂Q/∂γ (as
    :func:`prior_pass` with ``grad_lam`` becoming β ∂NLL/∂λ + α ∂Q/∂λ).

    Where the prior runs in C on a CPU's age-major blocks, each worker runs it
    for the people of its blocks right after them (one join instead of two, and
    the work of both split together); otherwise the two passes run in turn.
    """
    N = lam.shape[0]
    offsets = G @ gamma.to(torch.float64)
    lib = None
    if isinstance(plan, list):  # the CPU's age-major blocks (._ages)
        lib = _prior_library(lam, grad_lam, reference, offsets, precision)
    if lib is None:
        nll, grad_s, s_T = _fused_terms(lam, s, kappa_value, plan, eps, grad_lam)
        q, grad_gamma = prior_pass(lam, gamma, G, reference, healthy_mean, precision,
                                   grad_lam, alpha=alpha, beta=beta, want_gamma=want_gamma)
        return nll, grad_s, s_T, q, grad_gamma
    K, T = reference.shape
    row_sums = None
    if want_gamma:
        row_sums = torch.empty((N, K), dtype=torch.float64, device=lam.device)
    group = max(1, min(N, NATIVE_PRIOR_BYTES // (8 * lam.shape[1] * T)))
    halves, values = _native_prior.halves(precision), {}

    def tail(blocks):
        people = torch.cat([
            torch.arange(b.start, b.stop, device=lam.device) if isinstance(b.rows, slice)
            else b.rows for b in blocks
        ])
        size = 4 * group * lam.shape[1] * T
        work = _kernel.thread_cached("native prior", (size,), lambda: torch.empty(
            (size,), dtype=torch.float64, device="cpu"))
        values[blocks[0].start] = _native_prior.prior_rows(
            lib, lam, reference, offsets, float(healthy_mean), halves, work, row_sums,
            grad_lam, alpha, beta, group, people=people,
        )

    nll, grad_s, s_T = _fused_terms(lam, s, kappa_value, plan, eps, grad_lam, tail=tail,
                                    extra=PRIOR_EXTRA_AGES)
    q = 0.5 * torch.tensor(sum(values[k] for k in sorted(values)), dtype=torch.float64,
                           device=lam.device)
    grad_gamma = -(G.T @ row_sums) if want_gamma else None
    return nll, grad_s, s_T, q, grad_gamma


class CenteredObjective(torch.autograd.Function):
    """``nll_scale`` NLL + ``prior_scale`` Q_λ, fused; also returns NLL and Q_λ
    (float64, not differentiable).

    Inputs: λ, s = σ(φ), κ, γ (differentiable); G, r, h, P, the likelihood plan,
    eps and the two scales (fixed).
    """

    @staticmethod
    def forward(ctx, lam, s, kappa, gamma, G, reference, healthy_mean, precision,
                plan, eps, nll_scale, prior_scale):
        want = any(ctx.needs_input_grad[:3])
        want_gamma = ctx.needs_input_grad[3]
        kappa_value = float(kappa.detach())
        grad_lam = (
            _kernel.recycled_empty(tuple(lam.shape), lam, "objective") if want else None
        )
        nll, grad_s, s_T, q, grad_gamma = objective_terms(
            lam.detach(), s.detach(), kappa_value, plan, eps, grad_lam, gamma.detach(),
            G, reference, healthy_mean, precision, prior_scale, nll_scale, want_gamma,
        )
        grads = [grad_lam, None, None, None]
        if want:
            # ∂/∂κ = Σ g Σ_k θ σ(φ): from the small (T, K1, D) sum
            grads[1] = (grad_s * (kappa_value * nll_scale)).permute(1, 2, 0)
            grad_kappa = (grad_s * s_T).sum() * (nll_scale / kappa_value)
            grads[2] = grad_kappa.to(kappa.dtype)
        if want_gamma:
            grads[3] = (grad_gamma * prior_scale).to(gamma.dtype)
        ctx.grads = grads
        value = nll_scale * nll + prior_scale * q
        nll, q = nll.detach().clone(), q.detach().clone()
        ctx.mark_non_differentiable(nll, q)
        return value, nll, q

    @staticmethod
    def backward(ctx, grad_value, _grad_nll, _grad_q):
        grad_lam, grad_s, grad_kappa, grad_gamma = ctx.grads
        ctx.grads = None  # ∂/∂λ is scaled in place: a second backward fails here
        go = float(grad_value)
        if grad_lam is not None and go != 1.0:
            grad_lam.mul_(go)
        return (
            grad_lam,
            None if grad_s is None else grad_s * go,
            None if grad_kappa is None else (grad_kappa * go).reshape(()),
            None if grad_gamma is None else grad_gamma * go,
        ) + (None,) * 8
