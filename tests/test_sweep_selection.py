"""Tests for latentlab.sweep.selection: collapsed and failed rows never chosen; trend words."""

import numpy as np
import pandas as pd
import pytest

from latentlab.sweep.selection import select_model, trend_from_interval


def table(f1, rmse, scale, status=None):
    t = pd.DataFrame({"f1_all": f1, "aligned_rmse": rmse, "curve_scale": scale})
    t["status"] = status or ["ok"] * len(t)
    t["relative_aligned_rmse"] = t.aligned_rmse / t.curve_scale
    return t


def test_a_collapsed_embedding_is_never_chosen():
    # row 0: tiny curves (scale 0.08 against a median of ~1.1) and so a tiny RMSE
    t = table(
        [0.9, 0.85, 0.8, 0.75, 0.9],
        [0.01, 0.3, 0.2, 0.5, 1.5],
        [0.08, 1.1, 1.0, 1.2, 1.3],
    )
    choice = select_model(t)
    assert int(choice.naive_row.name) == 0  # the raw rule would pick it
    assert choice.collapsed.tolist() == [True, False, False, False, False]
    assert choice.scale_threshold == pytest.approx(0.25 * 1.1)
    # among the rest, the lowest RMSE relative to the curve size
    assert int(choice.row.name) == 2 and choice.acceptable.tolist() == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_failed_fits_are_excluded_and_do_not_set_the_median():
    t = table(
        [0.9, 0.9, 0.9],
        [0.1, 0.2, 0.3],
        [5.0, 1.0, 1.0],
        ["failed wt:revisit", "ok", "ok"],
    )
    choice = select_model(t)
    assert choice.failed.tolist() == [True, False, False]
    assert choice.scale_threshold == pytest.approx(0.25)
    assert int(choice.row.name) == 1


def test_no_acceptable_model_gives_none():
    choice = select_model(table([0.5, 0.6], [0.1, 2.0], [1.0, 1.0]))
    assert (
        choice.row is None and choice.naive_row is None and not choice.acceptable.any()
    )


def test_bad_tables():
    with pytest.raises(ValueError, match="missing the column"):
        select_model(pd.DataFrame({"f1_all": [0.9]}))
    with pytest.raises(TypeError, match="DataFrame"):
        select_model(np.zeros((3, 3)))


def test_trend_words_follow_the_interval():
    assert trend_from_interval(0.05, 0.9) == "rises"
    assert trend_from_interval(-0.7, -0.01) == "falls"
    assert (
        trend_from_interval(-0.01, 0.9) == "shows no clear trend"
    )  # a large rho, but 0 inside
    assert trend_from_interval(np.nan, np.nan) == "shows no clear trend"
    with pytest.raises(ValueError, match="low must not exceed"):
        trend_from_interval(0.5, 0.1)
