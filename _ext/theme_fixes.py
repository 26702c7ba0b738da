"""Fixes to the theme for accessibility and small screens: overridden templates and one small script."""

from pathlib import Path

HERE = Path(__file__).parent
TEMPLATES = HERE / "offline_book_templates"
ASSETS = HERE / "offline_book_assets"


def _override_templates(app, config):
    # The template loader is made before builder-inited, so templates must be known at config time.
    config.templates_path.insert(0, str(TEMPLATES))


def _add_script(app):
    # Inline, not a file under _static/: Jupyter Book would add every .js there to every page.
    app.add_js_file(None, body=(ASSETS / "book.js").read_text())


def _fix_citation_list(app, pagename, templatename, context, doctree):
    """docutils marks a bibliography role="list" around entries that are not list items (axe: aria-required-children);
    its entries keep their own role, doc-biblioentry, so the list role is simply dropped."""
    body = context.get("body", "")
    if 'role="list" class="citation-list"' in body:
        context["body"] = body.replace('<div role="list" class="citation-list">', '<div class="citation-list">')


def setup(app):
    app.connect("html-page-context", _fix_citation_list)
    app.connect("config-inited", _override_templates)
    app.connect("builder-inited", _add_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
