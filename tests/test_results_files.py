"""The shared reader of recorded benchmark results (latentlab._results)."""

from __future__ import annotations

import json

import pytest

from latentlab._results import RESULTS, read_results
from latentlab.hotstart.comparison import benchmark_results as hotstart_results
from latentlab.mofa.benchmark import benchmark_results as mofa_results
from latentlab.signatures import gpu_results


def test_read_results_missing_unrecorded_and_recorded(tmp_path):
    assert read_results(tmp_path / "missing.json", "x.json", bool) is None
    (tmp_path / "list.json").write_text(json.dumps([1, 2]))
    assert read_results(tmp_path / "list.json", "x.json", bool) is None
    (tmp_path / "run.json").write_text(json.dumps({"runs": [1]}))
    assert read_results(str(tmp_path / "run.json"), "x.json", lambda p: "runs" in p) == {
        "runs": [1]}
    assert read_results(tmp_path / "run.json", "x.json", lambda p: "other" in p) is None


def test_default_path_is_the_repository_results_folder():
    assert RESULTS.name == "results" and RESULTS.parent.name == "benchmarks"
    assert (RESULTS.parent / "mofa_vs_mofapy2.py").is_file()
    stored = read_results(None, "mofa.json", lambda p: "regimes" in p)
    assert stored == mofa_results()


@pytest.mark.parametrize("reader", [hotstart_results, mofa_results, gpu_results])
def test_a_broken_file_raises_naming_it_in_every_reader(tmp_path, reader):
    broken = tmp_path / "broken.json"
    broken.write_text('{"runs": [1, ')
    with pytest.raises(ValueError, match="broken.json is not a JSON results file"):
        reader(broken)


def test_path_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="path must be a str, a path or None, got int"):
        read_results(3, "x.json", bool)
