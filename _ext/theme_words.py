"""The themes' words in the edition's language: what Sphinx, pydata-sphinx-theme, sphinx-book-theme and
sphinx-togglebutton write on a page where their own catalogues leave it in English.

Their catalogues do apply to the Chinese edition (gettext finds pydata-sphinx-theme's `zh` for `zh_CN`), but they
leave words untranslated ("Color mode", "Link to this heading", "Launch interactive content"), or translate them as
a reader in Taiwan would ("列印成 PDF"). Those words are listed here for the catalogue (gettext domain) that looks
them up, translated in the book's catalogue (book.po, book_messages.py), and looked up there first; every other word
stays the theme's. Words a theme writes with no lookup at all are passed through the book's catalogue here (the search
box's text, a theme option that Jupyter Book sets; the launch buttons' tooltips, "Launch on" glued to a name; the
author from _config.yml, after the theme's "By") or
through `_()` in the book's copy of their template (offline_book_templates/). sphinx-togglebutton ships its Chinese as
`zh-cn`, a name gettext never tries for `zh_CN`: its hints are read from there.
"""

import gettext
from pathlib import Path

from sphinx import locale
from sphinx.locale import get_translation

from book_messages import N_
from editions import CONFIGURED_WORDS

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

# Each gettext domain's words that the book translates, as the theme looks them up.
DOMAIN_MESSAGES = {
    "sphinx": (   # Sphinx's writers, sphinxcontrib-katex and pydata-sphinx-theme's templates
        N_("Link to this heading"), N_("Link to this image"), N_("Permalink to this equation"),
        N_("Color mode"), N_("System Settings"),
        # Translators: %(copyright)s is the year from _config.yml
        N_("© Copyright %(copyright)s."),
    ),
    "booktheme": (   # sphinx-book-theme's header buttons
        N_("Launch interactive content"), N_("Print to PDF"),
        # Translators: the end of an image's description, after a service's name ("Binder logo")
        N_("logo"),
    ),
}
SEARCH_BAR_TEXT = N_("Search this book...")   # Jupyter Book's value of the theme option search_bar_text
# Translators: a launch button's tooltip; {name} is the service, Binder or Colab
LAUNCH_ON = N_("Launch on {name}")


class BookFirst(gettext.NullTranslations):
    """A domain's translator that answers its listed words from the book's catalogue and all others as before."""

    def __init__(self, theirs: gettext.NullTranslations, words):
        super().__init__()
        self.words = frozenset(words)
        self.add_fallback(theirs)

    def gettext(self, message):
        if message in self.words:
            translated = str(_(message))
            if translated != message:
                return translated
        return self._fallback.gettext(message)


def _book_first(app, config):
    """Before the builder makes its templates (which take the translator of the domain "sphinx" as it is then)."""
    if not config.language or config.language == "en":
        return
    for domain, words in DOMAIN_MESSAGES.items():
        theirs = locale.translators.get(("general", domain)) or gettext.NullTranslations()
        if not isinstance(theirs, BookFirst):
            locale.translators["general", domain] = BookFirst(theirs, words)
    if app.translator is not locale.translators["general", "sphinx"]:
        app.translator = locale.translators["general", "sphinx"]


def _configured_words(app, config):
    """The settings the theme shows as they are (the author, after "By"), from the book's catalogue
    (editions.CONFIGURED_WORDS)."""
    if not config.language or config.language == "en":
        return
    for name in CONFIGURED_WORDS:
        value = getattr(config, name, None)
        if isinstance(value, str) and value:
            setattr(config, name, str(_(value)))


def _togglebutton_hints(app, config):
    """sphinx-togglebutton's hints ("Click to show") were read, in English, when it was set up; read again from its
    own catalogue, under the name it gives the language (zh-cn), unless _config.yml sets them."""
    if not config.language or config.language == "en" or "sphinx_togglebutton" not in app.extensions:
        return
    import sphinx_togglebutton

    folder = Path(sphinx_togglebutton.__file__).parent / "translations" / "locales"
    names = [config.language, config.language.replace("_", "-").lower()]
    catalogue = gettext.translation("togglebutton", folder, languages=names, fallback=True)
    for name, english in (("togglebutton_hint", "Click to show"), ("togglebutton_hint_hide", "Click to hide")):
        if getattr(config, name) == english:
            setattr(config, name, catalogue.gettext(english))


def _translate_page_words(app, pagename, templatename, context, doctree):
    """The search box's text and the launch buttons' tooltips, which the theme writes with no lookup."""
    if context.get("theme_search_bar_text") == SEARCH_BAR_TEXT:
        context["theme_search_bar_text"] = str(_(SEARCH_BAR_TEXT))
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("text") and str(button.get("tooltip", "")).endswith(" " + button["text"]):
                button["tooltip"] = _(LAUNCH_ON).format(name=button["text"])


def setup(app):
    # Before sphinx-togglebutton writes its hints into the page's script (config-inited, default priority).
    app.connect("config-inited", _togglebutton_hints, priority=400)
    app.connect("config-inited", _book_first, priority=400)
    app.connect("config-inited", _configured_words, priority=400)
    # After sphinx-book-theme has made the header's buttons (html-page-context, default priority).
    app.connect("html-page-context", _translate_page_words, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
