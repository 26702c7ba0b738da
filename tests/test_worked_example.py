"""The worked example's "stuck" exercise builds a local minimum with f > 0, not a global one: searched for on numbers,
with the chapter's own matrices, so that the old claim ("stuck, but not at a minimum") cannot come back unnoticed."""

import re

import torch

from contexts import _leftmost_symbol
from display_math import ROOT, blocks
from equations import PARSER, Evaluator, Scope, preprocess

CHAPTER = ROOT / "chapters" / "worked_example.md"


def stuck_inputs():
    """X, W, Y of the exercise, read from its block eq-exstuck-inputs, as the chapter tests read them."""
    block = next(b for b in blocks(CHAPTER) if b.label == "eq-exstuck-inputs")
    named = {}
    for statement in block.statements:
        scope = Scope(None)
        tree = PARSER.parse(preprocess(statement, scope))
        named[_leftmost_symbol(tree.children[0])] = Evaluator(scope)(tree.children[2]).t.double()
    return named["X"], named["W"], named["Y"]


def objective(X, W, Y):
    return ((torch.relu(X @ W) - Y) ** 2).sum()


def test_the_stuck_point_has_zero_gradients_and_f_2():
    X, W, Y = (t.clone().requires_grad_(True) for t in stuck_inputs())
    f = objective(X, W, Y)
    f.backward()
    assert f.item() == 2
    assert torch.all(W.grad == 0) and torch.all(X.grad == 0) and torch.any(Y.grad != 0)


def test_no_small_step_in_x_and_w_lowers_f():
    """A local minimum: random joint perturbations of X and W never give f < 2."""
    X, W, Y = stuck_inputs()
    generator = torch.Generator().manual_seed(0)
    for radius in (1e-1, 1e-2, 1e-3):
        for _ in range(2000):
            dX = radius * (2 * torch.rand(X.shape, generator=generator, dtype=torch.float64) - 1)
            dW = radius * (2 * torch.rand(W.shape, generator=generator, dtype=torch.float64) - 1)
            assert objective(X + dX, W + dW, Y).item() >= 2, radius


def test_it_is_flat_along_the_dead_unit_and_not_a_global_minimum():
    X, W, Y = stuck_inputs()
    nudged = W.clone()
    nudged[:, 3] += 0.1                                  # the dead unit's weights, moved a little: f does not change
    assert objective(X, nudged, Y).item() == 2
    refitted = W.clone()
    refitted[:, 3] = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)   # the chapter's refit of column 4
    assert objective(X, refitted, Y).item() == 0


def test_the_exercise_says_local_not_global():
    title = re.search(r"\{exercise\} (.+)\n:label: ex-example-stuck", CHAPTER.read_text()).group(1)
    assert "local" in title and "not a minimum" not in title, title
