"""Check the prose of the book's pages: no typed results, code that fits the screen.

The intro promises that every number in the prose is computed. A number typed into
a Markdown cell is either a result someone copied by hand (and that goes stale when
the code changes) or a constant of a method or a source, which must be cited.
:func:`typed_numbers` finds the candidates; the book's tests compare them with a
short allow-list of cited constants, page by page.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["typed_numbers", "long_code_lines", "page_prose"]

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
_CODE = re.compile(r"``.*?``|`[^`\n]*`")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK = re.compile(r"\]\([^)]*\)")
_FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\{[\w:-]+\})?")
_OPTION = re.compile(r"^:[\w-]+:")
#: A decimal, an integer of three or more digits, or a percentage.
_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+|\d{3,}|\d+(?:\.\d+)?\s?%)(?![\w.])")
#: Directives whose body is prose (everything else fenced is code or maths).
_PROSE_DIRECTIVES = {
    "{note}", "{tip}", "{important}", "{warning}", "{admonition}", "{exercise}",
    "{solution}", "{figure}", "{dropdown}", "{seealso}", "{attention}", "{caution}",
}


def _strip_fences(text: str) -> str:
    kept: list[str] = []
    stack: list[tuple[str, bool]] = []
    for line in text.splitlines():
        stripped = line.strip()
        match = _FENCE.match(stripped)
        if stack and stripped == stack[-1][0]:
            stack.pop()
            continue
        if match and (not stack or stack[-1][1]):
            stack.append((match.group(1), match.group(2) in _PROSE_DIRECTIVES))
            continue
        if stack and not stack[-1][1]:
            continue
        if _OPTION.match(stripped):
            continue
        kept.append(line)
    return "\n".join(kept)


def page_prose(markdown: str) -> str:
    """Return the prose of a Markdown cell: no code, maths, roles, comments or links.

    Examples
    --------
    >>> from latentlab.prosecheck import page_prose
    >>> page_prose("We fit $K = 20$ with `lr=0.1` ({cite}`x2020`).").split()
    ['We', 'fit', 'with', '(', ').']
    """
    text = _strip_fences(markdown)
    for pattern in (_COMMENT, _MATH, _ROLE, _CODE, _LINK):
        text = pattern.sub(" ", text)
    return text


def typed_numbers(markdown: str) -> list[str]:
    """Return the typed numbers of a Markdown cell's prose, in order.

    Decimals, integers of three or more digits and percentages count; small
    integers ("three seeds", "chapter 2") and anything in maths, code, roles or
    links do not.

    Examples
    --------
    >>> from latentlab.prosecheck import typed_numbers
    >>> typed_numbers("Of 332 patients, 20 % were N0; the AUC is 0.63 ($p < 0.05$).")
    ['332', '20 %', '0.63']
    """
    return [m.group(1) for m in _NUMBER.finditer(page_prose(markdown))]


def long_code_lines(path: Path, max_line: int = 88) -> list[str]:
    """Return ``"page:cell:line"`` for every code-cell line longer than ``max_line``."""
    import jupytext

    notebook = jupytext.read(Path(path))
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for number, line in enumerate(cell.source.splitlines(), start=1):
            if len(line) > max_line:
                found.append(f"{Path(path).name}: cell {index}, line {number} ({len(line)})")
    return found
