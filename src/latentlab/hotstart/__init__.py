"""Hot start for the disease-signature model (chapter 2).

One module per idea:

* :mod:`~latentlab.hotstart.checkpoints`: the Checkpoint and pooling batch checkpoints
  into a master; :mod:`~latentlab.hotstart.checkpoint_io`: save/load (npz or torch) with
  format and version checks, a corruption-detecting hash and an optional keyed HMAC.
* :mod:`~latentlab.hotstart.predict`: the λ-only fit with frozen φ, γ, κ (hot or cold start).
* :mod:`~latentlab.hotstart.risk`: one risk window for predictions and outcomes; yearly,
  static and dynamic k-year group risks.
* :mod:`~latentlab.hotstart.metrics`: AUC with a bootstrap interval, binned calibration.
* :mod:`~latentlab.hotstart.transfer`: re-anchoring signatures on another cohort's
  prevalence (our extension) and modified-Jaccard signature matching.
* :mod:`~latentlab.hotstart.pooling`: pooling strategies that respect the κ symmetry.
* :mod:`~latentlab.hotstart.calibration`: predicted/true hazard ratios, Poisson
  intervals, recalibration of a master on its training batches.
* :mod:`~latentlab.hotstart.comparison`: hot start versus cold fit, scored on the
  predictions after enrollment.
"""

from latentlab.hotstart.checkpoints import (
    Checkpoint,
    checkpoint_from_fit,
    covariate_standardisation,
    pool_checkpoints,
)
from latentlab.hotstart.checkpoint_io import load_checkpoint, save_checkpoint
from latentlab.hotstart.metrics import AucResult, CalibrationResult, auc_with_ci, binned_calibration
from latentlab.hotstart.predict import (
    FixedSignaturePredictor,
    LambdaFit,
    epochs_to_threshold,
    fit_lambda,
    predict_hazards,
)
from latentlab.hotstart.risk import (
    RiskWindow,
    WindowOutcome,
    disease_group,
    dynamic_risk,
    forward_nll,
    static_risk,
    window_outcomes,
    yearly_group_risk,
)
from latentlab.hotstart.transfer import (
    JaccardResult,
    anchor_offsets,
    modified_jaccard,
    offset_disease_sets,
    offset_recovery,
    reanchor,
    signature_disease_sets,
)

__all__ = [
    "Checkpoint",
    "checkpoint_from_fit",
    "covariate_standardisation",
    "save_checkpoint",
    "load_checkpoint",
    "pool_checkpoints",
    "FixedSignaturePredictor",
    "LambdaFit",
    "fit_lambda",
    "epochs_to_threshold",
    "predict_hazards",
    "AucResult",
    "CalibrationResult",
    "auc_with_ci",
    "binned_calibration",
    "RiskWindow",
    "WindowOutcome",
    "disease_group",
    "yearly_group_risk",
    "static_risk",
    "dynamic_risk",
    "window_outcomes",
    "forward_nll",
    "JaccardResult",
    "anchor_offsets",
    "reanchor",
    "offset_recovery",
    "modified_jaccard",
    "signature_disease_sets",
    "offset_disease_sets",
]
