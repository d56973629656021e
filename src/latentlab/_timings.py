"""Chapter study times from measured run times, and the student-notebook download links.

``book/timings.json`` holds the measured run time of every page: ``"full"`` from
the last ``make book`` (myst-nb's execution record in ``_build/.doctrees``),
``"fast"`` from the last test run (``_build/notebook-times.json``). A chapter's
opening cell calls :func:`study_time`, which turns them and the page's word
count into a sentence; nothing in it is typed by hand.
"""

from __future__ import annotations

import json
import math
import pickle
import re
from datetime import date
from pathlib import Path

from latentlab.book_tools import ROOT

TIMINGS_FILE = ROOT / "book" / "timings.json"
WORDS_PER_MINUTE = 150
_CODE_BLOCK = re.compile(r"^```\{code-cell\}.*?^```\s*$", re.S | re.M)


def _words(page_file: Path) -> int:
    text = page_file.read_text(encoding="utf-8")
    text = text.split("---", 2)[-1] if text.startswith("---") else text
    return len(re.findall(r"[A-Za-z]{2,}", _CODE_BLOCK.sub("", text)))


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{math.ceil(seconds / 60)} min"


def study_time(page: str, *, root: Path = ROOT, timings_file: Path | None = None):
    """The chapter's "Time" sentence: reading time from its word count, running time
    from the measured run times; returned as Markdown by :func:`latentlab.claims.say`.

    Parameters
    ----------
    page : str
        The page's file name without suffix, e.g. ``"02-hot-start"``.

    Examples
    --------
    >>> from latentlab.editions import study_time
    >>> "minutes of reading" in study_time("02-hot-start").data
    True
    """
    from latentlab.claims import say

    root = Path(root)
    timings_file = (
        Path(timings_file) if timings_file else root / "book" / "timings.json"
    )
    source = root / "book" / f"{page}.md"
    if not source.exists():
        return say("**Time.** See the chapter's opening in the full-size book.")
    words = _words(source)
    reading = max(1, round(words / WORDS_PER_MINUTE))
    text = (
        f"**Time.** About {reading} minutes of reading ({words:,} words of prose at "
        f"{WORDS_PER_MINUTE} words a minute)"
    )
    times = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    full = times.get("full", {}).get(f"book/{page}")
    fast = times.get("fast", {}).get(f"book/{page}")
    if full is not None:
        text += (
            f", plus about {_minutes(full)} to run every cell at full size "
            f"(measured on {times.get('measured', 'the last build')})"
        )
    if fast is not None:
        text += (
            f"{' or' if full is not None else ', plus'} {_minutes(fast)} in fast mode"
        )
    if full is None and fast is None:
        text += "; its running time is recorded by the next `make book`"
    return say(text + ".", reading_positive=reading > 0)


def _full_runtimes(doctrees: Path) -> dict[str, float]:
    env_file = Path(doctrees) / "environment.pickle"
    if not env_file.exists():
        return {}
    with env_file.open("rb") as handle:
        env = pickle.load(handle)
    runtimes = {}
    for docname, data in dict(getattr(env, "nb_metadata", {}) or {}).items():
        exec_data = data.get("exec_data") or {}
        if exec_data.get("runtime") is not None and exec_data.get("succeeded", True):
            runtimes[docname] = round(float(exec_data["runtime"]), 1)
    return runtimes


def write_timings(doctrees: Path, fast_times: Path, out: Path = TIMINGS_FILE) -> dict:
    """Merge the run times of the last full build and the last fast run into ``out``.

    Keeps the previous entries of whichever source is missing; returns the data.
    """
    out = Path(out)
    data = json.loads(out.read_text()) if out.exists() else {}
    full = _full_runtimes(Path(doctrees))
    if full:
        data["full"] = full
        data["measured"] = date.today().isoformat()
    if Path(fast_times).exists():
        data["fast"] = json.loads(Path(fast_times).read_text())
    out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return data


def check_student_links(html_dir: Path, root: Path = ROOT) -> list[str]:
    """Every chapter page of the built HTML links its student notebook, which exists.

    Returns the problems found (empty when all is well). Chapters are the pages of
    ``_toc.yml`` whose file name starts with a number.
    """
    from latentlab.book_tools import toc_pages

    html_dir = Path(html_dir)
    if not (html_dir / "index.html").exists():
        return [f"{html_dir} has no index.html: run make book first"]
    problems = []
    for page in toc_pages(root):
        if not re.match(r"\d+-", Path(page).name):
            continue
        html = html_dir / f"{page}.html"
        if not html.exists():
            problems.append(f"{html} is missing")
            continue
        text = html.read_text(encoding="utf-8", errors="replace")
        hrefs = re.findall(r'<a[^>]*href="([^"]+\.ipynb)"', text)
        wanted = [
            h
            for h in hrefs
            if "student/" in h and Path(h).name == f"{Path(page).name}.ipynb"
        ]
        if not wanted:
            problems.append(f"{html.name} does not link its student notebook")
        for href in wanted:
            if not (html.parent / href).resolve().exists():
                problems.append(f"{html.name} links {href}, which does not exist")
    return problems
