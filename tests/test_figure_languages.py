"""Each notebook figure in each edition's language (relugrad.figures, _ext/translated_figures.py): every named figure
is drawn by in_each_language under its own name, every phrase it draws has its translation and no translation is
left over, a character the font lacks is an error rather than a box, and the built Chinese pages and downloads show
the Chinese figures where the English ones show the English."""

import ast
import base64
import io
import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from relugrad import figures  # noqa: E402
from relugrad.figures import in_each_language, tr  # noqa: E402
from relugrad.notebook import LANGUAGES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tests"))
import translated_figures  # noqa: E402  (the book's extension modules live in _ext/)
import translations  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
EDITION = "zh_CN"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _code_cells(path: Path):
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            yield cell, "".join(cell["source"])


def _python_sources() -> list[str]:
    """The code that draws the figures: the notebooks' code cells and relugrad's modules."""
    sources = [source for path in NOTEBOOKS for _, source in _code_cells(path)]
    return sources + [path.read_text(encoding="utf-8") for path in (ROOT / "relugrad").glob("*.py")
                      if path.name != "figures.py"]


def _parsed(source: str) -> ast.AST:
    """A cell's or module's syntax tree (a notebook cell's set-up magics are not Python: those lines are skipped)."""
    return ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()))


def _string_constants(source: str) -> set[str]:
    """Every string literal of `source`."""
    return {node.value for node in ast.walk(_parsed(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_every_named_figure_is_drawn_in_each_language_under_its_name():
    """A figure cell that drew with plt.show() alone would have no Chinese image (the Chinese build then fails);
    the name it glues must be its cell's, which the Chinese page looks up."""
    names = []
    for path in NOTEBOOKS:
        for cell, source in _code_cells(path):
            name = translated_figures.figure_name(cell.get("metadata"))
            if name is not None:
                names.append(name)
                assert f'in_each_language("{name}"' in source, f"{path.name}: {name} is not drawn in each language"
                assert "plt.show()" not in source, f"{path.name}: {name} shows a figure of its own"
    assert len(names) == len(set(names)) >= 18, names


def test_every_phrase_has_its_translation_and_no_translation_is_left_over():
    """Each tr("…") of the code has a translation in every language, and each translation's English is still
    written somewhere in the code (a phrase edited in English leaves its old translation unused: caught here)."""
    constants = set().union(*(_string_constants(source) for source in _python_sources()))
    called = set()
    for source in _python_sources():
        for node in ast.walk(_parsed(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args and \
                    isinstance(node.args[0], ast.Constant):
                called.add(node.args[0].value)
    assert len(called) > 40, called
    for language in LANGUAGES[1:]:
        words = figures.WORDS[language]
        assert not called - set(words), f"no {language} for {sorted(called - set(words))}"
        assert not set(words) - constants, f"translations no code draws: {sorted(set(words) - constants)}"
        for english, translated in words.items():
            assert re.findall(r"\{(\w+)", english) == re.findall(r"\{(\w+)", translated), english
            # words are translated; names, code and formulas (autograd, float32, vec(W)) are not
            names = re.sub(r"\{[^}]*\}|\b(autograd|float\d+|vec)\b", "", english)
            assert CJK.search(translated) or not re.search(r"[A-Za-z]{3,}", names), f"{english!r}: {translated!r}"


def test_the_figures_words_use_the_glossarys_terms():
    """The same terms as the prose: the glossary's Chinese wherever a phrase has its English term."""
    problems = []
    for english_term, chinese_term in translations.glossary():
        pattern = translations._term_pattern(english_term)
        for english, translated in figures.WORDS[EDITION].items():
            if pattern.search(english) and chinese_term not in translated:
                problems.append(f"{english!r}: {english_term!r} is {chinese_term!r} (glossary), got {translated!r}")
    assert not problems, "\n".join(problems)


def test_a_phrase_without_a_translation_is_an_error_naming_it(monkeypatch):
    monkeypatch.setattr(figures, "_drawing_in", ["en", EDITION])
    assert tr("unit j") == figures.WORDS[EDITION]["unit j"]
    assert tr("Layer max(XW, 0), float32, {device}", device="CPU").endswith("CPU")
    with pytest.raises(KeyError, match="'a new label' have no translation into zh_CN"):
        tr("a new label")


@pytest.mark.skipif(figures.font_of(EDITION) is None, reason="the Chinese font is not installed")
@pytest.mark.parametrize("words", ["\U00010000 Linear B", "$\\alpha$ 中文"], ids=["text", "formula"])
def test_a_character_the_fonts_lack_is_an_error_not_a_box(monkeypatch, words):
    """In text (matplotlib warns) and in a formula between $ signs, which has no fallback font (matplotlib logs)."""
    monkeypatch.setitem(figures.WORDS[EDITION], "a label", words)
    glued = []

    def glue(name, figure, display):   # as myst-nb's glue does: the PNG is drawn when glued
        figure.savefig(io.BytesIO(), format="png")
        glued.append(name)

    monkeypatch.setattr(figures, "glue", glue)

    def draw():
        figure, ax = plt.subplots()
        ax.set_title(tr("a label"))
        return figure

    with pytest.raises((UserWarning, RuntimeError), match="(?i)glyph"):
        in_each_language("fig-test", draw, languages=(EDITION,))
    plt.close("all")
    monkeypatch.setitem(figures.WORDS[EDITION], "a label", "中文 $\\alpha$".replace(" $", "\n$"))
    glued.clear()
    in_each_language("fig-test", draw, languages=(EDITION,))   # the formula on its own line: no box
    assert glued == [f"fig-test_{EDITION}"]
    plt.close("all")


def test_a_downloaded_notebook_gets_each_figure_in_its_language():
    png = {"en": base64.b64encode(b"english").decode(), EDITION: base64.b64encode(b"chinese").decode()}
    cell = {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "fig-a"}}}, "source": [], "outputs": [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": f"fig-a_{EDITION}", "mime_prefix": "x/"}},
         "data": {"application/papermill.record/image/png": png[EDITION]}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": png["en"], "text/plain": "<Figure>"}}]}
    notebook = {"cells": [cell, {"cell_type": "markdown", "metadata": {}, "source": ["# A"]}]}
    translated = translated_figures.notebook_in_language(notebook, EDITION)
    assert translated["cells"][0]["outputs"][1]["data"] == {"image/png": png[EDITION], "text/plain": "<Figure>"}
    assert translated["cells"][0]["outputs"][0] == cell["outputs"][0] and translated["cells"][1] == notebook["cells"][1]
    del cell["outputs"][0]
    with pytest.raises(translated_figures.MissingFigure, match=f"'fig-a' has no image in {EDITION}"):
        translated_figures.notebook_in_language(notebook, EDITION)


# --- the built site ----------------------------------------------------------------------------------------------

def _figure_images(page: Path) -> dict[str, tuple[str, str]]:
    """Each named figure's image on a built page: {figure id: (src, alt)}."""
    html = page.read_text(encoding="utf-8")
    found = {}
    for figure in re.finditer(r'<figure[^>]*\bid="(fig-[\w-]+)"[^>]*>(.*?)</figure>', html, re.S):
        image = re.search(r'<img[^>]*>', figure.group(2))
        if image:
            src, alt = (re.search(rf'\b{name}="([^"]*)"', image.group(0)) for name in ("src", "alt"))
            found[figure.group(1)] = (src.group(1), alt.group(1) if alt else "")
    return found


def test_chinese_pages_show_the_figures_drawn_in_chinese(html_root):
    """Each notebook page's figures on the Chinese page are other images than the English page's, the same number,
    under the same ids, described in Chinese (alt text); the images differ in their words only, so they have nearly the same size."""
    from PIL import Image

    checked = 0
    for english_page in sorted((html_root / "notebooks").glob("[0-9]*.html")):
        chinese_page = html_root / EDITION / "notebooks" / english_page.name
        english, chinese = _figure_images(english_page), _figure_images(chinese_page)
        assert set(english) == set(chinese), (english_page.name, set(english) ^ set(chinese))
        for name in english:
            english_file = (english_page.parent / english[name][0]).resolve()
            chinese_file = (chinese_page.parent / chinese[name][0]).resolve()
            # what a screen reader says of it, in the page's language (Sphinx translates an image's alt text)
            assert CJK.search(chinese[name][1]) and not CJK.search(english[name][1]), (name, chinese[name][1][:80])
            assert english_file.read_bytes() != chinese_file.read_bytes(), f"{english_page.name}: {name} is English"
            sizes = Image.open(english_file).size, Image.open(chinese_file).size   # a tight box: the words' extent
            assert all(abs(a - b) <= 0.05 * a for a, b in zip(*sizes)), (name, sizes)
            checked += 1
    assert checked >= 18, checked


def test_the_chinese_slides_show_the_figures_drawn_in_chinese(html_root):
    """The Chinese deck's figures are its own renditions (words in Chinese, described in Chinese), not the English
    deck's, one for one."""
    def images(deck: Path) -> list[tuple[bytes, str]]:
        html = (deck / "index.html").read_text(encoding="utf-8")
        found = []
        for tag in re.findall(r"<img[^>]*>", html):
            src, alt = (re.search(rf'\b{name}="([^"]*)"', tag) for name in ("src", "alt"))
            if src and "_images/" in src.group(1) or src and "_figures/" in src.group(1):
                found.append(((deck / src.group(1)).read_bytes(), alt.group(1) if alt else ""))
        return found

    english, chinese = images(html_root / "slides"), images(html_root / EDITION / "slides")
    assert len(english) == len(chinese) >= 4, (len(english), len(chinese))
    for (english_png, english_alt), (chinese_png, chinese_alt) in zip(english, chinese):
        assert english_png != chinese_png, english_alt[:60]
        assert CJK.search(chinese_alt) and not CJK.search(english_alt), chinese_alt[:60]
