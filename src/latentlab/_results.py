"""Recorded benchmark results that book pages quote (private).

A benchmark that takes minutes writes ``benchmarks/results/<name>.json``; a page
reads the file instead of rerunning it. The loaders of chapter 2 (hot start, GPU)
and chapter 4 (MOFA against mofapy2) share :func:`read_results`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

#: ``benchmarks/results`` of the repository this package lives in.
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def read_results(path: str | os.PathLike | None, name: str,
                 holds: Callable[[dict], bool]) -> dict | None:
    """The JSON object of ``path`` (default: ``RESULTS / name``), or None.

    None when the file does not exist or its object fails ``holds`` (the run
    is not recorded there). A file that is not JSON raises ``ValueError``
    naming it: a broken record must not read as a missing one.

    Examples
    --------
    >>> from latentlab._results import read_results
    >>> read_results("no/such/file.json", "x.json", bool) is None
    True
    """
    if path is None:
        path = RESULTS / name
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str, a path or None, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a JSON results file: {error}") from None
    if not isinstance(payload, dict) or not holds(payload):
        return None
    return payload
