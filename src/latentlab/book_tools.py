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

from latentlab._solutions import SOLUTION_TAG, strip_solutions  # noqa: E402,F401
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
    notebook=None,
):
    """Execute one book page with papermill in its own folder, return the executed notebook.

    The page is read with jupytext (or ``notebook`` is run in its place, e.g. the
    page's student notebook followed by its solutions), ``fast`` is injected after
    the cell tagged ``parameters``, and a failing cell raises
    ``papermill.PapermillExecutionError`` with the cell's traceback. The wall time
    is merged into ``times_file`` (JSON, page -> seconds).
    """
    import jupytext
    import papermill

    root = Path(root)
    source = root / f"{page}.md"
    notebook = jupytext.read(source) if notebook is None else notebook
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


def write_student_edition(out_dir: Path, root: Path = ROOT) -> list[Path]:
    """Write every page of the book as a student ``.ipynb``; return the paths written.

    Kept for older callers: see :func:`latentlab.editions.write_edition`.
    """
    from latentlab.editions import write_edition

    return write_edition(out_dir, "student", root=root)


def check_html(html_dir: Path) -> list[str]:
    """Check a built book; see :func:`latentlab.htmlcheck.check_html` for what is checked."""
    from latentlab.htmlcheck import check_html as _check

    return _check(html_dir)


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
        print(f"check-html: {args.html_dir} passes every reader-facing check")


if __name__ == "__main__":  # pragma: no cover
    _main()
