"""One look for every figure: solid backgrounds (readable in dark mode) and one colour per quantity."""

import matplotlib as mpl
import matplotlib.pyplot as plt

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


def signed_heatmap(ax, matrix, title: str, limit: float | None = None):
    """A heatmap centred on 0, so that sign reads as colour; returns the image for a colour bar."""
    values = matrix.detach().numpy()
    limit = max(limit if limit is not None else abs(values).max(), 1e-12)
    image = ax.imshow(values, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, aspect="auto")
    ax.set_title(title)
    ax.set_xlabel("unit j (column)")
    ax.set_ylabel("sample i (row)")
    return image


def mask_heatmap(ax, mask, title: str):
    image = ax.imshow(mask.detach().numpy(), cmap=MASK_CMAP, vmin=0, vmax=1, aspect="auto")
    ax.set_title(title)
    ax.set_xlabel("unit j (column)")
    ax.set_ylabel("sample i (row)")
    return image
