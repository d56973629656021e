"""The four mixing formulations of a disease-signature model, and their derivatives.

For one person at one age, λ (length K) scores the K signatures and θ = softmax(λ).
The yearly hazard of disease d is

=====  ==========================================  ===============================
stage  π_d                                          note
=====  ==========================================  ===============================
1      σ(Σ_k λ_k φ_kd)                              linear in λ; not identifiable
2      σ(Σ_k θ_k φ_kd)                              "double squash"
3      κ Σ_k θ_k σ(φ_kd)                            the reference model
4      κ Σ_k θ_k σ(μ_d + ψ_kd)                      prevalence anchor μ, association ψ
=====  ==========================================  ===============================

Stages 1–2 are a teaching story; stages 3–4 are what Aladynoulli fits (stage 4 is
the prior mean of stage 3's φ). There is no outer sigmoid: :func:`outer_sigmoid_pi`
shows what one would do.

Shapes: ``lam`` is (..., K) (any leading axes), ``phi`` and ``psi`` are (K, D),
``mu`` is (D,); every map returns (..., D). The same maps exist for torch
tensors (:func:`forward_torch`), so the analytic gradients of
:func:`gradient_wrt_lambda` can be checked against autograd.

Examples
--------
>>> import numpy as np
>>> from latentlab import mixing
>>> lam = np.array([2.0, 0.0]); phi = np.array([[-3.0], [-6.0]])
>>> [round(float(mixing.forward(stage, lam, phi)[0]), 4) for stage in (1, 2, 3)]
[0.0025, 0.0336, 0.0421]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from scipy.special import expit, softmax

from latentlab._validation import check_array, check_positive

__all__ = [
    "STAGES",
    "forward",
    "forward_torch",
    "outer_sigmoid_pi",
    "add_healthy_signature",
    "gradient_wrt_lambda",
    "rescaling_path",
    "softmax_scale_path",
    "mixture_bounds",
    "separation",
]

STAGES = (1, 2, 3, 4)
Stage = Literal[1, 2, 3, 4]


def _check(stage, lam, phi, mu):
    if stage not in STAGES:
        raise ValueError(f"stage must be one of 1, 2, 3, 4, got {stage!r}")
    lam = check_array(lam, "lam")
    if lam.ndim < 1:
        raise ValueError("lam must have at least one axis (the K signatures)")
    phi = check_array(phi, "phi" if stage != 4 else "psi", ndim=2, shape=(lam.shape[-1], None))
    if stage == 4:
        if mu is None:
            raise ValueError("stage 4 needs mu, the prevalence logits of shape (D,)")
        mu = check_array(mu, "mu", shape=(phi.shape[1],))
    return lam, phi, mu


def forward(stage: Stage, lam, phi, *, kappa: float = 1.0, mu=None, eps: float | None = None) -> npt.NDArray[np.float64]:
    """Hazards π (..., D) of one mixing formulation (numpy).

    Parameters
    ----------
    stage : {1, 2, 3, 4}
    lam : array_like of shape (..., K)
        Signature scores λ.
    phi : array_like of shape (K, D)
        φ for stages 1–3; ψ for stage 4.
    kappa : float
        κ (stages 3–4 only; stages 1–2 have none).
    mu : array_like of shape (D,), optional
        Prevalence logits (stage 4).
    eps : float, optional
        Clamp π to [eps, 1 − eps] (the model uses 1e−6).
    """
    lam, phi, mu = _check(stage, lam, phi, mu)
    if stage == 1:
        pi = expit(lam @ phi)
    elif stage == 2:
        pi = expit(softmax(lam, axis=-1) @ phi)
    else:
        kappa = check_positive(kappa, "kappa")
        logits = phi if stage == 3 else mu[None, :] + phi
        pi = kappa * (softmax(lam, axis=-1) @ expit(logits))
    return pi if eps is None else np.clip(pi, eps, 1 - eps)


def forward_torch(stage: Stage, lam: torch.Tensor, phi: torch.Tensor, *, kappa: float | torch.Tensor = 1.0,
                  mu: torch.Tensor | None = None) -> torch.Tensor:
    """The same maps as :func:`forward` for torch tensors (differentiable, unclamped)."""
    if stage == 1:
        return torch.sigmoid(lam @ phi)
    if stage == 2:
        return torch.sigmoid(torch.softmax(lam, dim=-1) @ phi)
    if stage == 3:
        return kappa * (torch.softmax(lam, dim=-1) @ torch.sigmoid(phi))
    if stage == 4:
        if mu is None:
            raise ValueError("stage 4 needs mu, the prevalence logits of shape (D,)")
        return kappa * (torch.softmax(lam, dim=-1) @ torch.sigmoid(mu.unsqueeze(0) + phi))
    raise ValueError(f"stage must be one of 1, 2, 3, 4, got {stage!r}")


def outer_sigmoid_pi(lam, psi, mu) -> npt.NDArray[np.float64]:
    """The tutorial notebook's σ(Σ_k θ_k σ(μ_d + ψ_kd)): NOT the model.

    The inner sum lies in (0, 1), so every value lies in (σ(0), σ(1)) = (0.5, 0.731).
    """
    return expit(forward(4, lam, psi, mu=mu))


def add_healthy_signature(lam, psi, *, healthy_lambda=-5.0, healthy_psi: float = -5.0):
    """Append the healthy signature (index K) to λ (..., K) and ψ (K, D).

    ``healthy_lambda`` is a scalar or an array broadcastable to ``lam.shape[:-1]``.
    As θ_healthy → 1, stage 4 gives π_d → κ σ(μ_d + healthy_psi).
    """
    lam = check_array(lam, "lam")
    psi = check_array(psi, "psi", ndim=2)
    extra = np.broadcast_to(np.asarray(healthy_lambda, dtype=float), lam.shape[:-1])[..., None]
    return np.concatenate([lam, extra], axis=-1), np.vstack([psi, np.full((1, psi.shape[1]), healthy_psi)])


def gradient_wrt_lambda(stage: Stage, lam, phi, *, kappa: float = 1.0, mu=None) -> npt.NDArray[np.float64]:
    """Exact Jacobian ∂π_d/∂λ_j, shape (..., D, K), unclamped.

    * stage 1: π_d(1 − π_d) φ_jd
    * stage 2: π_d(1 − π_d) θ_j (φ_jd − Σ_k θ_k φ_kd)
    * stages 3, 4: θ_j (κ s_jd − π_d), with s = σ(φ) (stage 4: σ(μ + ψ))

    Examples
    --------
    >>> from latentlab.mixing import gradient_wrt_lambda
    >>> gradient_wrt_lambda(3, [0.0, 0.0], [[0.0], [0.0]]).tolist()   # equal s: no response
    [[0.0, 0.0]]
    """
    lam, phi, mu = _check(stage, lam, phi, mu)
    pi = forward(stage, lam, phi, kappa=kappa, mu=mu)[..., :, None]  # (..., D, 1)
    theta = softmax(lam, axis=-1)[..., None, :]  # (..., 1, K)
    phi_T = phi.T  # (D, K)
    if stage == 1:
        return pi * (1 - pi) * phi_T
    if stage == 2:
        mean_phi = (softmax(lam, axis=-1) @ phi)[..., :, None]
        return pi * (1 - pi) * theta * (phi_T - mean_phi)
    s = expit(phi_T if stage == 3 else mu[:, None] + phi_T)
    return theta * (kappa * s - pi)


def rescaling_path(stage: Stage, lam, phi, scales, *, kappa: float = 1.0, mu=None) -> npt.NDArray[np.float64]:
    """π under λ → cλ, φ → φ/c for each c in ``scales``: shape (len(scales), ..., D).

    Stage 1 is exactly invariant along this path; the softmax stages are not.
    For stage 4 only λ is rescaled (ψ is anchored by μ).
    """
    scales = check_array(scales, "scales", ndim=1)
    if np.any(scales == 0):
        raise ValueError("scales must be non-zero (φ is divided by c)")
    lam, phi, mu = _check(stage, lam, phi, mu)
    out = []
    for c in scales:
        new_phi = phi if stage == 4 else phi / c
        out.append(forward(stage, c * lam, new_phi, kappa=kappa, mu=mu))
    return np.stack(out)


def softmax_scale_path(lam, scales) -> npt.NDArray[np.float64]:
    """θ = softmax(cλ) for each c: shape (len(scales), ..., K). Softmax is not scale-invariant."""
    lam = check_array(lam, "lam")
    scales = check_array(scales, "scales", ndim=1)
    return np.stack([softmax(c * lam, axis=-1) for c in scales])


def mixture_bounds(phi, *, kappa: float = 1.0) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(min_k κσ(φ_kd), max_k κσ(φ_kd)) per disease: stage 3 lies between them for every θ."""
    phi = check_array(phi, "phi", ndim=2)
    kappa = check_positive(kappa, "kappa")
    s = kappa * expit(phi)
    return s.min(axis=0), s.max(axis=0)


def separation(stage: Stage, lam_a, lam_b, phi, *, kappa: float = 1.0, mu=None) -> float:
    """Largest absolute log-odds difference between two people's hazards, max_d |logit π_a − logit π_b|."""
    pa = np.clip(forward(stage, lam_a, phi, kappa=kappa, mu=mu), 1e-12, 1 - 1e-12)
    pb = np.clip(forward(stage, lam_b, phi, kappa=kappa, mu=mu), 1e-12, 1 - 1e-12)
    diff = np.log(pa / (1 - pa)) - np.log(pb / (1 - pb))
    return float(np.max(np.abs(diff)))
