"""Tests for the lyDATA reader: both shipped cohorts and synthetic variants."""

import io
import warnings
from collections import Counter

import numpy as np
import pytest

from latentlab.datasets.lydata import (
    LNLS, aggregate_level, load_isb_multisite, load_usz_oropharynx, parse_involvement,
    read_lydata,
)
from latentlab.lymph import LymphHMMComponent, early_late
from latentlab.mixture import ConvergenceWarning, fit_em

nan = np.nan


def table(columns, rows):
    """A lyDATA CSV from (top, side, level) columns and rows of strings."""
    header = [",".join(c[i] for c in columns) for i in range(3)]
    return io.StringIO("\n".join(header + [",".join(r) for r in rows]) + "\n")


TUMOR = [("patient", "core", "id"), ("tumor", "core", "location"),
         ("tumor", "core", "subsite"), ("tumor", "core", "t_stage")]


@pytest.fixture(scope="module")
def isb():
    return load_isb_multisite()


@pytest.fixture(scope="module")
def usz():
    return load_usz_oropharynx()


def test_isb_counts(isb):
    assert isb.n_patients == 332
    assert isb.modalities == ("CT", "MRI", "PET", "pathology")
    assert Counter(isb.subsite.tolist()) == {
        "C02": 99, "C04": 47, "C09": 47, "C03": 38, "C32": 24, "C01": 20, "C06": 18,
        "C05": 13, "C12": 12, "C10": 7, "C13": 6, "C00": 1}
    assert Counter(isb.t_stage.tolist()) == {1: 120, 2: 111, 3: 48, 4: 53}
    assert np.bincount(early_late(isb.t_stage)).tolist() == [231, 101]


def test_isb_pathology_levels_under_both_rules(isb):
    path = isb.involvement["pathology"]
    # the parent columns report 38 and 4 involved in I and V; three level-I and two
    # level-V patients have only a positive sub-level, their other sub-level unknown
    assert np.nansum(path, axis=0).tolist() == [38, 100, 43, 8, 4]
    assert np.isnan(path).sum(axis=0).tolist() == [43, 43, 46, 143, 180]
    loose = load_isb_multisite(sublevel_rule="any_positive").involvement["pathology"]
    assert np.nansum(loose, axis=0).tolist() == [41, 100, 43, 8, 6]
    changed = np.isnan(path) != np.isnan(loose)
    assert changed.sum() == 5 and np.all(loose[changed] == 1)


def test_usz_cohort(usz):
    assert usz.n_patients == 287
    assert usz.modalities == ("FNA", "PET", "CT", "MRI", "pCT", "pathology")
    assert Counter(usz.subgroup.tolist()) == {"C09": 118, "C10": 86, "C01": 83}
    assert set(usz.location.tolist()) == {"oropharynx"}
    consensus = usz.consensus()
    assert not np.isnan(consensus).any()  # every patient has some modality on I-V
    # level II is the most often involved level in oropharyngeal cancer
    assert np.argmax(consensus.mean(axis=0)) == 1


def test_sublevel_rule():
    ia = np.array([nan, nan, 0.0, 1.0, nan, 0.0, nan])
    ib = np.array([1.0, 0.0, 0.0, nan, nan, 1.0, nan])
    parent = np.array([nan, nan, nan, nan, 1.0, 0.0, 0.0])
    # positive Ib + unknown Ia: unknown (complete) or involved (any_positive);
    # negative Ib + unknown Ia: unknown under both, never healthy
    strict = aggregate_level(None, [ia, ib])
    np.testing.assert_array_equal(strict, [nan, nan, 0.0, nan, nan, 1.0, nan])
    loose = aggregate_level(None, [ia, ib], rule="any_positive")
    np.testing.assert_array_equal(loose, [1.0, nan, 0.0, 1.0, nan, 1.0, nan])
    # a reported parent is used; a positive sub-level overrides a negative parent
    with_parent = aggregate_level(parent, [ia, ib])
    np.testing.assert_array_equal(with_parent, [nan, nan, 0.0, nan, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="rule must be one of"):
        aggregate_level(None, [ia, ib], rule="majority")


def test_sublevel_rule_keeps_missingness_independent_of_the_outcome():
    # Ia unexamined for half the patients, at random; Ib always examined
    gen = np.random.default_rng(0)
    n = 20_000
    ia_true, ib_true = gen.random(n) < 0.1, gen.random(n) < 0.3
    examined = gen.random(n) < 0.5
    ia = np.where(examined, ia_true, nan)
    level = ia_true | ib_true
    for rule, biased in (("complete", False), ("any_positive", True)):
        out = aggregate_level(None, [ia, ib_true.astype(float)], rule=rule)
        known = ~np.isnan(out)
        gap = out[known].mean() - level.mean()
        assert (abs(gap) > 0.05) == biased, (rule, gap)


def test_pathology_only_table_without_parent_levels():
    cols = TUMOR + [("pathology", "ipsi", lv) for lv in
                    ("Ia", "Ib", "IIa", "IIb", "III", "IV", "Va", "Vb")]
    rows = [["1", "oropharynx", "C09.0", "2",
             "False", "True", "True", "", "False", "False", "False", "False"],
            ["2", "oral cavity", "C02.1", "4",
             "", "False", "False", "False", "True", "", "", "False"]]
    cohort = read_lydata(table(cols, rows))
    assert cohort.modalities == ("pathology",)
    np.testing.assert_array_equal(cohort.involvement["pathology"],
                                  [[1, nan, 0, 0, 0], [nan, 0, 1, nan, nan]])
    assert cohort.t_stage.tolist() == [2, 4] and cohort.subsite.tolist() == ["C09", "C02"]


def test_table_without_sublevels_and_file_objects():
    cols = TUMOR + [(m, "ipsi", lv) for m in ("CT", "MRI") for lv in LNLS]
    rows = [["a", "oropharynx", "C10", "1"] + ["True", "", "False", "False", "False"] * 2]
    text = table(cols, rows).getvalue()
    for source in (io.StringIO(text), io.BytesIO(text.encode())):
        cohort = read_lydata(source, min_subgroup_size=1)
        assert cohort.modalities == ("CT", "MRI")
        assert cohort.observations(("CT", "MRI")).shape == (1, 10)
    with pytest.raises(TypeError, match="source must be a path or a file object"):
        read_lydata(42)


def test_path_source(tmp_path):
    cols = TUMOR + [("pathology", "ipsi", lv) for lv in LNLS]
    path = tmp_path / "t.csv"
    path.write_text(table(cols, [["a", "larynx", "C32", "3"] + ["False"] * 5]).getvalue())
    assert read_lydata(path).involvement["pathology"].tolist() == [[0.0] * 5]


def test_errors_name_missing_columns():
    cols = [("patient", "core", "id"), ("tumor", "core", "location"),
            ("pathology", "ipsi", "II")]
    with pytest.raises(ValueError, match=r"\(tumor, core, subsite\).*\(tumor, core, t_stage\)"):
        read_lydata(table(cols, [["a", "oropharynx", "True"]]))
    cols = TUMOR + [("pathology", "ipsi", lv) for lv in ("I", "II", "III", "IV", "Va")]
    with pytest.raises(ValueError, match=r"lacks \(pathology, ipsi, V\)"):
        read_lydata(table(cols, [["a", "oropharynx", "C09", "1"] + ["True"] * 5]))
    with pytest.raises(ValueError, match="three-row header"):
        read_lydata(io.StringIO("a,b\n1,2\n"))
    cols = TUMOR + [("pathology", "ipsi", lv) for lv in LNLS]
    with pytest.raises(ValueError, match="t_stage"):
        read_lydata(table(cols, [["a", "oropharynx", "C09", "7"] + ["True"] * 5]))
    with pytest.raises(ValueError, match="must be True, False or empty"):
        read_lydata(table(cols, [["a", "oropharynx", "C09", "1", "maybe"] + ["True"] * 4]))


def test_consensus_and_its_rates():
    cols = TUMOR + [(m, "ipsi", lv) for m in ("CT", "pathology") for lv in LNLS]
    rows = [["a", "oropharynx", "C09", "1", "True", "False", "", "", "True",
             "False", "", "", "True", ""]]
    cohort = read_lydata(table(cols, rows), min_subgroup_size=1)
    # pathology decides where present; CT alone where not; NaN where neither reports
    np.testing.assert_array_equal(cohort.consensus(), [[0, 0, nan, 1, 1]])
    rate_inv, rate_healthy = cohort.consensus_rates()
    spec, sens = 0.76, 0.81
    np.testing.assert_allclose(rate_inv[0], [1, sens, nan, 1, sens])
    np.testing.assert_allclose(rate_healthy[0], [0, 1 - spec, nan, 0, 1 - spec])
    with pytest.raises(ValueError, match="spec_sens has no"):
        cohort.consensus({"CT": (0.8, 0.8)})


def test_consensus_rates_match_simulation(usz):
    rate_inv, rate_healthy = usz.consensus_rates()
    spec_sens = {"FNA": (0.98, 0.8), "PET": (0.86, 0.79), "CT": (0.76, 0.81),
                 "MRI": (0.63, 0.81), "pCT": (0.76, 0.81), "pathology": (1.0, 1.0)}
    gen = np.random.default_rng(1)
    i, v = 5, 1  # one patient-level; simulate its reporting modalities
    present = [m for m in usz.modalities if not np.isnan(usz.involvement[m][i, v])]
    assert len(present) >= 2
    for truth, expected in ((1, rate_inv[i, v]), (0, rate_healthy[i, v])):
        llr = np.zeros(40_000)
        for m in present:
            spec, sens = spec_sens[m]
            pos = gen.random(llr.size) < (sens if truth else 1 - spec)
            llr += np.where(pos, np.log(sens / (1 - spec)), np.log((1 - sens) / spec))
        assert abs((llr > 0).mean() - expected) < 0.01


def test_subgroup_rule(isb):
    groups = Counter(isb.subgroup.tolist())
    assert groups["C02"] == 99 and groups["hypopharynx (rare codes)"] == 18
    assert groups["oropharynx (rare codes)"] == 17  # C05 (soft palate) and C10
    assert groups["other (rare codes)"] == 4        # rare code and rare location pool
    assert sum(groups.values()) == 332
    coded = [g for g in groups if not g.endswith("(rare codes)")]
    assert all(groups[g] >= 15 for g in coded)
    by_location = load_isb_multisite(subgroup_by="location")
    assert Counter(by_location.subgroup.tolist()) == {
        "oral cavity": 205, "oropharynx": 85, "larynx": 24, "hypopharynx": 18}


def test_bad_arguments(isb):
    assert parse_involvement(["TRUE", " false ", ""])[:2].tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="must be True, False or empty"):
        parse_involvement(["True", "maybe"])
    with pytest.raises(ValueError, match="not in the cohort"):
        isb.observations(("US",))
    with pytest.raises(ValueError, match="min_subgroup_size must be >= 1"):
        load_isb_multisite(min_subgroup_size=0)
    with pytest.raises(ValueError, match="subgroup_by"):
        load_isb_multisite(subgroup_by="site")
    with pytest.raises(ValueError, match="side"):
        load_isb_multisite(side="left")


def test_fast_fit_on_real_patients_runs(isb):
    hmm = LymphHMMComponent(lnls=LNLS)
    X = isb.observations(("pathology",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_em(hmm, X, isb.subgroup, 2, stage=early_late(isb.t_stage), n_restarts=1,
                     max_iter=10, rng=0)
    assert fit.weights.shape == (2, len(set(isb.subgroup.tolist())))
    assert np.all(np.diff(fit.history) >= -1e-6) and np.isfinite(fit.loglik)
