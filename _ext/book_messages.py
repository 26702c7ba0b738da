"""The words of the book's own extensions (buttons, labels, tooltips, the explorer's controls) in the edition's language.

Sphinx's own way: each module says `_ = get_translation("book")` and writes `_("...")` around what a reader sees or a
screen reader reads; the catalogue `_ext/locales/<language>/LC_MESSAGES/book.po` translates them (`python3 book.py
translate` extracts the `_()` strings into it, editions.py). Its `.mo` is compiled here, at the start of the build
(never committed). The words that the book's scripts write into a page reach them as `window.BOOK_TEXT` (see
`script_text`); the English edition gets none and shows the scripts' own English.
"""

import hashlib
import json
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sphinx.locale import get_translation

_ = get_translation("book")

LOCALES = Path(__file__).parent / "locales"
CATALOGUE = "book"


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is not translated at once (gettext_noop): a script's words, which
    the page gets translated through script_text."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{CATALOGUE}.po"


def compile_catalogue(language: str) -> str:
    """Compile the language's book.po into book.mo beside it when the .po is newer; a digest of the .po ("" when the
    language has none), which changes, and so rewrites every page, whenever a translation does."""
    po = catalogue_path(language)
    if not po.is_file():
        return ""
    mo = po.with_suffix(".mo")
    if not mo.is_file() or mo.stat().st_mtime_ns < po.stat().st_mtime_ns:
        with open(po, "rb") as handle:
            catalogue = read_po(handle, locale=language)
        partial = mo.with_name(f"{mo.name}.{os.getpid()}.partial")   # never seen half written
        with open(partial, "wb") as handle:
            write_mo(handle, catalogue)
        os.replace(partial, mo)
    return hashlib.sha256(po.read_bytes()).hexdigest()


def script_text(messages) -> str:
    """`window.BOOK_TEXT`, the translations of the English `messages` (each already passed through `_()`, so that
    extraction finds it) that the book's scripts look up: `{english: translated}`, only those that differ."""
    texts = {english: str(translated) for english, translated in messages if str(translated) != english}
    if not texts:   # the English edition: the scripts' own words, and not a byte more on the page
        return ""
    return "window.BOOK_TEXT = Object.assign(window.BOOK_TEXT || {}, " + \
        json.dumps(texts, ensure_ascii=False, sort_keys=True).replace("</", "<\\/") + ");"


def setup(app):
    # Compiled before the catalogue is loaded, which Sphinx does here, with the language already known.
    digest = compile_catalogue(app.config.language or "en")
    app.add_message_catalog(CATALOGUE, str(LOCALES))
    # A config value (rebuild "html"): a changed translation writes every page again, as a changed template would.
    app.add_config_value("book_messages_digest", "", "html", [str])

    def _note_digest(app, config):
        config.book_messages_digest = digest
    app.connect("config-inited", _note_digest)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
