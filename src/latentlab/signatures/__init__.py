"""The disease-signature survival model behind Aladynoulli (chapters 1–2).

Model: θ_i·t = softmax(λ_i·t) over K disease signatures plus a healthy one
(index K), and the yearly hazard of disease d is

    π_idt = κ Σ_k θ_ikt σ(φ_kdt),

clamped to [1e−6, 1 − 1e−6], with no outer sigmoid. λ and φ have float64
squared-exponential GP priors around r_k(t) + G_i γ_k (healthy: −5) and
μ_d(t) + ψ_kd. Fitting minimises the MAP objective (up to constants) with Adam.

Modules: :mod:`.data` (SurvivalData), :mod:`.prevalence`, :mod:`.gp`,
:mod:`.smoothing` (LOWESS), :mod:`.init` (cold start), :mod:`.likelihood`,
:mod:`.objective`, :mod:`.fit`, :mod:`.evaluation`, :mod:`.device` (CPU/GPU).
"""

from latentlab.signatures.data import SurvivalData
from latentlab.signatures.device import (
    auto_chunk_size,
    gpu_results,
    kernel_status,
    resolve_device,
)
from latentlab.signatures.evaluation import (
    event_auc,
    frozen_theta_risk,
    match_signatures,
    matched_correlation,
    mean_disease_auc,
    signature_contrasts,
    window_outcomes,
)
from latentlab.signatures.fit import (
    DEFAULT_LR_MULTIPLIERS,
    FitResult,
    adam_loop,
    adam_param_groups,
    fit_signatures,
)
from latentlab.signatures.gp import GaussianProcessPrior, squared_exponential_kernel
from latentlab.signatures.init import (
    InitialState,
    cluster_diseases,
    disease_correlation,
    initial_gamma,
    initial_psi,
    initialize,
    reference_trajectories,
)
from latentlab.signatures.likelihood import (
    as_survival_tensors,
    signature_nll,
    signature_pi,
    survival_nll_from_pi,
)
from latentlab.signatures.objective import (
    HEALTHY_MEAN,
    ModelPriors,
    ObjectiveTerms,
    lambda_prior_mean,
    map_objective,
    phi_prior_mean,
    signature_parameters,
)
from latentlab.signatures.prevalence import at_risk_counts, at_risk_prevalence, prevalence_logit
from latentlab.signatures.smoothing import lowess

__all__ = [
    "SurvivalData",
    "resolve_device",
    "auto_chunk_size",
    "gpu_results",
    "kernel_status",
    "at_risk_counts",
    "at_risk_prevalence",
    "prevalence_logit",
    "squared_exponential_kernel",
    "GaussianProcessPrior",
    "lowess",
    "InitialState",
    "disease_correlation",
    "cluster_diseases",
    "reference_trajectories",
    "initial_psi",
    "initial_gamma",
    "initialize",
    "as_survival_tensors",
    "survival_nll_from_pi",
    "signature_nll",
    "signature_pi",
    "HEALTHY_MEAN",
    "ModelPriors",
    "ObjectiveTerms",
    "lambda_prior_mean",
    "phi_prior_mean",
    "signature_parameters",
    "map_objective",
    "DEFAULT_LR_MULTIPLIERS",
    "FitResult",
    "adam_param_groups",
    "adam_loop",
    "fit_signatures",
    "match_signatures",
    "matched_correlation",
    "event_auc",
    "window_outcomes",
    "frozen_theta_risk",
    "mean_disease_auc",
    "signature_contrasts",
]
