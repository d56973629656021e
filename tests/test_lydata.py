"""Tests for the shipped lyDATA 2023-isb-multisite loader."""

import warnings
from collections import Counter

import numpy as np
import pytest

from latentlab.datasets.lydata import LNLS, _super_level, load_isb_multisite, parse_involvement
from latentlab.lymph import LymphHMMComponent, early_late
from latentlab.mixture import ConvergenceWarning, fit_em


@pytest.fixture(scope="module")
def cohort():
    return load_isb_multisite()


def test_counts_match_the_design_note(cohort):
    assert cohort.n_patients == 332
    codes = Counter(cohort.subsite.tolist())
    assert codes == {"C02": 99, "C04": 47, "C09": 47, "C03": 38, "C32": 24, "C01": 20, "C06": 18,
                     "C05": 13, "C12": 12, "C10": 7, "C13": 6, "C00": 1}
    assert Counter(cohort.location.tolist()) == {"oral cavity": 205, "oropharynx": 85, "larynx": 24, "hypopharynx": 18}
    assert Counter(cohort.t_stage.tolist()) == {1: 120, 2: 111, 3: 48, 4: 53}
    assert np.bincount(early_late(cohort.t_stage)).tolist() == [231, 101]


def test_pathology_super_levels(cohort):
    path = cohort.involvement["pathology"]
    assert path.shape == (332, 5)
    # raw super-level columns have 38 and 4 involved in I and V; sub-levels add 3 and 2
    assert np.nansum(path, axis=0).tolist() == [41, 100, 43, 8, 6]
    assert np.isnan(path).sum(axis=0).tolist() == [40, 43, 46, 143, 178]
    assert int((~np.isnan(path)).all(axis=1).sum()) == 123
    assert set(np.unique(path[~np.isnan(path)])) == {0.0, 1.0}


def test_imaging_uses_sub_levels(cohort):
    ct = cohort.involvement["CT"]
    assert int((~np.isnan(ct[:, 0])).sum()) == 42  # CT records only Ia/Ib
    assert cohort.observations(("CT", "pathology")).shape == (332, 10)


def test_super_level_rule():
    nan = np.nan
    level = np.array([nan, nan, nan, 0.0, 1.0, nan])
    sub_a = np.array([1.0, 0.0, 0.0, nan, nan, nan])
    sub_b = np.array([nan, 0.0, nan, nan, nan, nan])
    out = _super_level(level, [sub_a, sub_b])
    np.testing.assert_array_equal(out[:5], [1.0, 0.0, nan, 0.0, 1.0])
    assert np.isnan(out[5])


def test_subgroups_merge_rare_codes_into_location(cohort):
    groups = Counter(cohort.subgroup.tolist())
    assert groups["hypopharynx"] == 18 and groups["C02"] == 99
    assert min(groups.values()) >= 1 and sum(groups.values()) == 332
    locations = cohort.subgroup_locations()
    assert locations["C01"] == "oropharynx" and locations["C04"] == "oral cavity" and locations["C32"] == "larynx"
    coarse = load_isb_multisite(min_subgroup_size=1000)
    assert set(coarse.subgroup.tolist()) == {"oral cavity", "oropharynx", "larynx", "hypopharynx"}


def test_bad_values():
    with pytest.raises(ValueError, match="must be True, False or empty"):
        parse_involvement(["True", "maybe"])
    with pytest.raises(ValueError, match="not in the cohort"):
        load_isb_multisite().observations(("US",))
    with pytest.raises(ValueError, match="min_subgroup_size must be >= 1"):
        load_isb_multisite(min_subgroup_size=0)


def test_fast_fit_on_real_patients_runs(cohort):
    hmm = LymphHMMComponent(lnls=LNLS)
    X = cohort.observations(("pathology",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_em(hmm, X, cohort.subgroup, 2, stage=early_late(cohort.t_stage), n_restarts=1, max_iter=10, rng=0)
    assert fit.weights.shape == (2, len(set(cohort.subgroup.tolist())))
    assert np.all(np.diff(fit.history) >= -1e-6) and np.isfinite(fit.loglik)
