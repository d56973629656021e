"""Loader for the shipped breast-cancer TCGA multi-omics views.

The copy in ``data/breast_tcga/`` is the ``breast.TCGA`` object of the R
package mixOmics (DIABLO tutorials; Singh et al. 2019, Bioinformatics 35:3055),
converted to CSV. Its README, with the attribution, sits next to the files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["MultiOmicsData", "load_breast_tcga"]

_VIEWS = ("mrna", "mirna", "protein")
_N_PROTEIN = 142  # protein features in train_protein.csv (the test split has none)


@dataclass(frozen=True)
class MultiOmicsData:
    """Matched omics views of the same samples.

    Attributes
    ----------
    views : dict of str -> numpy.ndarray
        Each view is (n_samples, n_features) float64; a sample not measured in
        a view is an all-NaN row.
    feature_names : dict of str -> list of str
    sample_ids : list of str
    subtype : numpy.ndarray
        PAM50 subtype label per sample (str).
    split : numpy.ndarray
        ``"train"`` or ``"test"`` per sample (the mixOmics split).
    """

    views: dict
    feature_names: dict
    sample_ids: list
    subtype: np.ndarray
    split: np.ndarray

    @property
    def n_samples(self) -> int:
        return len(self.sample_ids)


def _read_view(name: str) -> tuple[list[str], list[str], np.ndarray]:
    path = resources.files("latentlab.datasets") / "data" / "breast_tcga" / name
    with path.open("r", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    ids = [row[0] for row in body]
    values = np.array([[float(v) for v in row[1:]] for row in body], dtype=np.float64)
    return header[1:], ids, values


def _read_subtypes(name: str) -> np.ndarray:
    path = resources.files("latentlab.datasets") / "data" / "breast_tcga" / name
    with path.open("r", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return np.array([row[1] for row in rows])


def load_breast_tcga(split: str = "all") -> MultiOmicsData:
    """Load the breast-cancer TCGA views (mRNA, miRNA, protein) and PAM50 subtypes.

    Parameters
    ----------
    split : {"all", "train", "test"}
        ``"train"``: 150 tumours with all three views. ``"test"``: 70 tumours
        with mRNA and miRNA only (protein rows are NaN). ``"all"``: the 220
        tumours stacked, train first.

    Returns
    -------
    MultiOmicsData

    Examples
    --------
    >>> from latentlab.datasets import load_breast_tcga
    >>> data = load_breast_tcga()
    >>> {k: v.shape for k, v in data.views.items()}
    {'mrna': (220, 200), 'mirna': (220, 184), 'protein': (220, 142)}
    >>> int(np.isnan(data.views["protein"]).all(axis=1).sum())
    70
    >>> sorted(set(data.subtype.tolist()))
    ['Basal', 'Her2', 'LumA']
    """
    if split not in ("all", "train", "test"):
        raise ValueError(f"split must be 'all', 'train' or 'test', got {split!r}")
    parts = ["train", "test"] if split == "all" else [split]
    views: dict[str, list[np.ndarray]] = {v: [] for v in _VIEWS}
    names: dict[str, list[str]] = {}
    ids: list[str] = []
    subtypes: list[np.ndarray] = []
    splits: list[str] = []
    for part in parts:
        part_ids = None
        for view in _VIEWS:
            if part == "test" and view == "protein":
                continue
            features, view_ids, values = _read_view(f"{part}_{view}.csv")
            if part_ids is None:
                part_ids = view_ids
            elif view_ids != part_ids:
                raise RuntimeError(f"{part}_{view}.csv rows are not in the same order as the other views")
            names[view] = features
            views[view].append(values)
        n_part = len(part_ids)
        if part == "test":
            n_protein = len(names["protein"]) if "protein" in names else _N_PROTEIN
            views["protein"].append(np.full((n_part, n_protein), np.nan))
        ids.extend(part_ids)
        subtypes.append(_read_subtypes(f"{part}_subtype.csv"))
        splits.extend([part] * n_part)
    stacked = {v: np.vstack(blocks) for v, blocks in views.items()}
    if "protein" not in names:
        names["protein"] = [f"protein_{j}" for j in range(stacked["protein"].shape[1])]
    return MultiOmicsData(
        views=stacked,
        feature_names=names,
        sample_ids=ids,
        subtype=np.concatenate(subtypes),
        split=np.array(splits),
    )
