"""latentlab.mofa.benchmark: the recorded comparison with mofapy2, read for chapter 4."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from latentlab.mofa import benchmark_results, name_rows, regime_table
from latentlab.mofa.benchmark import TARGET_SPEEDUP


def _system(iterations, seconds, elbo):
    return {"iterations": iterations, "fit_seconds": seconds, "elbo": elbo}


def _comparison(speedup, basis, *, quality_ok=True, met=True, **extra):
    return {
        "speedup_equal_quality": speedup, "equal_quality_basis": basis,
        "speedup_own_rules": speedup / 2, "recovery_difference_points": 1.5,
        "r2_max_abs_difference_points": 0.25, "quality_ok": quality_ok,
        "target_met": met, **extra,
    }


def hand_made() -> dict:
    gaussian = {
        "n": 100, "views": [20, 30], "likelihoods": ["gaussian", "gaussian"],
        "missing": 0.15, "reference": "mofapy2",
        "latentlab": _system(40, 1.0, -1000.0), "mofapy2": _system(200, 8.0, -1010.0),
        "comparison": {"latentlab": _comparison(
            8.0, "same ELBO", iterations_to_reference_elbo=30,
            time_to_reference_elbo=1.0)},
    }
    mixed = {
        "n": 50, "views": [10, 10, 10],
        "likelihoods": ["gaussian", "bernoulli", "poisson"],
        "rows_missing": [0.1, 0.25], "reference": "mofapy2 SVI",
        "ours": _system(100, 3.0, -500.0), "ours fast": _system(90, 2.0, -499.0),
        "mofapy2 SVI": _system(70, 6.0, -480.0),
        "comparison": {
            "ours": _comparison(2.0, "same rule", met=False,
                                same_rule={"iterations": 100, "fit_seconds": 3.0}),
            "ours fast": _comparison(6.0, "same rule", quality_ok=False, met=False,
                                     same_rule={"iterations": 80, "fit_seconds": 1.0}),
        },
    }
    return {"K": 10, "regimes": {"gauss": gaussian, "mixed": mixed}}


def test_regime_table_of_a_hand_made_run():
    table = regime_table(hand_made())
    assert list(table["regime"]) == ["gauss", "mixed", "mixed"]
    assert list(table["system"]) == ["latentlab", "ours", "ours fast"]
    assert list(table["reference"]) == ["mofapy2", "mofapy2 SVI", "mofapy2 SVI"]
    assert table["data"].tolist() == [
        "N=100, D=20+30, 15 % missing",
        "N=50, D=10+10+10, gaussian/bernoulli/poisson, "
        "samples missing a view (10 %/25 %)",
        "N=50, D=10+10+10, gaussian/bernoulli/poisson, "
        "samples missing a view (10 %/25 %)",
    ]
    assert table["iterations"].tolist() == [40, 100, 90]
    assert table["reference_iterations"].tolist() == [200, 70, 70]
    assert table["fit_s"].tolist() == [1.0, 3.0, 2.0]
    assert table["reference_fit_s"].tolist() == [8.0, 6.0, 6.0]
    assert table["elbo"].tolist() == [-1000.0, -500.0, -499.0]
    assert table["reference_elbo"].tolist() == [-1010.0, -480.0, -480.0]
    # same ELBO: when ours reached the reference's ELBO; same rule: the rerun's stop
    assert table["equal_quality_iterations"].tolist() == [30, 100, 80]
    assert table["equal_quality_s"].tolist() == [1.0, 3.0, 1.0]
    assert table["speedup"].tolist() == [8.0, 2.0, 6.0]
    assert table["basis"].tolist() == ["same ELBO", "same rule", "same rule"]
    assert table["speedup_own_rules"].tolist() == [4.0, 1.0, 3.0]
    assert table["recovery_diff_points"].tolist() == [1.5] * 3
    assert table["r2_diff_points"].tolist() == [0.25] * 3
    assert table["quality_ok"].tolist() == [True, True, False]
    assert table["target_met"].tolist() == [True, False, False]


def test_name_rows_of_the_misses():
    table = regime_table(hand_made())
    misses = table[~table["target_met"]]
    assert name_rows(misses) == "mixed (ours, 2×) and mixed (ours fast, 6×)"
    assert name_rows(table.iloc[:1], "speedup_own_rules") == "gauss (latentlab, 4×)"
    assert name_rows(table.iloc[:0]) == "none"
    assert name_rows(table) == (
        "gauss (latentlab, 8×), mixed (ours, 2×) and mixed (ours fast, 6×)"
    )


def test_the_recorded_run_when_present():
    results = benchmark_results()
    if results is None:
        pytest.skip("no benchmarks/results/mofa.json in this copy")
    table = regime_table(results)
    recorded = [
        cmp["speedup_equal_quality"]
        for entry in results["regimes"].values()
        for cmp in entry["comparison"].values()
    ]
    assert table["speedup"].tolist() == recorded
    assert len(table) == len(recorded) and set(table["regime"]) == set(results["regimes"])
    np.testing.assert_allclose(
        table["reference_fit_s"] / table["equal_quality_s"], table["speedup"], rtol=1e-6
    )
    below = (table["speedup"] < TARGET_SPEEDUP) | ~table["quality_ok"]
    assert (~table["target_met"]).tolist() == below.tolist()
    assert table["data"].str.startswith("N=").all()


def test_missing_or_malformed_file_is_none(tmp_path):
    assert benchmark_results(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not a JSON results file"):
        benchmark_results(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"runs": []}))
    assert benchmark_results(tmp_path / "other.json") is None
    (tmp_path / "list.json").write_text(json.dumps([1, 2]))
    assert benchmark_results(str(tmp_path / "list.json")) is None
    (tmp_path / "run.json").write_text(json.dumps(hand_made()))
    assert benchmark_results(tmp_path / "run.json") == hand_made()


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="path"):
        benchmark_results(3)
    with pytest.raises(TypeError, match="results"):
        regime_table([hand_made()])
    with pytest.raises(ValueError, match="results"):
        regime_table({"regimes": {}})
    broken = hand_made()
    broken["regimes"]["gauss"]["reference"] = "nobody"
    with pytest.raises(ValueError, match=r"results\['regimes'\]\['gauss'\].*nobody"):
        regime_table(broken)
    broken = hand_made()
    del broken["regimes"]["mixed"]["comparison"]["ours"]["quality_ok"]
    with pytest.raises(ValueError, match=r"\['mixed'\] lacks the key 'quality_ok'"):
        regime_table(broken)
    broken = hand_made()
    del broken["regimes"]["mixed"]["ours"]
    with pytest.raises(ValueError, match="'ours' but no results"):
        regime_table(broken)
    with pytest.raises(TypeError, match="table"):
        name_rows(hand_made())
    with pytest.raises(ValueError, match="value"):
        name_rows(regime_table(hand_made()), "seconds")
    with pytest.raises(ValueError, match="'system'"):
        name_rows(pd.DataFrame({"regime": ["a"], "speedup": [1.0]}))


def test_summary_sentence_names_misses_and_own_rule_shortfalls():
    from latentlab.mofa import summary_sentence

    table = regime_table(hand_made())
    text, checks = summary_sentence(table)
    assert text.startswith("At equal quality `latentlab.mofa` was 8 times as fast "
                           "as mofapy2 in the 1 of 3 rows that meet the target of 5 "
                           "times (regimes gauss). Below the target: mixed (ours, 2×) "
                           "and mixed (ours fast, 6×). Why: ours ran 100 iterations "
                           "against mofapy2 SVI's 70 and ended at a lower ELBO")
    # gauss meets the target at equal quality (8x) but not at own rules (4x)
    assert ("With each system stopped by its own rule instead, gauss (latentlab, 4×) "
            "falls short of the target") in text
    assert text.endswith("(at iteration 30).")
    assert all(checks.values())


def test_summary_sentence_checks_catch_a_contradicting_table():
    from latentlab.mofa import summary_sentence

    table = regime_table(hand_made())
    table.loc[1, "target_met"] = True  # 2x marked as meeting the target
    _, checks = summary_sentence(table)
    assert not checks["misses_are_the_file_s"]
    table = regime_table(hand_made())
    table.loc[0, "basis"] = "same rule"
    assert not summary_sentence(table)[1]["short_rows_same_elbo"]


def test_summary_sentence_bad_input():
    from latentlab.mofa import summary_sentence

    with pytest.raises(TypeError, match="table must be a pandas DataFrame, got dict"):
        summary_sentence({})
    with pytest.raises(ValueError, match="table lacks the columns"):
        summary_sentence(pd.DataFrame({"regime": ["a"]}))
    with pytest.raises(ValueError, match="at least one row"):
        summary_sentence(regime_table(hand_made()).iloc[:0])
