"""What gettext extracts and translates: the prose, never the mathematics or the code (they are written once).

Sphinx's gettext builder extracts display math and code blocks as messages too, so that a translator would copy every
formula; here they are marked untranslatable, and the edition in another language shows the English source's own.
Exercise titles (sphinx-exercise parses them with no source, so gettext skips them) are made messages like any
paragraph, and a solution's heading repeats its exercise's title as translated; the `{derivation}` explanations are made messages by the directive itself (derivation.py). Also: the
sidebar's part captions translated, a footnote reference kept in a translated paragraph, and on every page a link to
the same page in the other edition (the header's language switcher).
"""

import re
from os import path as os_path
from pathlib import Path

import sphinx.transforms.i18n
from docutils import nodes
from sphinx import addnodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import LITERAL_TYPE_NODES
from sphinx_exercise.directive import ExerciseDirective, ExerciseStartDirective
from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, exercise_subtitle

from editions import EDITIONS, built


class WrittenOnce(SphinxTransform):
    """Display math, code and raw HTML are not messages (before the Locale transform, priority 20, reads them)."""
    default_priority = 10

    def apply(self, **kwargs):
        for node in self.document.findall(lambda n: isinstance(n, LITERAL_TYPE_NODES)):
            node["translatable"] = False


def _titles_are_messages(directive_class):
    class Directive(directive_class):
        def run(self):
            result = super().run()
            if self.arguments:
                source, line = self.get_source_info()
                for node in result:
                    for subtitle in node.findall(exercise_subtitle):
                        subtitle.rawsource, subtitle.source, subtitle.line = self.arguments[0], source, line
            return result
    Directive.__name__ = directive_class.__name__
    return Directive


class TranslatedTitlesInRegistry(SphinxTransform):
    """sphinx-exercise titles each solution ("Solution to Exercise 7 (...)") from its copy of the exercise, made
    before the Locale transform (priority 20) translated the page and SmartQuotes (750) curled its apostrophes: the
    copy takes the exercise's title as its page shows it, translated from that page's catalogue, so that the solution
    repeats it word for word, in the same language."""
    default_priority = 751

    def apply(self, **kwargs):
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in self.document.findall(lambda n: isinstance(n, (exercise_node, exercise_enumerable_node))):
            entry = registry.get(node.get("label"))
            if not entry or entry.get("docname") != self.env.docname or entry.get("node") is node:
                continue
            shown = next(iter(node.findall(exercise_subtitle)), None)
            kept = next(iter(entry["node"].findall(exercise_subtitle)), None)
            if shown is not None and kept is not None:
                kept.children = []
                kept += [child.deepcopy() for child in shown.children]


class TranslatedCaptions(SphinxTransform):
    """The parts' captions in the sidebar: Jupyter Book inserts the table of contents (priority 100) after the
    Locale transform (20) has translated the page, so its captions are translated here, from the same catalogue."""
    default_priority = 101

    def apply(self, **kwargs):
        if not self.config.language or self.config.language == "en":
            return
        toctrees = [node for node in self.document.findall(addnodes.toctree) if node.get("caption")]
        if not toctrees:
            return
        directories = [os_path.join(self.env.srcdir, folder) for folder in self.config.locale_dirs]
        catalogue, found = init_locale(directories, self.config.language,
                                       docname_to_domain(self.env.docname, self.config.gettext_compact))
        for node in toctrees if found else []:
            node["caption"] = catalogue.gettext(node.get("rawcaption") or node["caption"])


class TitlesInCatalogues(SphinxPostTransform):
    """sphinx-exercise's post-transform (priority 20) melts a title's subtitle into a title with no source, which
    gettext would skip: for the gettext builder alone, each exercise title is first copied out as a paragraph."""
    default_priority = 19
    builders = ("gettext",)

    def run(self, **kwargs):
        for subtitle in list(self.document.findall(exercise_subtitle)):
            copy = nodes.paragraph(subtitle.rawsource, "", *[child.deepcopy() for child in subtitle.children])
            copy.source, copy.line = subtitle.source, subtitle.line
            copy.uid = getattr(subtitle, "uid", "")   # what gettext's catalogue keys an origin by
            subtitle.parent.parent.append(copy)


# Each edition: its language code (Sphinx's), its folder in the site, and how its switcher link reads in it.
def _header_with_switcher(app, config):
    """The switcher stands first among the header's controls, in every edition."""
    ends = config.html_theme_options.get("article_header_end") or ["article-header-buttons.html"]
    if "language-switcher.html" not in ends:
        config.html_theme_options["article_header_end"] = ["language-switcher.html", *ends]


def _other_editions(app, pagename, templatename, context, doctree):
    """Links to this page in the other editions that this build makes, relative (they work from file://)."""
    this = app.config.language if app.config.language in EDITIONS else "en"
    up = "../" if EDITIONS[this]["folder"] else ""
    context["book_other_editions"] = [
        {**EDITIONS[code], "href": context["pathto"](f"{up}{EDITIONS[code]['folder']}{pagename}.html", 1)}
        for code in app.config.book_editions if code != this]


FOOTNOTE_REFERENCE = re.compile(r"\[\^([\w-]+)\]")
_publish_msgstr = sphinx.transforms.i18n.publish_msgstr


def _publish_msgstr_with_footnotes(app, source, source_path, *args, **kwargs):
    """A translated message is parsed alone, and MyST reads `[^label]` as a footnote reference only when the
    footnote is defined: each one the message refers to is defined after it for the parse (the paragraph, the
    first node, is what the translation keeps)."""
    if str(source_path).endswith((".md", ".ipynb")):
        source += "".join(f"\n\n[^{label}]: ." for label in FOOTNOTE_REFERENCE.findall(source))
    return _publish_msgstr(app, source, source_path, *args, **kwargs)


def setup(app):
    app.setup_extension("sphinx_exercise")
    sphinx.transforms.i18n.publish_msgstr = _publish_msgstr_with_footnotes
    app.add_transform(WrittenOnce)
    app.add_transform(TranslatedTitlesInRegistry)
    app.add_transform(TranslatedCaptions)
    app.add_post_transform(TitlesInCatalogues)
    # the editions this build makes (editions.built): a change rewrites every page, and its switcher
    app.add_config_value("book_editions", built(Path(app.srcdir)), "html", types=[list])
    app.connect("config-inited", _header_with_switcher)
    app.connect("html-page-context", _other_editions)
    app.add_directive("exercise", _titles_are_messages(ExerciseDirective), override=True)
    app.add_directive("exercise-start", _titles_are_messages(ExerciseStartDirective), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
