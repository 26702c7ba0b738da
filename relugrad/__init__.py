"""Helpers for the book "Gradients of one ReLU layer": formulas, checks, inputs and known bugs."""

from relugrad.bugs import BUGS, Bug
from relugrad.checks import (
    RELATIVE_TOLERANCE,
    Comparison,
    central_difference,
    kink_free_step,
    compare,
    compare_gradients,
    relative_error,
)
from relugrad.formulas import (
    Gradients,
    Intermediates,
    autograd_gradients,
    hand_gradients,
    intermediates,
    objective,
)
from relugrad.inputs import all_dead_inputs, exact_zero_inputs, homework_inputs, mixed_sign_inputs
from relugrad.validation import check_inputs

__all__ = [
    "BUGS", "Bug", "RELATIVE_TOLERANCE", "Comparison", "central_difference", "compare",
    "compare_gradients", "kink_free_step", "relative_error", "Gradients", "Intermediates", "autograd_gradients",
    "hand_gradients", "intermediates", "objective", "all_dead_inputs", "exact_zero_inputs",
    "homework_inputs", "mixed_sign_inputs", "check_inputs",
]
