"""The lymph HMM of chapter 3: a tiny hidden Markov model of lymphatic tumour spread.

:mod:`~latentlab.lymph.model` holds the component (the model itself is described
there); :mod:`~latentlab.lymph.predict` what a fitted mixture predicts. Import from
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
