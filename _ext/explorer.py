"""The in-page explorer of the mask and the three gradients (chapters/explorer): its script, style and the
homework's numbers, written inline into that page alone, so that it works offline and from file:// with no request.

The homework preset is torch.manual_seed(0); X = randn(10, 4); W = randn(4, 4); Y = randn(10, 4), which a browser
cannot redraw without torch: its numbers are taken from relugrad.homework_inputs() when the page is written.
"""

import functools
import json
from pathlib import Path

ASSETS = Path(__file__).parent / "explorer_assets"
PAGE = "chapters/explorer"
PLACEHOLDER = '<div class="relu-explorer" id="relu-explorer"></div>'


@functools.cache
def homework_numbers() -> dict:
    """The homework's X, W, Y (float32 draws), each entry as the float64 it converts to exactly."""
    from relugrad import homework_inputs
    return {name: tensor.detach().double().tolist() for name, tensor in zip("XWY", homework_inputs())}


def page_html() -> str:
    """What replaces the placeholder: the style, the explorer's box, its data and its script (a classic script)."""
    data = json.dumps({"homework": homework_numbers()}, separators=(",", ":"))
    return ("<style>" + (ASSETS / "explorer.css").read_text() + "</style>\n"
            '<div class="relu-explorer" id="relu-explorer"><noscript>Needs JavaScript.</noscript></div>\n'
            "<script>window.RELU_EXPLORER_DATA = " + data + ";</script>\n"
            "<script>" + (ASSETS / "explorer.js").read_text() + "</script>\n")


def _fill_explorer(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if PLACEHOLDER in body:
        context["body"] = body.replace(PLACEHOLDER, page_html(), 1)
    elif pagename == PAGE:
        raise ValueError(f"{PAGE} has lost its placeholder {PLACEHOLDER}")


def setup(app):
    # Late, after light_pages has chosen the page's assets from its body: the script's words are not the page's.
    app.connect("html-page-context", _fill_explorer, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
