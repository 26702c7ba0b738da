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


def setup(app):
    app.connect("config-inited", _override_templates)
    app.connect("builder-inited", _add_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
