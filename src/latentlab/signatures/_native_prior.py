"""The λ prior's pass in C (private; ``prior_rows`` in ``_native.c``), used by
:mod:`._centered` where :mod:`._native` has loaded the library with a ``dgemm_``."""

from __future__ import annotations

import torch

from latentlab.signatures._native import _address


def halves(precision: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(Ps, Pa): P made exactly symmetric and persymmetric (P = J P J, J the
    reversal of the T ages; a GP precision on an even grid is both up to
    round-off) and its blocks on the symmetric and antisymmetric trajectories
    (see ``prior_rows`` in ``_native.c``), contiguous float64."""
    T = precision.shape[0]
    h = T // 2
    sym = (precision + precision.T) / 2
    sym = (sym + sym.flip(0, 1)) / 2
    top, right = sym[:h, :h], sym[:h, T - h:].flip(1)
    Pa = (top - right).contiguous()
    Ps = top + right
    if T % 2:
        column = sym[:h, h : h + 1]
        row = (sym[h, :h] + sym[h, T - h:].flip(0)).unsqueeze(0)
        Ps = torch.cat([torch.cat([Ps, column], 1),
                        torch.cat([row, sym[h:h + 1, h:h + 1]], 1)], 0)
    return Ps.contiguous(), Pa


def prior_rows(lib, lam, reference, offsets, healthy: float, precision_halves, work,
               row_sums, grad, alpha: float, beta: float | None, group: int,
               people: torch.Tensor | None = None) -> float:
    """The λ prior's pass in C over the rows ``people`` (int64) of ``lam``, or all of
    them: Σ δ·Pδ (float), the row sums of Pδ into ``row_sums`` and the gradient
    into ``grad`` (rows like λ's) where they are given (see ``_native.c``);
    ``lam`` contiguous float32, ``precision_halves`` from :func:`halves`;
    ``work`` holds at least four times ``group`` × K1 × T float64 values."""
    N, K1, T = lam.shape
    if work.numel() < 4 * group * K1 * T or not work.is_contiguous():
        raise ValueError(f"work must hold 4 × {group} × {K1} × {T} float64 values")
    m = N if people is None else people.numel()
    Ps, Pa = precision_halves
    return lib.prior_rows(
        lib.dgemm, m, _address(people), reference.shape[0], K1, T, lam.data_ptr(),
        reference.data_ptr(), offsets.data_ptr(), healthy, Ps.data_ptr(),
        Pa.data_ptr(), work.data_ptr(), _address(row_sums), _address(grad),
        alpha, 0.0 if beta is None else beta, int(beta is not None), group,
    )
