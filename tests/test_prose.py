"""The prose of every page: no typed results, no inline glue, code that fits the screen.

Numbers typed into the prose must be constants of a method or a source, cited on
the page; everything else is computed (``latentlab.claims``). The allow-list below
names each typed constant with its source.
"""

from __future__ import annotations

import jupytext
import pytest

from latentlab.book_tools import ROOT, book_pages
from latentlab.prosecheck import long_code_lines, typed_numbers

#: page -> {typed number: where it comes from}. Keep it short; cite the source on the page.
ALLOWED: dict[str, dict[str, str]] = {
    "book/intro": {},
    "book/01-mixing-formulations": {
        "30 %": "setting: share of people whose follow-up is cut for the held-out test",
        "0.01": "definition: the distance to the upper end that counts as 'near'",
    },
    "book/02-hot-start": {
        "256": "name of the hash, SHA-256",
        "0.03": "setting: the λ-only learning rate",
        "0.01": "setting: the grid of starting scales",
        "0.1": "setting: the grid of starting scales",
        "0.2": "definition in an exercise (a constant λ below 0.2)",
    },
    "book/03-em-aip-sampling": {
        "2021": "name of the lyDATA data set (2021 USZ Oropharynx)",
        "2023": "name of the lyDATA data set (2023 ISB Multisite)",
        "4.0": "licence name, CC BY-SA 4.0",
        "0.9": "setting of the simulation (sensitivity = specificity)",
        "1.05": "setting: the swap move's annealing start",
        "90 %": "definition: the level of the predictive intervals",
        "5000": "setting in an exercise (number of sweeps)",
    },
    "book/04-mofa-elbo": {
        "0.7": "setting of the simulation (noise sd range)",
        "1.3": "setting of the simulation (noise sd range)",
        "100": "setting in an exercise (noise features; batch share)",
        "25 %": "setting in an exercise (batch share)",
    },
    "book/05-ann-from-scratch": {
        "0.1": "the seed notebook's learning rate (a cited setting)",
        "000": "part of 10,000 epochs, the seed notebook's setting",
        "0.2": "setting: our learning rate, equal to the classic 0.1",
        "100": "settings: steps compared in tests, learning-rate factor, exercise",
        "0.01": "settings: weight threshold counted, L2 penalty",
        "1.0": "definition: error of predicting the training mean",
        "95 %": "definition: the level of the intervals",
        "0.5": "threshold of a claim checked in the page (rank correlation)",
    },
    "book/06-sweep-evaluation": {
        "0.5": "settings: boundary-rule shrinkage, exercise bandwidths",
        "1 %": "setting: the creep stop (creep_stop=0.01)",
        "10 %": "definition of the 'incomplete' status",
        "100": "setting: number of segments",
        "0.7": "the MorphSeq lab note's F1 threshold (cited)",
        "95 %": "definition: the level of the bootstrap intervals",
        "0.3": "setting in an exercise (bandwidth)",
    },
    "book/teaching": {},
    "book/bibliography": {},
}

PAGES = book_pages()


def test_every_page_has_an_allow_list_entry():
    assert sorted(ALLOWED) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_no_typed_result_numbers(page):
    notebook = jupytext.read(ROOT / f"{page}.md")
    found = [n for c in notebook.cells if c.cell_type == "markdown" for n in typed_numbers(c.source)]
    unexplained = sorted({n for n in found if n not in ALLOWED.get(page, {})})
    assert not unexplained, (
        f"{page}: typed numbers in the prose {unexplained}; compute them (latentlab.claims) "
        "or cite their source and add them to ALLOWED with the reason"
    )


@pytest.mark.parametrize("page", PAGES)
def test_no_inline_glue(page):
    """Inline glue cannot render in plain Jupyter; pages say() computed sentences instead."""
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    assert "{glue:" not in text and "{glue}" not in text, f"{page} still uses inline glue"


@pytest.mark.parametrize("page", PAGES)
def test_code_cells_fit_the_screen(page):
    assert not long_code_lines(ROOT / f"{page}.md"), long_code_lines(ROOT / f"{page}.md")
