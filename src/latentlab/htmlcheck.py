"""Check a built book for what a reader must never see.

``python -m latentlab.book_tools check-html _build/html`` (run by ``make book`` and
``make test``) fails the build when any of these holds:

* maths would load from the network, or a solution is not folded;
* a cell output shows an object repr (``<matplotlib…>``, ``<Axes: …>``,
  ``Text(…)``, ``… at 0x…``), a raw ``array(`` or ``np.str_(``, a stderr block,
  or a warning;
* a line of code (input, or text output) is longer than :data:`MAX_LINE`
  characters, so the reader would have to scroll;
* a figure is shown without a numbered caption;
* a chapter has no number, or the bibliography is missing or empty;
* a chapter page does not link its student notebook, or the link's target is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["MAX_LINE", "check_html", "check_page"]

#: The longest code line (characters) a reader sees without scrolling.
MAX_LINE = 88

_REPRS = [
    (re.compile(r"<matplotlib\.[\w.]+ (object )?at 0x"), "a matplotlib object repr"),
    (re.compile(r"<(Axes|Figure|AxesSubplot)[: ]"), "an Axes/Figure repr"),
    (re.compile(r"^\s*(\[)?Text\(-?[\d.]+, -?[\d.]+, ", re.M), "a Text(...) repr"),
    (re.compile(r"\bat 0x[0-9a-fA-F]{6,}"), "an object address (... at 0x...)"),
    (re.compile(r"^\s*array\(", re.M), "a raw array(...) output"),
    (re.compile(r"np\.str_\("), "an np.str_(...) repr"),
    (re.compile(r"\b\w*(Warning|warn)\b:", re.M), "a warning"),
]
_CHAPTER = re.compile(r"^\d\d-")


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser")


def check_page(path: Path) -> list[str]:
    """Return the reader-facing problems of one built HTML page."""
    path = Path(path)
    soup = _soup(path)
    name = path.name
    problems: list[str] = []
    for output in soup.select("div.cell_output"):
        for block in output.select("div.output.stderr, div.stderr"):
            text = block.get_text(" ", strip=True)[:80]
            problems.append(f"{name}: a stderr output block is shown ({text!r})")
        for pre in output.select("pre"):
            text = pre.get_text()
            for pattern, what in _REPRS:
                if pattern.search(text):
                    snippet = pattern.search(text).group(0).strip()[:60]
                    problems.append(f"{name}: {what} in a cell output ({snippet!r})")
        for img in output.select("img"):
            figure = img.find_parent("figure")
            caption = figure.find("figcaption") if figure else None
            if caption is None or not caption.select_one(".caption-number"):
                src = img.get("src", "?")
                problems.append(f"{name}: a figure without a numbered caption ({src})")
    for pre in soup.select("div.cell_input pre, div.cell_output pre"):
        for line in pre.get_text().splitlines():
            if len(line) > MAX_LINE:
                problems.append(
                    f"{name}: a code line of {len(line)} characters (max {MAX_LINE}): "
                    f"{line[:60]!r}…"
                )
    if _CHAPTER.match(name):
        if not any(h.select_one(".section-number") for h in soup.select("h1")):
            problems.append(f"{name}: the chapter heading has no number")
        links = [a.get("href", "") for a in soup.select("a[href]")]
        notebooks = [h for h in links if h.split("#")[0].endswith(".ipynb")]
        if not notebooks:
            problems.append(f"{name}: no link to the chapter's student notebook (.ipynb)")
        for href in notebooks:
            if "://" in href:
                continue
            target = (path.parent / href.split("#")[0]).resolve()
            if not target.exists():
                problems.append(f"{name}: the notebook link {href} points to nothing")
    return problems


def check_html(html_dir: Path) -> list[str]:
    """Check a built book; return the problems (an empty list when all is well).

    Examples
    --------
    >>> from latentlab.htmlcheck import check_html
    >>> check_html("/nonexistent")[0]
    '/nonexistent/index.html is missing'
    """
    html_dir = Path(html_dir)
    problems: list[str] = []
    if not (html_dir / "index.html").exists():
        problems.append(f"{html_dir / 'index.html'} is missing")
    if not (html_dir / "_static" / "mathjax" / "tex-chtml.js").exists():
        problems.append("offline MathJax (_static/mathjax/tex-chtml.js) is missing")
    for page in sorted(html_dir.rglob("*.html")):
        if "_static" in page.parts or page.name in ("genindex.html", "search.html"):
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        if re.search(r"<script[^>]+src=\"https?://[^\"]*mathjax", text, re.I):
            problems.append(f"{page.name} loads MathJax from the network")
        if 'class="solution' in text and "dropdown" not in text:
            problems.append(f"{page.name} has a solution that is not collapsed")
        problems.extend(check_page(page))
    bibliography = html_dir / "book" / "bibliography.html"
    if not bibliography.exists():
        problems.append("the bibliography page (book/bibliography.html) is missing")
    elif not _soup(bibliography).select(".citation, dl.citation, div.citation"):
        problems.append("the bibliography page lists no works")
    return problems
