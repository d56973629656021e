"""Age-major block kernel of :func:`~latentlab.signatures.signature_nll` on a CPU
(private).

Plan (:func:`plan`, cached like :func:`._kernel.plan`): people are sorted by
their last at-risk age and cut into blocks of n; per block, its events sorted
by age and its (person, disease) pairs that leave the risk set before the
block's last age, sorted by E, so that the cells after E at age t are a prefix
of that list (memory: one index per pair, not per cell); for the C loop, the
block's E as a (D, n) int16 array (it masks the cells after E as it passes).

Layout: the block's θ = softmax(λ) is held as (K1 + 1, T, n) (one blocked 2-D
transpose of its rows of λ), whose last signature row is 1, and κσ(φ) as
(T, D, K1 + 1) with −κσ(φ) and a last column of 1; at age t one (D × (K1 + 1))
· ((K1 + 1) × n) product then gives w = 1 − π directly, as a (D, n) matrix
(the 1 enters the sum last, so w carries the rounding of fl(1 − π)). The
gradient back to θ and to σ(φ) is two more products per age.

Per age, in place on (D, n) buffers: w (the product above), the clamp only
where a bound on π from θ and the range of σ(φ) says it can bind, g = 1 / w,
the cells after E fixed from the prefix (w = 1, g = 0) and the events written
(g = −1/π, with π at the events computed per block as Σ_k θ κσ(φ)). Σ log w
is the log of a running product: w is multiplied into a third buffer and its
log taken once every 2^levels ages (see :func:`._kernel.product_levels`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from latentlab.signatures import _kernel, _native

#: Run the per-age loop in C where :mod:`._native` compiled it (float32 on a CPU);
#: tests switch it off to compare with the torch operations.
NATIVE = True
#: Largest T of the C loop (it reads the blocks' E as int16).
EXIT_AGE_MAX = 32767


class Block(NamedTuple):
    """One block of the plan: positions [start, stop) of the sorted order, its
    people ``rows`` (a slice where the order is the identity, else an index
    tensor), ages [0, T_c) and, as flat indices, its events sorted by age (into
    the (D, n) buffers: d n + i; into θ's (K1 + 1, T n) view: t n + i; into
    κσ(φ)'s (K1, D T) view: d T + t) with the bounds of each age, and its pairs
    after E (d n + i, sorted by E) with the number of them after E at each age."""

    start: int
    stop: int
    rows: object
    T_c: int
    ev_cell: torch.Tensor
    ev_theta: torch.Tensor
    ev_s: torch.Tensor
    ev_bounds: list
    after: torch.Tensor
    after_counts: list
    ev_cells: list  # per age: ev_cell[a:b] (a view) or None
    after_cells: list  # per age: after[:count] (a view) or None
    ev_bounds_t: torch.Tensor  # ev_bounds as an int64 tensor (C loop)
    exit_age: torch.Tensor | None  # (D, n) int16 E of the block's pairs (C loop)


def plan(E: torch.Tensor, event: torch.Tensor, block: int, n_times: int) -> list:
    """Blocks of ``block`` people (cached while E and event are alive and unchanged)."""
    key = ("ages", id(E), id(event), E._version, event._version, block, n_times)
    return _kernel.cached_plan(key, E, event, lambda: _build(E, event, block, n_times))


def _build(E: torch.Tensor, event: torch.Tensor, block: int, T: int) -> list:
    N, D = E.shape
    last = E.max(dim=1).values if D else torch.zeros_like(E[:, 0])
    order = torch.argsort(last, descending=True, stable=True)
    identity = bool(torch.equal(order, torch.arange(N, device=E.device)))
    small = T <= EXIT_AGE_MAX  # E fits the C loop's int16 exit ages
    blocks = []
    for start in range(0, N, block):
        stop = min(start + block, N)
        n, people = stop - start, order[start:stop]
        E_b, event_b = E[people], event[people]
        T_c = int(E_b.max()) + 1 if D else 1
        i, d = torch.nonzero(event_b, as_tuple=True)
        t, by_age = torch.sort(E_b[i, d], stable=True)
        i, d = i[by_age], d[by_age]
        ages = torch.arange(T_c + 1, device=E.device)
        ev_bounds = torch.searchsorted(t, ages).tolist()
        i2, d2 = torch.nonzero(E_b < T_c - 1, as_tuple=True)
        left, by_exit = torch.sort(E_b[i2, d2], stable=True)
        after = (d2 * n + i2)[by_exit]
        after_counts = torch.searchsorted(left, ages[:T_c]).tolist()  # # E < t
        rows = slice(start, stop) if identity else people
        ev_cell = d * n + i
        ev_cells = [
            ev_cell[a:b] if b > a else None for a, b in zip(ev_bounds, ev_bounds[1:])
        ]
        after_cells = [after[:k] if k else None for k in after_counts]
        blocks.append(
            Block(start, stop, rows, T_c, ev_cell, t * n + i, d * T + t,
                  ev_bounds, after, after_counts, ev_cells, after_cells,
                  torch.tensor(ev_bounds, dtype=torch.int64, device=E.device),
                  E_b.t().to(torch.int16).contiguous() if small else None)
        )
    return blocks


class Buffers:
    """Work buffers of one block of n people: (D, n) ×2, θ (K1 + 1, T, n),
    ∂/∂θ (K1, T, n) and ∂/∂λ (n, K1 T)."""

    def __init__(self, T: int, n: int, D: int, K1: int, dtype, device):
        self.shape = (T, n, D, K1)

        def empty(size: int) -> torch.Tensor:
            return torch.empty((size,), dtype=dtype, device=device)

        self.hazard, self.product = empty(n * D), empty(n * D)
        self.theta = empty((K1 + 1) * T * n)
        self.grad_theta = empty(K1 * T * n)
        self.grad_lam = empty(n * K1 * T)
        # sources of the fills (scatter_ from a tensor is faster than index_fill_)
        self.ones = torch.ones((n * D,), dtype=dtype, device=device)
        self.zeros = torch.zeros((n * D,), dtype=dtype, device=device)
        self.scratch = empty(n)  # the C loop's softmax-backward sums

    @classmethod
    def reuse(cls, T: int, n: int, D: int, K1: int, dtype, device) -> "Buffers":
        """This thread's cached buffers (no page faults each epoch)."""
        return _kernel.thread_cached(
            "ages", (T, n, D, K1, dtype, device),
            lambda: cls(T, n, D, K1, dtype, device),
        )

    def view(self, n: int):
        """w (then g) and the product as (D, n); θ (K1 + 1, T, n); ∂/∂θ (K1, T, n)."""
        T, _, D, K1 = self.shape
        return (
            self.hazard[: D * n].view(D, n),
            self.product[: D * n].view(D, n),
            self.theta[: (K1 + 1) * T * n].view(K1 + 1, T, n),
            self.grad_theta[: K1 * T * n].view(K1, T, n),
        )


class Factors(NamedTuple):
    """κσ(φ) in the layouts the kernel uses, made once per call."""

    aug: torch.Tensor  # (T, D, K1 + 1): −κσ(φ) and a last column of 1
    by_age: torch.Tensor  # (T, K1, D): κσ(φ)
    flat: torch.Tensor  # (K1, D T): κσ(φ)
    low: torch.Tensor | None  # (K1, T, 1): min over d, where the lower clamp may bind
    high: torch.Tensor | None  # (K1, T, 1): max over d, where the upper clamp may bind


def factors(s_kappa: torch.Tensor, low: bool, high: bool) -> Factors:
    """The :class:`Factors` of κσ(φ), given as (K1, D, T)."""
    K1, D, T = s_kappa.shape
    aug = torch.empty((T, D, K1 + 1), dtype=s_kappa.dtype, device=s_kappa.device)
    torch.neg(s_kappa.permute(2, 1, 0), out=aug[:, :, :K1])
    aug[:, :, K1] = 1.0
    return Factors(
        aug,
        s_kappa.permute(2, 0, 1).contiguous(),
        s_kappa.reshape(K1, D * T),
        s_kappa.amin(dim=1).unsqueeze(2) if low else None,
        s_kappa.amax(dim=1).unsqueeze(2) if high else None,
    )


def _theta(theta_all: torch.Tensor, lam: torch.Tensor, rows) -> torch.Tensor:
    """softmax(λ) of the block's people into θ's (K1 + 1, T, n) buffer; returns the
    (K1, T, n) part (the last row is set to 1)."""
    K1, T, n = theta_all.shape[0] - 1, theta_all.shape[1], theta_all.shape[2]
    people = lam[rows] if isinstance(rows, slice) else lam.index_select(0, rows)
    theta = theta_all[:K1]
    theta.view(K1 * T, n).copy_(people.reshape(n, K1 * T).t())  # blocked transpose
    theta.sub_(theta.amax(dim=0))
    theta.exp_()
    theta.div_(theta.sum(dim=0))
    theta_all[K1].fill_(1.0)
    return theta


def _clamp_ages(theta, f: Factors, eps: float, T_c: int, low_min=None,
                high_max=None) -> list | None:
    """Per age: can the clamp bind for someone in the block? (None: nowhere).

    Σ_k θ_k min_d κσ(φ_k) ≤ π ≤ Σ_k θ_k max_d κσ(φ_k); a margin of eps keeps
    the rounding of the products on the safe side. ``low_min`` and ``high_max``:
    these bounds per age where the C softmax formed them."""
    flags = None
    if f.low is not None:
        if low_min is None:
            low_min = (theta[:, :T_c] * f.low[:, :T_c]).sum(dim=0).amin(dim=1)
        flags = low_min[:T_c] < 2 * eps
    if f.high is not None:
        if high_max is None:
            high_max = (theta[:, :T_c] * f.high[:, :T_c]).sum(dim=0).amax(dim=1)
        upper = high_max[:T_c] > 1 - 2 * eps
        flags = upper if flags is None else flags | upper
    return None if flags is None or not bool(flags.any()) else flags.tolist()


def block_terms(buffers: Buffers, lam: torch.Tensor, f: Factors, block: Block,
                eps: float, levels: int, clamp: bool, count_high: bool,
                grad_s: torch.Tensor | None, grad_lam: torch.Tensor | None):
    """NLL of one block (0-d float64) and the number of cells at the upper clamp
    (or None); writes ∂(−ℓ)/∂λ of its people into ``grad_lam`` (N, K1, T) and
    adds ∂(−ℓ)/∂(κσ(φ)) to ``grad_s`` (T, K1, D) when they are given.

    The per-age loop runs in C (:mod:`._native`) in float32 where it is
    available and :data:`NATIVE` is on, else as the torch operations of
    :func:`_torch_ages`; both compute the same float32 steps."""
    T_c, n = block.T_c, block.stop - block.start
    w, _, theta_all, grad_theta = buffers.view(n)
    K1, T = theta_all.shape[0] - 1, theta_all.shape[1]
    lib = None
    if NATIVE and w.dtype == torch.float32 and block.exit_age is not None:
        lib = _native.library()
    done = None
    if lib is not None:  # θ in C, with the bounds of the clamp check where wanted
        done = _native.block_theta(lib, lam, block, theta_all, *(
            (f.low, f.high) if clamp else (None, None)))
    theta, low_min, high_max = done or (_theta(theta_all, lam, block.rows), None, None)
    flags = _clamp_ages(theta, f, eps, T_c, low_min, high_max) if clamp else None
    steps = (buffers, theta_all if lib is not None else theta, f, block, flags, eps,
             levels, clamp, count_high, grad_s)
    total, n_high = (_native.block_ages(lib, *steps) if lib is not None
                     else _torch_ages(*steps))
    if grad_s is None or (
        lib is not None and _native.block_grad_lam(lib, grad_theta, block, grad_lam)
    ):
        return total, n_high
    if grad_s is not None:  # zeros after T_c; then to λ's (n, K1, T) layout
        grad_theta[:, T_c:].zero_()
        rows = block.rows
        if isinstance(rows, slice):
            grad_lam[rows].view(n, K1 * T).copy_(grad_theta.view(K1 * T, n).t())
        else:
            out = buffers.grad_lam[: n * K1 * T].view(n, K1 * T)
            out.copy_(grad_theta.view(K1 * T, n).t())
            grad_lam.index_copy_(0, rows, out.view(n, K1, T))
    return total, n_high


def _torch_ages(buffers, theta, f, block, flags, eps, levels, clamp, count_high, grad_s):
    """The per-age loop of :func:`block_terms` as torch operations (any dtype)."""
    T_c, n = block.T_c, block.stop - block.start
    w, product, theta_all, grad_theta = buffers.view(n)
    K1, T = theta_all.shape[0] - 1, theta_all.shape[1]
    # π at the events: Σ_k θ κσ(φ), gathered per block
    p_ev = (
        theta.view(K1, T * n).index_select(1, block.ev_theta)
        * f.flat.index_select(1, block.ev_s)
    ).sum(dim=0)
    if clamp:
        p_ev.clamp_(eps, 1 - eps)
    total = -(torch.log(p_ev) - torch.log1p(-p_ev)).sum(dtype=torch.float64)
    n_high = torch.zeros((), dtype=torch.int64, device=w.device) if count_high else None
    group = 2**levels
    want = grad_s is not None
    thetas, aug, w_flat = theta_all.unbind(1), f.aug.unbind(0), w.view(-1)
    if want:
        minus_inv = torch.reciprocal(p_ev).neg_()
        g_t = w.t()
        theta_ages, grad_ages = theta.unbind(1), grad_theta.unbind(1)
        s_ages, grad_s_ages = f.by_age.unbind(0), grad_s.unbind(0)
    bounds, ev_cells, after_cells = block.ev_bounds, block.ev_cells, block.after_cells
    ones, zeros = buffers.ones, buffers.zeros
    for t in range(T_c):
        torch.mm(aug[t], thetas[t], out=w)  # w = 1 − π at age t, (D, n)
        clamped = flags is not None and flags[t]
        if clamped:
            w.clamp_(eps, 1 - eps)
        cells = after_cells[t]
        if cells is not None:
            w_flat.scatter_(0, cells, ones)  # w = 1 after E (src may be longer)
        if count_high and clamped:
            n_high += torch.count_nonzero(w <= eps)
        if t % group:
            product.mul_(w)
        else:
            product.copy_(w)
        if t % group == group - 1 or t == T_c - 1:
            torch.log(product, out=product)
            total -= product.sum(dtype=torch.float64)
        if want:  # w becomes g = ∂(−ℓ)/∂π: 1 / w at risk, 0 after E, −1/π at events
            w.reciprocal_()
            if cells is not None:
                w_flat.scatter_(0, cells, zeros)
            if ev_cells[t] is not None:
                w_flat.scatter_(0, ev_cells[t], minus_inv[bounds[t] : bounds[t + 1]])
            torch.mm(s_ages[t], w, out=grad_ages[t])  # ∂/∂θ at age t, (K1, n)
            grad_s_ages[t].addmm_(theta_ages[t], g_t)
    if want:  # softmax backward θ (g_θ − Σ_k θ g_θ) at ages < T_c
        used, theta_used = grad_theta[:, :T_c], theta[:, :T_c]
        used.sub_((theta_used * used).sum(dim=0)).mul_(theta_used)
    return total, n_high
