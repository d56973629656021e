"""Chapter 4 executed in fast mode: every claim is checked inside the page (say/check
raise ClaimError on a false sentence); here we check that the checks ran and that the
outputs a reader sees are clean."""

from __future__ import annotations

import pytest

from notebook_harness import executed_notebook, output_problems, rendered_sentences

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def notebook():
    return executed_notebook("04-mofa-elbo")


def test_computed_sentences_rendered(notebook):
    text = rendered_sentences(notebook)
    assert "Cross-validation chooses" in text and "refitted inside every fold" in text
    assert ("times as fast as mofapy2" in text) or ("No benchmark against mofapy2" in text)
    assert " 0.0 " not in text and "0.0 %" not in text


def test_no_stderr_reprs_or_uncaptioned_figures(notebook):
    assert output_problems(notebook) == []
