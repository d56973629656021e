"""Multi-view Bayesian factor analysis (MOFA) by variational inference (chapter 4).

Quick start::

    from latentlab.mofa import MOFA
    result = MOFA(n_factors=10, verbose=False).fit({"rna": X_rna, "protein": X_prot}, rng=0)
    result.factors            # (n_samples, K) posterior means of Z
    result.weights["rna"]     # (n_features, K) posterior means of W
    result.r2_per_factor      # (n_views, K) variance explained (fractions)
    result.history            # ELBO per iteration

Modules: :mod:`~latentlab.mofa.data` (checking views), :mod:`~latentlab.mofa.nodes`
(coordinate updates), :mod:`~latentlab.mofa.elbo` (the bound per node),
:mod:`~latentlab.mofa.likelihoods` (Bernoulli and Poisson bounds),
:mod:`~latentlab.mofa.svi` (stochastic VI), :mod:`~latentlab.mofa.model`
(the estimator), :mod:`~latentlab.mofa.metrics`, :mod:`~latentlab.mofa.selection`,
:mod:`~latentlab.mofa.simulate`, :mod:`~latentlab.mofa.plots`,
:mod:`~latentlab.mofa.benchmark` (the recorded comparison with mofapy2).
"""

from latentlab.mofa.benchmark import (
    benchmark_results,
    name_rows,
    regime_table,
    summary_sentence,
)

from latentlab.mofa.metrics import (
    enrichment_test,
    factor_activity,
    factor_recovery,
    label_association,
    match_factors,
    restart_reproducibility,
    variance_explained,
)
from latentlab.mofa.model import MOFA, ELBODecreaseWarning, fit_mofa
from latentlab.mofa.result import MOFAResult
from latentlab.mofa.selection import cv_reconstruction_error, fit_restarts
from latentlab.mofa.simulate import SimulatedMOFA, simulate_mofa

__all__ = [
    "MOFA",
    "MOFAResult",
    "fit_mofa",
    "ELBODecreaseWarning",
    "simulate_mofa",
    "SimulatedMOFA",
    "variance_explained",
    "factor_activity",
    "enrichment_test",
    "factor_recovery",
    "match_factors",
    "label_association",
    "restart_reproducibility",
    "cv_reconstruction_error",
    "fit_restarts",
    "benchmark_results",
    "regime_table",
    "name_rows",
    "summary_sentence",
]
