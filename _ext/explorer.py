"""The in-page explorer of the mask and the three gradients (chapters/explorer): its script, style and the
homework's numbers, written inline into that page alone, so that it works offline and from file:// with no request.

The homework preset is torch.manual_seed(0); X = randn(10, 4); W = randn(4, 4); Y = randn(10, 4), which a browser
cannot redraw without torch: its numbers are taken from relugrad.homework_inputs() when the page is written.
"""

import functools
import json
from pathlib import Path

from sphinx.locale import get_translation

from book_messages import N_, script_text

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

ASSETS = Path(__file__).parent / "explorer_assets"
PAGE = "chapters/explorer"
PLACEHOLDER = '<div class="relu-explorer" id="relu-explorer"></div>'
# What explorer.js writes into the page, as it passes each through tr(): the page gets their translations.
SCRIPT_MESSAGES = (
    N_("pre-activation"), N_("the ReLU mask"), N_("error"), N_("gradient at Z"),
    N_("shape of W"), N_("shape of X"), N_("shape of Y"), N_("weights"), N_("inputs"), N_("targets"),
    N_("Small, 6 × 4 × 3"), N_("The homework, 10 × 4 × 4"), N_("Exact zeros in Z, 6 × 3 × 4"),
    N_("A unit that dies, 6 × 4 × 3"),
    N_("m (samples)"), N_("k (inputs)"), N_("n (units)"),
    N_("normal, two decimals"), N_("integers −2 to 2 (exact zeros)"), N_("normal, with W = 0"),
    N_("inputs ≥ 0, last unit's targets < 0"),
    N_("Re-draw from the seed"), N_("Slope of the ReLU at exactly 0"),
    N_("ReLU′(0) = 0, as PyTorch"), N_("ReLU′(0) = 1, as Z ⊙ (Z ≥ 0)"),
    N_("Take a gradient step"), N_("Take 10 steps"), N_("Example"), N_("Seed"), N_("Draw"), N_("Learning rate"),
    N_("Change an entry of X, W or Y by typing a number, with the up and down arrow keys (0.1; with Shift, 1), "
       "or by dragging it sideways. ▲ marks an entry of M that just switched on, ▼ one that just "
       "switched off; a dashed outline marks an entry of Z that is exactly 0."),
    N_("{matrix} row {row}, column {column}"), N_("Change these"), N_("Watch these"), N_("or {value}"),
    N_(", just switched on"), N_(", just switched off"), N_(", Z is exactly 0: {other}"), N_(", dead unit"),
    N_("After {steps} gradient steps on W (learning rate {lr}): f went from {from} to {to}."),
    N_("After {steps} gradient step on W (learning rate {lr}): f went from {from} to {to}."),
    N_("No gradient step taken yet."),
    N_("Switched on in M: {entries}."), N_("Switched off in M: {entries}."),
    N_("Dead units (a column of M all zeros, no gradient to W): {units} of {count}."),
    N_("No dead unit: every unit is active for some sample."), N_("Unit {unit} died at step {step}."),
    N_("No entry of Z is exactly 0, so both slopes at 0 give the same gradients. "
       "Try the integer draw, or type values that make an entry of Z zero."),
    N_("{count} entries of Z are exactly 0: {entries}. There M and G depend on the slope chosen at 0 (the other "
       "value is shown under each entry). The largest change in ∂f/∂W between ReLU′(0) = 0 and "
       "ReLU′(0) = 1: {change}."),
    N_("{count} entry of Z is exactly 0: {entries}. There M and G depend on the slope chosen at 0 (the other "
       "value is shown under each entry). The largest change in ∂f/∂W between ReLU′(0) = 0 and "
       "ReLU′(0) = 1: {change}."),
)


@functools.cache
def homework_numbers() -> dict:
    """The homework's X, W, Y (float32 draws), each entry as the float64 it converts to exactly."""
    from relugrad import homework_inputs
    return {name: tensor.detach().double().tolist() for name, tensor in zip("XWY", homework_inputs())}


def page_html() -> str:
    """What replaces the placeholder: the style, the explorer's box, its data and its script (a classic script)."""
    data = json.dumps({"homework": homework_numbers()}, separators=(",", ":"))
    return ("<style>" + (ASSETS / "explorer.css").read_text() + "</style>\n"
            '<div class="relu-explorer" id="relu-explorer"><noscript>' + _("Needs JavaScript.") + '</noscript></div>\n'
            "<script>window.RELU_EXPLORER_DATA = " + data + ";"
            + script_text((message, _(message)) for message in SCRIPT_MESSAGES) + "</script>\n"
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
