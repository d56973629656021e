"""Every page of the book executes in fast mode; every page is in the table of contents."""

from __future__ import annotations

import jupytext
import pytest

from latentlab.book_tools import ROOT, book_pages, toc_pages
from notebook_harness import executed_notebook


def _pages_with_code() -> list[str]:
    pages = []
    for page in toc_pages():
        notebook = jupytext.read(ROOT / f"{page}.md")
        if any(cell.cell_type == "code" for cell in notebook.cells):
            pages.append(page)
    return pages


def test_every_book_page_is_in_the_toc():
    missing = sorted(set(book_pages()) - set(toc_pages()))
    assert not missing, f"pages in book/ missing from _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = [page for page in toc_pages() if not (ROOT / f"{page}.md").exists()]
    assert not absent, f"_toc.yml lists pages that do not exist: {absent}"


@pytest.mark.parametrize("page", _pages_with_code())
def test_page_has_parameters_cell_with_fast_flag(page):
    notebook = jupytext.read(ROOT / f"{page}.md")
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{page} needs exactly one cell tagged 'parameters'"
    assert "fast" in tagged[0].source and "LATENTLAB_FAST" in tagged[0].source
    # only the chapter opening's study-time sentence may come before it
    first_code = next(c for c in notebook.cells if c.cell_type == "code"
                      and "chapter-opening" not in c.metadata.get("tags", []))
    assert first_code is tagged[0], f"{page}: the parameters cell must be the first code cell"


@pytest.mark.notebook
@pytest.mark.parametrize("page", _pages_with_code())
def test_page_executes_in_fast_mode(page):
    """Fails with the failing cell's traceback (PapermillExecutionError)."""
    executed = executed_notebook(page.split("/")[-1])
    assert executed.metadata["papermill"]["parameters"] == {"fast": True}
