"""make book's parallel execution: pages run in workers, land in the cache myst-nb reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from latentlab import _parallel_build as pb

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def _book(root: Path, pages: dict[str, str]) -> Path:
    (root / "book").mkdir(parents=True)
    chapters = "\n".join(f"  - file: book/{name}" for name in pages)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: book/intro\nchapters:\n{chapters}\n")
    (root / "book" / "intro.md").write_text("# Intro\n\nNo code here.\n")
    for name, code in pages.items():
        cell = f"```{{code-cell}} ipython3\n{code}\n```\n"
        (root / "book" / f"{name}.md").write_text(f"{HEADER}\n# {name}\n\n{cell}")
    return root


def test_order_is_longest_first_with_unmeasured_pages_first(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "timings.json").write_text(
        json.dumps({"full": {"book/a": 5.0, "book/b": 50.0}, "fast": {"book/a": 9.0}})
    )
    assert pb._order(["book/a", "book/b", "book/new"], tmp_path, fast=False) == [
        "book/new", "book/b", "book/a"]
    assert pb._order(["book/b", "book/a"], tmp_path, fast=True)[-1] == "book/a"


def test_pages_run_in_parallel_into_a_cache_that_matches_them(tmp_path):
    root = _book(tmp_path, {"one": "import os\nos.environ['LATENTLAB_FAST']",
                            "blas": "import os\nos.environ.get('OPENBLAS_NUM_THREADS')",
                            "two": "from pathlib import Path\nPath.cwd().name"})
    pages = ["book/one", "book/blas", "book/two"]
    assert pb.notebook_pages(root) == pages  # intro has no code
    cache = tmp_path / "cache"
    assert pb.unmatched(root, cache) == pages
    seconds = pb.execute_all(root, cache, jobs=2, fast=True)
    assert set(seconds) == set(pages) and min(seconds.values()) > 0
    assert pb.unmatched(root, cache) == []
    from jupyter_cache import get_cache

    record = get_cache(str(cache)).match_cache_notebook(pb._read(root / "book/one.md"))
    outputs = get_cache(str(cache)).get_cache_bundle(record.pk).nb.cells[0].outputs
    assert outputs[0]["data"]["text/plain"] == "'1'"  # the size the build asked for
    record = get_cache(str(cache)).match_cache_notebook(pb._read(root / "book/two.md"))
    outputs = get_cache(str(cache)).get_cache_bundle(record.pk).nb.cells[0].outputs
    assert outputs[0]["data"]["text/plain"] == "'book'"  # run in the page's folder
    record = get_cache(str(cache)).match_cache_notebook(pb._read(root / "book/blas.md"))
    outputs = get_cache(str(cache)).get_cache_bundle(record.pk).nb.cells[0].outputs
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        assert outputs[0]["data"]["text/plain"] == "'1'"  # side by side: one BLAS thread
    # a changed page no longer matches: myst-nb would run it again
    page = root / "book" / "two.md"
    page.write_text(page.read_text().replace("Path.cwd().name", "1 + 1"))
    assert pb.unmatched(root, cache) == ["book/two"]


def test_a_failing_page_stops_the_build_naming_it(tmp_path):
    root = _book(tmp_path, {"good": "1 + 1", "bad": "raise ValueError('planted')"})
    with pytest.raises(SystemExit, match=r"book/bad\.md failed:(.|\n)*planted"):
        pb.execute_all(root, tmp_path / "cache", jobs=2, fast=True)


def test_jobs_must_be_positive():
    with pytest.raises(SystemExit):
        pb.main(["--jobs", "0"])
