"""Chapter 2 executed in fast mode: its claims were checked, and key values hold.

The page checks its own sentences (``latentlab.claims``); these tests read the
values it glues and check what the chapter's conclusions rest on.
"""

from __future__ import annotations

import numpy as np
import pytest

from notebook_harness import executed_glue


@pytest.fixture(scope="module")
def glued():
    return executed_glue("02-hot-start")


def test_page_checked_its_claims(glued):
    assert glued["n_claims"] >= 12


def test_chapter_master_is_the_best_calibrated(glued):
    ratios = glued["hazard_ratios"]
    assert set(ratios) == {
        "reference",
        "probability",
        "aligned",
        "probability + recalibrated",
    }
    distance = {name: abs(np.log(r["overall"])) for name, r in ratios.items()}
    assert min(distance, key=distance.get) == "probability + recalibrated"
    # fast mode: overall inside the target band
    assert 0.8 <= ratios["probability + recalibrated"]["overall"] <= 1.25


def test_hot_and_cold_scored_on_the_same_seeds(glued):
    comparison = glued["comparison"]
    kinds = comparison["kind"]
    assert kinds.count("hot") == kinds.count("cold") >= 1
    # both fits stopped by the common relative rule, not by their caps
    assert all(comparison["converged"])
    assert all(s > 0 for s in comparison["seconds"])
    assert all(0 <= a <= 1 for a in comparison["auc"])


def test_no_leakage(glued):
    assert glued["leak"] == 0.0
