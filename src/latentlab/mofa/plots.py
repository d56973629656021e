"""Figures for MOFA results in the book's house style (drawing only, no computation)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from latentlab import plotting
from latentlab.mofa.result import MOFAResult

__all__ = ["plot_r2_heatmap", "plot_elbo_trace", "plot_factor_scatter", "plot_top_weights"]


def plot_r2_heatmap(ax, result: MOFAResult, *, factors: Sequence[int] | None = None, annotate: bool = True):
    """Heat map of R² (percent) per view × factor.

    Examples
    --------
    >>> from latentlab.mofa import fit_mofa, simulate_mofa
    >>> from latentlab.mofa.plots import plot_r2_heatmap
    >>> from latentlab.plotting import new_figure
    >>> fit = fit_mofa(simulate_mofa(n_samples=30, view_sizes=(8, 6), rng=0).views, 3, rng=0,
    ...                verbose=False, spike_slab=False)
    >>> fig, ax = new_figure()
    >>> plot_r2_heatmap(ax, fit).get_array().shape
    (2, 3)
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    factors = list(range(result.n_factors)) if factors is None else list(factors)
    matrix = 100 * result.r2_per_factor[:, factors]
    image = plotting.plot_heatmap(ax, matrix, row_labels=result.view_names,
                                  col_labels=[f"F{k + 1}" for k in factors], annotate=annotate,
                                  fmt="{:.1f}", colorbar_label="R² (%)", vmin=0)
    ax.set_xlabel("factor")
    return image


def plot_elbo_trace(ax, histories: Mapping[str, Sequence[float]], *, skip: int = 1, ylabel: str = "ELBO"):
    """ELBO against iteration for one or more fits (the first ``skip`` values left out).

    Examples
    --------
    >>> from latentlab.mofa.plots import plot_elbo_trace
    >>> from latentlab.plotting import new_figure
    >>> fig, ax = new_figure()
    >>> _ = plot_elbo_trace(ax, {"fit": [-10.0, -5.0, -4.0]})
    >>> len(ax.get_lines())
    1
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    curves = {label: list(values)[skip:] for label, values in histories.items()}
    longest = max(len(v) for v in curves.values())
    return plotting.plot_curves(ax, curves, x=np.arange(skip + 1, skip + 1 + longest), ylabel=ylabel)


def plot_factor_scatter(ax, result: MOFAResult, labels, *, factors: tuple[int, int] = (0, 1)):
    """Scatter of two factors, coloured by a sample label.

    Examples
    --------
    >>> from latentlab.mofa import fit_mofa, simulate_mofa
    >>> from latentlab.mofa.plots import plot_factor_scatter
    >>> from latentlab.plotting import new_figure
    >>> fit = fit_mofa(simulate_mofa(n_samples=30, view_sizes=(8, 6), rng=0).views, 2, rng=0,
    ...                verbose=False, spike_slab=False)
    >>> fig, ax = new_figure()
    >>> _ = plot_factor_scatter(ax, fit, ["a"] * 15 + ["b"] * 15)
    >>> len(ax.collections)
    2
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    first, second = factors
    return plotting.plot_scatter_by_label(ax, result.factors[:, [first, second]], labels,
                                          xlabel=f"factor {first + 1}", ylabel=f"factor {second + 1}")


def plot_top_weights(ax, result: MOFAResult, view: str, factor: int, *, n_top: int = 10):
    """Horizontal bars of the ``n_top`` largest |weights| of one factor in one view.

    Examples
    --------
    >>> from latentlab.mofa import fit_mofa, simulate_mofa
    >>> from latentlab.mofa.plots import plot_top_weights
    >>> from latentlab.plotting import new_figure
    >>> fit = fit_mofa(simulate_mofa(n_samples=30, view_sizes=(8, 6), rng=0).views, 2, rng=0,
    ...                verbose=False, spike_slab=False)
    >>> fig, ax = new_figure()
    >>> len(plot_top_weights(ax, fit, "view0", 0, n_top=3).patches)
    3
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    if view not in result.weights:
        raise ValueError(f"view must be one of {result.view_names}, got {view!r}")
    w = result.weights[view][:, factor]
    top = np.argsort(-np.abs(w), kind="stable")[:n_top][::-1]
    names = np.asarray(result.feature_names[view])[top]
    colours = [plotting.PALETTE[0] if v > 0 else plotting.PALETTE[1] for v in w[top]]
    ax.barh(range(len(top)), w[top], color=colours)
    ax.set_yticks(range(len(top)), labels=names)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(f"weight on factor {factor + 1} ({view})")
    return ax
