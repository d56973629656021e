"""Shared pytest set-up: headless matplotlib in-process, fast mode, the notebook harness.

The backend is chosen with ``matplotlib.use`` rather than the ``MPLBACKEND``
variable, so that kernels started by the notebook harness keep the inline
backend and executed pages still contain their figures.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.pop("MPLBACKEND", None)
os.environ.setdefault("LATENTLAB_FAST", "1")

sys.path.insert(0, str(Path(__file__).parent))


def _kind(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    if path.startswith("src/"):
        return "doctests"
    if "test_page_executes" in nodeid or path.endswith("_page.py"):
        return "notebook tests"
    return "unit tests"


def pytest_terminal_summary(terminalreporter):
    """Say how many unit tests, doctests and notebook tests ran (and failed)."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if not nodeid or getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            kind = counts.setdefault(_kind(nodeid), {})
            kind[outcome] = kind.get(outcome, 0) + 1
    if not counts:
        return
    terminalreporter.section("latentlab test counts")
    for kind in ("unit tests", "doctests", "notebook tests"):
        outcomes = counts.get(kind, {})
        detail = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "none"
        terminalreporter.write_line(f"{kind}: {detail}")
