"""Every line of every derivation is checked by code.

Each `=` (and ≈, ∈, ≠) of every display equation and derivation in the chapters and notebooks is evaluated on
numbers (tests/equations.py reads the LaTeX; tests/contexts.py says what each symbol means), in worlds where m, k
and n are all different and where k = n. Worked examples are evaluated on their own matrices. A block that cannot
be evaluated must be listed in NOT_EVALUATED with the reason; a block neither checked nor listed fails.
"""

import re
from pathlib import Path

import pytest
import torch

from contexts import CONTEXTS, EXAMPLES, _leftmost_symbol
from display_math import ROOT, all_blocks
from equations import Mismatch, NotEvaluable, Scope, check_statement, preprocess, PARSER, Evaluator
from relugrad import BUGS, exact_zero_inputs, homework_inputs, mixed_sign_inputs

BLOCKS = all_blocks()

# Blocks that say something the checker cannot put into numbers, each with the reason. Keep it short.
NOT_EVALUATED = {
    ("chapters/relu_at_zero.md", "eq-relu-subgradient"):
        "a set-valued definition (the generalised gradient); the slopes themselves are measured in notebook 03",
}

# Which world a source's equations live in (default: one layer); a (source, label) entry overrides its source's.
BEYOND = "chapters/beyond/"
CONTEXT_OF = {
    f"{BEYOND}bias.md": "bias",
    f"{BEYOND}activations.md": "activations",
    f"{BEYOND}two_layers.md": "two_layers",
    f"{BEYOND}two_layers_example.md": "two_layers",
    f"{BEYOND}any_depth.md": "deep",
    (f"{BEYOND}any_depth.md", "eq-ex-three-layers"): "three_layers",
    (f"{BEYOND}any_depth.md", "eq-deep-bias"): "deep_bias",
    f"{BEYOND}kronecker.md": "kronecker",
    f"{BEYOND}hessian.md": "hessian",
    f"{BEYOND}newton.md": "hessian",
    f"{BEYOND}torch_func.md": "per_sample",
    f"{BEYOND}cost.md": "cost",
    **{(f"{BEYOND}activations.md", label): "cross_entropy" for label in (
        "eq-softmax", "eq-cross-entropy", "eq-cross-entropy-tangent", "eq-cross-entropy-G",
        "eq-cross-entropy-mean", "eq-softmax-jacobian", "eq-softmax-chain")},
    (f"{BEYOND}activations.md", "eq-ex-soft-targets"): "soft_targets",
    (f"{BEYOND}kronecker.md", "eq-kronecker-rules"): "kronecker_rules",
    ("chapters/verification.md", "eq-near-fit-quotient"): "rounding",
}


def context_of(block) -> str:
    return CONTEXT_OF.get((block.source, block.label), CONTEXT_OF.get(block.source, "one_layer"))

# The results every reader comes for: if one of these labels disappears, the test says so.
REQUIRED_LABELS = {"eq-forward", "eq-mask", "eq-G", "eq-dY", "eq-dW", "eq-dX", "eq-dW-entry",
                   "eq-dW-differential", "eq-dW-backprop", "eq-dX-entry", "eq-dY-entry", "eq-summary"}


def example_inputs(block) -> dict | None:
    """The matrices of the worked example a block belongs to: labels eq-NAME-* use eq-NAME-inputs."""
    if not block.label:
        return None
    for other in BLOCKS:
        if other.source == block.source and other.label and other.label.endswith("-inputs") \
                and block.label.startswith(other.label[: -len("inputs")]):
            named = {}
            for statement in other.statements:
                scope = Scope(None)
                tree = PARSER.parse(preprocess(statement, scope))
                name, value = tree.children[0], tree.children[2]
                named[_leftmost_symbol(name)] = Evaluator(scope)(value).t
            return named   # X, W, Y, and scalars such as a step h
    return None


def worlds(block):
    named = example_inputs(block)
    if named is not None:   # the example's matrices (X, W, Y, ...) and scalars (a step h, ...)
        matrices = {name: value for name, value in named.items() if value.dim() == 2}
        scalars = {name: value.item() for name, value in named.items() if value.dim() < 2}
        return [EXAMPLES[context_of(block)](**matrices, **scalars)]
    return CONTEXTS[context_of(block)]()


def evaluate(block) -> int:
    """Check every statement of a block in every world; returns the number of relations checked."""
    checked = 0
    for world in worlds(block):
        if block.vary:
            world = world.with_directions(block.vary)
        previous = None
        for statement in block.statements:
            for instance in world.instances(statement):   # a layer index \ell: one instance per layer
                count, previous = check_statement(instance, world, claims_shape_of=previous)
                checked += count
    return checked


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_every_display_equation_holds(block):
    key = (block.source, block.label)
    if key in NOT_EVALUATED:
        with pytest.raises(NotEvaluable):
            evaluate(block)   # if this now evaluates, take it off the list: it is checked
        return
    try:
        checked = evaluate(block)
    except NotEvaluable as error:
        pytest.fail(f"{block.id} cannot be evaluated ({error}); make it checkable, or list it in "
                    f"NOT_EVALUATED with the reason")
    except Mismatch as error:
        pytest.fail(f"{block.id} is wrong: {error}")
    assert checked >= len(block.statements), block.id


def test_the_list_of_unchecked_blocks_names_real_blocks():
    keys = {(b.source, b.label) for b in BLOCKS}
    assert set(NOT_EVALUATED) <= keys, set(NOT_EVALUATED) - keys


def test_every_key_result_is_there():
    labels = {b.label for b in BLOCKS}
    assert REQUIRED_LABELS <= labels, REQUIRED_LABELS - labels


def test_there_are_derivations_to_check():
    """Guards the collector itself: if it stopped finding blocks, every test above would pass vacuously."""
    assert len(BLOCKS) >= 25
    assert sum(len(b.statements) for b in BLOCKS) >= 40


def _python_blocks(path):
    """(chapter, place, code) per python block; place is the exercise label the block sits in ("ex-w-bug"), that
    label and " solution" inside its solution, or "" elsewhere."""
    text, chapter = path.read_text(), path.relative_to(ROOT).as_posix()
    for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
        marks = re.findall(r"^(?::label: (ex-[\w-]+)|`{3,}\{solution-start\} (ex-[\w-]+)|`{3,}\{solution-end\})",
                           text[:match.start()], flags=re.M)
        exercise, solution = marks[-1] if marks else ("", "")
        yield chapter, exercise or (f"{solution} solution" if solution else ""), match.group(1)


PYTHON_BLOCKS = [block for path in sorted((ROOT / "chapters").rglob("*.md")) for block in _python_blocks(path)]

# Exercises whose code shows a mistake of the catalogue for the reader to find: named here, not on the page.
SNIPPET_BUGS = {("chapters/gradient_w.md", "ex-w-bug"): "wrong transpose"}


def _references(X, W, Y):
    Xl, Wl, Yl = (t.clone().requires_grad_(True) for t in (X, W, Y))
    ((torch.relu(Xl @ Wl) - Yl) ** 2).sum().backward()
    return {"dW": Wl.grad, "dX": Xl.grad, "dY": Yl.grad}


def _same(gradients, reference) -> bool:
    return all(torch.allclose(g.double(), r, rtol=1e-9, atol=1e-9) for g, r in zip(gradients, reference))


def _check_backward(claim, backward, inputs):
    """A snippet's `backward(X, W, Y) -> (dW, dX, dY)`: right if it claims nothing; if it claims a bug of the
    catalogue (SNIPPET_BUGS), it must compute exactly that bug (raise where it raises) and be wrong on some input."""
    bug = None
    if claim:
        names = {b.name: b for b in BUGS}
        assert claim in names, f"no bug named {claim!r} in relugrad.BUGS"
        bug = names[claim]
    wrong_somewhere = False
    for X, W, Y in inputs:
        reference = tuple(_references(X, W, Y)[name] for name in ("dW", "dX", "dY"))
        if bug is None:
            assert _same(backward(X, W, Y), reference), "the backward differs from autograd"
            continue
        try:
            expected = bug.gradients(X, W, Y)
        except RuntimeError:   # the bug's products do not fit these shapes: the snippet's must not either
            with pytest.raises(RuntimeError):
                backward(X, W, Y)
            wrong_somewhere = True
            continue
        assert _same(backward(X, W, Y), tuple(g.double() for g in expected)), f"this is not the bug {bug.name!r}"
        wrong_somewhere |= not _same(expected, reference)
    assert bug is None or wrong_somewhere, f"the snippet claims the bug {bug.name!r} but is right on every input"


def test_every_snippet_bug_names_a_real_block():
    assert set(SNIPPET_BUGS) <= {(chapter, place) for chapter, place, _ in PYTHON_BLOCKS}


@pytest.mark.parametrize("chapter,place,code", PYTHON_BLOCKS,
                         ids=[f"{c}:{p}" if p else c for c, p, _ in PYTHON_BLOCKS])
def test_python_snippets_compute_what_they_claim(chapter, place, code):
    """Each code block of a chapter (exercises' solutions included) is run, and checked by what it defines: the
    three gradients `dW`, `dX`, `dY` against autograd (on the snippet's own X, W, Y if it makes them); the
    homework's `x`, `W`, `y` against its draw; a `backward(X, W, Y)` against autograd, or, for an exercise named in
    SNIPPET_BUGS, against that bug of the catalogue. A snippet that defines none of these must check its own claims
    with `assert`."""
    checked = False
    inputs = (mixed_sign_inputs(6, 4, 4, seed=0), mixed_sign_inputs(5, 3, 2, seed=1), exact_zero_inputs())
    for X, W, Y in inputs:
        namespace = {"torch": torch, "X": X, "W": W, "Y": Y}
        if chapter.startswith(BEYOND):   # Part 2's blocks stand alone, imports and inputs included, as readers copy them
            namespace = {}
        exec(code, namespace)  # noqa: S102 - our own chapters
        if "dW" in namespace:
            reference = _references(namespace["X"], namespace["W"], namespace["Y"])
            for name in ("dW", "dX", "dY"):
                assert torch.allclose(namespace[name].double(), reference[name], rtol=1e-9, atol=1e-9), name
            checked = True
        if "x" in namespace:   # the homework's setting: seed, then x, W, y in that order
            for mine, theirs in zip((namespace["x"], namespace["W"], namespace["y"]), homework_inputs()):
                assert torch.equal(mine, theirs)
            checked = True
        if "backward" in namespace:
            _check_backward(SNIPPET_BUGS.get((chapter, place)), namespace["backward"], inputs)
            checked = True
    if re.search(r"^\s*assert\b", code, flags=re.M):
        checked = True   # it ran to its end, so its assertions held
    assert checked, f"a Python snippet in {chapter} is not checked by any test"


def test_the_worksheets_written_answers_are_on_the_site():
    """The students' worksheet hides Part 4's model answers; the summary shows them in dropdowns, word for word."""
    import json
    cells = json.loads((ROOT / "worksheets" / "06_worksheet.ipynb").read_text())["cells"]
    marked = re.findall(r"<!-- BEGIN SOLUTION -->(.*?)<!-- END SOLUTION -->",
                        "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown"), flags=re.S)
    answers = [" ".join(a.split()) for a in re.split(r"^\d+\. ", "".join(marked), flags=re.M)[1:]]
    page = " ".join((ROOT / "chapters" / "summary.md").read_text().split())
    assert answers and all(answer in page for answer in answers)


def test_the_shape_claims_of_ex_notation_shapes():
    """The solution of ex-notation-shapes: the three gradients' shapes differ exactly when k differs from m and n,
    and none equals another's or its own transpose exactly when m, k, n all differ (every size up to 5)."""
    from itertools import product

    solution = (ROOT / "chapters" / "notation.md").read_text().split("```{solution-start} ex-notation-shapes")[1]
    assert "exactly when $k \\ne m$ and $k \\ne n$" in solution and "all three sizes must differ" in solution
    for m, k, n in product(range(1, 6), repeat=3):
        shapes = {(k, n), (m, k), (m, n)}   # of dW, dX, dY
        assert (len(shapes) == 3) == (k != m and k != n)
        assert (len(shapes) == 3 and all(rows != columns for rows, columns in shapes)) == (len({m, k, n}) == 3)
