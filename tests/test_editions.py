"""The class kit: student and instructor notebooks in plain CommonMark, answer cells,
study times, the pairing that JupyterLab uses, and the HTML download links."""

from __future__ import annotations

import json
import pickle
import re
import types
from functools import lru_cache
from pathlib import Path

import jupytext
import nbformat
import pytest
from markdown_it import MarkdownIt

from latentlab import editions
from latentlab.book_tools import ROOT, toc_pages
from latentlab.commonmark import ROLE, Context, cite_text, convert_markdown

HEADER = """---
jupytext:
  formats: md:myst,notebooks//ipynb
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3 (ipykernel), language: python, name: python3}
---
"""
CHAPTERS = [p for p in toc_pages() if re.match(r"\d+-", Path(p).name)]
SCAFFOLD = re.compile(r"# Exercise [\d.]+, your code\n\.\.\.")  # added by the builder
_MYST_LINE = re.compile(r"^\s*(:{3,}|:[\w-]+:|\(\S+\)=\s*$|\+\+\+|%)")


@lru_cache(maxsize=None)
def _edition(kind: str) -> tuple[Path, ...]:
    out = ROOT / "_build" / "test-editions" / kind
    return tuple(editions.write_edition(out, kind, executed_dir=None))


def myst_left(markdown: str) -> list[str]:
    """MyST syntax that survives a CommonMark render of ``markdown``."""
    problems = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "fence" and token.info.strip().startswith("{"):
            problems.append(f"directive fence {token.info.strip()}")
        if token.type == "inline":
            problems += [f"role {m.group(0)}" for m in ROLE.finditer(token.content)]
            problems += [f"line {x!r}" for x in token.content.splitlines()
                         if _MYST_LINE.match(x)]
            if "{glue" in token.content or "{{" in token.content:
                problems.append(f"placeholder in {token.content[:60]!r}")
    return problems


# --- the converter -----------------------------------------------------------------


def test_myst_left_finds_what_it_should():
    assert myst_left("Value {glue:text}`x:.2f` here.")
    assert myst_left("```{exercise}\n:label: e\nDo.\n```")
    assert myst_left(":::{note}\nHi\n:::")
    assert not myst_left("Plain $x_{ik}$ and `code {x}` and\n\n```python\nf'{x}'\n```")


def test_roles_become_text():
    ctx = Context(chapter=2, labels={"fig-a": "Figure 2.1", "sec": "Two cohorts"},
                  pages={"01-mixing": "Mixing"}, glue={"auc": 0.71234},
                  bib=ROOT / "book" / "references.bib")
    text = convert_markdown(
        "AUC {glue:text}`auc:.3f`, see {numref}`fig-a`, {ref}`sec`, "
        "{doc}`01-mixing` and {doc}`the start <01-mixing>`, {math}`x^2`.", ctx)
    assert text == ("AUC 0.712, see Figure 2.1, Two cohorts, [Mixing](01-mixing.ipynb) "
                    "and [the start](01-mixing.ipynb), $x^2$.")
    assert ctx.glue_used and not myst_left(text)


def test_cite_reads_the_bibliography():
    bib = ROOT / "book" / "references.bib"
    if not bib.exists():
        pytest.skip("book/references.bib is not there yet")
    text = cite_text("urbut2024aladynoulli", bib)
    assert text == "(Urbut et al. 2024)"
    assert cite_text("urbut2024aladynoulli", bib, textual=True) == "Urbut et al. (2024)"
    assert convert_markdown("As {cite:t}`urbut2024aladynoulli` show.",
                            Context(bib=bib)) == "As Urbut et al. (2024) show."


def test_directives_become_commonmark():
    ctx = Context(chapter=4)
    source = ("```{admonition} Missing at random?\n:class: warning\n\nNot always.\n```\n\n"
              ":::{note}\nA note with {glue:text}`n`.\n:::\n\n"
              "```{math}\n:label: eq-elbo\n\\mathcal L = 1\n```\n\n"
              "$$ a = b $$ (eq-two)\n\n(sec-x)=\n% a comment\n"
              "```{exercise}\n:label: e1\n\nShow it.\n```\n\n"
              "```{solution-start} e1\n:class: dropdown\n```\n\n```python\nx = {1}\n```")
    text = convert_markdown(source, ctx)
    assert "> **Missing at random?**\n>\n> Not always." in text
    assert "> Not always." in text and "> **Note.**" in text
    assert "$$\n\\mathcal L = 1\n$$" in text and "$$ a = b $$" in text
    assert "### Exercise 4.1\n\nShow it." in text
    assert "solution" not in text.lower() and "```python\nx = {1}\n```" in text
    assert not myst_left(text)


def test_instructor_keeps_solutions_as_headings():
    ctx = Context(chapter=1, solutions=True)
    text = convert_markdown("```{exercise}\n:label: e1\nDo.\n```\n\n"
                            "```{solution-start} e1\n:class: dropdown\n```", ctx)
    assert text.endswith("#### Solution to Exercise 1.1")


# --- editions of a small book ------------------------------------------------------


def _small_book(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/01-demo\n")
    (tmp_path / "book" / "01-demo.md").write_text(HEADER + """
# Demo

```{code-cell} ipython3
:tags: [parameters]
fast = True
```

```{code-cell} ipython3
:tags: [remove-input]
say(f"The mean is {num(mean)}.")
```

The sum is {glue:text}`total:.1f`.

## Exercises

```{exercise}
:label: demo-ex
Add one.
```

```{code-cell} ipython3
:tags: [answer, remove-cell]
answer = ...
```

+++ {"tags": ["solution"]}

```{solution-start} demo-ex
:class: dropdown
```

```{code-cell} ipython3
:tags: [solution]
answer = 2
```

+++ {"tags": ["solution"]}

```{solution-end}
```

+++

```{exercise}
:label: demo-two
Say why.
```
""")
    return tmp_path


def _executed_demo(root: Path) -> Path:
    notebook = jupytext.read(root / "book" / "01-demo.md")
    for cell in notebook.cells:
        if cell.cell_type == "code" and "say(" in cell.source:
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"text/markdown": "The mean is 4.25.",
                                      "text/plain": "<IPython.core.display.Markdown>"})]
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"text/plain": "12.34"},
                metadata={"scrapbook": {"name": "total", "mime_prefix": ""}})]
    out = root / "_build" / "jupyter_execute" / "book"
    out.mkdir(parents=True)
    nbformat.write(notebook, out / "01-demo.ipynb")
    return root / "_build" / "jupyter_execute"


def test_student_quotes_the_full_size_book(tmp_path):
    root = _small_book(tmp_path)
    student = editions.make_edition("book/01-demo", "student", root=root,
                                    executed_dir=_executed_demo(root))
    sources = [c.source for c in student.cells]
    assert "*(full-size book)* The mean is 4.25." in sources
    assert any("The sum is 12.3." in s and "full-size book" in s for s in sources)
    say_cell = next(c for c in student.cells if "say(" in c.source)
    assert say_cell.metadata["jupyter"]["source_hidden"] is True
    assert not any("answer = 2" in s for s in sources)
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    headings = re.findall(r"^### Exercise \S+", "\n".join(sources), re.M)
    assert headings == ["### Exercise 1.1", "### Exercise 1.2"]
    # exercise 1.1 has the page's scaffold; 1.2 gets a written and a code answer cell
    tagged = [(c.cell_type, c.source.splitlines()[0]) for c in student.cells
              if "answer" in c.metadata.get("tags", [])]
    assert tagged == [("markdown", "**Your answer to Exercise 1.1** (double-click to write):"),
                      ("code", "answer = ..."),
                      ("markdown", "**Your answer to Exercise 1.2** (double-click to write):"),
                      ("code", "# Exercise 1.2, your code")]
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_without_a_full_build_the_student_is_told_which_cell(tmp_path):
    root = _small_book(tmp_path)
    student = editions.make_edition("book/01-demo", "student", root=root, executed_dir=None)
    text = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert "computed by the next cell" in text
    assert "[`total`, computed when the page runs]" in text


def test_instructor_has_solutions_and_full_size_outputs(tmp_path):
    root = _small_book(tmp_path)
    teacher = editions.make_edition("book/01-demo", "instructor", root=root,
                                    executed_dir=_executed_demo(root))
    assert any(c.source == "answer = 2" for c in teacher.cells)
    assert any("#### Solution to Exercise 1.1" in c.source for c in teacher.cells)
    say_cell = next(c for c in teacher.cells if "say(" in c.source)
    assert say_cell.outputs[0]["data"]["text/markdown"] == "The mean is 4.25."


# --- the real book -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["student", "instructor"])
def test_every_markdown_cell_is_plain_commonmark(kind):
    paths = _edition(kind)
    assert {p.stem for p in paths} >= {Path(c).name for c in CHAPTERS}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert "jupytext" not in notebook.metadata
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            assert not myst_left(cell.source), (path.name, myst_left(cell.source))
            if kind == "student":
                assert "solution" not in cell.metadata.get("tags", []), path.name


def test_every_chapter_numbers_its_exercises_and_offers_answer_cells():
    for path in _edition("student"):
        chapter = editions.chapter_number(path.stem)
        if chapter is None:
            continue
        notebook = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        numbers = re.findall(r"^### Exercise (\d+)\.(\d+)", text, re.M)
        assert numbers and all(int(c) == chapter for c, _ in numbers), path.name
        assert [int(n) for _, n in numbers] == list(range(1, len(numbers) + 1))
        answers = [c for c in notebook.cells if "answer" in c.metadata.get("tags", [])]
        assert len(answers) >= 2 * len(numbers), path.name
        assert "answer-check" in json.dumps([c.metadata for c in notebook.cells])


def test_instructor_code_is_the_page_code():
    """So the page's own fast run (tests/test_notebooks.py) executes every instructor
    notebook's code; only the markdown differs."""
    for path in _edition("instructor"):
        page = next(p for p in toc_pages() if Path(p).name == path.stem)
        ours = [c.source for c in nbformat.read(path, as_version=4).cells
                if c.cell_type == "code" and not SCAFFOLD.fullmatch(c.source)]
        theirs = [c.source for c in jupytext.read(ROOT / f"{page}.md").cells
                  if c.cell_type == "code"]
        assert ours == theirs, path.name


@pytest.mark.notebook
@pytest.mark.parametrize("name", [Path(p).name for p in CHAPTERS] + ["intro"])
def test_student_notebook_runs_with_answers_unanswered(name):
    """The page run of the notebook harness (shared with the page tests) is the
    student notebook followed by the solutions: answers unanswered, then solved."""
    from notebook_harness import executed_notebook

    executed = executed_notebook(name).copy()
    executed.cells = [c for c in executed.cells
                      if "injected-parameters" not in c.metadata.get("tags", [])]
    student = editions.make_edition(f"book/{name}" if name != "intro" else "book/intro",
                                    "student", executed_dir=None)
    n = len(student.cells)
    assert [c.source for c in executed.cells[:n]] == [c.source for c in student.cells]
    checks = [c for c in executed.cells[:n] if "answer-check" in c.metadata.get("tags", [])]
    for cell in checks:
        shown = json.dumps(cell.outputs)
        assert "Not answered yet" in shown, (name, shown[:200])
    solved = [json.dumps(c.outputs) for c in executed.cells[n:] if "exercises." in c.source]
    assert all("Correct" in s and "Not yet" not in s for s in solved), (name, solved)
    assert len(solved) == len(checks), name


# --- study time, timings, links ----------------------------------------------------


def test_study_time_reads_words_and_measured_times(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "01-x.md").write_text("# T\n\n" + "word " * 300 + "\n")
    times = tmp_path / "book" / "timings.json"
    text = editions.study_time("01-x", root=tmp_path).data
    assert "About 2 minutes of reading (300 words" in text and "next `make book`" in text
    times.write_text(json.dumps({"full": {"book/01-x": 130.0}, "fast": {"book/01-x": 9.4},
                                 "measured": "2026-11-27"}))
    text = editions.study_time("01-x", root=tmp_path).data
    assert "about 3 min to run every cell at full size (measured on 2026-11-27)" in text
    assert "or 9 s in fast mode" in text


def test_write_timings_reads_the_sphinx_environment(tmp_path):
    env = types.SimpleNamespace(nb_metadata={
        "book/01-x": {"exec_data": {"runtime": 61.23, "succeeded": True}},
        "book/intro": {}})
    (tmp_path / "doctrees").mkdir()
    (tmp_path / "doctrees" / "environment.pickle").write_bytes(pickle.dumps(env))
    fast = tmp_path / "fast.json"
    fast.write_text(json.dumps({"book/01-x": 8.0}))
    data = editions.write_timings(tmp_path / "doctrees", fast, tmp_path / "t.json")
    assert data["full"] == {"book/01-x": 61.2} and data["fast"] == {"book/01-x": 8.0}
    assert json.loads((tmp_path / "t.json").read_text())["measured"]


def test_link_check_on_a_fake_build(tmp_path):
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "index.html").write_text("<html></html>")
    for page in CHAPTERS:
        name = Path(page).name
        (html / f"{page}.html").write_text(
            f'<div class="student-notebook"><a href="../student/{name}.ipynb">x</a></div>')
    problems = editions.check_student_links(html)
    assert len(problems) == len(CHAPTERS) and "does not exist" in problems[0]
    (html / "student").mkdir()
    for page in CHAPTERS:
        (html / "student" / f"{Path(page).name}.ipynb").write_text("{}")
    assert editions.check_student_links(html) == []


def test_built_book_links_every_student_notebook():
    """Run after `make book`: every chapter page links its student notebook."""
    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        pytest.skip("no built book in _build/html: run `make book` first")
    assert editions.check_student_links(html) == []


def test_chapters_open_with_objectives_time_and_download_link():
    for page in CHAPTERS:
        text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        head = text.split("\n## ", 1)[0]
        assert "**Objectives.**" in head and "**Prerequisites.**" in head, page
        assert f'study_time("{Path(page).name}")' in head, page
        assert f'href="../student/{Path(page).name}.ipynb"' in head, page
        assert "formats: md:myst,notebooks//ipynb" in text.split("---", 2)[1], page


def test_publish_puts_the_student_notebooks_where_the_chapters_link(tmp_path, capsys):
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "index.html").write_text("<html></html>")
    for page in CHAPTERS:
        name = Path(page).name
        (html / f"{page}.html").write_text(f'<a href="../student/{name}.ipynb">get</a>')
    editions._main(["publish", "--fast", str(html)])
    assert f"{len(CHAPTERS) + 1} student notebooks" in capsys.readouterr().out
    assert editions.check_student_links(html) == []
    assert not (tmp_path / "notebook-times.json").exists()


def test_no_exercise_sits_in_a_solution_tagged_cell():
    """A tool that strips solution-tagged cells must not delete an exercise."""
    for page in toc_pages():
        for cell in jupytext.read(ROOT / f"{page}.md").cells:
            if "{exercise}" in cell.source:
                assert "solution" not in cell.metadata.get("tags", []), page
