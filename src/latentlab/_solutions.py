"""Removing solutions from a page: cells tagged ``solution`` and ``{solution}`` blocks.

Used by :mod:`latentlab.editions` (the student edition); re-exported by
:mod:`latentlab.book_tools` for older callers.
"""

from __future__ import annotations

import re

__all__ = ["SOLUTION_TAG", "strip_solutions"]

SOLUTION_TAG = "solution"


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
            while (
                i < len(lines) and lines[i].strip() != fence
            ):  # skip the directive body
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
    >>> from latentlab.editions import strip_solutions
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
