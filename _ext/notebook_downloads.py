"""Notebook downloads that serve a reader: a notebook page's download button gives the executed notebook, outputs
and figures included, and its links to the book's pages work where the notebook is opened alone.

The page's button points at `_sources/<page>.ipynb`, which Sphinx fills with the committed notebook: committed
without outputs, it shows a reader nothing. Once the build has finished, that file is replaced by the notebook
myst-nb executed for the page (its `jupyter_execute/` copy). Relative links to the book's documents, which the
book resolves and a lone notebook cannot, become absolute: the page of the published book where the configuration
names one (`html.baseurl` in _config.yml), else the document in the repository that the launch buttons open.
In another edition (the Chinese), the download's Markdown is translated from the page's catalogue
(notebook_translations.py), and links to the published book go to that edition's pages.
"""

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

from sphinx.locale import get_translation
from sphinx.util import logging

import notebook_translations
import translated_figures

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

# An inline Markdown link or image: [text](target) or [text](target "title"); the text may span lines.
MARKDOWN_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
TOOLTIP = _("Download this notebook, executed: outputs and figures included")

logger = logging.getLogger(__name__)


def link_base(html_baseurl: str, repository_url: str, branch: str, path_to_book: str,
              language: str = "") -> tuple[str, bool]:
    """Where the book's documents live outside the book: (base URL, True if it serves built HTML pages). The pages
    of an edition in another language are in its folder (editions.py); the repository has the English alone."""
    if html_baseurl:
        edition = f"/{language}" if language and language != "en" else ""
        return html_baseurl.rstrip("/") + edition, True
    if repository_url:
        book = path_to_book.strip("/")
        return f"{repository_url.rstrip('/')}/blob/{branch or 'main'}" + (f"/{book}" if book else ""), False
    return "", False


def absolute_links(markdown: str, docname: str, base: str, html: bool) -> str:
    """Markdown with every relative link made absolute (anchors within the notebook stay as they are)."""
    if not base:
        return markdown

    def rewrite(match):
        target = match.group(2)
        parts = urlsplit(target)
        if parts.scheme or target.startswith(("#", "/", "mailto:")):
            return match.group(0)
        path = posixpath.normpath(posixpath.join(posixpath.dirname(docname), parts.path))
        if html and path.endswith((".md", ".ipynb")):
            path = path.rsplit(".", 1)[0] + ".html"
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        return f"{match.group(1)}{base}/{path}{fragment}{match.group(3)}"

    return MARKDOWN_LINK.sub(rewrite, markdown)


def reader_copy(executed: dict, docname: str, base: str, html: bool) -> dict:
    """The executed notebook as a reader downloads it: outputs kept, Markdown links absolute."""
    cells = []
    for cell in executed["cells"]:
        if cell["cell_type"] == "markdown":
            source = absolute_links("".join(cell["source"]), docname, base, html)
            cell = {**cell, "source": source.splitlines(keepends=True)}
        cells.append(cell)
    return {**executed, "cells": cells}


def _notebook_docnames(env) -> list[str]:
    return sorted(name for name in env.found_docs if str(env.doc2path(name)).endswith(".ipynb"))


def _describe_button(app, pagename, templatename, context, doctree):
    """The theme's download button says "source file"; on a notebook page it now gives the executed notebook. On a
    chapter it would give the MyST source, whose quoted numbers are glue roles, not numbers: readers get the page's
    PDF (print) and the whole book's instead."""
    notebook = context.get("page_source_suffix") == ".ipynb"
    if notebook:   # Sphinx copies the committed notebook over the download when it writes the page
        app._book_notebook_pages_written = getattr(app, "_book_notebook_pages_written", set()) | {pagename}
    for group in context.get("header_buttons", []):
        buttons = group.get("buttons", [])
        for button in list(buttons):
            if button.get("label") == "download-source-button":
                if notebook:
                    button["tooltip"] = TOOLTIP
                else:
                    buttons.remove(button)


def _write_downloads(app, exception):
    if exception is not None or app.builder.format != "html" or not app.config.html_copy_source:
        return
    options = app.config.html_theme_options
    language = app.config.language
    base, html = link_base(app.config.html_baseurl, options.get("repository_url", ""),
                           options.get("repository_branch", ""), options.get("path_to_docs", ""), language)
    executed_folder = Path(app.env.mystnb_config.output_folder)
    for docname in _notebook_docnames(app.env):
        executed = executed_folder / f"{docname}.ipynb"
        download = Path(app.outdir) / "_sources" / f"{docname}.ipynb{app.config.html_sourcelink_suffix}"
        if not executed.exists():   # myst-nb writes it for every notebook page it renders
            logger.warning(f"notebook_downloads: no executed notebook for {docname} at {executed}")
            continue
        if docname not in getattr(app, "_book_notebook_pages_written", ()) and download.exists() and \
                download.stat().st_mtime_ns > max(executed.stat().st_mtime_ns, Path(__file__).stat().st_mtime_ns,
                                                  Path(notebook_translations.__file__).stat().st_mtime_ns):
            continue   # written from this executed notebook by an earlier build, and not copied over since
        notebook = json.loads(executed.read_text(encoding="utf-8"))
        catalogue = notebook_translations.edition_catalogue(app, docname)
        if catalogue is not None:
            try:
                notebook = notebook_translations.translate_notebook(notebook, notebook_translations.catalogue(
                    catalogue), f"{docname}.ipynb")
            except notebook_translations.UntranslatedError as error:
                logger.warning(f"notebook_downloads: the download of {docname} in {language} stays in English until "
                               f"its prose is translated ({catalogue.relative_to(app.srcdir)}):\n{error}")
            try:
                notebook = translated_figures.notebook_in_language(notebook, language)
            except translated_figures.MissingFigure as error:
                logger.warning(f"notebook_downloads: the download of {docname} in {language}: {error}")
        notebook = reader_copy(notebook, docname, base, html)
        download.parent.mkdir(parents=True, exist_ok=True)
        download.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                            encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _describe_button, priority=600)   # after the theme adds its buttons (501)
    app.connect("build-finished", _write_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
