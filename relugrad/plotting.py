"""One look for every figure: sized for the text column, solid backgrounds (readable in dark mode), one colour per
quantity, and whole-number ticks on axes that count rows, units or samples."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from relugrad.validation import checked_positive, type_name

# Figures are drawn as wide as the text column. Their labels are then about 10 px tall on a phone, whose column is
# about 360 px wide (11 pt on 5.6 in), and as tall as the body text on a desktop. A figure wider than this would be
# shrunk, labels and all, to fit a phone. At 120 dpi a figure is 672 px wide, about the desktop column: sharp there,
# and light enough for the page-weight budget (a phone can open the full-size image to zoom in).
COLUMN_WIDTH = 5.6   # inches

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
    """Solid white figures with dark text, so they read the same on a light or a dark page."""
    plt.rcParams.update({
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "text.color": "#111111",
        "axes.labelcolor": "#111111",
        "xtick.color": "#111111",
        "ytick.color": "#111111",
        "figure.dpi": 120,
        "figure.figsize": (COLUMN_WIDTH, 3.6),
        "font.size": 11,
        "axes.titlesize": "medium",
        "figure.titlesize": "medium",
    })


def integer_ticks(ax) -> None:
    """Whole-number ticks on both axes (matrix rows and columns are counted: no 2.5th sample), at most six a side
    (every integer of a narrow panel put "9" and "10" so close that they read "910")."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=1))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=1))


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
    ax.set_xlabel("unit j (column)")
    ax.set_ylabel("sample i (row)")
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
