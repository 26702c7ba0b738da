"""Rung 3 tests the hand formulas: gradcheck and gradgradcheck on a torch.autograd.Function whose backward they are."""

import re
import warnings
from pathlib import Path

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from relugrad import (BUGS, Gradients, HandLayer, autograd_gradients, compare_gradients, exact_zero_inputs,
                      function_with_backward, hand_gradients, mixed_sign_inputs, objective)

SHAPES = {"k = n": (6, 4, 4), "m, k, n distinct": (5, 3, 2)}


def leaves(X, W, Y):
    return tuple(t.detach().clone().requires_grad_(True) for t in (X, W, Y))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_hand_layer_passes_gradcheck_and_gradgradcheck(shape, seed):
    inputs = leaves(*mixed_sign_inputs(*shape, seed=seed))
    assert gradcheck(HandLayer.apply, inputs)
    assert gradgradcheck(HandLayer.apply, inputs)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_hand_layer_computes_f_and_backpropagates_the_hand_formulas(shape):
    X, W, Y = leaves(*mixed_sign_inputs(*shape, seed=0))
    f = HandLayer.apply(X, W, Y)
    assert torch.equal(f, objective(X, W, Y))
    (2.5 * f).backward()   # grad_f = 2.5 scales every gradient
    for variable, by_hand in zip((W, X, Y), hand_gradients(X.detach(), W.detach(), Y.detach())):
        assert torch.equal(variable.grad, 2.5 * by_hand)
    assert type(f.grad_fn).__name__ == "HandLayerBackward"


@pytest.mark.parametrize("bug", [bug for bug in BUGS if not bug.needs_exact_zeros], ids=lambda bug: bug.name)
def test_gradcheck_catches_every_bug_random_inputs_can_show(bug):
    """Each wrong formula, wrapped the same way, fails gradcheck on the square mixed-sign case (k = n, so even the
    wrong transpose has the right shapes). The `>=` mask is left out: see the next test."""
    inputs = leaves(*mixed_sign_inputs(6, 4, 4, seed=0))
    assert not gradcheck(function_with_backward(bug.gradients, bug.name).apply, inputs, raise_exception=False)


def test_gradcheck_is_ill_posed_at_exact_zeros_so_rung_1_judges_the_ge_mask():
    """`>=` for `>` differs from the right formula only where some Z_ij is exactly 0. There f has a kink at the
    point itself; where E_ij != 0 the one-sided slopes differ, a central difference matches neither mask, and
    gradcheck fails the RIGHT formula too: it cannot tell the two apart. Comparing with autograd (same convention
    at 0) can, and does. Where E_ij = 0 at the kink both slopes are 0, and gradcheck passes both formulas."""
    ge_bug = next(bug for bug in BUGS if bug.needs_exact_zeros)
    ge_layer = function_with_backward(ge_bug.gradients)
    X, W, Y = exact_zero_inputs()
    kinks = X @ W == 0
    assert kinks.any() and (Y[kinks] != 0).all()   # E = -Y != 0 at every kink
    inputs = leaves(X, W, Y)
    assert not gradcheck(HandLayer.apply, inputs, raise_exception=False)
    assert not gradcheck(ge_layer.apply, inputs, raise_exception=False)
    reference = autograd_gradients(*inputs)
    assert all(c.allclose for c in compare_gradients(hand_gradients(*inputs), reference))
    assert not all(c.allclose for c in compare_gradients(ge_bug.gradients(*inputs), reference))
    no_error_at_kinks = leaves(X, W, Y.masked_fill(kinks, 0.0))
    assert gradcheck(HandLayer.apply, no_error_at_kinks)
    assert gradcheck(ge_layer.apply, no_error_at_kinks)


def test_gradcheck_needs_float64_leaves():
    """As the chapter says: on plain tensors gradcheck raises, and it converts nothing to float64, so with float32
    leaves it fails even the right formula (and only warns about the dtype)."""
    X, W, Y = mixed_sign_inputs(6, 4, 4, seed=0)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(HandLayer.apply, (X, W, Y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert not gradcheck(HandLayer.apply, leaves(X.float(), W.float(), Y.float()), raise_exception=False)
    assert gradcheck(HandLayer.apply, leaves(X, W, Y))


def test_the_chapters_gradcheck_block_runs_as_printed():
    """The HandLayer block of the chapter on verification runs in an empty namespace, imports included."""
    text = (Path(__file__).parents[1] / "chapters" / "verification.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "class HandLayer" in b]
    namespace = {}
    exec(block, namespace)  # noqa: S102 - our own chapter
    assert "gradcheck(HandLayer.apply" in block and namespace["X"].dtype == torch.float64


def test_gradgradcheck_catches_a_backward_that_autograd_cannot_differentiate():
    """Right values, but detached: gradcheck passes, and a Hessian-vector product through it would silently be 0."""
    def detached_hand_gradients(X, W, Y):
        return Gradients(*(g.detach() for g in hand_gradients(X, W, Y)))

    layer = function_with_backward(detached_hand_gradients)
    inputs = leaves(*mixed_sign_inputs(5, 3, 2, seed=0))
    assert gradcheck(layer.apply, inputs)
    assert not gradgradcheck(layer.apply, inputs, raise_exception=False)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_hessian_vector_product_through_the_hand_backward_matches_autograd(shape):
    """What gradgradcheck is for: differentiating the backward itself, here the product of the Hessian with V."""
    X, W, Y = leaves(*mixed_sign_inputs(*shape, seed=1))
    V = torch.randn(W.shape, generator=torch.Generator().manual_seed(0), dtype=W.dtype)

    def hessian_times_V(f):
        (dW,) = torch.autograd.grad(f(X, W, Y), W, create_graph=True)
        (product,) = torch.autograd.grad((dW * V).sum(), W)
        return product

    by_hand, by_autograd = hessian_times_V(HandLayer.apply), hessian_times_V(objective)
    assert by_hand.abs().max() > 0
    assert torch.allclose(by_hand, by_autograd, rtol=1e-12, atol=1e-12)


def test_function_with_backward_rejects_bad_formulas():
    with pytest.raises(TypeError, match="formula must be callable.*got str"):
        function_with_backward("hand_gradients")
    X, W, Y = leaves(*mixed_sign_inputs(5, 3, 2, seed=0))

    def as_plain_tuple(X, W, Y):
        return tuple(hand_gradients(X, W, Y))

    with pytest.raises(TypeError, match=r"as_plain_tuple must return Gradients\(dW, dX, dY\), got tuple"):
        function_with_backward(as_plain_tuple).apply(X, W, Y).backward()

    def numerator_layout(X, W, Y):
        dW, dX, dY = hand_gradients(X, W, Y)
        return Gradients(dW.T, dX, dY)

    with pytest.raises(ValueError, match=r"numerator_layout returned dW of shape 2×3 for W of shape 3×2"):
        function_with_backward(numerator_layout).apply(X, W, Y).backward()
