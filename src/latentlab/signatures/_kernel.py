"""The chunk kernel behind :func:`~latentlab.signatures.signature_nll` (private).

One chunk of n individuals is held as three reusable (T, n, D) buffers on the
device of the inputs. Per chunk, with π from one batched matrix product over
ages (``bmm``), the kernel makes these passes over the buffers:

1. the at-risk indicator [t ≤ E] = clamp(E + 1 − t, 0, 1) (two cheap passes);
2. w = 1 − π [t ≤ E] in one ``addcmul`` (1 where the pair is no longer at
   risk) and, when it can bind, the clamp of w to [eps, 1 − eps];
3. the gradient g = [t ≤ E] / w in one division (−1/π written at the events);
4. Σ log w with one logarithm per *four* ages: the w of ages (2j, 2j + 1) are
   multiplied, then those of the pairs, and only the products go through
   ``log``. Each factor lies in [eps, 1], so a product of four stays above
   eps⁴ = 1e−24, far from float32 underflow; the products add one rounding
   each, the same order as the rounding of 1 − π itself.

When the clamp is applied the cells no longer at risk hold fl(1 − eps), not 1;
their known total, (number of such cells) × log fl(1 − eps), is taken off.

On a CPU with several torch threads the chunks are split into as many
contiguous parts, each run by its own Python thread with one torch thread
(torch releases the GIL inside its kernels): this avoids a thread barrier per
operation and keeps each part's buffers in its core's cache. The parts are
fixed and summed in order, so results do not depend on thread scheduling.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, NamedTuple

import torch

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()  # per-thread CPU work buffers


class Chunk:
    """Reusable (T, n, D) work buffers on one device."""

    def __init__(
        self, T: int, n: int, D: int, dtype: torch.dtype, device: torch.device
    ):
        self.shape = (T, n, D)
        self.hazard = torch.empty((T * n * D,), dtype=dtype, device=device)
        self.work = torch.empty((T * n * D,), dtype=dtype, device=device)
        self.keep = torch.empty((T * n * D,), dtype=dtype, device=device)
        self.ages = torch.arange(T, dtype=dtype, device=device).view(T, 1, 1)
        self.one = torch.ones((), dtype=dtype, device=device)

    @classmethod
    def reuse(
        cls, T: int, n: int, D: int, dtype: torch.dtype, device: torch.device
    ) -> "Chunk":
        """This thread's cached CPU buffers (no page faults each epoch); new on a GPU.

        The CUDA caching allocator already reuses GPU memory; keeping GPU buffers
        here would hold them after the fit.
        """
        if device.type != "cpu":
            return cls(T, n, D, dtype, device)
        key = (T, n, D, dtype)
        cached = getattr(_LOCAL, "chunk", None)
        if cached is None or cached[0] != key:
            _LOCAL.chunk = (key, cls(T, n, D, dtype, device))
        return _LOCAL.chunk[1]

    def view(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The three buffers as contiguous (T, n, D) tensors (n ≤ the chunk size)."""
        T, _, D = self.shape
        size = T * n * D
        return tuple(
            b[:size].view(T, n, D) for b in (self.hazard, self.work, self.keep)
        )


class ChunkEvents(NamedTuple):
    """The events of one chunk: local person i, disease d, and flat (t, i, d) index."""

    i: torch.Tensor
    d: torch.Tensor
    flat: torch.Tensor


def event_slices(
    event: torch.Tensor, E: torch.Tensor, chunk_size: int
) -> list[ChunkEvents]:
    """Per chunk, its events, from one ``nonzero`` call (all on the inputs' device)."""
    N, D = event.shape
    i_all, d_all = torch.nonzero(event, as_tuple=True)
    t_all = E[i_all, d_all]
    starts = torch.arange(0, N + chunk_size, chunk_size, device=event.device)
    bounds = torch.searchsorted(i_all, starts).tolist()
    slices = []
    for start, a, b in zip(starts.tolist(), bounds[:-1], bounds[1:]):
        n = min(chunk_size, N - start)
        i, d, t = i_all[a:b] - start, d_all[a:b], t_all[a:b]
        slices.append(ChunkEvents(i, d, (t * n + i) * D + d))
    return slices


def clamp_may_bind(s: torch.Tensor, kappa: float, eps: float) -> tuple[bool, bool]:
    """(lower, upper): can the clamp bind? κ min σ(φ) ≤ π ≤ κ max σ(φ) decides."""
    return kappa * float(s.min()) <= eps, kappa * float(s.max()) >= 1 - eps


def _log_one_minus(eps: float, dtype: torch.dtype) -> float:
    """log of 1 − eps as rounded to ``dtype``: the value a clamped cell holds."""
    return math.log(float(torch.full((), 1 - eps, dtype=dtype, device="cpu")))


def _log_sum(x: torch.Tensor, scratch: torch.Tensor) -> torch.Tensor:
    """Σ log x over a (T, n, D) buffer, one log per four ages; overwrites both."""
    rows = x.view(x.shape[0], -1)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    for target in (scratch, x):
        m = rows.shape[0]
        if m < 2:
            break
        if m % 2:
            total += torch.log(rows[m - 1]).sum().double()
            m -= 1
        half = target.view(-1)[: (m // 2) * rows.shape[1]].view(m // 2, -1)
        pairs = rows[:m].view(m // 2, 2, -1)
        torch.mul(pairs[:, 0], pairs[:, 1], out=half)
        rows = half
    torch.log(rows, out=rows)
    return total + rows.sum().double()


def chunk_terms(
    buffers: Chunk,
    theta_T,
    s_T,
    E1,
    events: ChunkEvents,
    eps: float,
    want_grad: bool,
    clamp: bool,
    count_high: bool,
):
    """NLL of one chunk (0-d float64 tensor), the gradient buffer g = ∂(−ℓ)/∂π or None,
    and the number of cells at the upper clamp (0-d tensor) or None.

    theta_T: (T, n, K1) contiguous; s_T: (T, K1, D), already times κ; E1: (n, D)
    holding E + 1 in the float dtype.
    """
    n = theta_T.shape[1]
    p, work, keep = buffers.view(n)
    torch.bmm(theta_T, s_T, out=p)  # π = κ Σ_k θ σ(φ), batched over ages
    p_ev = p.view(-1)[events.flat]
    if clamp:
        p_ev = p_ev.clamp(eps, 1 - eps)
    torch.sub(E1.unsqueeze(0), buffers.ages, out=keep)
    keep.clamp_(0.0, 1.0)  # [t ≤ E] as 0/1
    torch.addcmul(buffers.one, p, keep, value=-1.0, out=work)  # 1 − π at risk, else 1
    n_high = None
    total = torch.zeros((), dtype=torch.float64, device=p.device)
    if clamp:
        work.clamp_(eps, 1 - eps)
        if count_high:
            n_high = torch.count_nonzero(work <= eps)
        masked = work.numel() - E1.sum(dtype=torch.float64)
        total += masked * _log_one_minus(eps, p.dtype)
    total -= (torch.log(p_ev) - torch.log1p(-p_ev)).sum().double()
    g = None
    if want_grad:
        torch.div(keep, work, out=p)  # [t ≤ E] / (1 − π); π is no longer needed
        p.view(-1)[events.flat] = -1.0 / p_ev
        g = p
    total -= _log_sum(work, keep)
    return total, g, n_high


def chunk_pairs(
    buffers: Chunk, theta_T, s_T, E1, events: ChunkEvents, eps: float, clamp: bool
):
    """Per-pair NLL (n, D) in float64 of one chunk, without gradient."""
    n = theta_T.shape[1]
    p, work, keep = buffers.view(n)
    torch.bmm(theta_T, s_T, out=p)
    if clamp:
        p.clamp_(eps, 1 - eps)
    p_ev = p.view(-1)[events.flat]
    torch.sub(E1.unsqueeze(0), buffers.ages, out=keep)
    keep.clamp_(0.0, 1.0)
    torch.neg(p, out=work)
    torch.log1p(work, out=work)
    pairs = -(work * keep).sum(0).to(torch.float64)
    pairs[events.i, events.d] -= (torch.log(p_ev) - torch.log1p(-p_ev)).to(
        torch.float64
    )
    return pairs


def _pool(n_workers: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < n_workers:
            _POOL = ThreadPoolExecutor(
                max_workers=n_workers, thread_name_prefix="latentlab-nll"
            )
        return _POOL


def split(n_chunks: int, device: torch.device) -> list[range]:
    """Contiguous parts of the chunks: one per torch thread on a CPU, one on a GPU."""
    workers = (
        1 if device.type != "cpu" else max(1, min(torch.get_num_threads(), n_chunks))
    )
    bounds = [round(w * n_chunks / workers) for w in range(workers + 1)]
    return [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def run_parts(fn: Callable[[range], object], parts: list[range]) -> list:
    """fn over the parts: inline for one, else a Python thread (1 torch thread) each."""
    if len(parts) == 1:
        return [fn(parts[0])]
    threads = torch.get_num_threads()

    def single(part):
        torch.set_num_threads(1)  # this worker's OpenMP/MKL setting only
        with torch.no_grad():  # grad mode is per thread; the kernel never needs it
            return fn(part)

    try:
        return list(_pool(len(parts)).map(single, parts))
    finally:
        torch.set_num_threads(threads)
