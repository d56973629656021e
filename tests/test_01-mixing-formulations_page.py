"""Chapter 1 executed in fast mode: its claims were checked, and a few values hold.

The page checks its own sentences (``latentlab.claims``); these tests read the
few values it glues and check them against independent computations.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from latentlab.book_tools import ROOT
from notebook_harness import executed_glue


@pytest.fixture(scope="module")
def glued():
    return executed_glue("01-mixing-formulations")


def test_page_checked_its_claims(glued):
    # one say()/check() per computed paragraph; a page that lost them has few
    assert glued["n_claims"] >= 10


def test_stage1_separation_is_exact_and_unclipped(glued):
    # chapter's φ rows 0 and 1; people ±c(1, −1, 0): log-odds gap 2c·max|φ0 − φ1|
    phi = np.array([[-3.0, -4.0, -7.0, -7.0], [-7.0, -3.5, -4.0, -7.0]])
    expected = [2 * c * np.max(np.abs(phi[0] - phi[1])) for c in glued["strengths"]]
    assert glued["separation_stage1"] == pytest.approx(expected, rel=1e-12)
    assert max(glued["separation_stage1"]) > 2 * np.log(
        (1 - 1e-12) / 1e-12
    )  # above the old clip


def test_symmetries_exact(glued):
    assert glued["kappa_change"] < 1e-14
    assert glued["mix_change"] < 1e-14


def test_cited_cv_constants_match_the_bibliography(glued):
    """The page's constants of the tutorial notebook are the ones its citation records."""
    note = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    entry = note[note.index("@misc{aladynoulli2code") :]
    entry = entry[: entry.index("\n}\n")]
    quoted = {float(x) for x in re.findall(r"\d\.\d{3}", entry)}
    assert set(glued["cv_reported"].values()) <= quoted
    # the page's correction rests on this direction
    assert glued["cv_reported"]["linear"] > glued["cv_reported"]["softmax"]
