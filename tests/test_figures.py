"""The figures' style: drawn for the text column, whole-number ticks where an axis counts rows, units or samples."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from relugrad.plotting import COLUMN_WIDTH, mask_heatmap, signed_heatmap, ticks_at, use_book_style  # noqa: E402


def _labels(axis):
    """The tick labels drawn: those of the ticks inside the axis' view (matplotlib also keeps some outside)."""
    low, high = sorted(axis.get_view_interval())
    return [tick.label1.get_text().replace("−", "-") for tick in axis.get_major_ticks()
            if low <= tick.get_loc() <= high and tick.label1.get_text()]


@pytest.mark.parametrize("figsize", [(5.6, 3.6), (2.8, 6.4)], ids=["wide", "tall"])
@pytest.mark.parametrize("shape", [(10, 4), (40, 10), (3, 2), (1, 7)])
@pytest.mark.parametrize("draw", [signed_heatmap, mask_heatmap])
def test_heatmap_axes_count_in_whole_numbers(shape, draw, figsize):
    """Rows are samples and columns are units, counted from 1: a tick at 2.5 would name half a sample (a tall panel gets more
    ticks, which is where matplotlib's default put them at 0.0, 2.5, 5.0, 7.5)."""
    use_book_style()
    matrix = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    figure, ax = plt.subplots(figsize=figsize)
    try:
        draw(ax, matrix if draw is signed_heatmap else (matrix > 0).double(), "title")
        figure.canvas.draw()
        for axis, size in ((ax.xaxis, shape[1]), (ax.yaxis, shape[0])):
            labels = _labels(axis)
            assert labels and all(label.lstrip("-").isdigit() for label in labels), labels
            # numbered from 1, as in the mathematics: entry (i, j) is row i, column j
            assert all(1 <= int(label) <= size for label in labels), (labels, size)
            assert "1" in labels or size > 5, labels
    finally:
        plt.close(figure)


def test_ticks_at_names_each_value_plainly():
    """A log axis over k = 4 ... 1024 reads 4, 16, 64, 256, 1024, not 10^1, 10^2, 10^3."""
    use_book_style()
    figure, ax = plt.subplots()
    try:
        ks = [4, 16, 64, 256, 1024]
        ax.plot(ks, ks)
        ax.set_xscale("log")
        ticks_at(ax.xaxis, ks)
        figure.canvas.draw()
        assert _labels(ax.xaxis) == [str(k) for k in ks]
        assert not ax.xaxis.get_minor_ticks() or not any(t.label1.get_text() for t in ax.xaxis.get_minor_ticks())
    finally:
        plt.close(figure)


def test_default_figure_is_as_wide_as_the_column():
    use_book_style()
    assert plt.rcParams["figure.figsize"][0] == COLUMN_WIDTH
