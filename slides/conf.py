"""The lecture slides: a reveal.js deck built by sphinx-revealjs, from the book's own sources.

Derivations and equations are included from the chapters, and figures from the executed notebooks
(_ext/slide_sources.py), never copied. reveal.js is served from the sphinx-revealjs package and the math is prerendered
by the book's KaTeX (_ext/offline_math.py): nothing loads from another host. The book's build runs this build
(_ext/slides.py); on its own: .venv/bin/sphinx-build -b revealjs slides _build/html/slides.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

project = "Gradients of one ReLU layer"
author = "The authors of this book"
copyright = "2026, The authors of this book"
extensions = ["myst_parser", "sphinx_revealjs", "offline_math", "derivation", "slide_sources"]
myst_enable_extensions = ["amsmath", "colon_fence", "dollarmath"]
myst_dmath_double_inline = True
exclude_patterns = ["_figures"]
html_math_renderer = "katex"
katex_prerender = True
nitpicky = True

revealjs_style_theme = "white"
revealjs_static_path = ["_static"]
revealjs_css_files = ["slides.css"]
# One slide is 1280 × 720 CSS pixels, scaled to the window; no plugin from another host (the math is prerendered).
revealjs_script_conf = {"width": 1280, "height": 720, "margin": 0.04, "hash": True, "slideNumber": "c/t",
                        "center": False, "transition": "none", "pdfSeparateFragments": False}
revealjs_script_plugins = [{"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"}]
