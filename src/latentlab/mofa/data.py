"""Checking and preparing the views of a multi-view factor model.

A *view* is one omics table: samples in rows (the same samples, in the same
order, in every view), features in columns. ``NaN`` marks a missing entry and
an all-``NaN`` row a sample that was not measured in that view. Each view
declares its likelihood; nothing is guessed from the values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from latentlab._validation import check_array

__all__ = ["LIKELIHOODS", "ViewData", "prepare_views"]

#: The likelihoods a view can declare.
LIKELIHOODS = ("gaussian", "bernoulli", "poisson")


@dataclass(frozen=True)
class ViewData:
    """One prepared view.

    Attributes
    ----------
    name : str
    likelihood : {"gaussian", "bernoulli", "poisson"}
    Y : ndarray of shape (n_samples, n_features)
        The data with missing entries set to 0; Gaussian views are centred per
        feature over their observed entries (the removed means are ``offset``).
    observed : ndarray of bool, shape (n_samples, n_features)
    rows : ndarray of bool, shape (n_samples,)
        Samples with at least one observed entry in this view.
    row_wise : bool
        True when every missing entry belongs to an all-missing row. The
        updates then use Gram matrices instead of a running residual.
    offset : ndarray of shape (n_features,)
        The per-feature means removed from a Gaussian view (zeros otherwise).
    """

    name: str
    likelihood: str
    Y: np.ndarray
    observed: np.ndarray
    rows: np.ndarray
    row_wise: bool
    offset: np.ndarray

    @property
    def n_observed(self) -> np.ndarray:
        """Observed entries per feature, shape (n_features,)."""
        return self.observed.sum(axis=0)

    def with_data(self, Y: np.ndarray) -> "ViewData":
        """Return a copy holding other data (used for pseudo-data)."""
        return ViewData(self.name, self.likelihood, Y, self.observed, self.rows, self.row_wise, self.offset)


def _as_named_views(views) -> tuple[list[str], list, list | None]:
    if isinstance(views, Mapping):
        names = [str(name) for name in views]
        values = list(views.values())
    elif isinstance(views, (list, tuple)):
        names = [f"view{m}" for m in range(len(views))]
        values = list(views)
    else:
        raise TypeError(
            f"views must be a list or dict of 2-D arrays, got {type(views).__name__}"
        )
    if not values:
        raise ValueError("views must hold at least one view, got none")
    features = None
    if all(hasattr(v, "columns") for v in values):
        features = [[str(c) for c in v.columns] for v in values]
    return names, values, features


def _check_likelihood_values(Y: np.ndarray, observed: np.ndarray, name: str, likelihood: str) -> None:
    values = Y[observed]
    if likelihood == "bernoulli" and np.any((values != 0) & (values != 1)):
        bad = values[(values != 0) & (values != 1)][0]
        raise ValueError(
            f"view {name!r} is declared 'bernoulli' but holds values other than 0 and 1 "
            f"(e.g. {bad:g}); declare it 'gaussian' or binarise it"
        )
    if likelihood == "poisson":
        if np.any(values < 0):
            raise ValueError(
                f"view {name!r} is declared 'poisson' but holds negative values "
                f"(minimum {values.min():g}); Poisson counts must be >= 0"
            )
        if np.any(values != np.round(values)):
            raise ValueError(
                f"view {name!r} is declared 'poisson' but holds non-integer values; "
                "Poisson views must hold counts"
            )


def prepare_views(
    views,
    likelihoods: Sequence[str] | Mapping[str, str] | None = None,
    *,
    center: bool = True,
) -> tuple[list[ViewData], list[list[str]]]:
    """Validate the views and prepare them for fitting.

    Parameters
    ----------
    views : list or dict of array_like of shape (n_samples, n_features_m)
        ``NaN`` for missing entries; an all-``NaN`` row for a sample missing
        from the view. pandas DataFrames are accepted (their column names
        become feature names).
    likelihoods : sequence or dict of str, optional
        One of ``"gaussian"``, ``"bernoulli"``, ``"poisson"`` per view. ``None``
        declares every view Gaussian; values are never inspected to guess.
    center : bool
        Centre Gaussian views per feature (over observed entries).

    Returns
    -------
    views : list of ViewData
    feature_names : list of list of str

    Raises
    ------
    ValueError
        Views with different numbers of samples, a view (or a feature) with no
        observed value, Bernoulli values outside {0, 1}, negative or
        non-integer Poisson values, an unknown likelihood.

    Examples
    --------
    >>> from latentlab.mofa.data import prepare_views
    >>> prepared, names = prepare_views({"rna": [[1.0, 2.0], [3.0, np.nan]]})
    >>> prepared[0].Y.tolist(), prepared[0].row_wise
    ([[-1.0, 0.0], [1.0, 0.0]], False)
    """
    names, values, features = _as_named_views(views)
    if likelihoods is None:
        likelihoods = ["gaussian"] * len(values)
    elif isinstance(likelihoods, str):
        raise TypeError("likelihoods must be a list or dict with one entry per view, got a str")
    elif isinstance(likelihoods, Mapping):
        missing = [n for n in names if n not in likelihoods]
        if missing:
            raise ValueError(f"likelihoods has no entry for view(s) {missing}")
        likelihoods = [likelihoods[n] for n in names]
    likelihoods = list(likelihoods)
    if len(likelihoods) != len(values):
        raise ValueError(
            f"likelihoods must have one entry per view ({len(values)}), got {len(likelihoods)}"
        )
    prepared = []
    n_samples = None
    for name, value, likelihood in zip(names, values, likelihoods):
        if likelihood not in LIKELIHOODS:
            raise ValueError(
                f"likelihood of view {name!r} must be one of {LIKELIHOODS}, got {likelihood!r}"
            )
        Y = check_array(value, f"view {name!r}", ndim=2, allow_nan=True)
        if Y.shape[1] == 0 or Y.shape[0] < 2:
            raise ValueError(f"view {name!r} must have at least 2 samples (rows) and 1 feature "
                             f"(column), got shape {Y.shape}")
        if n_samples is None:
            n_samples = Y.shape[0]
        elif Y.shape[0] != n_samples:
            raise ValueError(
                f"views must have the same number of samples (rows): view {names[0]!r} has "
                f"{n_samples}, view {name!r} has {Y.shape[0]}; use all-NaN rows for samples "
                "missing from a view"
            )
        observed = ~np.isnan(Y)
        if not observed.any():
            raise ValueError(f"view {name!r} is entirely NaN; drop it or provide observed values")
        empty = np.flatnonzero(~observed.any(axis=0))
        if empty.size:
            raise ValueError(
                f"view {name!r} has {empty.size} feature(s) with no observed value "
                f"(first: column {empty[0]}); drop them"
            )
        _check_likelihood_values(Y, observed, name, likelihood)
        rows = observed.any(axis=1)
        row_wise = bool(np.array_equal(observed, np.broadcast_to(rows[:, None], observed.shape)))
        offset = np.zeros(Y.shape[1])
        if likelihood == "gaussian" and center:
            offset = np.nanmean(Y, axis=0)
        filled = np.where(observed, Y - offset, 0.0)
        prepared.append(ViewData(name, likelihood, filled, observed, rows, row_wise, offset))
    for view in prepared:  # after the shape checks, so those are reported first
        if np.ptp(view.Y[view.observed]) == 0:
            raise ValueError(f"view {view.name!r} is constant (no feature varies over its observed samples); "
                             "it carries no variation to explain: drop it")
    if features is None:
        features = [[f"{name}_{j}" for j in range(v.Y.shape[1])] for name, v in zip(names, prepared)]
    return prepared, features
