"""EM for mixtures of component models over subgroups (chapter 3).

Patient ``i`` belongs to subgroup ``s(i)`` (a tumour subsite); each subgroup
has its own weights ``π[:, s]`` over K components sharing one component model
with per-component parameters ``θ_k``. A *component* is any object with

- ``param_names`` (tuple of str), ``n_params``, ``bounds`` (n_params × 2), ``n_columns`` (data columns);
- ``prepare(X, stage=None)``: the θ-independent data object;
- ``log_likelihoods(thetas, data)``: (N, n_sets) log p(x_i | θ) for each row of ``thetas``;
- ``closed_form_m_step(data, responsibilities)``: (K, n_params) or ``None``;
- ``init_params(K, rng)`` and ``simulate(theta, stage, rng)``.

:class:`BernoulliComponent` (latent class model) and
:class:`latentlab.lymph.LymphHMMComponent` implement it.

Reference behaviour (lymixture): its E-step returns rows grouped by subgroup
and its M-step reads responsibilities stored in the model; here rows keep the
input order and every function takes its inputs as arguments.

The package is split by idea: :mod:`~latentlab.mixture.components` (the Bernoulli
component, warnings), :mod:`~latentlab.mixture.steps` (E/M steps and
log-likelihoods) and :mod:`~latentlab.mixture.fit` (EM with restarts, alignment,
simulation); import everything from :mod:`latentlab.mixture`.
"""

from latentlab.mixture.components import (
    BernoulliComponent,
    ConvergenceWarning,
    LikelihoodDecreaseWarning,
)
from latentlab.mixture.fit import EMResult, align_components, fit_em, simulate_mixture
from latentlab.mixture.steps import (
    complete_loglik,
    e_step,
    encode_subgroups,
    entropy,
    incomplete_loglik,
    m_step_components,
    m_step_weights,
)

__all__ = [
    "BernoulliComponent", "EMResult", "encode_subgroups", "e_step", "m_step_weights",
    "m_step_components", "incomplete_loglik", "complete_loglik", "entropy", "fit_em",
    "align_components", "simulate_mixture", "LikelihoodDecreaseWarning", "ConvergenceWarning",
]
