"""Execute book pages once per test session and read back their glued values.

A chapter's tests assert the numbers its prose quotes::

    from notebook_harness import executed_glue
    assert executed_glue("02-hot-start")["speedup"] > 2

The first call executes the page (fast mode, papermill, working directory
``book/``); later calls in the same session reuse the executed notebook.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from latentlab.book_tools import ROOT, execute_page, glued_values, toc_pages

TIMES_FILE = ROOT / "_build" / "notebook-times.json"
#: Per-cell timeout in fast mode (seconds); a whole fast page should take < 20 s.
CELL_TIMEOUT = 180


def resolve_page(name: str) -> str:
    """Map a short name ("intro", "02-hot-start") to its toc path ("book/intro")."""
    for page in toc_pages():
        if page == name or Path(page).name == name:
            return page
    raise KeyError(f"page {name!r} is not listed in _toc.yml")


@lru_cache(maxsize=None)
def executed_notebook(name: str):
    """Execute a page in fast mode (once per session) and return the notebook.

    One run serves the page's tests and its student edition: what runs is the
    page's student notebook (answer cells unanswered), then the page's solution
    cells (``latentlab.editions.student_then_solutions``). Every code cell of the
    page runs; only the solutions move to the end (they close each page).
    """
    from latentlab.editions import student_then_solutions

    page = resolve_page(name)
    return execute_page(page, fast=True, cell_timeout=CELL_TIMEOUT, times_file=TIMES_FILE,
                        notebook=student_then_solutions(page))


def executed_glue(name: str) -> dict[str, Any]:
    """Return every value the page glued, after executing it in fast mode."""
    return glued_values(executed_notebook(name))


def rendered_sentences(notebook) -> str:
    """The computed sentences (Markdown outputs of ``say``) of an executed page, joined."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("data", {}).get("text/markdown")
            if text is not None:
                texts.append("".join(text) if isinstance(text, list) else text)
    return " ".join(texts)


_REPRS = re.compile(r"<matplotlib|<Axes:|Text\(|at 0x|array\(|np\.str_\(")


def output_problems(notebook) -> list[str]:
    """Stderr, object reprs and figures without caption/name in an executed page."""
    problems = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("name") == "stderr":
                problems.append(f"stderr: {cell.source[:80]}")
            elif "image/png" in data:
                figure = cell.metadata.get("mystnb", {}).get("figure", {})
                if not (figure.get("caption") and figure.get("name")):
                    problems.append(f"uncaptioned figure: {cell.source[:80]}")
            elif _REPRS.search(data.get("text/plain", "") + output.get("text", "")):
                problems.append(f"object repr: {cell.source[:80]}")
    return problems
