"""latentlab.sweep.models: the positive pairs of the metric loss."""

import numpy as np
import torch

from latentlab.sweep.models import _partner_options, _positive_partners


def _table():
    ids = np.repeat(["a", "b", "c"], [4, 3, 1])
    stage = np.array([10.0, 11.0, 20.0, 30.0, 12.0, 13.0, 14.0, 15.0])
    return ids, stage


def test_partners_are_other_frames_of_the_same_embryo_within_the_window():
    ids, stage = _table()
    for seed in range(20):
        partner = _positive_partners(
            ids, stage, 2.0, torch.Generator().manual_seed(seed)
        )
        for row, other in enumerate(partner):
            assert ids[other] == ids[row]
            if row in (2, 3, 7):  # no other frame within 2 hpf: the row itself
                assert other == row
            else:
                assert other != row and abs(stage[other] - stage[row]) <= 2.0


def test_every_candidate_is_drawn_and_cached_candidates_change_nothing():
    ids, stage = _table()
    options, offsets, counts = _partner_options(ids, stage, 2.0)
    assert counts.tolist() == [1, 1, 0, 0, 2, 2, 2, 0]
    assert options[offsets[5] : offsets[5] + counts[5]].tolist() == [4, 6]
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    seen = set()
    for _ in range(30):
        fresh = _positive_partners(ids, stage, 2.0, g1)
        cached = _positive_partners(ids, stage, 2.0, g2, (options, offsets, counts))
        assert np.array_equal(fresh, cached)
        seen.add(int(fresh[5]))
    assert seen == {4, 6}


def test_driver_bootstrap_equals_scipy_spearman_per_resample():
    import pandas as pd
    from scipy.stats import spearmanr

    from latentlab.sweep.reading import driver_analysis

    rng = np.random.default_rng(4)
    table = pd.DataFrame(
        {"beta": rng.choice([0.1, 1.0, 3.0], 25), "loss": rng.choice(["a", "b"], 25)}
    )
    table["metric"] = table.beta + rng.normal(size=25)
    result = driver_analysis(table, ["beta", "loss"], "metric", n_boot=50, rng=7)
    # the same resamples, one scipy call each (the definition)
    draws = np.random.default_rng(7)
    x = table.beta.to_numpy()
    codes = table.loss.map({"a": 0, "b": 1}).to_numpy().astype(float)
    y = table.metric.to_numpy()
    boots = []
    for _ in range(50):
        idx = draws.integers(0, 25, 25)
        boots.append([spearmanr(x[idx], y[idx])[0], spearmanr(codes[idx], y[idx])[0]])
    low, high = np.nanpercentile(np.array(boots), [2.5, 97.5], axis=0)
    assert np.allclose(result.spearman_low, low, atol=1e-12, rtol=0)
    assert np.allclose(result.spearman_high, high, atol=1e-12, rtol=0)
