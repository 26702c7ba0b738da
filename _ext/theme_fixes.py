"""Fixes to the theme for accessibility and small screens: overridden templates, one small script, and the notebook
downloads as scripts too, so that a page opened from disk can save them."""

import json
from pathlib import Path

from sphinx.locale import get_translation

from book_messages import N_, script_text
from light_pages import without_comments

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

HERE = Path(__file__).parent
TEMPLATES = HERE / "offline_book_templates"
ASSETS = HERE / "offline_book_assets"
# What scrollable.js and book.js write into the page, as they pass each through bookText(): translated here.
SCRIPT_MESSAGES = (N_("Scrollable equation"), N_("Solutions to the exercises"))


def _override_templates(app, config):
    # The template loader is made before builder-inited, so templates must be known at config time.
    config.templates_path.insert(0, str(TEMPLATES))


def _drop_empty_top_bar(app, config):
    """No top bar: sphinx-book-theme puts every control in the article header and the primary sidebar.

    pydata-sphinx-theme 0.17 fills its top bar's `navbar_persistent` slot with a search field unless a theme
    option says otherwise (it ignores sphinx-book-theme's empty default), and so renders a bar that holds a second
    search button and hidden copies of both sidebar toggles. The theme's scripts bind only the first `.primary-toggle`
    and `.secondary-toggle` of the page, which were those hidden copies: the visible toggles did nothing
    (pydata-sphinx-theme issue 2451, sphinx-book-theme issue 988). Without the bar each toggle exists once.
    """
    config.html_theme_options.setdefault("navbar_persistent", [])


def _add_script(app):
    # Inline, not a file under _static/: Jupyter Book would add every .js there to every page.
    # scrollable.js first: book.js calls the function it defines (the deck loads it too, slides/conf.py).
    script = (ASSETS / "scrollable.js").read_text() + (ASSETS / "book.js").read_text()
    words = script_text((message, _(message)) for message in SCRIPT_MESSAGES)   # "" in English
    app.add_js_file(None, body=words + without_comments(script, "js"))


def _fix_citation_list(app, pagename, templatename, context, doctree):
    """docutils marks a bibliography role="list" around entries that are not list items (axe: aria-required-children);
    its entries keep their own role, doc-biblioentry, so the list role is simply dropped."""
    body = context.get("body", "")
    if 'role="list" class="citation-list"' in body:
        context["body"] = body.replace('<div role="list" class="citation-list">', '<div class="citation-list">')


def _add_search_page_script(app, pagename, templatename, context, doctree):
    # Only the search page makes result snippets (added here, the script goes on this page alone).
    if pagename == "search":
        app.add_js_file(None, body=(ASSETS / "search_snippets.js").read_text())


def notebook_script(name: str, text: str) -> str:
    """A downloadable notebook's text as a script that hands it to book.js: a page opened from disk may run a
    script from disk but neither fetch the file nor save it by its link (book.js)."""
    return f"bookNotebookArrived({json.dumps(name)}, {json.dumps(text, ensure_ascii=False)});\n"


def _write_notebook_scripts(app, exception):
    """Beside each notebook download in _sources/, its script (written again only when the notebook changed)."""
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for notebook in sorted(sources.rglob("*.ipynb")) if sources.is_dir() else ():
        script = notebook.with_name(notebook.name + ".js")
        wanted = notebook_script(notebook.name, notebook.read_text(encoding="utf-8"))
        if not script.exists() or script.read_text(encoding="utf-8") != wanted:
            script.write_text(wanted, encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _fix_citation_list)
    app.connect("config-inited", _override_templates)
    app.connect("config-inited", _drop_empty_top_bar)
    app.connect("builder-inited", _add_script)
    app.connect("html-page-context", _add_search_page_script)
    # After notebook_downloads.py has written the executed notebooks there (build-finished, default priority).
    app.connect("build-finished", _write_notebook_scripts, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
