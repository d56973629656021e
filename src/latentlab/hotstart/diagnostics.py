"""Small diagnostics the hot-start chapter reports: calibration per group, λ's drift, spreads.

* :func:`hazard_ratios`: a master's predicted/true hazard ratio after enrollment,
  overall and per disease group, from one λ-only fit of a batch.
* :func:`prior_mean_distance`: how far a fitted λ lies from its genetic prior
  mean before and after an enrollment cut (after it, no data act on λ).
* :func:`mean_range_text`: "mean [min, max]" of a few values, for prose.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from latentlab._validation import check_array, check_integer
from latentlab.claims import centre_range
from latentlab.hotstart.calibration import at_risk_window, hazard_ratio
from latentlab.hotstart.checkpoints import Checkpoint
from latentlab.hotstart.predict import FixedSignaturePredictor, predict_hazards
from latentlab.signatures.data import SurvivalData

__all__ = ["hazard_ratios", "prior_mean_distance", "mean_range_text"]


def hazard_ratios(
    checkpoint: Checkpoint, data: SurvivalData, true_hazards: np.ndarray, *,
    enrollment: int, horizon: int, groups: Mapping[str, Sequence[int]],
    n_epochs: int, learning_rate: float = 0.03, rng=0,
) -> dict[str, float]:
    """Predicted/true hazard after ``enrollment`` for ``data``: overall and per group.

    λ is fitted on the follow-up before ``enrollment`` (φ, γ, κ frozen at
    ``checkpoint``); the ratio sums hazards over the person-disease-years at
    risk in ``[enrollment, enrollment + horizon)``.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> from latentlab.hotstart import checkpoint_from_fit
    >>> from latentlab.hotstart.diagnostics import hazard_ratios
    >>> from latentlab.signatures import fit_signatures
    >>> sim = simulate_signatures(60, 6, 12, 2, 2, rng=0)
    >>> fit = fit_signatures(sim.data, 2, n_epochs=5, rng=0, verbose=False)
    >>> ckpt = checkpoint_from_fit(fit, covariate_mean=np.zeros(2),
    ...                            covariate_scale=np.ones(2))
    >>> ratios = hazard_ratios(ckpt, sim.data, sim.truth.pi(), enrollment=4,
    ...                        horizon=4, groups={"all": range(6)}, n_epochs=3)
    >>> sorted(ratios), ratios["overall"] == ratios["all"]
    (['all', 'overall'], True)
    """
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
    if not isinstance(data, SurvivalData):
        raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
    T = data.n_times
    true_hazards = check_array(true_hazards, "true_hazards",
                               shape=(data.n_individuals, data.n_diseases, T))
    enrollment = check_integer(enrollment, "enrollment", minimum=1, maximum=T - 1)
    horizon = check_integer(horizon, "horizon", minimum=1)
    predictor = FixedSignaturePredictor(checkpoint, n_epochs=n_epochs,
                                        learning_rate=learning_rate)
    lam = predictor.fit(data, enrollment=enrollment, rng=rng).lam
    hazards = predict_hazards(checkpoint, lam)
    at_risk = at_risk_window(data.E, T, enrollment, enrollment + horizon)
    row = {"overall": hazard_ratio(hazards, true_hazards, at_risk)}
    for name, diseases in groups.items():
        row[name] = hazard_ratio(hazards, true_hazards, at_risk, list(diseases))
    return row


def prior_mean_distance(lam: np.ndarray, prior_mean: np.ndarray,
                        enrollment: int) -> tuple[float, float]:
    """Root-mean-square of λ − prior mean before and from ``enrollment`` on.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.diagnostics import prior_mean_distance
    >>> lam = np.zeros((2, 3, 6)); lam[:, :, :2] = 1.0
    >>> prior_mean_distance(lam, np.zeros((2, 3, 6)), 2)
    (1.0, 0.0)
    """
    lam = check_array(lam, "lam", ndim=3)
    prior_mean = check_array(prior_mean, "prior_mean", shape=lam.shape)
    enrollment = check_integer(enrollment, "enrollment", minimum=1,
                               maximum=lam.shape[2] - 1)
    gap = lam - prior_mean
    return (float(np.sqrt(np.mean(gap[:, :, :enrollment] ** 2))),
            float(np.sqrt(np.mean(gap[:, :, enrollment:] ** 2))))


def mean_range_text(values: Sequence[float], digits: int = 3) -> str:
    """``"mean [min, max]"`` of ``values`` with :func:`latentlab.claims.num`.

    Examples
    --------
    >>> from latentlab.hotstart.diagnostics import mean_range_text
    >>> mean_range_text([1.0, 2.0, 4.5], 2)
    '2.5 [1.0, 4.5]'
    """
    x = check_array(values, "values", ndim=1)
    if x.size == 0:
        raise ValueError("values must not be empty")
    return centre_range(x, digits)
