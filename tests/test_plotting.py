"""The house style applies, and helpers draw what they are given (and reject bad shapes)."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentlab import plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_set_style_sets_palette_and_spines():
    mpl.rcdefaults()
    plotting.set_style()
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(plotting.PALETTE)
    assert mpl.rcParams["axes.spines.top"] is False


def test_set_style_rejects_unknown_context():
    with pytest.raises(ValueError, match="context must be 'notebook' or 'paper'"):
        plotting.set_style("poster")


def test_colors_cycle():
    assert plotting.colors(len(plotting.PALETTE) + 1)[-1] == plotting.PALETTE[0]
    with pytest.raises(ValueError, match="n must be >= 0"):
        plotting.colors(-1)


def test_plot_curves_draws_each_trace_with_x():
    fig, ax = plotting.new_figure()
    plotting.plot_curves(ax, {"a": [1, 2, 3], "b": [3, 2]}, x=[10, 20, 30], logy=True, title="t")
    lines = ax.get_lines()
    assert [l.get_label() for l in lines] == ["a", "b"]
    assert list(lines[1].get_xdata()) == [10, 20]
    assert ax.get_yscale() == "log" and ax.get_title() == "t"


def test_plot_heatmap_centres_diverging_scale():
    fig, ax = plotting.new_figure()
    image = plotting.plot_heatmap(ax, np.array([[-1.0, 3.0], [0.5, 0.0]]), diverging=True,
                                  row_labels=["r1", "r2"], col_labels=["c1", "c2"])
    assert image.get_clim() == (-3.0, 3.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["r1", "r2"]


def test_plot_heatmap_rejects_1d():
    fig, ax = plotting.new_figure()
    with pytest.raises(ValueError, match="matrix must be 2-D"):
        plotting.plot_heatmap(ax, np.zeros(3))


def test_scatter_by_label_one_collection_per_label():
    fig, ax = plotting.new_figure()
    points = np.arange(12.0).reshape(6, 2)
    plotting.plot_scatter_by_label(ax, points, ["x", "y", "x", "z", "y", "x"])
    assert [c.get_label() for c in ax.collections] == ["x", "y", "z"]
    assert len(ax.collections[0].get_offsets()) == 3


def test_scatter_by_label_checks_shapes():
    fig, ax = plotting.new_figure()
    with pytest.raises(ValueError, match=r"points must have shape \(n, 2\)"):
        plotting.plot_scatter_by_label(ax, np.zeros((3, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        plotting.plot_scatter_by_label(ax, np.zeros((3, 2)), [0, 1])
