"""Argument checks of :func:`~latentlab.signatures.fit_signatures` (kept apart from the fit loop)."""

from __future__ import annotations

import numpy as np
import torch

from latentlab._validation import check_integer, check_positive

__all__ = ["check_fit_options"]


def check_fit_options(
    data,
    K: int,
    known_multipliers,
    *,
    lr_multipliers,
    tol,
    noise_scale,
    dtype,
    chunk_size,
    eps,
    learn_kappa,
    jitter,
    lambda_length_scale,
    phi_length_scale,
) -> None:
    """Refuse every option of :func:`fit_signatures` outside its range (names the argument)."""
    if K > data.n_diseases:
        raise ValueError(
            f"n_signatures must be <= the number of diseases ({data.n_diseases}), got {K}"
        )
    if lr_multipliers is not None:
        if not isinstance(lr_multipliers, dict):
            raise TypeError(
                f"lr_multipliers must be a dict, got {type(lr_multipliers).__name__}"
            )
        unknown = sorted(set(lr_multipliers) - set(known_multipliers))
        if unknown:
            raise ValueError(
                f"lr_multipliers has unknown key(s) {unknown}; "
                f"expected some of {sorted(known_multipliers)}"
            )
        for key, value in lr_multipliers.items():
            check_positive(value, f"lr_multipliers[{key!r}]")
    if tol is not None:
        check_positive(tol, "tol")
    check_positive(noise_scale, "noise_scale", strict=False)
    check_positive(jitter, "jitter", strict=False)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    if chunk_size is not None:
        check_integer(chunk_size, "chunk_size", minimum=1)
    if not 0 < check_positive(eps, "eps") < 0.5:
        raise ValueError(
            f"eps must lie in (0, 0.5) (hazards are clamped to [eps, 1 - eps]), got {eps}"
        )
    if learn_kappa is not None and not isinstance(learn_kappa, (bool, np.bool_)):
        raise TypeError(
            f"learn_kappa must be None or a bool, got {type(learn_kappa).__name__}"
        )
    for name, value in (
        ("lambda_length_scale", lambda_length_scale),
        ("phi_length_scale", phi_length_scale),
    ):
        if value is not None:
            check_positive(value, name)
