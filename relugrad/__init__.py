"""Helpers for the book "Gradients of one ReLU layer": formulas, checks, inputs and known bugs."""

from relugrad.bugs import BUGS, Bug
from relugrad.checks import (
    RELATIVE_TOLERANCE,
    Comparison,
    compare,
    compare_gradients,
    relative_error,
    tolerance_for,
)
from relugrad.finite_differences import central_difference, kink_free_step
from relugrad.formulas import (
    Gradients,
    Intermediates,
    autograd_gradients,
    hand_gradients,
    intermediates,
    objective,
)
from relugrad.function import GradientFormula, HandLayer, function_with_backward
from relugrad.inputs import all_dead_inputs, exact_zero_inputs, homework_inputs, mixed_sign_inputs
from relugrad.validation import check_inputs

__all__ = [
    "BUGS", "Bug", "RELATIVE_TOLERANCE", "Comparison", "compare", "compare_gradients", "relative_error",
    "tolerance_for", "central_difference", "kink_free_step", "Gradients", "Intermediates", "autograd_gradients",
    "hand_gradients", "intermediates", "objective", "GradientFormula", "HandLayer", "function_with_backward",
    "all_dead_inputs", "exact_zero_inputs", "homework_inputs", "mixed_sign_inputs", "check_inputs",
]
