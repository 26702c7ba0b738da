"""One look for every figure: sized for the text column, solid backgrounds (readable in dark mode), one colour per
quantity, and whole-number ticks on axes that count rows, units or samples."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from relugrad.figures import tr
from relugrad.validation import checked_positive, type_name

# Figures are drawn narrow enough that a phone need not shrink them much: text px on a screen is
# pt × dpi / 72 × (shown width / natural width). A 390-px phone shows a notebook's output 342 px wide; a 4-in figure
# at 120 dpi is about 490 px (480 plus the margin of a tight bounding box), shown there at 0.7 of its size, so 11-pt
# text (18.3 px in the PNG) reads at about 12.7 px (at 5.6 in it was 9.2 px). On a desktop the figure is shown at its
# natural size, its labels as tall as the body text, and a tap on a phone opens the full-size image.
COLUMN_WIDTH = 4.0   # inches: every figure of the book is this wide (figsize=(COLUMN_WIDTH, height))
DPI = 120            # dots per inch of the figures' PNGs
MIN_TEXT_PT = 11     # the smallest text a figure may use, in points (legends and ticks included)

# The same quantity gets the same colour in every figure of the book.
COLORS = {
    "active": "#1b7837",     # entries with Z > 0 (M = 1)
    "inactive": "#762a83",   # entries with Z <= 0 (M = 0)
    "float32": "#d95f02",
    "float64": "#1f78b4",
    "gradient": "#0571b0",   # sizes of gradients
    "reference": "#555555",
}
SIGNED_CMAP = "RdBu_r"    # Z, E, G: blue negative, red positive, white at 0
MASK_CMAP = mpl.colors.ListedColormap([COLORS["inactive"], COLORS["active"]])


def use_book_style() -> None:
    """Solid white figures with dark text, so they read the same on a light or a dark page; every text (titles,
    labels, ticks, legends) at MIN_TEXT_PT, which a figure COLUMN_WIDTH wide keeps at 12 px or more on a phone."""
    plt.rcParams.update({
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "text.color": "#111111",
        "axes.labelcolor": "#111111",
        "xtick.color": "#111111",
        "ytick.color": "#111111",
        "figure.dpi": DPI,
        "figure.figsize": (COLUMN_WIDTH, 2.8),
        "font.size": MIN_TEXT_PT,
        "axes.titlesize": MIN_TEXT_PT,
        "axes.labelsize": MIN_TEXT_PT,
        "figure.titlesize": MIN_TEXT_PT,
        "xtick.labelsize": MIN_TEXT_PT,
        "ytick.labelsize": MIN_TEXT_PT,
        "legend.fontsize": MIN_TEXT_PT,
        "legend.title_fontsize": MIN_TEXT_PT,
    })


class _WholeNumbers(MaxNLocator):
    """Whole-number ticks, at most six, and no more than the axis has room for: along x, room for labels of as many
    digits as the largest, at the tick labels' size."""

    def __call__(self):
        room = 6
        if self.axis is not None:
            room = self.axis.get_tick_space()
            if self.axis.axis_name == "x":
                digits = len(str(int(max(abs(value) for value in self.axis.get_view_interval()))))
                points = self.axis.axes.bbox.width * 72 / self.axis.axes.figure.dpi
                size = mpl.font_manager.FontProperties(size=mpl.rcParams["xtick.labelsize"]).get_size_in_points()
                room = int(points / (size * (0.65 * digits + 0.9)))
        self.set_params(nbins=max(2, min(6, room)))
        return super().__call__()


def integer_ticks(ax) -> None:
    """Whole-number ticks on both axes (matrix rows and columns are counted: no 2.5th sample), at most six a side
    and no more than fit (every integer of a narrow panel put "9" and "10" so close that they read "910")."""
    ax.xaxis.set_major_locator(_WholeNumbers(integer=True, min_n_ticks=1))
    ax.yaxis.set_major_locator(_WholeNumbers(integer=True, min_n_ticks=1))


def ticks_at(axis, values) -> None:
    """Ticks exactly at `values`, written as plain numbers (a log axis would write 10^2 and leave 4 or 64 unnamed)."""
    axis.set_major_locator(FixedLocator(values))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def _matrix_values(matrix, name: str):
    """The entries of a 2-D tensor or numpy array, as a numpy array for imshow."""
    if isinstance(matrix, torch.Tensor):
        matrix = matrix.detach().cpu().numpy()
    if not isinstance(matrix, np.ndarray):
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type_name(matrix)}")
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a matrix (2-D), got shape {'×'.join(map(str, matrix.shape)) or 'scalar'}")
    if matrix.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {matrix.dtype}; a heatmap needs real numbers")
    return matrix


def _matrix_image(ax, values, title: str, **style):
    """imshow with rows and columns numbered from 1, as in the mathematics (entry (i, j) centred at x = j, y = i)."""
    rows, columns = values.shape
    image = ax.imshow(values, aspect="auto", extent=(0.5, columns + 0.5, rows + 0.5, 0.5), **style)
    ax.set_title(title)
    ax.set_xlabel(tr("unit j (column)"))
    ax.set_ylabel(tr("sample i (row)"))
    integer_ticks(ax)
    return image


def signed_heatmap(ax, matrix, title: str, limit: float | None = None):
    """A heatmap centred on 0, so that sign reads as colour; returns the image for a colour bar.

    The colour scale spans [-limit, limit], by default the largest |entry| (1 for an all-zero matrix).
    """
    values = _matrix_values(matrix, "matrix")
    if limit is None:
        limit = float(np.nanmax(np.abs(values), initial=0)) or 1.0
    limit = checked_positive(limit, "limit")
    return _matrix_image(ax, values, title, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit)


def mask_heatmap(ax, mask, title: str):
    """The ReLU mask: active entries (1) and inactive ones (0) in their two colours."""
    return _matrix_image(ax, _matrix_values(mask, "mask"), title, cmap=MASK_CMAP, vmin=0, vmax=1)
