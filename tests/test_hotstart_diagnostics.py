"""Chapter 2's diagnostics (latentlab.hotstart.diagnostics)."""

import numpy as np
import pytest

from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.hotstart import FixedSignaturePredictor, checkpoint_from_fit, predict_hazards
from latentlab.hotstart.diagnostics import hazard_ratios, mean_range_text, prior_mean_distance
from latentlab.signatures import fit_signatures


def test_hazard_ratios_against_known_true_hazards():
    sim = simulate_signatures(50, 6, 12, 2, 2, rng=3)
    fit = fit_signatures(sim.data, 2, n_epochs=5, rng=0, verbose=False)
    ckpt = checkpoint_from_fit(fit, covariate_mean=np.zeros(2), covariate_scale=np.ones(2))
    lam = FixedSignaturePredictor(ckpt, n_epochs=4, learning_rate=0.03).fit(
        sim.data, enrollment=5, rng=0).lam
    predicted = predict_hazards(ckpt, lam)
    ratios = hazard_ratios(ckpt, sim.data, 2 * predicted, enrollment=5, horizon=4,
                           groups={"a": [0, 1], "b": [2, 3, 4, 5]}, n_epochs=4)
    assert ratios == pytest.approx({"overall": 0.5, "a": 0.5, "b": 0.5})
    with pytest.raises(ValueError, match="true_hazards"):
        hazard_ratios(ckpt, sim.data, predicted[:, :, :3], enrollment=5, horizon=4,
                      groups={}, n_epochs=4)


def test_prior_mean_distance_splits_at_enrollment():
    mean = np.random.default_rng(0).normal(size=(3, 2, 8))
    lam = mean.copy()
    lam[:, :, :5] += 2.0
    lam[:, :, 5:] += 0.5
    assert prior_mean_distance(lam, mean, 5) == pytest.approx((2.0, 0.5))
    with pytest.raises(ValueError, match="enrollment"):
        prior_mean_distance(lam, mean, 8)


def test_mean_range_text():
    assert mean_range_text([1.0, 2.0, 4.5], 2) == "2.5 [1.0, 4.5]"
    with pytest.raises(ValueError, match="values"):
        mean_range_text([])
