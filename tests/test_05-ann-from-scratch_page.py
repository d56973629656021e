"""Chapter 5 executed in fast mode: every claim is checked inside the page (say/check
raise ClaimError on a false sentence); here we check that the checks ran and that the
outputs a reader sees are clean."""

from __future__ import annotations

import re

import pytest

from notebook_harness import executed_notebook

pytestmark = pytest.mark.notebook

PAGE = "05-ann-from-scratch"
REPRS = re.compile(r"<matplotlib|<Axes:|Text\(|at 0x|array\(|np\.str_\(")


@pytest.fixture(scope="module")
def notebook():
    return executed_notebook(PAGE)


def _outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            yield cell, cell.get("outputs", [])


def test_computed_sentences_rendered(notebook):
    sentences = [
        o["data"]["text/markdown"]
        for _, outputs in _outputs(notebook)
        for o in outputs
        if "text/markdown" in o.get("data", {})
    ]
    assert len(sentences) >= 14
    text = " ".join(sentences)
    assert "Fisher's exact test" in text and "inner cross-validation chose" in text
    assert " 0.0 " not in text and "0.0 %" not in text


def test_no_stderr_reprs_or_uncaptioned_figures(notebook):
    for cell, outputs in _outputs(notebook):
        for output in outputs:
            assert output.get("name") != "stderr", cell.source[:80]
            plain = output.get("data", {}).get("text/plain", "") if "data" in output else ""
            if "image/png" not in output.get("data", {}):
                assert not REPRS.search(plain + output.get("text", "")), cell.source[:80]
            else:
                figure = cell.metadata.get("mystnb", {}).get("figure", {})
                assert figure.get("caption") and figure.get("name"), cell.source[:80]


def test_code_lines_fit_the_screen(notebook):
    for cell, _ in _outputs(notebook):
        assert all(len(line) <= 88 for line in cell.source.splitlines()), cell.source[:80]
