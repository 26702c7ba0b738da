"""A numbered derivation whose explanations are prose, not text inside the formula.

KaTeX cannot wrap `\\text{...}` annotations, so a long `aligned` derivation is cut or scrolls on every screen
narrower than its widest line, and its explanations are lost to search and print. Here each step is a grid row —
left side | relation and right side | explanation — whose explanation is ordinary MyST text (it wraps, it may hold
inline math and links); on a narrow screen the explanation moves under its step. Numbered and referenced like
`$$ … $$ (label)` equations: `{eq}` works, with the same counter.

    ```{derivation}
    :label: eq-dW-entry
    :vary: W

    \\frac{\\partial f}{\\partial W_{ab}}
      &= \\sum_{i,j} 2E_{ij} \\frac{\\partial A_{ij}}{\\partial W_{ab}}
      && the chain rule on $E_{ij}^2$
      &= \\sum_{i} X_{ia} G_{ib}
      && only $j = b$ survives
    ```

A line starting with `&` begins a step (a relation such as `=` then its right side, optionally `&&` and its
explanation); a line starting with `&&` is the explanation of the step above; any other line is a left side, which
starts a new chain (`lhs &= rhs` on one line works too). `:vary:` names the variables the steps'
dotted tangents perturb (read by the book's equation checker, not by the build).
"""

import re

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.domains.math import MathDomain
from sphinx.locale import get_translation
from sphinx.util.docutils import SphinxDirective
from docutils.nodes import make_id

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

RELATION = re.compile(r"^(=|\\approx|\\le|\\ge|<|>|\\ne|\\equiv|\\in|\\subseteq)\s*")


class derivation(nodes.General, nodes.Element):
    """The whole derivation: a grid of steps, numbered like a display equation."""


class derivation_step(nodes.General, nodes.Element):
    """One row: left side (possibly empty), relation and right side, explanation."""


class derivation_cell(nodes.General, nodes.Element):
    """One cell of a row. (Not docutils' container: its class "container" is Bootstrap's, which sets widths.)"""


def parse_steps(text: str) -> list[dict]:
    """Split a derivation's source into steps: {'lhs', 'rhs', 'why'} (lhs '' when the step continues a chain).

    Shared with the book's equation checker (tests/), so that the build and the checks read the same steps.
    """
    steps, lhs_lines = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("&&"):
            if not steps:
                raise ValueError(f"an explanation before any step: {line!r}")
            steps[-1]["why"] = (steps[-1]["why"] + " " + line[2:].strip()).strip()
            continue
        if not line.startswith("&") and "&" in line:      # "lhs &= rhs" on one line
            lhs, _, line = line.partition("&")
            lhs_lines.append(lhs.strip())
            line = "&" + line
        if line.startswith("&"):
            math, _, why = line[1:].partition("&&")
            steps.append({"lhs": " ".join(lhs_lines), "rhs": math.strip(), "why": why.strip()})
            lhs_lines = []
        else:
            lhs_lines.append(line)   # a left side, alone on its line (it may take several lines)
    if lhs_lines:
        raise ValueError(f"a left side with no step after it: {' '.join(lhs_lines)!r}")
    if not steps or not steps[0]["lhs"]:
        raise ValueError("a derivation starts with a left side, then steps that begin with '&'")
    for step in steps:
        if not RELATION.match(step["rhs"]):
            raise ValueError(f"a step must start with a relation such as '&=': {step['rhs']!r}")
    return steps


class DerivationDirective(SphinxDirective):
    has_content = True
    option_spec = {"label": directives.unchanged, "vary": directives.unchanged, "class": directives.class_option}

    def run(self):
        try:
            steps = parse_steps("\n".join(self.content))
        except ValueError as error:
            raise self.error(f"derivation: {error}")
        node = derivation(classes=["derivation", *self.options.get("class", [])])
        self.set_source_info(node)
        messages = []
        for step in steps:
            row = derivation_step()
            row += derivation_cell("", *self._math(step["lhs"]), classes=["derivation-lhs"])
            row += derivation_cell("", *self._math(step["rhs"]), classes=["derivation-rhs"])
            why = derivation_cell("", classes=["derivation-why"])
            if step["why"]:
                # with its source and raw text, an explanation is a message that gettext extracts and translates
                paragraph = nodes.paragraph(step["why"])
                paragraph.source, paragraph.line = self.get_source_info()
                children, problems = self.state.inline_text(step["why"], self.lineno)
                paragraph += children
                why += paragraph
                messages += problems
            row += why
            node += row
        result = [node, *messages]
        label = self.options.get("label")
        if label:
            domain = self.env.get_domain("math")
            domain.note_equation(self.env.docname, label, location=node)
            node["label"] = label
            node["number"] = domain.get_equation_number_for(label)
            target = nodes.target("", "", ids=[make_id(f"equation-{label}")])
            self.state.document.note_explicit_target(target)
            result.insert(0, target)
        else:
            node["label"], node["number"] = None, None
        return result

    @staticmethod
    def _math(latex: str) -> list[nodes.Node]:
        if not latex:
            return []
        # "{}" before a leading relation gives it the spacing it has inside an aligned block
        operand = "{}" if RELATION.match(latex) else ""
        return [nodes.math(latex, f"\\displaystyle {operand}{latex}")]


def visit_derivation(self, node):
    shown = None
    if node["number"]:   # the book-wide number the reader sees, which the page-local one is not
        number = self.builder.fignumbers.get("displaymath", {}).get(node["ids"][0]) if node["ids"] else None
        shown = ".".join(map(str, number)) if number else str(node["number"])
    self.body.append(self.starttag(node, "div", CLASS="derivation", role="group",
                                   **({"aria-label": _("Derivation ({number})").format(number=shown)} if shown else {})))
    if shown:
        self.body.append(f'<span class="eqno">({shown})')
        self.add_permalink_ref(node, _("Permalink to this derivation"))
        self.body.append("</span>")
    self.body.append('<div class="derivation-grid">')


def depart_derivation(self, node):
    self.body.append("</div></div>\n")


def visit_step(self, node):
    self.body.append(self.starttag(node, "div", CLASS="derivation-step"))


def depart_step(self, node):
    self.body.append("</div>\n")


def visit_cell(self, node):
    self.body.append(self.starttag(node, "div"))


def skip(self, node):
    raise nodes.SkipNode


def setup(app):
    app.add_node(derivation, html=(visit_derivation, depart_derivation), latex=(skip, None), text=(skip, None))
    app.add_node(derivation_step, html=(visit_step, depart_step), latex=(skip, None), text=(skip, None))
    app.add_node(derivation_cell, html=(visit_cell, depart_step), latex=(skip, None), text=(skip, None))
    # Numbered with display equations: the math domain counts the node types it lists as "displaymath".
    MathDomain.enumerable_nodes[derivation] = ("displaymath", None)
    app.add_directive("derivation", DerivationDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
