"""Parsing helpers of :mod:`latentlab.datasets.lydata`: cell values, sub-levels, subgroups.

The rules are documented in :mod:`latentlab.datasets.lydata`.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter

import numpy as np

__all__ = ["parse_involvement", "aggregate_level", "RULES"]

RULES = ("complete", "any_positive")


def parse_involvement(values, name: str = "involvement") -> np.ndarray:
    """Map 'True'/'False'/'' (any case) to 1.0/0.0/NaN; anything else raises ``ValueError``.

    Examples
    --------
    >>> parse_involvement(["True", "", "False"]).tolist()
    [1.0, nan, 0.0]
    """
    lookup = {"true": 1.0, "false": 0.0, "": np.nan, "nan": np.nan}
    out = np.empty(len(values))
    for i, value in enumerate(values):
        key = str(value).strip().lower()
        if key not in lookup:
            raise ValueError(f"{name} must be True, False or empty (missing), "
                             f"got {value!r} in row {i}")
        out[i] = lookup[key]
    return out


def aggregate_level(level, subs, rule: str = "complete") -> np.ndarray:
    """Combine a level's own column (or None) with its sub-level columns (see module notes).

    Examples
    --------
    >>> nan = np.nan
    >>> ia, ib = np.array([nan, nan, 0.0, nan]), np.array([1.0, 0.0, 0.0, nan])
    >>> aggregate_level(None, [ia, ib]).tolist()
    [nan, nan, 0.0, nan]
    >>> aggregate_level(None, [ia, ib], rule="any_positive").tolist()
    [1.0, nan, 0.0, nan]
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not subs:
        if level is None:
            raise ValueError("aggregate_level needs the level column or its sub-levels")
        return np.asarray(level, dtype=float)
    subs_arr = np.column_stack(subs)
    any_involved = np.any(subs_arr == 1, axis=1)
    from_subs = np.where(any_involved, 1.0, 0.0)
    complete = ~np.isnan(subs_arr).any(axis=1)
    known = complete | any_involved if rule == "any_positive" else complete
    out = np.where(known, from_subs, np.nan)
    if level is not None:
        level = np.asarray(level, dtype=float)
        out = np.where(np.isnan(level), out, level)
        out = np.where(any_involved & (level == 0), 1.0, out)  # a positive sub-level wins
    return out


def _read_rows(source):
    if isinstance(source, (str, os.PathLike)):
        with open(source, "r", encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle))
    if hasattr(source, "read"):
        text = source.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return list(csv.reader(io.StringIO(text)))
    raise TypeError(f"source must be a path or a file object, got {type(source).__name__}")


def _not_involvement(column, body, top):
    cells = [row[j] for (t, sd, _), j in column.items() if t == top
             and sd in ("ipsi", "contra") for row in body]
    # counts or codes (e.g. "3", "1a"), not one True/False: not a modality
    return not any(c.strip().lower() in ("true", "false") for c in cells)


def _subgroups(subsite, location, minimum):
    counts = Counter(subsite.tolist())
    rare = np.array([counts[s] < minimum for s in subsite])
    pools = Counter(location[rare].tolist())
    return np.array([s if not r else (f"{loc} (rare codes)" if pools[loc] >= minimum
                                      else "other (rare codes)")
                     for s, loc, r in zip(subsite, location, rare)])
