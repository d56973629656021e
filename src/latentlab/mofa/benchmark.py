"""The recorded latentlab.mofa against mofapy2 benchmark, read for a book page.

``benchmarks/mofa_vs_mofapy2.py`` fits simulated data with known factors in
both systems, side by side in the same run, and writes
``benchmarks/results/mofa.json`` (and ``mofa.md``). Running it takes minutes,
so chapter 4 reads the file: :func:`benchmark_results` loads it,
:func:`regime_table` puts one row per (regime, our system) in a table,
:func:`name_rows` names rows in a sentence and :func:`summary_sentence` writes
the page's sentence about the table, with the checks behind it.
"""

from __future__ import annotations

import os

import pandas as pd

from latentlab._results import read_results
from latentlab.claims import num, pct

__all__ = ["NO_BENCHMARK", "TARGET_SPEEDUP", "benchmark_results", "name_rows", "regime_table",
           "summary_sentence"]

#: The speed target of issue 16: this many times mofapy2's speed at equal quality.
TARGET_SPEEDUP = 5.0

_COLUMNS = [
    "regime", "data", "system", "reference", "iterations", "fit_s",
    "reference_iterations", "reference_fit_s", "elbo", "reference_elbo",
    "equal_quality_iterations", "equal_quality_s", "speedup", "basis",
    "speedup_own_rules",
    "recovery_diff_points", "r2_diff_points", "quality_ok", "target_met",
]


def benchmark_results(path: str | os.PathLike | None = None) -> dict | None:
    """The MOFA benchmark's results (``benchmarks/results/mofa.json``), or None.

    None when the file is missing or has no ``"regimes"`` entry; ``ValueError``
    when it is not JSON.

    Examples
    --------
    >>> from latentlab.mofa.benchmark import benchmark_results
    >>> benchmark_results("no/such/file.json") is None
    True
    """
    return read_results(path, "mofa.json",
                        lambda payload: isinstance(payload.get("regimes"), dict))


def _data(entry: dict) -> str:
    views = "+".join(str(d) for d in entry["views"])
    text = f"N={entry['n']}, D={views}"
    likelihoods = entry.get("likelihoods", [])
    if any(lik != "gaussian" for lik in likelihoods):
        text += ", " + "/".join(likelihoods)
    if entry.get("missing"):
        text += f", {pct(entry['missing'])} missing"
    if entry.get("rows_missing"):
        shares = "/".join(pct(s) for s in entry["rows_missing"])
        text += f", samples missing a view ({shares})"
    return text


def regime_table(results: dict) -> pd.DataFrame:
    """One row per (regime, our system) of the benchmark, against its reference.

    ``iterations`` and ``fit_s`` are each system's own stopping rule;
    ``equal_quality_iterations`` and ``equal_quality_s`` are ours at equal
    quality (``basis``: ``"same ELBO"``, when ours first reached the reference's
    final ELBO, where the ELBOs are comparable; else ``"same rule"``, stopped by
    the reference's rule), and ``speedup`` is ``reference_fit_s`` over
    ``equal_quality_s`` as the file records it. The differences are ours minus
    the reference's, in points.

    Examples
    --------
    >>> from latentlab.mofa.benchmark import regime_table
    >>> ours = {"iterations": 50, "fit_seconds": 1.0, "elbo": -10.0}
    >>> ref = {"iterations": 200, "fit_seconds": 8.0, "elbo": -11.0}
    >>> cmp = {"speedup_equal_quality": 8.0, "equal_quality_basis": "same ELBO",
    ...        "iterations_to_reference_elbo": 40, "time_to_reference_elbo": 1.0,
    ...        "recovery_difference_points": 0.5, "quality_ok": True,
    ...        "r2_max_abs_difference_points": 0.1, "target_met": True}
    >>> entry = {"n": 100, "views": [20, 30], "likelihoods": ["gaussian"] * 2,
    ...          "reference": "mofapy2", "latentlab": ours, "mofapy2": ref,
    ...          "comparison": {"latentlab": cmp}}
    >>> table = regime_table({"regimes": {"tiny": entry}})
    >>> table[["regime", "data", "system", "speedup"]].to_dict("records")
    [{'regime': 'tiny', 'data': 'N=100, D=20+30', 'system': 'latentlab', 'speedup': 8.0}]
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict, got {type(results).__name__}")
    regimes = results.get("regimes")
    if not isinstance(regimes, dict) or not regimes:
        raise ValueError("results must have a non-empty 'regimes' dict")
    rows = []
    for regime, entry in regimes.items():
        where = f"results['regimes'][{regime!r}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("comparison"), dict):
            raise TypeError(f"{where} must be a dict with a 'comparison' dict")
        reference = entry.get("reference")
        if reference not in entry:
            raise ValueError(f"{where} must name a reference system it holds, "
                             f"got {reference!r}")
        for system, cmp in entry["comparison"].items():
            if system not in entry or not isinstance(cmp, dict):
                raise ValueError(f"{where} has a comparison for {system!r} but no "
                                 "results for it")
            try:
                rows.append(_row(regime, entry, system, cmp))
            except KeyError as exc:
                raise ValueError(f"{where} lacks the key {exc} for {system!r}") from None
    table = pd.DataFrame(rows, columns=_COLUMNS)
    return table.astype({"equal_quality_iterations": "Int64"})


def _row(regime: str, entry: dict, system: str, cmp: dict) -> dict:
    ours, reference = entry[system], entry["reference"]
    ref = entry[reference]
    if cmp["equal_quality_basis"] == "same ELBO":
        at = (cmp["iterations_to_reference_elbo"], cmp["time_to_reference_elbo"])
    else:
        same_rule = cmp.get("same_rule") or {}
        at = (same_rule.get("iterations"), same_rule.get("fit_seconds"))
    return {
        "regime": regime, "data": _data(entry), "system": system,
        "reference": reference, "iterations": ours["iterations"],
        "fit_s": ours["fit_seconds"],
        "reference_iterations": ref["iterations"],
        "reference_fit_s": ref["fit_seconds"],
        "elbo": ours.get("elbo"), "reference_elbo": ref.get("elbo"),
        "equal_quality_iterations": at[0], "equal_quality_s": at[1],
        "speedup": cmp["speedup_equal_quality"],
        "basis": cmp["equal_quality_basis"],
        "speedup_own_rules": cmp.get("speedup_own_rules"),
        "recovery_diff_points": cmp["recovery_difference_points"],
        "r2_diff_points": cmp["r2_max_abs_difference_points"],
        "quality_ok": bool(cmp["quality_ok"]),
        "target_met": bool(cmp["target_met"]),
    }


def name_rows(table: pd.DataFrame, value: str = "speedup") -> str:
    """The rows of ``table`` named in a sentence, each with its ``value`` (×).

    Examples
    --------
    >>> import pandas as pd
    >>> from latentlab.mofa.benchmark import name_rows
    >>> rows = pd.DataFrame({"regime": ["large", "large"],
    ...                      "system": ["latentlab", "latentlab SVI"],
    ...                      "speedup": [26.27, 4.12]})
    >>> name_rows(rows)
    'large (latentlab, 26×) and large (latentlab SVI, 4.1×)'
    >>> name_rows(rows.iloc[:0])
    'none'
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if not isinstance(value, str) or value not in table.columns:
        raise ValueError(f"value must be a column of table, got {value!r}")
    for column in ("regime", "system"):
        if column not in table.columns:
            raise ValueError(f"table must have a {column!r} column")
    names = [f"{row['regime']} ({row['system']}, {num(row[value], 2)}×)"
             for _, row in table.iterrows()]
    if not names:
        return "none"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


#: What chapter 4 says where no results file is recorded.
NO_BENCHMARK = ("No benchmark against mofapy2 is recorded in this copy of the repository "
                "(benchmarks/results/mofa.json).")


def _stop_reason(row) -> str:
    elbo = "higher" if row["elbo"] > row["reference_elbo"] else "lower"
    return (f"{row['system']} ran {row['iterations']} iterations against "
            f"{row['reference']}'s {row['reference_iterations']} and ended at a "
            f"{elbo} ELBO, {num(row['elbo'])} against {num(row['reference_elbo'])}")


def _iterations(values) -> str:
    values = [str(v) for v in values]
    if len(values) == 1:
        return f"iteration {values[0]}"
    return f"iterations {', '.join(values[:-1])} and {values[-1]}"


def summary_sentence(table: pd.DataFrame) -> tuple[str, dict[str, bool]]:
    """Chapter 4's sentence about :func:`regime_table` and the checks behind it.

    It gives the range of equal-quality speed-ups over the rows that meet the
    target and names the rows below it, each with how the two fits stopped. It
    also names the rows that meet the target at equal quality but not when
    each system stops by its own rule. The checks (for
    :func:`latentlab.claims.say`) fail where the table contradicts the words.

    Examples
    --------
    >>> import pandas as pd
    >>> from latentlab.mofa.benchmark import summary_sentence
    >>> rows = pd.DataFrame({
    ...     "regime": ["a", "b"], "system": ["latentlab"] * 2,
    ...     "reference": ["mofapy2"] * 2, "speedup": [7.0, 12.0],
    ...     "speedup_own_rules": [6.0, 9.0], "quality_ok": [True, True],
    ...     "target_met": [True, True], "basis": ["same ELBO"] * 2})
    >>> text, checks = summary_sentence(rows)
    >>> text
    'At equal quality `latentlab.mofa` was 7 to 12 times as fast as mofapy2 in all 2 rows, each meeting the target of 5 times (regimes a, b). No row is below it.'
    >>> all(checks.values())
    True
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    needed = {"regime", "system", "speedup", "speedup_own_rules", "quality_ok",
              "target_met", "basis"}
    if missing := sorted(needed - set(table.columns)):
        raise ValueError(f"table lacks the columns {missing} (from regime_table)")
    if table.empty:
        raise ValueError("table must have at least one row")
    met = table[table["target_met"]]
    missed = table[~table["target_met"]]
    regimes = ", ".join(dict.fromkeys(met["regime"]))
    rows = (f"in all {len(met)} rows, each meeting" if missed.empty
            else f"in the {len(met)} of {len(table)} rows that meet")
    low, high = num(met["speedup"].min(), 2), num(met["speedup"].max(), 2)
    speeds = low if low == high else f"{low} to {high}"
    text = (f"At equal quality `latentlab.mofa` was {speeds} "
            f"times as fast as mofapy2 {rows} the "
            f"target of {num(TARGET_SPEEDUP)} times (regimes {regimes}). "
            if len(met) else "No row meets the target. ")
    if len(missed):
        reasons = "; ".join(_stop_reason(row) for _, row in missed.iterrows())
        text += f"Below the target: {name_rows(missed)}. Why: {reasons}."
    else:
        text += "No row is below it."
    short = met[met["speedup_own_rules"] < TARGET_SPEEDUP]
    if len(short):
        reasons = "; ".join(_stop_reason(row) for _, row in short.iterrows())
        text += (f" With each system stopped by its own rule instead, "
                 f"{name_rows(short, 'speedup_own_rules')} "
                 f"{'falls' if len(short) == 1 else 'fall'} short of the target: "
                 f"{reasons}. The equal-quality clock stops when ours first passes "
                 f"mofapy2's final ELBO (at "
                 f"{_iterations(short['equal_quality_iterations'])}).")
    target = (table["speedup"] >= TARGET_SPEEDUP) & table["quality_ok"]
    checks = {
        "misses_are_the_file_s": target.tolist() == table["target_met"].tolist(),
        "faster": bool((met["speedup"] > 1).all()),
        "own_rules_faster": bool((short["speedup_own_rules"] > 1).all()),
        "short_rows_same_elbo": bool((short["basis"] == "same ELBO").all()),
    }
    return text, checks
