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
    "book/01-mixing-formulations": {},
    "book/02-hot-start": {},
    "book/03-em-aip-sampling": {},
    "book/04-mofa-elbo": {},
    "book/05-ann-from-scratch": {},
    "book/06-sweep-evaluation": {},
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
