"""The book machinery: toc parsing, glue collection, student edition, broken cells fail."""

import re
from collections import Counter
from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest

from latentlab import book_tools
from latentlab.book_tools import ROOT, strip_solutions, toc_pages, write_student_edition
from notebook_harness import executed_glue

PAGE_HEADER = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3 (ipykernel), language: python, name: python3}
---
"""


def _write_book(tmp_path: Path, body: str) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text(PAGE_HEADER + body)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/page\n")
    return tmp_path


def test_toc_starts_at_intro_and_lists_existing_pages():
    pages = toc_pages()
    assert pages[0] == "book/intro"
    assert all((ROOT / f"{p}.md").exists() for p in pages)


def test_intro_says_the_sigmoid_slope():
    """The intro's computed sentence renders with the peak slope it checked."""
    from notebook_harness import executed_notebook

    said = [o["data"]["text/markdown"] for c in executed_notebook("intro").cells
            for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
    text = " ".join("".join(t) if isinstance(t, list) else t for t in said)
    assert "peaks at $x = 0$ with value 0.250" in text


def test_a_broken_cell_fails_execution(tmp_path):
    root = _write_book(tmp_path, """
```{code-cell} ipython3
:tags: [parameters]
import os
fast = os.environ.get("LATENTLAB_FAST", "0") == "1"
```

```{code-cell} ipython3
raise RuntimeError("deliberately broken cell")
```
""")
    with pytest.raises(papermill.PapermillExecutionError, match="deliberately broken cell"):
        book_tools.execute_page("book/page", root=root, output_dir=tmp_path / "out")


def test_execute_page_injects_fast_and_records_time(tmp_path):
    root = _write_book(tmp_path, """
```{code-cell} ipython3
:tags: [parameters]
import os
fast = os.environ.get("LATENTLAB_FAST", "0") == "1"
```

```{code-cell} ipython3
from myst_nb import glue
glue("fast_seen", fast, display=False)
glue("cwd_name", os.path.basename(os.getcwd()), display=False)
```
""")
    times = tmp_path / "times.json"
    executed = book_tools.execute_page("book/page", root=root, fast=True,
                                       output_dir=tmp_path / "out", times_file=times)
    values = book_tools.glued_values(executed)
    assert values == {"fast_seen": True, "cwd_name": "book"}
    assert "book/page" in times.read_text()


_FENCE = re.compile(r"^(`{3,}|:{3,})\{(solution|solution-start|solution-end)\}")
_MARKUP = re.compile(r"^(\+\+\+|`{3,}|:{3,}|:tags:|:class:|:label:)")


def _solution_texts(markdown: str) -> list[str]:
    """Lines of solution content read straight from the page source, ignoring cell tags:
    everything between {solution-start} and {solution-end}, and {solution} bodies."""
    lines, inside, fence_stack = [], False, None
    for raw in markdown.splitlines():
        line = raw.strip()
        match = _FENCE.match(line)
        if match:
            kind = match.group(2)
            inside = kind in ("solution", "solution-start") or (inside and kind != "solution-end")
            fence_stack = match.group(1) if kind == "solution" else None
            continue
        if fence_stack and line == fence_stack:
            inside, fence_stack = False, None
            continue
        if inside and len(line) > 12 and not _MARKUP.match(line):
            lines.append(line)
    return lines


def test_student_edition_has_no_solution_text(tmp_path):
    written = write_student_edition(tmp_path)
    assert written, "no student notebooks were written"
    for path in written:
        page = next(p for p in toc_pages() if Path(p).name == path.stem)
        markdown = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        in_solutions = Counter(_solution_texts(markdown))
        in_page = Counter(line.strip() for line in markdown.splitlines())
        # a line that also stands outside the solutions (shared code) proves nothing
        solution_lines = [line for line, n in in_solutions.items() if in_page[line] == n]
        assert solution_lines or page == "book/teaching", f"{page}: no solution found"
        student = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in student.cells)
        student_lines = {line.strip() for line in text.splitlines()}
        for line in solution_lines:
            assert line not in student_lines, f"{path.name} still contains solution text: {line!r}"
        assert "solution-start" not in text and "{solution}" not in text
        assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_student_edition_keeps_the_exercise():
    student = strip_solutions(jupytext.read(ROOT / "book" / "intro.md"))
    text = "\n".join(cell.source for cell in student.cells)
    assert "{exercise}" in text
    assert "finite_difference" not in text


def test_student_notebook_runs_up_to_the_first_exercise(tmp_path):
    student = strip_solutions(jupytext.read(ROOT / "book" / "intro.md"))
    first_exercise = next(i for i, c in enumerate(student.cells) if "{exercise}" in c.source)
    student.cells = student.cells[:first_exercise]
    papermill.execute_notebook(student, str(tmp_path / "student.ipynb"), parameters={"fast": True},
                               cwd=str(ROOT / "book"), kernel_name="python3", progress_bar=False)


def test_strip_solutions_drops_untagged_cells_between_markers():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{exercise}\n:label: e\nDo it.\n```"),
        nbformat.v4.new_markdown_cell("```{solution-start} e\n:class: dropdown\n```"),
        nbformat.v4.new_code_cell("secret_answer = 42"),
        nbformat.v4.new_markdown_cell("The answer is 42.\n```{solution-end}\n```\nAfter."),
        nbformat.v4.new_markdown_cell("```{solution} e\n:class: dropdown\nHidden.\n```\nVisible."),
    ])
    sources = [c.source for c in strip_solutions(nb).cells]
    assert sources == ["```{exercise}\n:label: e\nDo it.\n```", "After.", "Visible."]


def test_check_html_reports_missing_build(tmp_path):
    problems = book_tools.check_html(tmp_path)
    assert any("index.html" in p for p in problems)
    assert any("MathJax" in p for p in problems)


def test_check_html_flags_cdn_mathjax(tmp_path):
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    (tmp_path / "index.html").write_text(
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>')
    assert "index.html loads MathJax from the network" in book_tools.check_html(tmp_path)


def test_executed_intro_contains_its_figure():
    """Kernels must keep the inline backend (an MPLBACKEND=Agg leak drops every figure)."""
    from notebook_harness import executed_notebook

    images = [o for c in executed_notebook("intro").cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the executed intro page has no figure"


def test_text_after_solution_end_in_a_tagged_cell_is_kept():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{solution-start} e\n```", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("answer = 1", metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```\n\n```{exercise}\n:label: f\nNext.\n```",
                                      metadata={"tags": ["solution"]}),
    ])
    assert [c.source for c in strip_solutions(nb).cells] == ["```{exercise}\n:label: f\nNext.\n```"]
