"""The lecture slides: a reveal.js deck built by sphinx-revealjs, from the book's own sources.

Derivations and equations are included from the chapters, and figures from the executed notebooks
(_ext/slide_sources.py), never copied. reveal.js is served from the sphinx-revealjs package and the math is prerendered
by the book's KaTeX (_ext/offline_math.py): nothing loads from another host. The book's build runs this build
(_ext/slides.py); on its own: .venv/bin/sphinx-build -b revealjs slides _build/html/slides.

In another language (the book's Chinese edition builds it with -D language=zh_CN): the deck's own prose, titles and
speaker notes from the catalogue locales/<language>/LC_MESSAGES/slides.po (`python3 book.py translate` extracts and
merges it, as the book's pages'), and what it includes from the chapters with the chapters' own translations.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import slide_assets  # noqa: E402
import slide_sources  # noqa: E402

project = "Gradients of one ReLU layer"
author = "The authors of this book"
copyright = "2026, The authors of this book"
extensions = ["myst_parser", "sphinx_revealjs", "offline_math", "derivation", "slide_sources"]
myst_enable_extensions = ["amsmath", "attrs_block", "colon_fence", "dollarmath"]
# One catalogue for the deck, beside the book's: locales/<language>/LC_MESSAGES/slides.po (slide_sources.DECK_DOMAIN).
locale_dirs = [str(ROOT / "locales")]
gettext_compact = slide_sources.DECK_DOMAIN
myst_dmath_double_inline = True
exclude_patterns = ["_figures"]
html_math_renderer = "katex"
katex_prerender = True
nitpicky = True

revealjs_style_theme = "white"
revealjs_static_path = ["_static"]
revealjs_css_files = ["slides.css"]
# Wide formulas that scroll on a phone are reachable by keyboard: the book's own function (inlined), then its use.
revealjs_js_files = [(None, {"body": (ROOT / "_ext" / "offline_book_assets" / "scrollable.js").read_text()}),
                     "slides.js"]
# A slide is the whole window, whatever its shape (4:3 projectors, 16:9 screens): reveal.js does not scale it, the
# type is sized to the window in slides.css (never below 32 px) and the content is centred vertically. A fixed
# 16:9 slide was scaled to 0.77 on a 1024 × 768 projector and used only its top half. No plugin from another host
# (the math is prerendered).
revealjs_script_conf = {"width": "100%", "height": "100%", "margin": 0, "minScale": 1, "maxScale": 1,
                        "hash": True, "slideNumber": "c/t", "center": True, "transition": "none",
                        "pdfSeparateFragments": False}
revealjs_script_plugins = [{"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"}]
# Ship only the reveal.js files this deck loads (Sphinx applies exclude_patterns to static files too): not the
# other themes, which @import fonts.googleapis.com, nor source maps and SCSS sources (_ext/slide_assets.py).
exclude_patterns += slide_assets.excluded(revealjs_style_theme, revealjs_script_plugins)


def _words_of_the_scripts(app, config):
    """What scrollable.js writes into the deck (the name of an equation that scrolls), in the deck's language, as the
    book's pages get it (theme_fixes.py); nothing in English."""
    from sphinx.locale import get_translation

    from book_messages import script_text
    from theme_fixes import SCRIPT_MESSAGES

    translate = get_translation("book")
    if words := script_text((message, translate(message)) for message in SCRIPT_MESSAGES):
        config.revealjs_js_files.insert(0, (None, {"body": words}))


def setup(app):
    app.setup_extension("book_messages")   # the book's own words (_ext/locales/<language>/LC_MESSAGES/book.po)
    app.connect("config-inited", _words_of_the_scripts)
