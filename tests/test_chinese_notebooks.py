"""The notebooks in Chinese (notebooks/zh_CN/, _ext/notebook_translations.py): what a reader of the Chinese edition
launches on Binder or Colab, or downloads, is the English notebook with its prose translated from the page's
catalogue, and the same code (downloaded: the same outputs)."""

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import notebook_translations  # noqa: E402  (the book's extension modules live in _ext/)
import translated_figures  # noqa: E402

EDITION = "zh_CN"
CJK = re.compile(r"[\u4e00-\u9fff]")
# As this session found them, before the build (which rewrites set-up cells) touched them: in CI, as committed.
PAIRS = notebook_translations.english_notebooks(ROOT, EDITION)
ENGLISH = {english.name: english.read_text(encoding="utf-8") for english, _ in PAIRS}
CHINESE = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "notebooks" / EDITION).glob("*.ipynb")}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _source(cell) -> str:
    return "".join(cell["source"])


# --- the committed notebooks --------------------------------------------------------------------------------------

def test_the_committed_chinese_notebooks_are_current():
    """One per English notebook, each exactly what `python3 book.py translate` writes from the English notebook and
    the catalogue as they are now (no build needed): an edit of either, not followed by that command, fails here."""
    assert len(PAIRS) == len(list((ROOT / "notebooks").glob("*.ipynb"))) >= 13
    assert sorted(CHINESE) == sorted(ENGLISH), "run python3 book.py translate: notebooks were added or removed"
    stale = []
    for english, po in PAIRS:
        name = english.relative_to(ROOT).as_posix()
        wanted = notebook_translations.dumps(notebook_translations.committed_copy(
            json.loads(ENGLISH[english.name]), notebook_translations.catalogue(po), name, EDITION))
        if wanted != CHINESE[english.name]:
            stale.append(name)
    assert not stale, f"run python3 book.py translate and commit notebooks/{EDITION}/: out of date: {stale}"


@pytest.mark.parametrize("name", sorted(ENGLISH), ids=lambda name: name[:2])
def test_a_chinese_notebook_has_the_english_code_and_chinese_prose(name):
    english, chinese = json.loads(ENGLISH[name]), json.loads(CHINESE[name])
    assert chinese["metadata"] == english["metadata"]   # the kernel (Python 3) is the English notebook's
    assert [(c["cell_type"], c.get("id"), c["metadata"]) for c in chinese["cells"]] == \
           [(c["cell_type"], c.get("id"), c["metadata"]) for c in english["cells"]]
    for index, (mine, theirs) in enumerate(zip(english["cells"], chinese["cells"])):
        if mine["cell_type"] == "code":
            assert theirs == mine and not theirs["outputs"] and theirs["execution_count"] is None, (name, index)
        elif notebook_translations.has_words(_source(mine)):
            assert CJK.search(_source(theirs)), f"{name}, cell {index}: no Chinese in\n{_source(theirs)}"
        for target in LINK.findall(_source(theirs)):   # relative links open the same files from notebooks/zh_CN/
            if not re.match(r"[a-z]+:|#", target):
                assert (ROOT / "notebooks" / EDITION / target.split("#")[0]).resolve().is_file(), (name, target)


def test_translation_keeps_each_blocks_markup_and_leaves_math_and_code():
    english = ("## The setting\n\nA paragraph\non two lines.\n\n$$x^2$$\n\n1. an item\n   continued;\n2. $x$\n\n"
               "| rung | check |\n|---|---|\n| 1 | exact |\n\n```python\nprint('code')\n```\n")
    translations = {"The setting": "设定", "A paragraph on two lines.": "一段，两行。",
                    "an item continued;": "一项，续行；", "rung": "级", "check": "检验", "exact": "精确"}
    text, missing = notebook_translations.translate_markdown(english, translations)
    assert not missing
    assert text == ("## 设定\n\n一段，两行。\n\n$$x^2$$\n\n1. 一项，续行；\n2. $x$\n\n"
                    "| 级 | 检验 |\n|---|---|\n| 1 | 精确 |\n\n```python\nprint('code')\n```\n")


def test_prose_without_a_settled_translation_is_an_error_naming_notebook_cell_and_text(tmp_path):
    """A message deleted from the catalogue, one left empty, one fuzzy: each is an error that names the notebook,
    the cell and the English; text with no words (a number, a formula) needs none."""
    english, po = PAIRS[0]
    name = english.relative_to(ROOT).as_posix()
    notebook = json.loads(ENGLISH[english.name])
    with open(po, "rb") as handle:
        messages = [m for m in read_po(handle) if m.id and m.string and notebook_translations.has_words(m.id)]
    target = messages[1]
    cell = next(i for i, c in enumerate(notebook["cells"])
                if c["cell_type"] == "markdown" and target.id in " ".join(_source(c).split()))
    for slip in ("deleted", "empty", "fuzzy"):
        with open(po, "rb") as handle:
            catalogue = read_po(handle)
        if slip == "deleted":
            catalogue.delete(target.id)
        elif slip == "empty":
            catalogue[target.id].string = ""
        else:
            catalogue[target.id].flags.add("fuzzy")
        broken = tmp_path / f"{slip}.po"
        with open(broken, "wb") as handle:
            write_po(handle, catalogue)
        with pytest.raises(notebook_translations.UntranslatedError) as error:
            notebook_translations.translate_notebook(notebook, notebook_translations.catalogue(broken), name)
        assert name in str(error.value) and f"cell {cell} " in str(error.value), (slip, str(error.value))
        assert target.id in str(error.value), slip
    wordless = {"cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": ["$$x$$\n", "\n", "42"]}]}
    assert notebook_translations.translate_notebook(wordless, {}, "wordless.ipynb") == wordless


# --- the built edition --------------------------------------------------------------------------------------------

def _download_of(page: Path) -> dict:
    links = re.findall(r'<a href="([^"]+)"[^>]*class="[^"]*btn-download-source-button', page.read_text(), re.S)
    assert len(links) == 1, f"{page}: {len(links)} download buttons"
    return json.loads((page.parent / links[0]).resolve().read_text(encoding="utf-8"))


def test_chinese_pages_launch_and_download_the_chinese_notebooks(html_root):
    """On each Chinese notebook page: Binder and Colab open notebooks/zh_CN/NN_name.ipynb in the repository (the
    English page's buttons are tested in test_journeys.py), and the download is the executed notebook with Chinese
    Markdown: the English download's code cells, outputs included, and its links."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    book = config["repository"].get("path_to_book", "").strip("/")
    branch = config["repository"].get("branch", "main")
    for name in sorted(ENGLISH):
        page = html_root / EDITION / "notebooks" / Path(name).with_suffix(".html")
        text = page.read_text(encoding="utf-8")
        in_repository = f"{book + '/' if book else ''}notebooks/{EDITION}/{name}"
        binder = re.findall(rf'href="({re.escape(config["launch_buttons"]["binderhub_url"])}[^"]+)"', text)
        colab = re.findall(rf'href="({re.escape(config["launch_buttons"]["colab_url"])}[^"]+)"', text)
        assert len(binder) == 1 and binder[0].endswith(f"?urlpath=tree/{in_repository}"), binder
        assert len(colab) == 1 and colab[0].endswith(f"/blob/{branch}/{in_repository}"), colab
        english = _download_of(html_root / "notebooks" / Path(name).with_suffix(".html"))
        chinese = _download_of(page)
        # the same code and outputs, except each figure, which is the one drawn in Chinese (test_figure_languages.py)
        assert [c for c in chinese["cells"] if c["cell_type"] == "code"] == \
               [c for c in translated_figures.notebook_in_language(english, EDITION)["cells"]
                if c["cell_type"] == "code"], f"{name}: code or outputs differ"
        assert any(c["outputs"] for c in chinese["cells"] if c["cell_type"] == "code"), f"{name}: not executed"
        for mine, theirs in zip(english["cells"], chinese["cells"]):
            if mine["cell_type"] == "markdown":
                if notebook_translations.has_words(_source(mine)):
                    assert CJK.search(_source(theirs)), f"{name}: English prose in the download:\n{_source(theirs)}"
                assert sorted(LINK.findall(_source(theirs))) == sorted(LINK.findall(_source(mine))), name
