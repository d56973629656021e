"""One house style for every figure in the book.

Plotting code draws; it never computes a model quantity. Chapters call
:func:`set_style` once, take colours from :data:`PALETTE` (or
:func:`colors`), and reuse the helpers below so that loss curves, heat maps
and scatter plots look the same on every page.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "PALETTE",
    "set_style",
    "colors",
    "new_figure",
    "plot_curves",
    "plot_heatmap",
    "plot_scatter_by_label",
]

#: A colour-blind-safe palette (Okabe & Ito, 2008), in the order chapters use it.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Diverging and sequential colour maps for heat maps.
DIVERGING_CMAP = "RdBu_r"
SEQUENTIAL_CMAP = "viridis"


def set_style(context: str = "notebook") -> None:
    """Apply the book's matplotlib style (fonts, grid, palette, figure size).

    Parameters
    ----------
    context : {"notebook", "paper"}
        ``"paper"`` uses slightly smaller fonts.

    Examples
    --------
    >>> from latentlab.plotting import set_style, PALETTE
    >>> set_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == PALETTE[0]
    True
    """
    if context not in ("notebook", "paper"):
        raise ValueError(f"context must be 'notebook' or 'paper', got {context!r}")
    base = 11 if context == "notebook" else 9
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "font.size": base,
            "axes.titlesize": base + 1,
            "axes.labelsize": base,
            "legend.fontsize": base - 1,
            "legend.frameon": False,
            "xtick.labelsize": base - 1,
            "ytick.labelsize": base - 1,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "grid.linewidth": 0.6,
            "lines.linewidth": 1.8,
            "image.cmap": SEQUENTIAL_CMAP,
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        }
    )


def colors(n: int) -> list[str]:
    """Return ``n`` colours from :data:`PALETTE`, cycling if ``n`` is larger.

    Examples
    --------
    >>> from latentlab.plotting import colors
    >>> colors(2)
    ['#0072B2', '#D55E00']
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.2, height: float = 3.4, **kwargs):
    """Create a figure with a grid of axes sized per panel.

    Returns
    -------
    fig, axes
        ``axes`` is a single Axes when ``nrows == ncols == 1``, otherwise an array.

    Examples
    --------
    >>> from latentlab.plotting import new_figure
    >>> fig, axes = new_figure(2)
    >>> len(axes)
    2
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), constrained_layout=True, **kwargs
    )
    return fig, axes


def plot_curves(
    ax,
    curves: Mapping[str, Sequence[float]] | Sequence[Sequence[float]],
    *,
    x: Sequence[float] | None = None,
    xlabel: str = "iteration",
    ylabel: str = "",
    logy: bool = False,
    title: str | None = None,
):
    """Draw one or more traces (loss, ELBO, log-likelihood) against iteration.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    curves : mapping label -> values, or a sequence of value sequences
    x : sequence, optional
        Shared x values; defaults to 0, 1, 2, ...
    xlabel, ylabel, title : str
    logy : bool
        Log-scale y axis.

    Examples
    --------
    >>> from latentlab.plotting import new_figure, plot_curves
    >>> fig, ax = new_figure()
    >>> _ = plot_curves(ax, {"cold": [3, 2, 1], "hot": [1.5, 1, 0.9]}, ylabel="loss")
    >>> [line.get_label() for line in ax.get_lines()]
    ['cold', 'hot']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    if len(curves) == 0:
        raise ValueError("curves must hold at least one curve, got none")
    items = curves.items() if isinstance(curves, Mapping) else ((None, c) for c in curves)
    for (label, values), color in zip(items, colors(len(curves))):
        values = np.asarray(values, dtype=float)
        if x is not None and len(x) < len(values):
            raise ValueError(f"x must have at least {len(values)} values (the longest curve), got {len(x)}")
        xs = np.arange(len(values)) if x is None else np.asarray(x)[: len(values)]
        ax.plot(xs, values, label=label, color=color)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if isinstance(curves, Mapping) and len(curves) > 1:
        ax.legend()
    return ax


def plot_heatmap(
    ax,
    matrix,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    diverging: bool = False,
    annotate: bool = False,
    fmt: str = "{:.2f}",
    colorbar_label: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Draw a matrix as a heat map with optional labels and annotations.

    ``diverging=True`` centres a red-blue map on zero (for signed weights or
    logits); otherwise a sequential map is used (for R², probabilities).

    Examples
    --------
    >>> from latentlab.plotting import new_figure, plot_heatmap
    >>> fig, ax = new_figure()
    >>> image = plot_heatmap(ax, np.eye(3), annotate=True)
    >>> image.get_array().shape
    (3, 3)
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
    if diverging:
        bound = float(np.nanmax(np.abs(matrix))) if matrix.size else 1.0
        vmin = -bound if vmin is None else vmin
        vmax = bound if vmax is None else vmax
        cmap = DIVERGING_CMAP
    else:
        cmap = SEQUENTIAL_CMAP
    image = ax.imshow(matrix, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.grid(False)
    for name, labels, size in (("row_labels", row_labels, matrix.shape[0]),
                                ("col_labels", col_labels, matrix.shape[1])):
        if labels is not None and len(labels) != size:
            raise ValueError(f"{name} must have {size} labels, got {len(labels)}")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), labels=row_labels)
    if col_labels is not None:
        ax.set_xticks(range(len(col_labels)), labels=col_labels, rotation=45, ha="right")
    if annotate:
        middle = np.nanmean(image.get_clim())
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                    color="white" if (value < middle) != diverging else "black")
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.85)
    if colorbar_label:
        colorbar.set_label(colorbar_label)
    return image


def plot_scatter_by_label(ax, points, labels, *, xlabel: str = "", ylabel: str = "", size: float = 14):
    """Scatter 2-D points coloured by a categorical label, with a legend.

    Examples
    --------
    >>> from latentlab.plotting import new_figure, plot_scatter_by_label
    >>> fig, ax = new_figure()
    >>> _ = plot_scatter_by_label(ax, np.zeros((4, 2)), ["a", "a", "b", "b"])
    >>> len(ax.collections)
    2
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    points = np.asarray(points, dtype=float)
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    if labels.shape != (points.shape[0],):
        raise ValueError(f"labels must have shape ({points.shape[0]},), got {labels.shape}")
    unique = list(dict.fromkeys(labels.tolist()))
    for label, color in zip(unique, colors(len(unique))):
        mask = labels == label
        ax.scatter(points[mask, 0], points[mask, 1], s=size, color=color, label=str(label), alpha=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(markerscale=1.5)
    return ax
