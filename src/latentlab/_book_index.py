"""What the editions need to know about the whole book: chapter numbers, and the
labels of exercises, figures, equations and sections with the text a reference shows."""

from __future__ import annotations

import re
from pathlib import Path

from latentlab.book_tools import toc_pages

_HEADING = re.compile(r"^#\s+(.+)$", re.M)


def chapter_number(page: str) -> int | None:
    """Chapter number from the page's file name (``"book/03-em"`` -> 3), else None.

    Examples
    --------
    >>> from latentlab.editions import chapter_number
    >>> chapter_number("book/03-em-aip-sampling"), chapter_number("book/intro")
    (3, None)
    """
    match = re.match(r"(\d+)-", Path(page).name)
    return int(match.group(1)) if match else None


def _labels(notebook, chapter: int | None) -> dict[str, str]:
    """label -> shown text for figures, equations and section targets of one page."""
    labels: dict[str, str] = {}
    number = (lambda n: f"{chapter}.{n}") if chapter else str
    figures = equations = 0
    for cell in notebook.cells:
        name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
        if cell.cell_type == "code" and name:
            figures += 1
            labels[name] = f"Figure {number(figures)}"
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            fig = re.match(r"\s*:name:\s*(\S+)", line)
            if fig and any("{figure}" in x or "{glue:figure}" in x for x in lines[:i]):
                figures += 1
                labels[fig.group(1)] = f"Figure {number(figures)}"
            eq = (
                re.match(r"\s*:label:\s*(\S+)", line)
                if "{math}" in cell.source
                else None
            )
            eq = eq or re.search(r"\$\$\s*\(([^()\s]+)\)\s*$", line)
            if eq and "{exercise}" not in cell.source:
                equations += 1
                labels[eq.group(1)] = f"({number(equations)})"
            target = re.match(r"\s*\(([^()\s]+)\)=\s*$", line)
            if target:
                heading = next(
                    (x.lstrip("#").strip() for x in lines[i + 1 :] if x.strip()), ""
                )
                labels[target.group(1)] = heading or target.group(1)
    return labels


def _book_context(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Book-wide labels and page titles, so references across pages resolve."""
    import jupytext

    labels, titles = {}, {}
    for page in toc_pages(root):
        text = (Path(root) / f"{page}.md").read_text(encoding="utf-8")
        heading = _HEADING.search(text)
        titles[Path(page).name] = (
            heading.group(1).strip() if heading else Path(page).name
        )
        notebook = jupytext.reads(text, fmt="md:myst")
        labels.update(_labels(notebook, chapter_number(page)))
        exercises = re.findall(r"\{exercise\}[^\n]*\n(?:\s*:label:\s*(\S+))?", text)
        for n, label in enumerate(exercises, start=1):
            if label:
                chapter = chapter_number(page)
                labels[label] = (
                    f"Exercise {chapter}.{n}" if chapter else f"Exercise {n}"
                )
    return labels, titles
