"""Age-major block kernel of :func:`~latentlab.signatures.signature_nll` on a CPU
(private).

The plan of :mod:`._kernel` (people sorted by last at-risk age, cut into
blocks) is walked block by block and, inside a block of n people, age by age:
at age t, π of the block is one (n × K1)·(K1 × D) matrix product, and the
gradient back to θ and to σ(φ) two more, each a single large GEMM rather than
a batch of small ones; the (n, D) work buffers stay in the core's cache.

Per age, in place on two (n, D) buffers: w = 1 − π (one pass; clamped only
when the clamp can bind), g = 1 / w (one pass), then the few cells after E
are fixed from the plan's list (w = 1, g = 0) and the events written
(g = −1/π). Σ log w is the log of a running product: w is multiplied into a
third buffer and its log taken once every 2^levels ages (see
:func:`._kernel.product_levels`), so about one logarithm per pair and block.
Blocks whose share of cells after E is large use the at-risk indicator
instead, as the chunk kernel does.
"""

from __future__ import annotations


import torch

from latentlab.signatures import _kernel



class Buffers:
    """Work buffers of one block of n people: (n, D) ×3, θ (T, n, K1), ∂/∂θ
    (T, K1, n), ∂/∂λ (n, K1, T)."""

    def __init__(self, T: int, n: int, D: int, K1: int, dtype, device):
        self.shape = (T, n, D, K1)

        def empty(size: int) -> torch.Tensor:
            return torch.empty((size,), dtype=dtype, device=device)

        self.hazard, self.grad, self.product = (empty(n * D) for _ in range(3))
        self.theta = empty(T * n * K1)
        self.grad_theta = empty(T * n * K1)
        self.grad_lam = empty(n * K1 * T)
        self.one = torch.ones((), dtype=dtype, device=device)

    @classmethod
    def reuse(cls, T: int, n: int, D: int, K1: int, dtype, device) -> "Buffers":
        """This thread's cached buffers (no page faults each epoch)."""
        return _kernel.thread_cached(
            "ages", (T, n, D, K1, dtype, device),
            lambda: cls(T, n, D, K1, dtype, device),
        )

    def view(self, T_c: int, n: int):
        """w, g and the product as (n, D); θ (T_c, n, K1); ∂/∂θ (T_c, K1, n)."""
        D, K1 = self.shape[2], self.shape[3]
        return (
            self.hazard[: n * D].view(n, D),
            self.grad[: n * D].view(n, D),
            self.product[: n * D].view(n, D),
            self.theta[: T_c * n * K1].view(T_c, n, K1),
            self.grad_theta[: T_c * n * K1].view(T_c, K1, n),
        )


def _by_age(flat: torch.Tensor, T_c: int, size: int, order: bool):
    """Split flat (t, i, d) indices into per-age lists of (i, d) indices."""
    if order:
        flat = torch.sort(flat).values
    ages = torch.div(flat, size, rounding_mode="floor")
    local = flat - ages * size
    bounds = torch.searchsorted(
        ages, torch.arange(T_c + 1, device=flat.device)
    ).tolist()
    return [local[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def per_age(plan: _kernel.Plan, c: int):
    """Chunk c's events and cells after E by age (cached on the plan)."""
    cached = plan.per_age.get(c)
    if cached is None:
        chunk = plan.chunks[c]
        size = (chunk.stop - chunk.start) * plan.E1.shape[1]
        events = _by_age(chunk.flat, chunk.T_c, size, order=True)
        after = None
        if chunk.out is not None:
            after = _by_age(chunk.out, chunk.T_c, size, order=False)
        cached = plan.per_age[c] = (events, after)
    return cached


def block_terms(
    buffers: Buffers,
    lam: torch.Tensor,
    s_T: torch.Tensor,
    plan: _kernel.Plan,
    c: int,
    eps: float,
    levels: int,
    clamp: bool,
    count_high: bool,
    grad_s: torch.Tensor | None,
):
    """NLL of block c (0-d float64), ∂(−ℓ)/∂λ of its people ((n, K1, T) buffer
    view) or None, and the number of cells at the upper clamp or None.

    lam: (N, K1, T); s_T: (T, K1, D) κσ(φ); ``grad_s`` (T, K1, D) accumulates
    ∂(−ℓ)/∂(κσ(φ)) when given.
    """
    chunk = plan.chunks[c]
    a, b, T_c = chunk.start, chunk.stop, chunk.T_c
    n = b - a
    w, g, product, theta, grad_theta = buffers.view(T_c, n)
    rows = chunk.rows
    people = lam[rows] if isinstance(rows, slice) else lam.index_select(0, rows)
    theta.copy_(people[:, :, :T_c].permute(2, 0, 1))
    theta.copy_(torch.softmax(theta, dim=-1))
    events, after = per_age(plan, c)
    E1 = plan.E1[a:b]
    total = torch.zeros((), dtype=torch.float64, device=w.device)
    n_high = torch.zeros((), dtype=torch.int64, device=w.device) if count_high else None
    group = 2**levels
    w_flat, g_flat = w.view(-1), g.view(-1)
    thetas, s_ages = theta.unbind(0), s_T.unbind(0)
    p_ev = torch.empty((int(chunk.flat.numel()),), dtype=w.dtype, device=w.device)
    ev_ages, start = [], 0
    for t in range(T_c):
        ev_ages.append(p_ev[start : start + events[t].numel()])
        start += events[t].numel()
    if grad_s is not None:
        g_t, theta_t = g.t(), theta.transpose(1, 2).unbind(0)
        grad_ages, grad_s_ages = grad_theta.unbind(0), grad_s.unbind(0)
    minus_one = -buffers.one
    for t in range(T_c):
        torch.mm(thetas[t], s_ages[t], out=w)  # π at age t
        has_events = events[t].numel() > 0
        if has_events:
            torch.index_select(w_flat, 0, events[t], out=ev_ages[t])
            if clamp:
                ev_ages[t].clamp_(eps, 1 - eps)
        if after is None:  # at-risk indicator M = [t ≤ E] in g
            torch.gt(E1, float(t), out=g)
            torch.addcmul(buffers.one, w, g, value=-1.0, out=w)  # w = 1 − π M
        else:
            torch.add(buffers.one, w, alpha=-1.0, out=w)  # w = 1 − π
        if clamp:
            w.clamp_(eps, 1 - eps)
            if after is None:  # cells after E hold fl(1 − eps), not 1
                masked = n * w.shape[1] - torch.count_nonzero(g)
                total += masked * _kernel._log_one_minus(eps, w.dtype)
        if grad_s is not None:
            if after is None:
                g.div_(w)  # g = M / w
            else:
                torch.reciprocal(w, out=g)
                g_flat.index_fill_(0, after[t], 0.0)
        if after is not None:
            w_flat.index_fill_(0, after[t], 1.0)
        if count_high:
            n_high += torch.count_nonzero(w <= eps)
        if grad_s is not None:
            if has_events:
                g_flat.index_put_((events[t],), torch.div(minus_one, ev_ages[t]))
            torch.mm(s_ages[t], g_t, out=grad_ages[t])  # ∂/∂θ, (K1, n)
            grad_s_ages[t].addmm_(theta_t[t], g)
        if t % group == 0:
            product.copy_(w)
        else:
            product.mul_(w)
        if t % group == group - 1 or t == T_c - 1:
            torch.log(product, out=product)
            total -= product.sum(dtype=torch.float64)
    total -= (torch.log(p_ev) - torch.log1p(-p_ev)).sum(dtype=torch.float64)
    grad_lam = None
    if grad_s is not None:
        # softmax backward: θ (g_θ − Σ_k θ g_θ), then as (n, K1, T), zeros after T_c
        theta_t = theta.transpose(1, 2)
        dot = (theta_t * grad_theta).sum(dim=1, keepdim=True)
        grad_theta.sub_(dot).mul_(theta_t)
        K1, T = theta.shape[2], lam.shape[2]
        grad_lam = buffers.grad_lam[: n * K1 * T].view(n, K1, T)
        grad_lam[:, :, :T_c].copy_(grad_theta.permute(2, 1, 0))
        grad_lam[:, :, T_c:].zero_()
    return total, grad_lam, n_high
