"""Rung 3 of the verification ladder: a gradient formula as the backward of a torch.autograd.Function.

`torch.autograd.gradcheck` compares a function's backward with finite differences of its forward. On the plain
objective that backward is autograd's own, so the hand formulas are never seen. Wrapped here, the forward computes
f and the backward is the formula: gradcheck then tests the formula itself. gradcheck works in its inputs' dtype
and needs inputs that require grad: pass float64 leaves (on plain tensors it raises; in float32 it fails even
HandLayer).

The backward is built from differentiable torch operations on the saved inputs, so autograd can differentiate it
in turn: `gradgradcheck` checks those second derivatives, which a Hessian-vector product or a gradient penalty
would use. A backward that detached its inputs, or ran under no_grad, would pass gradcheck and fail gradgradcheck.
"""

from typing import Callable

import torch

from relugrad.formulas import Gradients, hand_gradients, objective
from relugrad.validation import shape_text, type_name

GradientFormula = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Gradients]


def _checked_gradients(gradients, formula_name: str, X, W, Y) -> Gradients:
    if getattr(gradients, "_fields", None) != Gradients._fields:
        raise TypeError(f"{formula_name} must return Gradients(dW, dX, dY), got {type_name(gradients)}")
    for name, variable, variable_name in (("dW", W, "W"), ("dX", X, "X"), ("dY", Y, "Y")):
        gradient = getattr(gradients, name)
        if not isinstance(gradient, torch.Tensor) or gradient.shape != variable.shape:
            got = f"shape {shape_text(gradient)}" if isinstance(gradient, torch.Tensor) else type_name(gradient)
            raise ValueError(f"{formula_name} returned {name} of {got} for {variable_name} of shape "
                             f"{shape_text(variable)}; a gradient has the shape of its variable")
    return gradients


def function_with_backward(formula: GradientFormula, name: str | None = None) -> type[torch.autograd.Function]:
    """A torch.autograd.Function whose forward is f(X, W, Y) and whose backward is ``grad_f *`` `formula`'s gradients.

    Use it as ``Layer = function_with_backward(formula)``, then ``Layer.apply(X, W, Y)`` (or pass ``Layer.apply``
    to gradcheck). The forward validates its inputs like every function of the package.
    """
    if not callable(formula):
        raise TypeError(f"formula must be callable, (X, W, Y) -> Gradients(dW, dX, dY); got {type_name(formula)}")
    formula_name = name or getattr(formula, "__name__", type_name(formula))

    def forward(X, W, Y):
        return objective(X, W, Y)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    def backward(ctx, grad_f):
        X, W, Y = ctx.saved_tensors
        dW, dX, dY = _checked_gradients(formula(X, W, Y), formula_name, X, W, Y)
        return grad_f * dX, grad_f * dW, grad_f * dY  # in the order of forward's inputs

    # Built through Function's metaclass so that the graph node is named after the formula (e.g. HandLayerBackward).
    return type(torch.autograd.Function)(formula_name, (torch.autograd.Function,), {
        "__doc__": f"f(X, W, Y) with the backward given by {formula_name}.",
        "__module__": __name__,
        "forward": staticmethod(forward),
        "setup_context": staticmethod(setup_context),
        "backward": staticmethod(backward),
    })


HandLayer = function_with_backward(hand_gradients, "HandLayer")
HandLayer.__doc__ = "f(X, W, Y) whose backward is the book's hand formulas: dW = XᵀG, dX = GWᵀ, dY = −2E."
