"""Chapter 1's held-out study (latentlab.signatures.heldout)."""

import numpy as np
import pytest

from latentlab.signatures.fit import relative_change
from latentlab.signatures.heldout import heldout_study, seed_spread


def test_seed_spread_words_mean_and_range():
    assert seed_spread([0.5, 0.7], 2) == "0.60 (range [0.50, 0.70] over 2 seeds)"
    with pytest.raises(ValueError, match="non-empty"):
        seed_spread([])


def test_heldout_study_reports_its_convergence_rule():
    sizes = dict(n_individuals=80, n_diseases=6, n_times=14, n_signatures=2,
                 n_covariates=2, horizon=4, n_epochs=30, min_events=1)
    strict = heldout_study(0, rtol=1e-12, **sizes)
    loose = heldout_study(0, rtol=1.0, **sizes)
    assert not strict["converged"] and loose["converged"]
    history = np.asarray(strict["fit"].history)
    assert strict["relative_change"] == pytest.approx(relative_change(history))
    assert strict["epochs"] == 30 and strict["last_loss"] < strict["first_loss"]
    assert strict["cut"] == 14 - 4 - 2 and strict["test"].size > 0
    assert 0.0 <= strict["auc_oracle"] <= 1.0
