"""Tools for the book itself: its pages, executing them, glued values, student editions.

Used by ``tests/`` (every page executed in fast mode) and by ``make student``.
Run ``python -m latentlab.book_tools student --out _build/student`` to write
the student edition.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import time
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "toc_pages",
    "book_pages",
    "glued_values",
    "parse_glued_text",
    "strip_solutions",
    "write_student_edition",
    "execute_page",
    "check_html",
]

#: The repository root (where ``_toc.yml`` lives) when running from a checkout.
ROOT = Path(__file__).resolve().parents[2]

SOLUTION_TAG = "solution"
_NUMPY_SCALAR = re.compile(r"^np\.(?:float|int|uint|bool_?)\d*\((.*)\)$")


def toc_pages(root: Path = ROOT) -> list[str]:
    """Return the page paths listed in ``_toc.yml`` (without suffix), in order.

    Examples
    --------
    >>> from latentlab.book_tools import toc_pages, ROOT
    >>> (ROOT / "_toc.yml").exists() and toc_pages()[0] == "book/intro"
    True
    """
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return [str(Path(p).with_suffix("")) for p in pages]


def book_pages(root: Path = ROOT) -> list[str]:
    """Return every ``.md`` page under ``book/`` (without suffix), sorted."""
    return sorted(str(p.relative_to(root).with_suffix("")) for p in (Path(root) / "book").rglob("*.md"))


def parse_glued_text(text: str) -> Any:
    """Turn the ``text/plain`` form of a glued value back into a Python value.

    Numbers, strings, lists and dicts come back as themselves; NumPy scalar
    reprs such as ``np.float64(0.5)`` become plain numbers; anything else is
    returned as the text.

    Examples
    --------
    >>> from latentlab.book_tools import parse_glued_text
    >>> parse_glued_text("0.25"), parse_glued_text("np.float64(1.5)"), parse_glued_text("'a'")
    (0.25, 1.5, 'a')
    >>> parse_glued_text("<Figure size 640x480 with 1 Axes>")
    '<Figure size 640x480 with 1 Axes>'
    """
    text = text.strip()
    match = _NUMPY_SCALAR.match(text)
    if match:
        text = match.group(1)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def glued_values(notebook) -> dict[str, Any]:
    """Collect every value glued with ``myst_nb.glue`` in an executed notebook.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    dict
        name -> value (parsed from its ``text/plain`` representation; a figure
        is returned as its text placeholder).
    """
    values: dict[str, Any] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if not scrap:
                continue
            prefix = scrap.get("mime_prefix", "")
            text = output.get("data", {}).get(prefix + "text/plain")
            if text is None:
                continue
            values[scrap["name"]] = parse_glued_text(text if isinstance(text, str) else "".join(text))
    return values


def execute_page(
    page: str,
    *,
    root: Path = ROOT,
    fast: bool = True,
    output_dir: Path | None = None,
    cell_timeout: int = 300,
    times_file: Path | None = None,
):
    """Execute one book page with papermill in its own folder, return the executed notebook.

    The page is read with jupytext, ``fast`` is injected after the cell tagged
    ``parameters``, and a failing cell raises ``papermill.PapermillExecutionError``
    with the cell's traceback. The wall time is merged into ``times_file``
    (JSON, page -> seconds).
    """
    import jupytext
    import papermill

    root = Path(root)
    source = root / f"{page}.md"
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    output_dir = Path(output_dir) if output_dir else root / "_build" / "executed"
    output_dir.mkdir(parents=True, exist_ok=True)
    output_path = output_dir / (Path(page).name + ".ipynb")
    start = time.perf_counter()
    executed = papermill.execute_notebook(
        notebook,
        str(output_path),
        parameters={"fast": fast},
        cwd=str(source.parent),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=cell_timeout,
    )
    elapsed = time.perf_counter() - start
    if times_file is not None:
        times_file = Path(times_file)
        times_file.parent.mkdir(parents=True, exist_ok=True)
        times = json.loads(times_file.read_text()) if times_file.exists() else {}
        times[page] = round(elapsed, 2)
        times_file.write_text(json.dumps(times, indent=2, sort_keys=True) + "\n")
    return executed


def _is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


_FENCE_OPEN = re.compile(r"^(`{3,}|:{3,})\{(solution|solution-start|solution-end)\}")


def _strip_markdown(text: str, inside: bool) -> tuple[str, bool]:
    """Remove solution directives and whatever lies between solution-start/end."""
    kept: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i].strip())
        if match:
            fence, kind = match.group(1), match.group(2)
            i += 1
            while i < len(lines) and lines[i].strip() != fence:  # skip the directive body
                i += 1
            i += 1
            if kind == "solution-start":
                inside = True
            elif kind == "solution-end":
                inside = False
            continue
        if not inside:
            kept.append(lines[i])
        i += 1
    return "\n".join(kept).strip(), inside


def strip_solutions(notebook):
    r"""Return a copy of ``notebook`` without solutions, with outputs cleared.

    Code cells tagged ``solution`` are dropped, as are ``{solution}``
    directives, the ``{solution-start}``/``{solution-end}`` markers and every
    cell or line between them. A markdown cell tagged ``solution`` is dropped up
    to a ``{solution-end}`` marker it contains; text after the marker is kept.

    Examples
    --------
    >>> import nbformat
    >>> from latentlab.book_tools import strip_solutions
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("Exercise: add 1 + 1."),
    ...     nbformat.v4.new_markdown_cell("```{solution-start} ex1\n```\nIt is 2."),
    ...     nbformat.v4.new_code_cell("1 + 1"),
    ...     nbformat.v4.new_markdown_cell("```{solution-end}\n```\nNext section."),
    ... ])
    >>> [c.source for c in strip_solutions(nb).cells]
    ['Exercise: add 1 + 1.', 'Next section.']
    """
    import copy

    student = copy.deepcopy(notebook)
    cells = []
    inside = False
    for cell in student.cells:
        if cell.cell_type == "markdown":
            # A tagged markdown cell is solution text up to a {solution-end} marker;
            # whatever follows that marker in the same cell (the next exercise) stays.
            text, inside = _strip_markdown(cell.source, inside or _is_solution(cell))
            if not text:
                continue
            cell.source = text
        elif inside or _is_solution(cell):
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    student.cells = cells
    return student


def write_student_edition(out_dir: Path, root: Path = ROOT) -> list[Path]:
    """Write every page of the book as a student ``.ipynb`` (no solutions, no outputs).

    Returns the paths written.
    """
    import jupytext
    import nbformat

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for page in toc_pages(root):
        notebook = jupytext.read(Path(root) / f"{page}.md")
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            continue
        student = strip_solutions(notebook)
        student.metadata.pop("jupytext", None)
        path = out_dir / (Path(page).name + ".ipynb")
        nbformat.write(student, path)
        written.append(path)
    return written


def check_html(html_dir: Path) -> list[str]:
    """Check a built book for offline maths and folded solutions; return the problems.

    Every page must load MathJax from the book's own ``_static`` folder (no
    CDN), and every solution must be a collapsed dropdown.
    """
    html_dir = Path(html_dir)
    problems = []
    if not (html_dir / "index.html").exists():
        problems.append(f"{html_dir / 'index.html'} is missing")
    if not (html_dir / "_static" / "mathjax" / "tex-chtml.js").exists():
        problems.append("offline MathJax (_static/mathjax/tex-chtml.js) is missing")
    for page in sorted(html_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        if re.search(r"<script[^>]+src=\"https?://[^\"]*mathjax", text, re.I):
            problems.append(f"{page.name} loads MathJax from the network")
        if 'class="solution' in text and "dropdown" not in text:
            problems.append(f"{page.name} has a solution that is not collapsed")
    return problems


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m latentlab.book_tools")
    sub = parser.add_subparsers(dest="command", required=True)
    student = sub.add_parser("student", help="write the student edition")
    student.add_argument("--out", default=str(ROOT / "_build" / "student"))
    check = sub.add_parser("check-html", help="check a built book (offline maths, folded solutions)")
    check.add_argument("html_dir")
    args = parser.parse_args(argv)
    if args.command == "student":
        for path in write_student_edition(Path(args.out)):
            print(f"wrote {path}")
    elif args.command == "check-html":
        problems = check_html(Path(args.html_dir))
        for problem in problems:
            print(f"check-html: {problem}")
        if problems:
            raise SystemExit(1)
        print(f"check-html: {args.html_dir} renders maths offline and folds its solutions")


if __name__ == "__main__":  # pragma: no cover
    _main()
