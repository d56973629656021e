"""A tiny hidden Markov model of lymphatic tumour spread (chapter 3).

Lymph node levels (LNLs) are binary hidden states on a directed graph with a
tumour node: the tumour drains into every LNL (``T -> I .. V``) and the LNLs
drain along a chain (``I -> II -> III -> IV -> V``). In one time step a healthy
LNL ``v`` becomes involved with probability

.. math:: 1 - (1 - b_{T v}) \\prod_{u \\to v,\\ u\\ \\text{involved}} (1 - b_{u v}),

involvement is absorbing, and LNLs update independently given the current
state. After ``t ~ Binomial(t_max, p_stage)`` steps from "all healthy" each
modality reports every LNL with its sensitivity and specificity. Unknown
entries (NaN) are marginalised: they contribute a factor 1.

Reference behaviour: the same model as ``lymph.models.Unilateral`` of
``lymph-model`` 1.3.8 with a binomial time prior (early ``p = 0.3`` fixed,
late ``p`` free); here it is a few vectorised numpy lines, evaluated for K
parameter vectors at once.

The package holds :mod:`~latentlab.lymph.model` (the component) and
:mod:`~latentlab.lymph.predict` (what a fitted mixture predicts); import from
:mod:`latentlab.lymph`.
"""

from latentlab.lymph.model import HMMData, LymphHMMComponent, early_late
from latentlab.lymph.predict import (
    observed_prevalence,
    posterior_involvement,
    predicted_involvement,
    predicted_involvement_draws,
    subgroup_posterior,
)

__all__ = [
    "LymphHMMComponent", "HMMData", "early_late", "predicted_involvement",
    "predicted_involvement_draws", "observed_prevalence", "posterior_involvement",
    "subgroup_posterior",
]
