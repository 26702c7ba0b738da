"""Each figure in each language of the book. A notebook cell writes its figure's words in English through `tr` inside
a function that draws the figure, and hands that function to `in_each_language`, which draws it once per language:
the English figure is the cell's output (what Binder, Colab and the English pages show), and each other language's
is glued as `<figure name>_<language>` for that edition's pages (_ext/translated_figures.py puts it in place of the
English one). The mathematics in a figure (Z = XW, ∂f/∂W, $\\|G_{i,:}\\|$) is the same in every language."""

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator

import matplotlib.pyplot as plt
from matplotlib import font_manager

from relugrad.notebook import LANGUAGES, glue

# The Chinese of each English phrase drawn in a figure (titles, axis labels, legends, colour-bar labels). A phrase
# with {placeholders} is formatted after translation, so the numbers are the same in both.
WORDS = {
    "zh_CN": {
        # relugrad.plotting's heatmaps
        "unit j (column)": "单元 j（列）",
        "sample i (row)": "样本 i（行）",
        # 02: central differences
        "kink-free steps": "不跨过折点的步长",
        "steps that cross a kink": "跨过折点的步长",
        "distance to the nearest kink": "到最近折点的距离",
        "step h": "步长 h",
        "relative error of the estimate of ∂f/∂W": "∂f/∂W 估计值的相对误差",
        "Central differences in float64": "float64 下的中心差分",
        # 03: the mask
        "inactive": "未激活",
        "active": "激活",
        "The homework's case (m = {m}, k = {k}, n = {n})": "作业中的情形（m = {m}，k = {k}，n = {n}）",
        "A larger layer (m = {m}, k = {k}, n = {n}):\nunit {unit} is dead": "更大的一层（m = {m}，k = {k}，n = {n}）：\n单元 {unit} 是死亡单元",
        "unit j": "单元 j",
        "share of samples active": "激活样本的比例",
        "How often each unit is active": "各单元激活的频率",
        "norm of column j of ∂f/∂W": "∂f/∂W 第 j 列的范数",
        "Gradient reaching each unit's weights": "到达各单元权重的梯度",
        "slope from torch.relu": "torch.relu 给出的斜率",
        "slope from z * (z >= 0)": "z * (z >= 0) 给出的斜率",
        "the derivative (central difference)": "导数（中心差分）",
        "{label}: {slope:g}": "{label}：{slope:g}",
        "the single weight w": "唯一的权重 w",
        "Both samples on the kink, f smooth": "两个样本都在折点上，f 仍光滑",
        # 04: error distributions
        "active, Z > 0 ({count} entries)": "激活，Z > 0（{count} 个元素）",
        "inactive, Z ≤ 0 ({count} entries)": "未激活，Z ≤ 0（{count} 个元素）",
        "error E = A − Y": "误差 E = A − Y",
        "density": "密度",
        "Distribution of the residual\n(m = {m}, k = {k}, n = {n})": "残差的分布\n（m = {m}，k = {k}，n = {n}）",
        "{dtype}, measured (median)": "{dtype}，实测（中位数）",
        "worst-case bound (float32):\n{bound}": "最坏情况上界（float32）：\n{bound}",
        "error, in units of u": "误差（以 u 为单位）",
        "inner dimension d": "内维度 d",
        "Z = XW (inner k)": "Z = XW（内维度 k）",
        "∂f/∂W = XᵀG (inner m)": "∂f/∂W = XᵀG（内维度 m）",
        "∂f/∂X = GWᵀ (inner n)": "∂f/∂X = GWᵀ（内维度 n）",
        # 07: the bias
        "G = 2E ⊙ M, one row per sample": "G = 2E ⊙ M，每个样本一行",
        "column sums of G": "G 的各列之和",
        "autograd's b.grad": "autograd 的 b.grad",
        # 08: activations
        "The activations": "各激活函数",
        "Their slopes; a dot marks\nautograd's slope at 0": "它们的斜率；圆点标出\nautograd 在 0 处的斜率",
        # 09: two layers
        "∂f/∂A₁\n(the message)": "∂f/∂A₁\n（传回的信号）",
        "G₁ =\n(∂f/∂A₁) ⊙ M₁": "G₁ =\n(∂f/∂A₁) ⊙ M₁",
        "∂f/∂W₁\n(incoming weights)": "∂f/∂W₁\n（输入权重）",
        "∂f/∂W₂\n(outgoing weights)": "∂f/∂W₂\n（输出权重）",
        "hidden unit": "隐藏单元",
        "sample": "样本",
        "input": "输入",
        "output unit": "输出单元",
        # 10, 11: Kronecker, Hessian
        "entry of vec(W)": "vec(W) 的元素",
        "entry of vec(Z)": "vec(Z) 的元素",
        "Hessian of f in vec(W):\none {k} × {k} block per unit": "f 关于 vec(W) 的 Hessian 矩阵：\n每个单元一个 {k} × {k} 块",
        "W's region": "W 所在的区域",
        "f along the line": "f 沿直线的取值",
        "the quadratic of W's region": "W 所在区域的二次函数",
        "W (t = 0)": "W（t = 0）",
        "f along a line: parabola pieces\njoined at kinks": "f 沿一条直线：在折点处\n拼接的抛物线段",
        "gradient descent, step 1 / largest eigenvalue": "梯度下降，步长为 1 / 最大特征值",
        "one Newton step": "一个牛顿步",
        "step": "步数",
        "Distance to the teacher": "到教师权重的距离",
        "plain Newton": "普通牛顿步",
        "damped (Levenberg–Marquardt)": "阻尼牛顿步（Levenberg–Marquardt）",
        "Repeated steps from one start (draw {draw})": "从同一起点反复迭代（第 {draw} 次抽取）",
        # 12: per-sample gradients
        "{count} samples with every unit inactive": "{count} 个样本的所有单元都未激活",
        "the largest {count}: {share} of the total": "最大的 {count} 个：占总和的 {share}",
        "sample, largest gradient first": "样本（按梯度从大到小）",
        "Per-sample gradient norms,\n{formula}": "逐样本梯度的范数，\n{formula}",
        # 13: the cost of backward
        "forward": "前向",
        "backward, autograd": "反向，autograd",
        "backward, hand (Boolean mask)": "反向，手写（布尔掩码）",
        "backward, hand (packed bits)": "反向，手写（按位打包）",
        "time (µs, best of the rounds)": "时间（µs，各轮最优）",
        "Layer max(XW, 0), float32, {device}": "层 max(XW, 0)，float32，{device}",
        "autograd against itself (A/A)": "autograd 与自身对比（A/A）",
        "hand (Boolean mask)": "手写（布尔掩码）",
        "backward, hand, X without gradient": "反向，手写，X 不求梯度",
        "hand, X without gradient": "手写，X 不求梯度",
        "hand (packed bits)": "手写（按位打包）",
        "time / autograd's\n(median, 95 % interval)": "时间 / autograd 的时间\n（中位数，95 % 区间）",
        "autograd": "autograd",
        "hand, Boolean mask": "手写，布尔掩码",
        "hand, packed bits": "手写，按位打包",
        "bytes kept beyond X and W": "X 和 W 之外保存的字节数",
        "One layer": "单层",
        "layers L": "层数 L",
        "hand / autograd": "手写 / autograd",
        "A stack of layers": "多层堆叠",
    },
}

# The font that draws a language's own characters, after the book's Latin font (matplotlib falls back per glyph).
# Debian's package and the start of its files' names say where it comes from and how to find it.
FONTS = {"zh_CN": ("Noto Sans CJK SC", "fonts-noto-cjk", "NotoSansCJK")}
LATIN_FONT = "DejaVu Sans"   # matplotlib's own, which the English figures use: Latin letters and digits look the same

_drawing_in = ["en"]   # the language `tr` answers in: English, except while in_each_language draws another
# The language of the figure a cell shows: English, except where the slides draw the cells again for the Chinese
# deck (_ext/slide_figures.py), which shows that language's figure alone.
shown_language = "en"


def tr(english: str, **values) -> str:
    """`english` in the language being drawn, with {placeholders} filled from `values` after translation."""
    language = _drawing_in[-1]
    if language == "en":
        return english.format(**values) if values else english
    try:
        words = WORDS[language][english]
    except KeyError:
        raise KeyError(f"the figure words {english!r} have no translation into {language} in relugrad.figures.WORDS") from None
    return words.format(**values) if values else words


def font_of(language: str) -> str | None:
    """The font family that draws `language`'s characters, or None where the font is not installed."""
    family, _, file_name = FONTS[language]
    try:
        font_manager.findfont(family, fallback_to_default=False)
        return family
    except ValueError:
        pass
    # A font installed after matplotlib cached the list of fonts: add the system's files of that family.
    for path in font_manager.findSystemFonts():
        if file_name in path:
            font_manager.fontManager.addfont(path)
    try:
        font_manager.findfont(family, fallback_to_default=False)
        return family
    except ValueError:
        return None


@contextlib.contextmanager
def _drawn_in(language: str) -> Iterator[None]:
    """`tr` answers in `language`, and its characters come from its font (a missing glyph is an error, not a box)."""
    rc = {}
    if language != "en":
        family, package, _ = FONTS[language]
        if font_of(language) is None:
            raise RuntimeError(f"no font for {language} figures: install {family} (apt-get install {package})")
        rc = {"font.family": [LATIN_FONT, family]}
    _drawing_in.append(language)
    boxes = _MissingGlyphs()
    logging.getLogger("matplotlib").addHandler(boxes)
    try:
        with plt.rc_context(rc), warnings.catch_warnings():
            warnings.filterwarnings("error", message="Glyph .* missing from font")   # text: a warning
            yield
        if boxes.messages:   # mathtext logs its missing glyphs, and draws boxes
            raise RuntimeError(f"a figure in {language} would show boxes for missing glyphs: {boxes.messages[0]} "
                               "(a formula between $ signs has no fallback font: keep it on its own line)")
    finally:
        _drawing_in.pop()
        logging.getLogger("matplotlib").removeHandler(boxes)


class _MissingGlyphs(logging.Handler):
    """What matplotlib logs about glyphs that its font lacks."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        if "glyph" in record.getMessage():
            self.messages.append(record.getMessage())


def in_each_language(name: str, draw: Callable[[], plt.Figure], languages: tuple[str, ...] | None = None) -> None:
    """Draw the figure `name` (its cell's mystnb figure name) once in each language: show the English one, glue
    each other as `<name>_<language>`. Where a language's font is not installed (Binder, Colab), that language is
    left out unless asked for by `languages`: only the book's build, which checks for the font first, needs it."""
    if shown_language != "en":   # a rendition in that language alone: nothing to glue
        with _drawn_in(shown_language):
            draw()
            plt.show()
        return
    if languages is None:
        languages = tuple(language for language in LANGUAGES[1:] if font_of(language) is not None)
    for language in languages:
        with _drawn_in(language):
            figure = draw()
            glue(f"{name}_{language}", figure, display=False)   # rendered here, where a missing glyph is an error
        plt.close(figure)
    draw()
    plt.show()   # and nothing returned, which a cell's last line would show a second time
