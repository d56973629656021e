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
from scipy.special import expit, log_expit, log_softmax, logit, logsumexp, softmax

from latentlab._validation import as_generator, check_array, check_integer, check_positive, check_real

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
    "log_odds",
    "separation",
    "rescale_kappa",
    "near_identity_stochastic",
    "mix_signatures",
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
    if eps is not None and not 0 < check_positive(eps, "eps") < 0.5:
        raise ValueError(f"eps must be None or lie in (0, 0.5) (π is clamped to [eps, 1 - eps]), got {eps}")
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
    if stage not in STAGES:
        raise ValueError(f"stage must be one of 1, 2, 3, 4, got {stage!r}")
    for name, value in (("lam", lam), ("phi", phi)):
        if not torch.is_tensor(value):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.is_complex():
            raise TypeError(f"{name} must hold real numbers, got {value.dtype}")
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
    psi = check_array(psi, "psi", ndim=2, shape=(lam.shape[-1] if lam.ndim else None, None))
    healthy_psi = check_real(healthy_psi, "healthy_psi")
    healthy_lambda = check_array(healthy_lambda, "healthy_lambda")
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


def log_odds(stage: Stage, lam, phi, *, kappa: float = 1.0, mu=None) -> npt.NDArray[np.float64]:
    """logit π (..., D) computed in log space, without clipping.

    Stages 1–2 return the linear predictor itself; stages 3–4 compute
    log π = log κ + logsumexp_k(log θ_k + log σ(φ_kd)) and log(1 − π) with
    ``log1p``, so hazards far below machine epsilon keep their exact log-odds.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.mixing import log_odds
    >>> float(log_odds(1, np.array([10.0, -10.0]), np.array([[3.0], [-1.0]]))[0])
    40.0
    """
    lam, phi, mu = _check(stage, lam, phi, mu)
    if stage == 1:
        return lam @ phi
    if stage == 2:
        return softmax(lam, axis=-1) @ phi
    kappa = check_positive(kappa, "kappa")
    logits = phi if stage == 3 else mu[None, :] + phi
    log_theta = log_softmax(lam, axis=-1)[..., :, None]  # (..., K, 1)
    log_pi = np.log(kappa) + logsumexp(log_theta + log_expit(logits), axis=-2)
    if np.any(log_pi >= 0):
        raise ValueError("κ Σ_k θ_k σ(φ_kd) reaches 1 or more: π is not a probability")
    return log_pi - np.log(-np.expm1(log_pi))


def separation(stage: Stage, lam_a, lam_b, phi, *, kappa: float = 1.0, mu=None) -> float:
    """Largest absolute log-odds difference of two people's hazards, max_d |logit π_a − logit π_b|.

    Computed with :func:`log_odds` (no clipping), so stage 1's unbounded growth
    shows in full.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.mixing import separation
    >>> phi = np.array([[-3.0, -4.0], [-7.0, -3.5]])
    >>> a, b = np.array([10.0, -10.0]), np.array([-10.0, 10.0])
    >>> separation(1, a, b, phi)
    80.0
    """
    lam_a, lam_b = check_array(lam_a, "lam_a"), check_array(lam_b, "lam_b")
    if lam_a.shape != lam_b.shape:
        raise ValueError(f"lam_a and lam_b must have the same shape, got {lam_a.shape} and {lam_b.shape}")
    diff = log_odds(stage, lam_a, phi, kappa=kappa, mu=mu) - log_odds(
        stage, lam_b, phi, kappa=kappa, mu=mu
    )
    return float(np.max(np.abs(diff)))


def rescale_kappa(kappa: float, phi, c: float) -> tuple[float, npt.NDArray[np.float64]]:
    """The exact κ symmetry of stages 3–4: κ → cκ with σ(φ) → σ(φ)/c.

    Returns ``(c·κ, φ')`` with σ(φ') = σ(φ)/c, so κ Σ_k θ_k σ(φ_k) is unchanged
    for every θ. Needs c > max σ(φ) (σ(φ)/c must stay below 1).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.mixing import forward, rescale_kappa
    >>> phi = np.array([[-3.0, -5.0], [-6.0, -2.0]]); lam = np.array([0.5, -0.2])
    >>> kappa2, phi2 = rescale_kappa(1.0, phi, 3.0)
    >>> kappa2, bool(np.allclose(forward(3, lam, phi2, kappa=kappa2), forward(3, lam, phi)))
    (3.0, True)
    """
    kappa = check_positive(kappa, "kappa")
    c = check_positive(c, "c")
    phi = check_array(phi, "phi")
    log_s = log_expit(phi) - np.log(c)
    if np.any(log_s >= 0):
        raise ValueError(f"c must exceed max σ(φ) = {float(expit(phi.max())):.4g}; got {c}")
    return c * kappa, log_s - np.log(-np.expm1(log_s))


def near_identity_stochastic(n_signatures: int, epsilon: float, rng=None) -> npt.NDArray[np.float64]:
    """B = I + ε(P − I): a row-stochastic (K, K) matrix close to the identity.

    P is a random row-stochastic matrix with a zero diagonal, so B ≥ 0 and every
    row of B sums to 1 for 0 ≤ ε ≤ 1.
    """
    K = check_integer(n_signatures, "n_signatures", minimum=2)
    epsilon = float(epsilon)
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must lie in [0, 1]; got {epsilon}")
    P = as_generator(rng).uniform(size=(K, K)) * (1 - np.eye(K))
    P /= P.sum(axis=1, keepdims=True)
    return np.eye(K) + epsilon * (P - np.eye(K))


def mix_signatures(stage: Stage, lam, phi, B, *, mu=None):
    """The continuous symmetry of stages 2–4: θ → θB⁻¹ with the signatures → B·(signatures).

    Stage 2 maps φ → Bφ; stages 3–4 map σ(φ) → Bσ(φ) (stage 4: σ(μ + ψ)).
    B must be row-stochastic (rows sum to 1), θB⁻¹ must stay positive and, for
    stages 3–4, B σ(φ) must stay inside (0, 1). Returns ``(λ', φ')`` (ψ' for
    stage 4) with the same π; λ' = log(θB⁻¹) (softmax is shift-invariant).
    """
    lam, phi, mu = _check(stage, lam, phi, mu)
    if stage == 1:
        raise ValueError("stage 1 has the larger symmetry λ → λA, φ → A⁻¹φ; use that")
    B = check_array(B, "B", shape=(phi.shape[0], phi.shape[0]))
    if not np.allclose(B.sum(axis=1), 1.0):
        raise ValueError("B must be row-stochastic: every row must sum to 1")
    theta = np.linalg.solve(B.T, softmax(lam, axis=-1)[..., None])[..., 0]  # θB⁻¹
    if np.any(theta <= 0):
        raise ValueError("θB⁻¹ leaves the simplex; take B closer to the identity")
    if stage == 2:
        return np.log(theta), B @ phi
    shift = 0.0 if stage == 3 else mu[None, :]
    mixed = B @ expit(shift + phi)
    if np.any((mixed <= 0) | (mixed >= 1)):
        raise ValueError("B σ(φ) leaves (0, 1); take B closer to the identity")
    return np.log(theta), logit(mixed) - shift
