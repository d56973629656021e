"""Student and instructor editions of the book, chapter timings, download links.

``python -m latentlab.editions student`` writes one plain ``.ipynb`` per page
with code into ``_build/student/``: no solutions, no outputs, no MyST syntax
(:mod:`latentlab.commonmark`), numbered "Exercise 3.2" headings followed by
answer cells. ``instructor`` writes the same notebooks with the solutions and,
when ``make book`` has run, the full-size outputs. Sentences that the book
computes (``say()`` cells tagged ``remove-input``, leftover ``{glue:text}``
roles) are quoted from the executed full-size notebooks in
``_build/jupyter_execute/book/`` and labelled "(full-size book)"; without them
the notebook says which cell computes the sentence.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from latentlab._book_index import _book_context, chapter_number
from latentlab._solutions import strip_solutions
from latentlab._timings import (
    TIMINGS_FILE,
    WORDS_PER_MINUTE,
    check_student_links,
    study_time,
    write_timings,
)
from latentlab.book_tools import ROOT, glued_values, toc_pages
from latentlab.commonmark import Context, convert_markdown

__all__ = [
    "EXECUTED_DIR",
    "TIMINGS_FILE",
    "chapter_number",
    "make_edition",
    "write_edition",
    "study_time",
    "write_timings",
    "check_student_links",
    "WORDS_PER_MINUTE",
    "strip_solutions",
    "student_then_solutions",
]

#: Where ``make book`` (myst-nb) leaves the executed full-size notebooks.
EXECUTED_DIR = ROOT / "_build" / "jupyter_execute"
ANSWER_TAGS = {"answer", "answer-check"}
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}


def _executed(page: str, executed_dir: Path | None):
    import nbformat

    if executed_dir is None:
        return None
    path = Path(executed_dir) / f"{page}.ipynb"
    if not path.exists():
        path = Path(executed_dir) / f"{Path(page).name}.ipynb"
    return nbformat.read(path, as_version=4) if path.exists() else None


def _outputs_by_source(executed) -> dict[str, list]:
    found: dict[str, list] = {}
    for cell in executed.cells if executed is not None else []:
        if cell.cell_type == "code":
            found.setdefault(cell.source.strip(), []).append(cell.get("outputs", []))
    return found


def _markdown_of(outputs: list) -> str | None:
    texts = []
    for output in outputs:
        data = output.get("data", {})
        text = data.get("text/markdown")
        if text is not None:
            texts.append(text if isinstance(text, str) else "".join(text))
    return "\n\n".join(texts) if texts else None


def _set_hidden(cell) -> None:
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True


def _answer_cells(text: str, following: list) -> list:
    """Answer cells after an exercise: a written answer, and code unless the page
    already gives a scaffold (a cell tagged ``answer``) right after it."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    numbers = re.findall(r"^### Exercise ([\d.]+)", text, re.M)
    if not numbers:
        return []
    number = numbers[-1]
    written = new_markdown_cell(
        f"**Your answer to Exercise {number}** (double-click to write):\n\n…",
        metadata={"tags": ["answer"]},
    )
    has_code = any("answer" in c.metadata.get("tags", []) for c in following)
    if has_code:
        return [written]
    scaffold = new_code_cell(
        f"# Exercise {number}, your code\n...", metadata={"tags": ["answer"]}
    )
    return [written, scaffold]


def make_edition(
    page: str,
    kind: str = "student",
    *,
    root: Path = ROOT,
    executed_dir: Path | None = EXECUTED_DIR,
    book=None,
):
    """Return the student or instructor notebook of one page.

    Parameters
    ----------
    page : str
        Page path without suffix, e.g. ``"book/02-hot-start"``.
    kind : {"student", "instructor"}
        Student: no solutions, outputs cleared. Instructor: solutions kept as
        "Solution to Exercise" blocks, outputs of the full-size book when present.
    executed_dir : Path or None
        Folder of the executed full-size notebooks; sentences computed by the
        book are quoted from them.
    book : tuple, optional
        Book-wide (labels, titles) from ``_book_context`` (computed if None).
    """
    import jupytext
    from nbformat.v4 import new_markdown_cell

    if kind not in ("student", "instructor"):
        raise ValueError(f"kind must be 'student' or 'instructor'; got {kind!r}")
    root = Path(root)
    notebook = jupytext.read(root / f"{page}.md")
    executed = _executed(page, executed_dir)
    labels, titles = book or _book_context(root)
    ctx = Context(
        chapter=chapter_number(page),
        labels=dict(labels),
        pages=titles,
        glue=glued_values(executed) if executed is not None else {},
        solutions=kind == "instructor",
        bib=root / "book" / "references.bib",
    )
    source = notebook if kind == "instructor" else strip_solutions(notebook)
    outputs = _outputs_by_source(executed)
    cells = []
    source_cells = copy.deepcopy(source.cells)
    for index, cell in enumerate(source_cells):
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            ctx.glue_used = False
            lines = [x for x in cell.source.splitlines() if "student-notebook" not in x]
            text = convert_markdown("\n".join(lines), ctx)
            if ctx.glue_used:
                text += "\n\n*(Numbers in this cell: full-size book.)*"
            if not text.strip():
                continue
            cell.source = text
            if kind == "student" and "solution" in tags:  # exercise text, not solution
                cell.metadata["tags"] = sorted(tags - {"solution"})
            cells.append(cell)
            following = source_cells[index + 1 : index + 2]
            cells.extend(_answer_cells(text, following))
            continue
        full = outputs.get(cell.source.strip(), [])
        full_outputs = full.pop(0) if full else []
        if "remove-input" in tags:
            sentence = _markdown_of(full_outputs)
            if sentence:
                cells.append(new_markdown_cell(f"*(full-size book)* {sentence}"))
            elif "say(" in cell.source or "study_time(" in cell.source:
                cells.append(
                    new_markdown_cell(
                        "*(The sentence here is computed by the next cell: run it.)*"
                    )
                )
        if tags & ANSWER_TAGS:
            cell.metadata["tags"] = sorted(tags - HIDDEN_TAGS)
        elif tags & HIDDEN_TAGS:
            _set_hidden(cell)
        cell.outputs = full_outputs if kind == "instructor" else []
        cell.execution_count = None
        cells.append(cell)
    result = copy.deepcopy(source)
    result.cells = cells
    result.metadata.pop("jupytext", None)
    result.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return result


def student_then_solutions(page: str, *, root: Path = ROOT):
    """The page's student notebook followed by the page's code cells it lacks.

    Executing this once covers both editions: the student notebook runs top to
    bottom with its answers unanswered, and then every solution runs (in page
    order) on the state the page built, so each page is executed once in the tests
    (the full-size book runs the page itself, solutions in place).
    """
    from collections import Counter

    import jupytext

    student = make_edition(page, "student", root=root, executed_dir=None)
    have = Counter(c.source for c in student.cells if c.cell_type == "code")
    rest = []
    for cell in jupytext.read(Path(root) / f"{page}.md").cells:
        if cell.cell_type != "code":
            continue
        if have[cell.source] > 0:
            have[cell.source] -= 1
        else:
            rest.append(copy.deepcopy(cell))
    student.cells.extend(rest)
    return student


def write_edition(
    out_dir: Path,
    kind: str = "student",
    *,
    root: Path = ROOT,
    executed_dir: Path | None = EXECUTED_DIR,
) -> list[Path]:
    """Write the edition of every page with code into ``out_dir``; return the paths."""
    import jupytext
    import nbformat

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    book = _book_context(Path(root))
    written = []
    for page in toc_pages(root):
        if not any(
            c.cell_type == "code"
            for c in jupytext.read(Path(root) / f"{page}.md").cells
        ):
            continue
        notebook = make_edition(
            page, kind, root=root, executed_dir=executed_dir, book=book
        )
        path = out_dir / f"{Path(page).name}.ipynb"
        nbformat.write(notebook, path)
        written.append(path)
    return written


def _main(argv: list[str] | None = None) -> None:
    """Command line: see ``python -m latentlab.editions --help``."""
    from latentlab._editions_cli import _main as main

    main(argv)


if __name__ == "__main__":  # pragma: no cover
    _main()
