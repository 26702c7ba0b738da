"""The figures' style: drawn for the text column, whole-number ticks where an axis counts rows, units or samples, and
no text smaller than the book's smallest (so that a phone shows it at 12 px or more: tests/test_phone_layout.py)."""

import ast
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from matplotlib.font_manager import FontProperties  # noqa: E402

from relugrad.plotting import (COLUMN_WIDTH, MIN_TEXT_PT, integer_ticks, mask_heatmap, signed_heatmap,  # noqa: E402
                               ticks_at, use_book_style)

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
SIZE_KEYWORDS = {"fontsize", "labelsize", "titlesize", "title_fontsize", "size"}


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


def test_the_book_style_draws_no_text_below_the_smallest_size():
    """Titles, labels, ticks and legends all at MIN_TEXT_PT or more (matplotlib's default legend and tick sizes are
    relative: "small" would be 9 pt)."""
    use_book_style()
    keys = ("font.size", "axes.titlesize", "axes.labelsize", "figure.titlesize", "xtick.labelsize", "ytick.labelsize",
            "legend.fontsize", "legend.title_fontsize")
    sizes = {key: FontProperties(size=plt.rcParams[key]).get_size_in_points() for key in keys}
    assert all(size >= MIN_TEXT_PT for size in sizes.values()), sizes


def _points(node: ast.expr) -> float | None:
    """The size a font-size argument asks for, in points (a named size is relative to the book's font.size), or
    None where it is not a constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return FontProperties(size=node.value).get_size_in_points()
    return None


def _code(notebook: Path):
    for index, cell in enumerate(json.loads(notebook.read_text())["cells"]):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            # IPython's magics and shell escapes are not Python: blank them out, keeping the line numbers.
            yield index, ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                             for line in source.splitlines()))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_figures_are_column_wide_with_no_small_text(notebook):
    """Every figure a notebook draws is figsize=(COLUMN_WIDTH, height), and no text is asked for below MIN_TEXT_PT
    (fontsize=9, "small" or labelsize=8 would shrink a legend or ticks below 12 px on a phone)."""
    use_book_style()
    problems = []
    for index, tree in _code(notebook):
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "figsize":
                width = node.value.elts[0] if isinstance(node.value, (ast.Tuple, ast.List)) else None
                name = width.id if isinstance(width, ast.Name) else width.attr if isinstance(
                    width, ast.Attribute) else None
                if name != "COLUMN_WIDTH":
                    problems.append(f"cell {index}, line {node.value.lineno}: figsize={ast.unparse(node.value)} "
                                    f"(its width must be COLUMN_WIDTH)")
            sizes = []
            if isinstance(node, ast.keyword) and node.arg in SIZE_KEYWORDS:
                sizes.append((node.arg, node.value))
            if isinstance(node, ast.Dict):   # prop={"size": 8}
                sizes += [(key.value, value) for key, value in zip(node.keys, node.values)
                          if isinstance(key, ast.Constant) and key.value in SIZE_KEYWORDS]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "set_fontsize", "set_size") and node.args:
                sizes.append((node.func.attr, node.args[0]))
            for what, value in sizes:
                points = _points(value)
                if points is None or points < MIN_TEXT_PT:
                    problems.append(f"cell {index}, line {value.lineno}: {what}={ast.unparse(value)} "
                                    f"({'not a constant' if points is None else f'{points:g} pt'}; "
                                    f"the smallest is {MIN_TEXT_PT} pt)")
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


def test_a_narrow_heatmap_gets_no_crowded_ticks():
    """A heatmap panel a quarter of the column wide labels its columns with at least two ticks, and no more than
    its width has room for at the tick labels' size ("8" and "10" once drew as "810")."""
    use_book_style()
    figure, axes = plt.subplots(1, 4, figsize=(COLUMN_WIDTH, 2.5), layout="constrained")
    try:
        for ax in axes:
            signed_heatmap(ax, torch.randn(40, 10, generator=torch.Generator().manual_seed(0)), "t")
        figure.canvas.draw()
        for ax in axes:
            labels = [t for t in ax.xaxis.get_major_ticks() if t.label1.get_text() and
                      min(ax.get_xlim()) <= t.get_loc() <= max(ax.get_xlim())]
            assert len(labels) >= 2, [t.label1.get_text() for t in labels]
            boxes = [t.label1.get_window_extent() for t in labels]
            assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:])), [t.label1.get_text() for t in labels]
        integer_ticks(axes[0])   # the helper itself, applied again, keeps it so
    finally:
        plt.close(figure)
