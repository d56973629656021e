"""MCMC for subgroup mixtures (chapter 3): emcee targets and wrapper, latent samplers, the AIP loop.

- :mod:`latentlab.mcmc.targets`: log-posteriors over θ (and simplex weights) for emcee;
- :mod:`latentlab.mcmc.ensemble`: a seeded emcee wrapper and convergence diagnostics;
- :mod:`latentlab.mcmc.latent`: exact (tempered) Gibbs and the reference's 2-way MH swap;
- :mod:`latentlab.mcmc.aip`: the alternating latent/parameter loop with a temperature schedule;
- :mod:`latentlab.mcmc.diagnostics`: R̂ and ESS from independent chains or ensembles;
- :mod:`latentlab.mcmc.marginal`: independent chains on p(θ, π | x), assignments summed out;
- :mod:`latentlab.mcmc.hmc`: vectorised independent HMC chains with Stan-style warm-up;
- :mod:`latentlab.mcmc.posterior_hmc`: HMC on p(θ, π | x) of a lymph-HMM mixture,
  with the gradient written out by hand.
"""

from latentlab.mcmc.aip import AIPResult, aip_sample, linear_schedule, relabel_samples
from latentlab.mcmc.diagnostics import (
    Summary, describe_interval, ensemble_diagnostics, ess, rhat, summarize,
)
from latentlab.mcmc.ensemble import (
    ChainResult, autocorr_time, effective_sample_size, run_emcee, split_rhat,
)
from latentlab.mcmc.latent import gibbs_latent, log_joint, mh_swap_sampler
from latentlab.mcmc.hmc import HMCResult, hmc
from latentlab.mcmc.marginal import MarginalChains, marginal_chains
from latentlab.mcmc.posterior_hmc import MixtureHMC, mixture_hmc
from latentlab.mcmc.targets import (
    ConditionalTarget, MarginalTarget, alr_from_simplex, log_beta_prior, simplex_from_alr,
)

__all__ = [
    "AIPResult", "aip_sample", "linear_schedule", "relabel_samples", "ChainResult", "autocorr_time",
    "effective_sample_size", "run_emcee", "split_rhat", "gibbs_latent", "log_joint",
    "mh_swap_sampler", "ConditionalTarget", "MarginalTarget", "alr_from_simplex",
    "log_beta_prior", "simplex_from_alr", "Summary", "ensemble_diagnostics", "ess", "rhat",
    "summarize", "MarginalChains", "marginal_chains", "describe_interval", "HMCResult", "hmc",
    "MixtureHMC", "mixture_hmc",
]
