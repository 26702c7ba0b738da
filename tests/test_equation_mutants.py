"""The equation checks can fail: every small slip typed into any statement of any derivation is caught.

Each statement of each checked display block is mutated the way authors slip — a dropped transpose, a flipped
sign, a changed factor, swapped indices, a changed number in a worked example — and each mutant must make the
block's check fail. A mutant that still passes would be a line the suite does not really check.
"""

import re

import pytest

from equations import Mismatch, NotEvaluable
from test_chapters import BLOCKS, NOT_EVALUATED, evaluate


def mutants(statement: str):
    """(description, mutated statement) for each single slip in one statement."""
    for match in re.finditer(r"\^\\top|\^\{\\top\}", statement):
        yield "dropped transpose", statement[:match.start()] + statement[match.end():]
    for match in re.finditer(r"(?<![\w{.])(-?)2(?=\s*\\?[A-Za-z(\\])", statement):
        flipped = "" if match.group(1) else "-"
        yield "flipped sign of a factor 2", statement[:match.start()] + flipped + "2" + statement[match.end():]
        yield "factor 2 changed to 3", statement[:match.start()] + match.group(1) + "3" + statement[match.end():]
    for match in re.finditer(r"(?<=[\w})]) - (?=[\w\\(])", statement):
        yield "minus changed to plus", statement[:match.start()] + " + " + statement[match.end():]
    for match in re.finditer(r"(?<!\\delta)_\{([a-z])([a-z])\}", statement):   # δ is symmetric: skip it
        first, second = match.groups()
        if first != second:
            yield "swapped indices", statement[:match.start()] + f"_{{{second}{first}}}" + statement[match.end():]
    for match in re.finditer(r"\\odot\s*M\b", statement):
        yield "dropped mask", statement[:match.start()] + statement[match.end():]
    for match in re.finditer(r"(?<=&)\s*(-?\d+)\s*(?=&|\\\\|\\end)|(?<=\{bmatrix\})\s*(-?\d+)", statement):
        number = match.group(1) or match.group(2)
        changed = str(int(number) + 1)
        yield "changed a matrix entry", statement[:match.start()] + f" {changed} " + statement[match.end():]


def with_statement(block, index, statement):
    copy = type(block)(block.source, block.label, list(block.statements), block.vary, block.line)
    copy.statements[index] = statement
    return copy


CHECKED = [b for b in BLOCKS if (b.source, b.label) not in NOT_EVALUATED and not (b.label or "").endswith("-inputs")]

# Slips that do not change the value, each with the reason (so they cannot be caught, and need not be).
EQUIVALENT = {
    ("chapters/relu_at_zero.md:eq-counter-formulas", "flipped sign of a factor 2",
     r"X^\top (-2E \odot M) = \begin{bmatrix} 0 \end{bmatrix}"): "M = 0 in this example: any factor gives 0",
    ("chapters/relu_at_zero.md:eq-counter-formulas", "factor 2 changed to 3",
     r"X^\top (3E \odot M) = \begin{bmatrix} 0 \end{bmatrix}"): "M = 0 in this example: any factor gives 0",
    ("chapters/beyond/hessian.md:eq-hessian-entries", "swapped indices",
     "\\frac{\\partial^2 f}{\\partial W_{ab}\\, \\partial W_{cd}}\n  = 2\\, \\delta_{bd} \\sum_{i=1}^{m} X_{ia}\\, "
     "M_{ib}\\, X_{ic}\n  = 2\\, \\delta_{bd}\\, \\bigl(X^\\top \\operatorname{diag}(M_{:,b})\\, X\\bigr)_{ca}."):
        "X^T diag(M_{:,b}) X is symmetric: entry (c, a) is entry (a, c)",
    ("chapters/beyond/hessian.md:eq-ex-hessian-x", "swapped indices",
     "\\frac{\\partial^2 f}{\\partial X_{ia}\\, \\partial X_{rc}}\n  = 2\\, \\delta_{ir} \\sum_{j=1}^{n} W_{aj}\\, "
     "M_{ij}\\, W_{cj}\n  = 2\\, \\delta_{ir}\\, \\bigl(W \\operatorname{diag}(M_{i,:}^\\top)\\, W^\\top\\bigr)_{ca}."):
        "W diag(M_{i,:}^T) W^T is symmetric: entry (c, a) is entry (a, c)",
    ("chapters/beyond/activations.md:eq-softmax-chain", "dropped transpose",
     "J \\Bigl(-\\frac{y}{p}\\Bigr) = -y + p\\, \\mathbf{1}_n^\\top y = p - y."):
        "the softmax Jacobian diag(p) - pp^T is symmetric: J^T = J",
    ("chapters/worked_example.md:eq-example3-shapes", "flipped sign of a factor 2",
     r"X^\top (-2E) \in \mathbb{R}^{3 \times 4}."): "a claim about a shape: a scalar factor keeps the shape",
    ("chapters/worked_example.md:eq-example3-shapes", "factor 2 changed to 3",
     r"X^\top (3E) \in \mathbb{R}^{3 \times 4}."): "a claim about a shape: a scalar factor keeps the shape",
}


def _layout_free(latex: str) -> str:
    """A statement without its layout (alignment points and spacing), so that an equivalent mutant stays listed when
    a display is only broken into other lines (for a phone)."""
    return re.sub(r"\s+|&", "", latex)


EQUIVALENT_LAYOUT_FREE = {(block_id, description, _layout_free(mutated))
                          for block_id, description, mutated in EQUIVALENT}


@pytest.mark.parametrize("block", CHECKED, ids=[b.id for b in CHECKED])
def test_every_slip_in_a_derivation_is_caught(block):
    survivors = []
    for index, statement in enumerate(block.statements):
        for description, mutated in mutants(statement):
            if (block.id, description, _layout_free(mutated)) in EQUIVALENT_LAYOUT_FREE:
                continue
            try:
                evaluate(with_statement(block, index, mutated))
            except (Mismatch, NotEvaluable):
                continue
            survivors.append(f"{description}: {mutated}")
    assert not survivors, f"{block.id}: slips the checks do not catch:\n" + "\n".join(survivors)


def test_the_mutations_reach_every_kind_of_block():
    kinds = {description for block in CHECKED for statement in block.statements
             for description, _ in mutants(statement)}
    assert {"dropped transpose", "flipped sign of a factor 2", "swapped indices", "dropped mask",
            "changed a matrix entry", "minus changed to plus"} <= kinds, kinds
