"""One look for every figure: solid backgrounds (readable in dark mode) and one colour per quantity."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

from relugrad.validation import checked_positive, type_name

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
        "figure.dpi": 96,
        "font.size": 11,
    })


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


def signed_heatmap(ax, matrix, title: str, limit: float | None = None):
    """A heatmap centred on 0, so that sign reads as colour; returns the image for a colour bar.

    The colour scale spans [-limit, limit], by default the largest |entry| (1 for an all-zero matrix).
    """
    values = _matrix_values(matrix, "matrix")
    if limit is None:
        limit = float(np.nanmax(np.abs(values), initial=0)) or 1.0
    limit = checked_positive(limit, "limit")
    image = ax.imshow(values, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, aspect="auto")
    ax.set_title(title)
    ax.set_xlabel("unit j (column)")
    ax.set_ylabel("sample i (row)")
    return image


def mask_heatmap(ax, mask, title: str):
    """The ReLU mask: active entries (1) and inactive ones (0) in their two colours."""
    image = ax.imshow(_matrix_values(mask, "mask"), cmap=MASK_CMAP, vmin=0, vmax=1, aspect="auto")
    ax.set_title(title)
    ax.set_xlabel("unit j (column)")
    ax.set_ylabel("sample i (row)")
    return image
