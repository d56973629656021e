"""Turn the book's MyST Markdown into plain CommonMark that any Jupyter renders.

Used by :mod:`latentlab.editions` for the student and instructor notebooks. Roles
become text (``{cite}`` → "(Author Year)", ``{numref}`` → "Figure 2.3",
``{doc}`` → a link to the sibling notebook, ``{glue:text}`` → the value from the
full-size book), directives become headings, block quotes or ``$$`` maths, and
option lines, targets and MyST comments are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Context", "convert_markdown", "cite_text", "ROLE"]

#: A MyST role: ``{name}`content```.
ROLE = re.compile(r"\{(?P<name>[a-zA-Z][\w:+.-]*)\}`(?P<body>[^`]*)`")
_OPEN = re.compile(
    r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[^}]+)\}\s*(?P<arg>.*)$"
)
_PLAIN_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
_TARGET = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")
_DOLLAR_LABEL = re.compile(r"(\$\$)\s*\(([^()\s]+)\)\s*$")
_TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$")
_ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}
_DROP = {"bibliography", "tableofcontents", "contents", "raw", "eval-rst", "glossary"}
_BODY_ONLY = {
    "dropdown",
    "toggle",
    "margin",
    "sidebar",
    "epigraph",
    "card",
    "div",
    "tab-set",
    "tab-item",
    "grid",
    "grid-item",
    "grid-item-card",
    "only",
}


@dataclass
class Context:
    """What the converter needs to know about the page and the book.

    Attributes
    ----------
    chapter : int or None
        Chapter number (``None`` for the introduction): prefixes exercise,
        figure and equation numbers.
    labels : dict
        label -> text shown for a reference to it (on this page).
    pages : dict
        page name (``"02-hot-start"``) -> title, for ``{doc}`` links.
    glue : dict
        glued name -> value from the full-size book (empty if not built).
    solutions : bool
        Keep solutions (instructor edition) as "Solution to Exercise" blocks.
    """

    chapter: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    glue: dict[str, Any] = field(default_factory=dict)
    solutions: bool = False
    bib: Path | None = None
    exercises: int = 0
    glue_used: bool = False

    def number(self, n: int) -> str:
        return f"{self.chapter}.{n}" if self.chapter else str(n)


_BIB_CACHE: dict[Path, Any] = {}


def cite_text(keys: str, bib: Path | None, textual: bool = False) -> str:
    """Format ``{cite}`` keys as "(Author Year; …)" (``textual``: "Author (Year)").

    Examples
    --------
    >>> from latentlab.commonmark import cite_text
    >>> cite_text("nobody2020", None)
    '[nobody2020]'
    """
    parts = []
    for key in [k.strip() for k in keys.split(",") if k.strip()]:
        entry = None
        if bib is not None and Path(bib).exists():
            if bib not in _BIB_CACHE:
                from pybtex.database import parse_file

                _BIB_CACHE[bib] = parse_file(str(bib), bib_format="bibtex")
            entry = _BIB_CACHE[bib].entries.get(key)
        if entry is None:
            parts.append(f"[{key}]")
            continue
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [
            " ".join(p.last_names).replace("{", "").replace("}", "") for p in people
        ]
        who = (
            names[0]
            if len(names) == 1
            else f"{names[0]} and {names[1]}"
            if len(names) == 2
            else f"{names[0]} et al."
            if names
            else key
        )
        year = entry.fields.get("year", "n.d.")
        parts.append(f"{who} ({year})" if textual else f"{who} {year}")
    if not parts or all(p.startswith("[") for p in parts):
        return "; ".join(parts)
    return "; ".join(parts) if textual else "(" + "; ".join(parts) + ")"


def _glue_text(body: str, ctx: Context) -> str:
    name, _, spec = body.partition(":")
    name = name.split("::")[-1].strip()
    if name in ctx.glue:
        ctx.glue_used = True
        value = ctx.glue[name]
        try:
            return format(value, spec) if spec else str(value)
        except (TypeError, ValueError):
            return str(value)
    return f"[`{name}`, computed when the page runs]"


def _role(match: re.Match, ctx: Context) -> str:
    name, body = match.group("name"), match.group("body")
    titled = _TITLED.match(body)
    text, target = (
        (titled.group("text"), titled.group("target")) if titled else ("", body)
    )
    if name.startswith("glue"):
        return _glue_text(body, ctx)
    if name.startswith("cite"):
        return cite_text(
            body, ctx.bib, textual=name in ("cite:t", "cite:ts", "cite:author")
        )
    if name in ("math", "m"):
        return f"${body}$"
    if name == "doc":
        page = Path(target).name
        shown = text or ctx.pages.get(page, page)
        return f"[{shown}]({page}.ipynb)" if page in ctx.pages else shown
    if name in ("numref", "ref", "eq", "numref"):
        label = target.lstrip("#")
        shown = ctx.labels.get(label, label.replace("-", " "))
        if name == "eq":
            return shown if shown.startswith("(") else f"({shown})"
        if text:
            return text.replace("%s", shown.split(" ")[-1]).replace("{number}", shown)
        return shown
    if name == "download":
        return text or Path(target).name
    return text or body


def convert_inline(line: str, ctx: Context) -> str:
    """Replace every MyST role of one line of text."""
    return ROLE.sub(lambda m: _role(m, ctx), line)


def _split_options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    i = 0
    if body and body[0].strip() == "---":  # YAML option block
        end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), 0)
        for line in body[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        i = end + 1
    while i < len(body) and _OPTION.match(body[i]):
        key, value = _OPTION.match(body[i]).groups()
        options[key] = value
        i += 1
    return options, body[i:]


def _directive(name: str, arg: str, body: list[str], ctx: Context) -> list[str]:
    options, body = _split_options(body)
    while body and not body[0].strip():
        body = body[1:]
    inner = _convert_lines(body, ctx)
    name = name.strip()
    if name in _DROP or name.startswith("glue"):
        if name.startswith("glue"):
            return [f"*(The figure `{arg.strip()}` is drawn when the page runs.)*"]
        return []
    if name == "exercise":
        ctx.exercises += 1
        number = ctx.number(ctx.exercises)
        if options.get("label"):
            ctx.labels[options["label"]] = f"Exercise {number}"
        title = f"### Exercise {number}" + (
            f": {convert_inline(arg, ctx)}" if arg else ""
        )
        return [title, ""] + inner
    if name in ("solution", "solution-start"):
        if not ctx.solutions:
            return []
        shown = ctx.labels.get(arg.strip(), "the exercise")
        return [f"#### Solution to {shown}", ""] + inner
    if name == "solution-end":
        return []
    if name == "math":
        return ["$$"] + body + ["$$"]
    if name in ("code-block", "code", "sourcecode", "code-cell"):
        return [f"```{arg.split()[0] if arg.split() else ''}"] + body + ["```"]
    if name == "figure":
        caption = " ".join(x for x in inner if x.strip())
        return [f"![{caption}]({arg.strip()})", "", f"*{caption}*" if caption else ""]
    if name in _ADMONITIONS or name == "admonition":
        heading = (
            convert_inline(arg, ctx) if name == "admonition" else _ADMONITIONS[name]
        )
        quoted = [f"> {x}" if x.strip() else ">" for x in inner]
        stop = "" if heading[-1:] in ".?!:" else "."
        return [f"> **{heading}{stop}**" if heading else ">", ">"] + quoted
    if name in _BODY_ONLY:
        return ([f"**{convert_inline(arg, ctx)}**", ""] if arg else []) + inner
    return ([f"**{convert_inline(arg, ctx)}**", ""] if arg else []) + inner


def _closing(lines: list[str], start: int, fence: str) -> int:
    depth = 1
    for j in range(start, len(lines)):
        stripped = lines[j].strip()
        opened = _OPEN.match(lines[j])
        if opened and opened.group("fence") == fence:
            depth += 1
        elif stripped == fence:
            depth -= 1
            if depth == 0:
                return j
    return len(lines)


def _convert_lines(lines: list[str], ctx: Context) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = _OPEN.match(line)
        if opened:
            end = _closing(lines, i + 1, opened.group("fence"))
            out.extend(
                _directive(
                    opened.group("name"), opened.group("arg"), lines[i + 1 : end], ctx
                )
            )
            i = end + 1
            continue
        plain = _PLAIN_FENCE.match(line)
        if plain:  # a code block: copied verbatim
            end = next(
                (
                    j
                    for j in range(i + 1, len(lines))
                    if lines[j].strip().startswith(plain.group(1))
                ),
                len(lines),
            )
            out.extend(lines[i : end + 1])
            i = end + 1
            continue
        if (
            _TARGET.match(line)
            or line.lstrip().startswith("%")
            or line.strip() == "+++"
        ):
            i += 1
            continue
        out.append(convert_inline(_DOLLAR_LABEL.sub(r"\1", line), ctx))
        i += 1
    return out


def convert_markdown(text: str, ctx: Context) -> str:
    """Convert one markdown cell from MyST to CommonMark.

    Examples
    --------
    >>> from latentlab.commonmark import Context, convert_markdown
    >>> ctx = Context(chapter=3)
    >>> print(convert_markdown("```{exercise}\\n:label: e1\\n\\nDo $x^2$.\\n```", ctx))
    ### Exercise 3.1
    <BLANKLINE>
    Do $x^2$.
    >>> print(convert_markdown("See {ref}`e1` and {glue:text}`n:.2f`.", ctx))
    See Exercise 3.1 and [`n`, computed when the page runs].
    """
    lines = _convert_lines(text.splitlines(), ctx)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
