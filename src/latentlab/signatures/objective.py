"""The MAP objective of the signature model, centered and non-centered.

    L = −(1/N) Σ_id ℓ_id + W (Q_λ / N + Q_φ / D),

with Q the GP quadratic forms of the deviations of λ and φ from their prior
means. It is an objective *up to additive constants* (no log-determinants, no
priors on ψ, γ, κ): a point estimate, never a log posterior.

Prior means:

* λ_ik(t) for a disease signature k < K: r_k(t) + G_i γ_k;
* λ_iK(t) for the healthy signature (index K): the constant −5;
* φ_kd(t): μ_d(t) + ψ_kd.

Parameterisations (the ``params`` dict):

* ``"centered"``: free ``lam`` (N, K+1, T), ``phi`` (K+1, D, T), ``psi``
  (K+1, D), ``gamma`` (P, K), ``kappa`` (0-d). ψ and γ enter only Q.
* ``"noncentered"``: free ``delta`` (N, K+1, T), ``epsilon`` (K+1, D, T),
  ``psi``, ``gamma``, ``kappa``; λ = mean + δ, φ = μ + ψ + ε and Q acts on δ, ε,
  so ψ and γ receive likelihood gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

from latentlab._validation import check_positive
from latentlab.signatures import likelihood
from latentlab.signatures._centered import CenteredObjective
from latentlab.signatures.gp import GaussianProcessPrior
from latentlab.signatures.likelihood import DEFAULT_EPS, signature_nll

__all__ = [
    "ModelPriors",
    "ObjectiveTerms",
    "lambda_prior_mean",
    "phi_prior_mean",
    "signature_parameters",
    "map_objective",
    "HEALTHY_MEAN",
]

#: Prior mean of the healthy signature's λ (hard-coded −5 in the reference).
HEALTHY_MEAN = -5.0

Parameterization = Literal["centered", "noncentered"]


@dataclass(frozen=True)
class ModelPriors:
    """Fixed quantities of the objective (not optimised).

    Attributes
    ----------
    mu : Tensor of shape (D, T)
        Prevalence logits μ_d(t).
    reference : Tensor of shape (K, T)
        Signature reference trajectories r_k(t) (zeros for the flat option).
    G : Tensor of shape (N, P)
        Covariates.
    lambda_prior, phi_prior : GaussianProcessPrior
        GP priors (ℓ = T/4 and T/3 in the reference).
    prior_weight : float
        W (1e−4 in production).
    healthy_mean : float
        λ prior mean of the healthy signature (−5).
    """

    mu: torch.Tensor
    reference: torch.Tensor
    G: torch.Tensor
    lambda_prior: GaussianProcessPrior
    phi_prior: GaussianProcessPrior
    prior_weight: float = 1e-4
    healthy_mean: float = HEALTHY_MEAN

    def __post_init__(self) -> None:
        for name in ("mu", "reference", "G"):
            value = getattr(self, name)
            if not torch.is_tensor(value) or value.ndim != 2:
                raise TypeError(f"{name} must be a 2-D torch.Tensor, got {type(value).__name__}")
        if self.reference.shape[1] != self.mu.shape[1]:
            raise ValueError(f"reference must have T = {self.mu.shape[1]} columns like mu, "
                             f"got shape {tuple(self.reference.shape)}")
        for name in ("lambda_prior", "phi_prior"):
            if not isinstance(getattr(self, name), GaussianProcessPrior):
                raise TypeError(f"{name} must be a GaussianProcessPrior, got {type(getattr(self, name)).__name__}")
        check_positive(self.prior_weight, "prior_weight", strict=False)

    @property
    def n_signatures(self) -> int:
        """K, the number of disease signatures (the healthy one excluded)."""
        return int(self.reference.shape[0])


class ObjectiveTerms(NamedTuple):
    """The objective and its parts: ``loss`` is differentiable, the rest are detached floats."""

    loss: torch.Tensor
    nll: float
    q_lambda: float
    q_phi: float


def _check_tensors(**tensors) -> None:
    for name, value in tensors.items():
        if not torch.is_tensor(value) or value.ndim != 2:
            raise TypeError(f"{name} must be a 2-D torch.Tensor, got "
                            f"{type(value).__name__} of shape {tuple(getattr(value, 'shape', ()))}")


def lambda_prior_mean(G: torch.Tensor, gamma: torch.Tensor, reference: torch.Tensor,
                      healthy_mean: float = HEALTHY_MEAN) -> torch.Tensor:
    """Prior mean of λ, shape (N, K+1, T): r_k(t) + G_i γ_k, and ``healthy_mean`` for index K.

    Examples
    --------
    >>> import torch
    >>> from latentlab.signatures import lambda_prior_mean
    >>> m = lambda_prior_mean(torch.ones(1, 1), torch.tensor([[2.0]]), torch.zeros(1, 3))
    >>> m[0].tolist()
    [[2.0, 2.0, 2.0], [-5.0, -5.0, -5.0]]
    """
    _check_tensors(G=G, gamma=gamma, reference=reference)
    if gamma.shape[0] != G.shape[1] or gamma.shape[1] != reference.shape[0]:
        raise ValueError(f"gamma must have shape (P, K) = ({G.shape[1]}, {reference.shape[0]}), "
                         f"got {tuple(gamma.shape)}")
    disease = reference.unsqueeze(0) + (G @ gamma).unsqueeze(2)  # (N, K, T)
    healthy = torch.full_like(disease[:, :1, :], healthy_mean)
    return torch.cat([disease, healthy], dim=1)


def phi_prior_mean(mu: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
    """Prior mean of φ, shape (K+1, D, T): μ_d(t) + ψ_kd."""
    _check_tensors(mu=mu, psi=psi)
    if psi.shape[1] != mu.shape[0]:
        raise ValueError(f"psi must have D = {mu.shape[0]} columns like mu, got shape {tuple(psi.shape)}")
    return mu.unsqueeze(0) + psi.unsqueeze(2)


def signature_parameters(params: dict[str, torch.Tensor], priors: ModelPriors,
                         parameterization: Parameterization = "centered") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (λ, φ, δ_λ, δ_φ): the model's λ and φ and their deviations from the prior means."""
    if parameterization not in ("centered", "noncentered"):
        raise ValueError(f"parameterization must be 'centered' or 'noncentered', got {parameterization!r}")
    needed = ("lam", "phi") if parameterization == "centered" else ("delta", "epsilon")
    missing = [k for k in needed + ("psi", "gamma") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing} for the {parameterization} parameterisation")
    if not isinstance(priors, ModelPriors):
        raise TypeError(f"priors must be a ModelPriors, got {type(priors).__name__}")
    like = params["psi"]  # priors follow the parameters' dtype and device
    lam_mean = lambda_prior_mean(priors.G.to(like), params["gamma"],
                                 priors.reference.to(like), priors.healthy_mean)
    phi_mean = phi_prior_mean(priors.mu.to(like), params["psi"])
    if parameterization == "centered":
        lam, phi = params["lam"], params["phi"]
        return lam, phi, lam - lam_mean, phi - phi_mean
    if parameterization == "noncentered":
        delta, epsilon = params["delta"], params["epsilon"]
        return lam_mean + delta, phi_mean + epsilon, delta, epsilon
    raise ValueError(f"parameterization must be 'centered' or 'noncentered', got {parameterization!r}")


def _centered_lambda_inputs(params, priors: ModelPriors) -> tuple:
    """Checked inputs of the fused Q_λ: G, r, h, P on λ's device (float64)."""
    lam, gamma = params["lam"], params["gamma"]
    _check_tensors(G=priors.G, gamma=gamma, reference=priors.reference)
    P, K = priors.G.shape[1], priors.reference.shape[0]
    if gamma.shape[0] != P or gamma.shape[1] != K:
        raise ValueError(
            f"gamma must have shape (P, K) = ({P}, {K}), got {tuple(gamma.shape)}"
        )
    if lam.ndim != 3 or lam.shape[1] != gamma.shape[1] + 1:
        raise ValueError(
            f"lam must have shape (N, K+1, T) with K = {gamma.shape[1]}, "
            f"got {tuple(lam.shape)}"
        )
    prior = priors.lambda_prior
    if lam.shape[2] != prior.n_times:
        raise ValueError(
            f"lam must have T = {prior.n_times} ages, got shape {tuple(lam.shape)}"
        )
    device = lam.device
    return (
        priors.G.to(device=device, dtype=torch.float64),
        priors.reference.to(device=device, dtype=torch.float64),
        float(priors.healthy_mean),
        prior.precision_tensor(device),
    )


def map_objective(
    params: dict[str, torch.Tensor],
    E: torch.Tensor,
    event: torch.Tensor,
    priors: ModelPriors,
    *,
    parameterization: Parameterization = "centered",
    kappa: torch.Tensor | float | None = None,
    chunk_size: int | None = None,
    eps: float = DEFAULT_EPS,
) -> ObjectiveTerms:
    """L = NLL/N + W (Q_λ/N + Q_φ/D), up to additive constants.

    Parameters
    ----------
    params : dict of Tensor
        See the module docstring for the keys of each parameterisation.
    E, event : Tensor (N, D)
        From :func:`~latentlab.signatures.as_survival_tensors`.
    priors : ModelPriors
    parameterization : {"centered", "noncentered"}
    kappa : Tensor or float, optional
        Overrides ``params["kappa"]`` (e.g. κ ≡ 1 in the non-centered model).
    chunk_size, eps
        Passed to :func:`~latentlab.signatures.signature_nll`.

    Returns
    -------
    ObjectiveTerms
        ``loss`` (float64 tensor) and detached ``nll``, ``q_lambda``, ``q_phi``.
    """
    centered = ("lam", "phi", "psi", "gamma")
    if parameterization == "centered" and all(k in params for k in centered):
        if not isinstance(priors, ModelPriors):
            raise TypeError(
                f"priors must be a ModelPriors, got {type(priors).__name__}"
            )
        lam, phi = params["lam"], params["phi"]
        dev_phi = phi - phi_prior_mean(priors.mu.to(params["psi"]), params["psi"])
        fixed = _centered_lambda_inputs(params, priors)
        kappa_value = params["kappa"] if kappa is None else kappa
        N, D = lam.shape[0], phi.shape[1]
        s, kappa_t, plan = likelihood._prepare(
            lam, phi, kappa_value, E, event, chunk_size, eps
        )
        # NLL/N + (W/N) Q_λ in one pass, one gradient array for λ (._centered)
        value, nll, q_lambda = CenteredObjective.apply(
            lam, s, kappa_t, params["gamma"], *fixed, plan, float(eps), 1.0 / N,
            priors.prior_weight / N,
        )
        q_phi = priors.phi_prior.quadratic_form_torch(dev_phi)
        loss = value + priors.prior_weight * q_phi / D
        return ObjectiveTerms(loss, float(nll), float(q_lambda), float(q_phi.detach()))
    lam, phi, dev_lam, dev_phi = signature_parameters(params, priors, parameterization)
    q_lambda = priors.lambda_prior.quadratic_form_torch(dev_lam)
    kappa_value = params["kappa"] if kappa is None else kappa
    N, D = lam.shape[0], phi.shape[1]
    nll = signature_nll(lam, phi, kappa_value, E, event, chunk_size=chunk_size, eps=eps)
    q_phi = priors.phi_prior.quadratic_form_torch(dev_phi)
    loss = nll.to(torch.float64) / N + priors.prior_weight * (q_lambda / N + q_phi / D)
    return ObjectiveTerms(loss, float(nll.detach()), float(q_lambda.detach()), float(q_phi.detach()))
