"""The chunk kernel behind :func:`~latentlab.signatures.signature_nll` (private).

Layout. People are sorted by their last at-risk age (max_d E_id, descending) and
cut into chunks of n; θ is held age-major, (T, N, K+1), so a chunk is a slice
and π of a chunk is one batched product over ages (``bmm``) into a reusable
(T_c, n, D) buffer, where T_c − 1 is the chunk's largest E: ages after every
pair of the chunk left the risk set are never computed. The gradient back to
θ and to σ(φ) is two more batched products per chunk.

Elementwise passes per chunk, on two (T_c, n, D) buffers, in place:

1. the at-risk indicator M = [t ≤ E] as 0/1 floats (one comparison);
2. w = 1 − π M (one ``addcmul``; 1 where the pair is no longer at risk) and,
   only when it can bind, the clamp of w to [eps, 1 − eps];
3. the gradient g = M / w (one division; −1/π written at the events);
4. Σ log w as the log of products: the two halves of the age axis are
   multiplied in place, ``levels`` times, and only the remaining rows go
   through ``log``. With w ≥ w_min, a product of 2^levels factors stays above
   ``SAFE_PRODUCT`` (far from underflow); ``levels`` is chosen from the bound
   w_min = 1 − κ max σ(φ) (π ≤ κ max σ(φ) since θ sums to one), or eps where
   the upper clamp can bind. Each product adds one rounding, the order of the
   rounding of 1 − π itself.

When the clamp is applied the cells no longer at risk hold fl(1 − eps), not 1;
their known total, (number of such cells) × log fl(1 − eps), is taken off.

Threads, per-thread buffers and recycled gradient arrays: :mod:`._workers`.
"""

from __future__ import annotations

import math
import weakref
from typing import NamedTuple

import torch

from latentlab.signatures._workers import (  # noqa: F401  (re-exported)
    guided,
    recycled_empty,
    run_parts,
    run_tasks,
    split,
    thread_cached,
)

_PLAN_CACHE: dict = {}  # the last few plans, keyed by their E and event tensors
PLAN_CACHE_SIZE = 4

#: Smallest value a product of w factors may reach, as a multiple of the dtype's
#: smallest normal number (float32: 1.2e−30).
SAFE_PRODUCT = 1e8
#: Largest share of a chunk's cells after E for which they are listed (sparse plan).
SPARSE_SHARE = 0.25
#: How a CPU runs the kernel: "ages" (:mod:`._ages`, age-major blocks) or "chunks"
#: (this module's batched chunks, as on a GPU); tests switch it to cover both.
CPU_LAYOUT = "ages"
#: People per block of the age-major CPU kernel (its three (n, D) work buffers
#: take 2 MB at D = 348 in float32).
CPU_BLOCK = 512


class Chunk:
    """Reusable work buffers of one chunk on one device: π and M (T, n, D), θ and
    ∂/∂θ (T, n, K1), ∂/∂λ (n, K1, T)."""

    def __init__(self, T: int, n: int, D: int, K1: int, dtype, device):
        self.shape = (T, n, D, K1)
        self.hazard = torch.empty((T * n * D,), dtype=dtype, device=device)
        self.keep = torch.empty((T * n * D,), dtype=dtype, device=device)
        self.theta = torch.empty((T * n * K1,), dtype=dtype, device=device)
        self.grad = torch.empty((T * n * K1,), dtype=dtype, device=device)
        self.grad_lam = torch.empty((n * K1 * T,), dtype=dtype, device=device)
        self.one = torch.ones((), dtype=dtype, device=device)

    @classmethod
    def reuse(cls, T: int, n: int, D: int, K1: int, dtype, device) -> "Chunk":
        """This thread's cached CPU buffers (no page faults each epoch); new on a GPU.

        The CUDA caching allocator already reuses GPU memory; keeping GPU buffers
        here would hold them after the fit.
        """
        if device.type != "cpu":
            return cls(T, n, D, K1, dtype, device)
        return thread_cached(
            "chunk", (T, n, D, K1, dtype), lambda: cls(T, n, D, K1, dtype, device)
        )

    def view(self, T: int, n: int):
        """π and M as contiguous (T, n, D) tensors, θ (T, n, K1), ∂/∂θ (T, K1, n)."""
        D, K1 = self.shape[2], self.shape[3]
        size, small = T * n * D, T * n * K1
        return (
            self.hazard[:size].view(T, n, D),
            self.keep[:size].view(T, n, D),
            self.theta[:small].view(T, n, K1),
            self.grad[:small].view(T, K1, n),
        )


class ChunkPlan(NamedTuple):
    """One chunk: positions [start, stop) of the plan's order, its people ``rows``
    (a slice where the order is the identity, else an index tensor), ages
    [0, T_c), its events (local person i, disease d, flat (t, i, d) index into
    the (T_c, n, D) buffer) and ``out``: the flat indices of the cells after E
    (no longer at risk), or None where the chunk uses the at-risk indicator."""

    start: int
    stop: int
    rows: object
    T_c: int
    i: torch.Tensor
    d: torch.Tensor
    flat: torch.Tensor
    out: torch.Tensor | None = None


class Plan(NamedTuple):
    """What depends on E, event and the chunk size only (cached between calls)."""

    order: torch.Tensor  # sorted position -> person
    E1: torch.Tensor  # (N, D) E + 1 in sorted order, float dtype
    chunks: list[ChunkPlan]
    at_risk: torch.Tensor  # 0-d float64: number of (i, d, t) cells at risk


def plan(
    E: torch.Tensor,
    event: torch.Tensor,
    chunk_size: int,
    dtype,
    sparse: bool | None = None,
) -> Plan:
    """Sort people by last at-risk age, cut chunks, find each chunk's events.

    ``sparse`` (default: on a CPU): list each chunk's cells after E (no longer
    at risk) when they are at most ``SPARSE_SHARE`` of its cells; the kernel then
    fixes those few cells instead of building the at-risk indicator.
    The last few plans are cached while their E and event tensors are alive and
    unchanged (a fit calls the likelihood with the same tensors every epoch).
    """
    if sparse is None:
        sparse = E.device.type == "cpu"
    key = (id(E), id(event), E._version, event._version, chunk_size, dtype, sparse)
    return cached_plan(
        key, E, event, lambda: _build(E, event, chunk_size, dtype, sparse)
    )


def cached_plan(key: tuple, E: torch.Tensor, event: torch.Tensor, build):
    """The plan cached under ``key`` while E and event are alive, else ``build()``.

    Entries whose E or event has been freed are dropped first, so a finished fit
    leaves no plan behind once its tensors are gone.
    """
    for old in [k for k, v in _PLAN_CACHE.items() if v[0]() is None or v[1]() is None]:
        del _PLAN_CACHE[old]
    cached = _PLAN_CACHE.get(key)
    if cached is not None and cached[0]() is E and cached[1]() is event:
        return cached[2]
    result = build()
    while len(_PLAN_CACHE) >= PLAN_CACHE_SIZE:
        _PLAN_CACHE.pop(next(iter(_PLAN_CACHE)))  # the oldest
    _PLAN_CACHE[key] = (weakref.ref(E), weakref.ref(event), result)
    return result


def _build(E: torch.Tensor, event: torch.Tensor, chunk_size: int, dtype, sparse):
    N, D = E.shape
    last = E.max(dim=1).values if D else torch.zeros_like(E[:, 0])
    order = torch.argsort(last, descending=True, stable=True)
    E_sorted = E[order]
    event_sorted = event[order]
    i_all, d_all = torch.nonzero(event_sorted, as_tuple=True)
    t_all = E_sorted[i_all, d_all]
    starts = torch.arange(0, N + chunk_size, chunk_size, device=E.device)
    bounds = torch.searchsorted(i_all, starts).tolist()
    heads = last[order][starts[:-1].clamp(max=max(N - 1, 0))].tolist() if N else []
    chunks = []
    for c, (start, a, b) in enumerate(zip(starts.tolist(), bounds[:-1], bounds[1:])):
        if start >= N:
            break
        n = min(chunk_size, N - start)
        T_c = int(heads[c]) + 1  # sorted descending: the chunk's first person
        i, d, t = i_all[a:b] - start, d_all[a:b], t_all[a:b]
        flat = (t * n + i) * D + d
        out = None
        if sparse:
            E_chunk = E_sorted[start : start + n]
            n_after = T_c * n * D - int(E_chunk.sum()) - n * D  # Σ (T_c − 1 − E)
            if n_after <= SPARSE_SHARE * T_c * n * D:
                after = torch.arange(T_c, device=E.device).view(T_c, 1, 1) > E_chunk
                out = torch.nonzero(after.view(-1)).squeeze(1)
        chunks.append(
            ChunkPlan(start, start + n, slice(start, start + n), T_c, i, d, flat, out)
        )
    identity = bool(torch.equal(order, torch.arange(N, device=E.device)))
    if not identity:
        chunks = [c._replace(rows=order[c.start : c.stop]) for c in chunks]
    E1 = (E_sorted + 1).to(dtype)
    return Plan(order, E1, chunks, E1.sum(dtype=torch.float64))


def clamp_may_bind(s: torch.Tensor, kappa: float, eps: float) -> tuple[bool, bool]:
    """(lower, upper): can the clamp bind? κ min σ(φ) ≤ π ≤ κ max σ(φ) decides."""
    return kappa * float(s.min()) <= eps, kappa * float(s.max()) >= 1 - eps


def product_levels(w_min: float, dtype: torch.dtype) -> int:
    """Halvings of the age axis before the log: 2^levels factors ≥ w_min stay safe."""
    floor = SAFE_PRODUCT * torch.finfo(dtype).tiny
    if w_min >= 1.0:
        return 16
    return max(0, min(16, int(math.log2(math.log(floor) / math.log(w_min)))))


def _log_one_minus(eps: float, dtype: torch.dtype) -> float:
    """log of 1 − eps as rounded to ``dtype``: the value a clamped cell holds."""
    return math.log(float(torch.full((), 1 - eps, dtype=dtype, device="cpu")))


def _log_sum(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Σ log x over a (T_c, n, D) buffer (float64 0-d); overwrites x.

    The two halves of the age axis are multiplied in place ``levels`` times (an
    odd last row is logged on its own), then the rows left are logged.
    """
    rows = x.view(x.shape[0], -1)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    m = rows.shape[0]
    for _ in range(levels):
        if m < 2:
            break
        if m % 2:
            total += torch.log(rows[m - 1]).sum(dtype=torch.float64)
            m -= 1
        half = m // 2
        rows[:half].mul_(rows[half:m])
        m = half
    head = rows[:m]
    torch.log(head, out=head)
    return total + head.sum(dtype=torch.float64)


def chunk_theta(buffers: Chunk, lam: torch.Tensor, rows, T_c: int) -> torch.Tensor:
    """θ = softmax(λ) of the chunk's people (a slice or an index tensor), ages
    [0, T_c), as a (T_c, n, K1) view of the θ buffer."""
    people = lam[rows] if isinstance(rows, slice) else lam.index_select(0, rows)
    theta = buffers.view(T_c, people.shape[0])[2]
    theta.copy_(people[:, :, :T_c].permute(2, 0, 1))
    theta.copy_(torch.softmax(theta, dim=-1))
    return theta


def chunk_terms(
    buffers: Chunk,
    lam: torch.Tensor,
    rows,
    s_T: torch.Tensor,
    E1: torch.Tensor,
    ages: torch.Tensor,
    chunk: ChunkPlan,
    eps: float,
    levels: int,
    clamp: bool,
    count_high: bool,
    grad_s: torch.Tensor | None,
):
    """NLL of one chunk (0-d float64), ∂(−ℓ)/∂λ of the chunk's people ((n, K1, T)
    buffer view) or None, and the number of cells at the upper clamp or None.

    lam: (N, K1, T) λ; rows: the chunk's people (indices into lam); s_T: (T, K1,
    D) κσ(φ); E1: (N, D) E + 1 as floats in the
    plan's order; ages: (T, 1, 1) 0, 1, …; ``grad_s`` (T, K1, D) accumulates
    ∂(−ℓ)/∂(κσ(φ)) when given.
    """
    a, b, T_c = chunk.start, chunk.stop, chunk.T_c
    n = b - a
    p, keep, _, grad_theta = buffers.view(T_c, n)
    theta = chunk_theta(buffers, lam, rows, T_c)
    torch.bmm(theta, s_T[:T_c], out=p)  # π = κ Σ_k θ σ(φ), batched over ages
    p_ev = p.view(-1)[chunk.flat]
    if clamp:
        p_ev = p_ev.clamp(eps, 1 - eps)
    total = torch.zeros((), dtype=torch.float64, device=p.device)
    if chunk.out is None:
        torch.lt(ages[:T_c], E1[a:b].unsqueeze(0), out=keep)  # M = [t ≤ E] as 0/1
        torch.addcmul(buffers.one, p, keep, value=-1.0, out=p)  # w = 1 − π M
    else:
        torch.add(buffers.one, p, alpha=-1.0, out=p)  # w = 1 − π everywhere
    if clamp:
        p.clamp_(eps, 1 - eps)
        if chunk.out is None:  # cells after E hold fl(1 − eps), not 1
            masked = p.numel() - E1[a:b].sum(dtype=torch.float64)
            total += masked * _log_one_minus(eps, p.dtype)
    if chunk.out is not None:
        if grad_s is not None:
            torch.reciprocal(p, out=keep)  # g = 1 / (1 − π)
            keep.view(-1).index_fill_(0, chunk.out, 0.0)  # … and 0 after E
        p.view(-1).index_fill_(0, chunk.out, 1.0)  # w = 1 after E
    elif grad_s is not None:
        keep.div_(p)  # g = M / (1 − π); M is no longer needed
    n_high = torch.count_nonzero(p <= eps) if clamp and count_high else None
    total -= (torch.log(p_ev) - torch.log1p(-p_ev)).sum(dtype=torch.float64)
    grad_lam = None
    if grad_s is not None:
        keep.view(-1)[chunk.flat] = -1.0 / p_ev
        # ∂/∂θ (carries κ), computed as its (T_c, K1, n) transpose
        torch.bmm(s_T[:T_c], keep.transpose(1, 2), out=grad_theta)
        grad_s[:T_c].baddbmm_(theta.transpose(1, 2), keep)
        # softmax backward: θ (g_θ − Σ_k θ g_θ), then as (n, K1, T) with zeros
        # after T_c
        theta_t = theta.transpose(1, 2)
        dot = (theta_t * grad_theta).sum(dim=1, keepdim=True)
        grad_theta.sub_(dot).mul_(theta_t)
        K1, T = theta.shape[2], ages.shape[0]
        grad_lam = buffers.grad_lam[: n * K1 * T].view(n, K1, T)
        grad_lam[:, :, :T_c].copy_(grad_theta.permute(2, 1, 0))
        grad_lam[:, :, T_c:].zero_()
    total -= _log_sum(p, levels)
    return total, grad_lam, n_high


def chunk_pairs(
    buffers: Chunk,
    lam: torch.Tensor,
    rows,
    s_T: torch.Tensor,
    E1: torch.Tensor,
    ages: torch.Tensor,
    chunk: ChunkPlan,
    eps: float,
    clamp: bool,
) -> torch.Tensor:
    """Per-pair NLL (n, D) in float64 of one chunk (plan order), without gradient."""
    a, b, T_c = chunk.start, chunk.stop, chunk.T_c
    p, keep, _, _ = buffers.view(T_c, b - a)
    theta = chunk_theta(buffers, lam, rows, T_c)
    torch.bmm(theta, s_T[:T_c], out=p)
    if clamp:
        p.clamp_(eps, 1 - eps)
    p_ev = p.view(-1)[chunk.flat]
    torch.lt(ages[:T_c], E1[a:b].unsqueeze(0), out=keep)
    p.neg_()
    torch.log1p(p, out=p)
    pairs = -(p * keep).sum(0).to(torch.float64)
    pairs[chunk.i, chunk.d] -= (torch.log(p_ev) - torch.log1p(-p_ev)).to(torch.float64)
    return pairs
