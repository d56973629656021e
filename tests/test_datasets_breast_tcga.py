"""The shipped TCGA copy loads with the documented shapes, labels and missing view."""

import numpy as np
import pytest

from latentlab.datasets import load_breast_tcga


def test_train_split_has_all_views_and_no_missing_values():
    data = load_breast_tcga("train")
    assert {k: v.shape for k, v in data.views.items()} == {
        "mrna": (150, 200), "mirna": (150, 184), "protein": (150, 142)}
    assert not any(np.isnan(v).any() for v in data.views.values())
    labels, counts = np.unique(data.subtype, return_counts=True)
    assert dict(zip(labels.tolist(), counts.tolist())) == {"Basal": 45, "Her2": 30, "LumA": 75}


def test_test_split_has_no_protein_view():
    data = load_breast_tcga("test")
    assert np.isnan(data.views["protein"]).all()
    assert data.views["protein"].shape == (70, 142)
    assert data.n_samples == 70 and set(data.split) == {"test"}


def test_all_stacks_train_then_test():
    data = load_breast_tcga()
    train = load_breast_tcga("train")
    assert np.array_equal(data.views["mrna"][:150], train.views["mrna"])
    assert data.sample_ids[:150] == train.sample_ids
    assert len(data.feature_names["protein"]) == 142


def test_attribution_ships_next_to_the_data():
    from importlib import resources
    readme = (resources.files("latentlab.datasets") / "data" / "breast_tcga" / "README.md").read_text()
    assert "Singh" in readme and "mixOmics" in readme


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'all', 'train' or 'test'"):
        load_breast_tcga("validation")
