"""Notebooks in the edition's language: a notebook's Markdown cells translated from its page's gettext catalogue.

A reader of the Chinese edition who launches a notebook (Binder, Colab) or downloads it gets the notebook with its
prose in Chinese and the same code (and, downloaded, the same outputs). The messages are those that Sphinx's gettext
builder extracts from myst-parser's doctree of the English notebook: a paragraph's or a table cell's source text and
a heading's text, each with its newlines made spaces (Sphinx's `extract_messages`). Each Markdown cell is parsed with
the book's own MyST parser, and each of those blocks is replaced, in place, by its translation (on one line, after
the heading's `#`s or the list item's marker); display math and code are never messages and stay as they are.
A block with words to translate that finds no settled translation (missing, empty or fuzzy) is an error naming the
notebook, the cell and the English.

    python3 book.py translate   # after updating the catalogues, writes <folder>/<language>/NN_name.ipynb (committed)

In the edition's build: the launch buttons of a notebook page open the committed translated notebook, and
notebook_downloads.py translates the executed notebook that the page's download gives.
"""

import json
import posixpath
import re
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where, in a formula, code span or link target, there is nothing to translate (as tests/translations.py has it).
KEPT = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|``[^`]+``|`[^`]+`|\]\([^)\s]*\)|https?://\S+", re.S)
MARKDOWN_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")   # as notebook_downloads.py reads links
BLOCKS = {"paragraph_open", "heading_open", "th_open", "td_open"}   # what myst-parser gives a rawsource (a message)


class UntranslatedError(Exception):
    """A notebook has prose that its catalogue does not translate (yet)."""


def has_words(message: str) -> bool:
    """Whether a message has words outside formulas, code and link targets (a number alone is kept as it is)."""
    return bool(re.search(r"[A-Za-z]{2,}", KEPT.sub(" ", message)))


def catalogue(path: Path) -> dict[str, str]:
    """The settled translations of a .po file: neither empty nor fuzzy (what Sphinx itself uses)."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        return {message.id: message.string for message in read_po(handle)
                if message.id and message.string and not message.fuzzy}


@lru_cache(maxsize=1)
def _parser():
    """myst-parser's Markdown parser with the book's extensions (_config.yml: parse), as the build parses cells."""
    import yaml
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    parse = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")).get("parse", {})
    options = {name.removeprefix("myst_"): value for name, value in parse.items() if name.startswith("myst_")}
    return create_md_parser(MdParserConfig(**options), RendererHTML)


def translate_markdown(markdown: str, translations: dict[str, str]) -> tuple[str, list[str]]:
    """The Markdown with each message replaced by its translation; and the messages with words and none."""
    lines = markdown.splitlines(keepends=True)
    tokens = _parser().parse(markdown)
    replaced: dict[int, str] = {}   # first line of a block -> its new text; lines of the block after it are dropped
    dropped: set[int] = set()
    missing = []
    row_cells: dict[int, list[str]] = {}   # a table row's line -> its cells, translated
    row_line = None
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            row_line = token.map[0]
            row_cells[row_line] = []
        if token.type != "inline":
            continue
        opener = tokens[index - 1]
        if opener.type not in BLOCKS:
            raise UntranslatedError(f"{opener.type} holds text {token.content!r} that this module cannot translate")
        message = token.content.replace("\n", " ").strip()
        translated = translations.get(message)
        if translated is None:
            if has_words(message):
                missing.append(message)
            translated = message
        if opener.type in ("th_open", "td_open"):
            row_cells[row_line].append(translated)
            continue
        first, end = opener.map
        heading = opener.type == "heading_open"
        if heading and opener.markup in ("=", "-"):   # setext: the underline stays
            end -= 1
        start = lines[first].find(token.content.split("\n", 1)[0])
        if start < 0:
            raise UntranslatedError(f"cannot find the source of {message!r} in its lines")
        prefix, ending = lines[first][:start], ("\n" if lines[end - 1].endswith("\n") else "")
        # a translation is written on its block's first line, after the heading's #s or the list item's marker
        replaced[first] = prefix + translated.replace("\n", " " if heading else "\n" + " " * len(prefix)) + ending
        dropped.update(range(first + 1, end))
    for line, cells in row_cells.items():
        ending = "\n" if lines[line].endswith("\n") else ""
        replaced[line] = "| " + " | ".join(cells) + " |" + ending
    text = "".join(replaced.get(number, line) for number, line in enumerate(lines) if number not in dropped)
    return text, missing


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def translate_notebook(notebook: dict, translations: dict[str, str], name: str = "the notebook") -> dict:
    """The notebook with its Markdown cells translated; every other cell, and the metadata, the same objects.
    Raises UntranslatedError naming every cell and message that has words and no translation."""
    cells, problems = [], []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            try:
                text, missing = translate_markdown("".join(cell["source"]), translations)
            except UntranslatedError as error:
                raise UntranslatedError(f"{name}, cell {index} (id {cell.get('id', '?')}): {error}") from error
            problems += [f"{name}, cell {index} (id {cell.get('id', '?')}): no translation of {message!r}"
                         for message in missing]
            cell = {**cell, "source": _lines(text)}
        cells.append(cell)
    if problems:
        raise UntranslatedError("\n".join(problems))
    return {**notebook, "cells": cells}


def translated_path(english: Path, language: str) -> Path:
    """Where a notebook's translation is committed: beside it, in a folder named after the language."""
    return english.parent / language / english.name


def translations_of(english: Path) -> list[Path]:
    """The committed translations of a notebook, in the editions that editions.py builds."""
    from editions import LANGUAGES

    return [path for path in (translated_path(english, language) for language in LANGUAGES) if path.exists()]


def english_notebooks(root: Path, language: str) -> list[tuple[Path, Path]]:
    """(English notebook, its catalogue) for every notebook of the book that has a catalogue in `language`."""
    messages = root / "locales" / language / "LC_MESSAGES"
    found = []
    for po in sorted(messages.rglob("*.po")):
        english = root / po.relative_to(messages).with_suffix(".ipynb")
        if english.is_file():
            found.append((english, po))
    return found


def _rebased_links(markdown: str, english_folder: str, folder: str) -> str:
    """Relative links made relative to the translation's folder, so that they open the same files."""
    def rebase(match):
        target = match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:|[#/]", target):
            return match.group(0)
        path = posixpath.relpath(posixpath.normpath(posixpath.join(english_folder, target)), folder)
        return f"{match.group(1)}{path}{match.group(3)}"
    return MARKDOWN_LINK.sub(rebase, markdown)


def committed_copy(notebook: dict, translations: dict[str, str], name: str, language: str) -> dict:
    """The translation of the notebook at `name` (its path in the book) as committed: Markdown translated, links
    rebased to its folder, the code and the metadata the English notebook's (committed without outputs)."""
    translated = translate_notebook(notebook, translations, name)
    english_folder = posixpath.dirname(name)
    folder = posixpath.join(english_folder, language)
    cells = [{**cell, "source": _lines(_rebased_links("".join(cell["source"]), english_folder, folder))}
             if cell["cell_type"] == "markdown" else cell for cell in translated["cells"]]
    return {**translated, "cells": cells}


def dumps(notebook: dict) -> str:
    """nbformat's own layout, as colab_setup.py writes the English notebooks."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_notebooks(root: Path, language: str) -> tuple[list[Path], list[str]]:
    """Write every translated notebook whose content changed, and delete those whose English is gone; (written,
    problems). A notebook with untranslated prose is left as it was and named in the problems."""
    written, problems, wanted = [], [], set()
    for english, po in english_notebooks(root, language):
        target = translated_path(english, language)
        wanted.add(target)
        try:
            text = dumps(committed_copy(json.loads(english.read_text(encoding="utf-8")), catalogue(po),
                                        english.relative_to(root).as_posix(), language))
        except UntranslatedError as error:
            problems.append(str(error))
            continue
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
    for folder in {target.parent for target in wanted}:
        for stale in sorted(set(folder.glob("*.ipynb")) - wanted):
            stale.unlink()
            written.append(stale)
    return written, problems


# --- in the edition's build ---------------------------------------------------------------------------------------

def edition_catalogue(app, docname: str) -> Path | None:
    """The catalogue of a page in the language being built (None in the English build, or with none)."""
    language = app.config.language
    if not language or language == "en":
        return None
    for folder in app.config.locale_dirs:
        path = Path(app.srcdir) / folder / language / "LC_MESSAGES" / f"{docname}.po"
        if path.exists():
            return path
    return None


def _launch_translated_notebook(app, pagename, templatename, context, doctree):
    """The theme's launch buttons (Binder, Colab: priority 501) open the page's notebook in the repository; in the
    edition, they open its translation there (committed by python3 book.py translate)."""
    if context.get("page_source_suffix") != ".ipynb" or edition_catalogue(app, pagename) is None:
        return
    from sphinx.util import logging

    english = Path(app.srcdir) / f"{pagename}.ipynb"
    target = translated_path(english, app.config.language)
    if not target.exists():
        logging.getLogger(__name__).warning(f"notebook_translations: no {target.relative_to(app.srcdir)} for the "
                                            f"launch buttons of {pagename}: run python3 book.py translate")
        return
    book = app.config.html_theme_options.get("path_to_docs", "").strip("/")
    old, new = (posixpath.join(book, path.relative_to(app.srcdir).as_posix()) for path in (english, target))
    pattern = re.compile(rf"(?<=/){re.escape(old)}(?=$|[&#])")
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            for button in group.get("buttons", []):
                if button.get("url"):
                    button["url"] = pattern.sub(new, button["url"])


def setup(app):
    app.connect("html-page-context", _launch_translated_notebook, priority=610)   # after the theme's (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":   # python _ext/notebook_translations.py [language]: what book.py translate runs last
    done, errors = write_notebooks(ROOT, sys.argv[1] if len(sys.argv) > 1 else "zh_CN")
    for path in done:
        print(f"notebook_translations: wrote {path.relative_to(ROOT)}")
    for error in errors:
        print(f"notebook_translations: not written, translate these first (then run it again):\n{error}",
              file=sys.stderr)
    sys.exit(1 if errors else 0)
