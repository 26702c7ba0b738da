"""Rung 1 of the verification ladder (exact, and within the dtype's tolerance) and the norm-wise relative error
that rungs 1 and 2 measure with (rung 3, gradcheck, applies its own entry-wise test).

Input rules, shared by `relative_error` and `compare`:
- torch tensors and numpy arrays (converted) of a real floating dtype are accepted; anything else, None included,
  is a TypeError, and so are complex and integer dtypes (a complex difference has no meaning for these gradients,
  and dropping the imaginary part would hide it);
- a meta tensor (shape without values) is a ValueError: there is nothing to compare;
- nan or ±inf is a ValueError naming the argument, the count and the first entry: a gradient of f at finite
  inputs is finite, so a non-finite value means something upstream overflowed or broke, and no tolerance can judge
  it (this also keeps "exact" implying "within tolerance");
- the two arguments must be on one device.
"""

import math
from dataclasses import dataclass

import torch

from relugrad.validation import check_finite, checked_tensor, shape_text

# Norm-wise relative error up to which a gradient counts as correct, per dtype: at least twice what correct
# gradients reach against an exact reference, at most a third of what the smallest bug in relugrad.bugs gives.
# Both sides are measured by tests/test_checks.py::test_tolerances_separate_correct_gradients_from_every_bug.
# bfloat16 has none: measured the same way, no tolerance meets both margins (its 8 significant bits put the
# round-off of correct gradients too close to the `>=` bug).
# The tolerances assume a well-conditioned gradient, not tiny next to its own terms: near a stationary point, where
# ||XᵀG|| << || |X|ᵀ|G| ||, a correct XᵀG summed in another order can exceed them by orders of magnitude
# (tests/test_checks.py::test_a_correct_gradient_misses_its_tolerance_at_a_stationary_point); so can a float32
# result judged against a float64 reference near a fit, where |E| << |A|.
RELATIVE_TOLERANCE = {torch.float16: 1e-2, torch.float32: 1e-5, torch.float64: 1e-12}


def _times_power_of_two(t: torch.Tensor, exponent: int) -> torch.Tensor:
    """t * 2**exponent, exact barring underflow; in two halves because 2**exponent alone may overflow."""
    half = exponent // 2
    return t * 2.0 ** half * 2.0 ** (exponent - half)


def _norm_as_mantissa_and_exponent(t: torch.Tensor) -> tuple[float, int]:
    """(r, e) with ||t||_F = r * 2**e, computed without overflow or underflow (t is float64 and finite)."""
    peak = t.abs().max().item() if t.numel() else 0.0
    if peak == 0:
        return 0.0, 0
    # After scaling, the largest square lies in [0.25, 1): the sum cannot overflow, and a square that underflows
    # is below 2**-1074 of it, which no float64 result could show anyway.
    exponent = math.frexp(peak)[1]
    return torch.linalg.vector_norm(_times_power_of_two(t, -exponent)).item(), exponent


def _ldexp(mantissa: float, exponent: int) -> float:
    try:
        return math.ldexp(mantissa, exponent)
    except OverflowError:
        return math.inf


def _relative_error_of_checked(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().to(torch.float64), b.detach().to(torch.float64)  # exact for every floating dtype
    peak = max(a.abs().max().item(), b.abs().max().item()) if a.numel() else 0.0
    if peak == 0:
        return 0.0
    # Scale both by one power of two so that a - b cannot overflow; the factor cancels in the ratio.
    shift = -math.frexp(peak)[1]
    diff, diff_exponent = _norm_as_mantissa_and_exponent(_times_power_of_two(a, shift) - _times_power_of_two(b, shift))
    if not torch.any(b):
        return _ldexp(diff, diff_exponent - shift)
    ref, ref_exponent = _norm_as_mantissa_and_exponent(_times_power_of_two(b, shift))
    if ref == 0:  # b is nonzero but negligible next to a (below 2**-1074 of it): the ratio exceeds every float
        return math.inf
    return _ldexp(diff / ref, diff_exponent - ref_exponent)


def _checked_pair(a, b, name_a: str, name_b: str) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = checked_tensor(a, name_a, numpy_ok=True), checked_tensor(b, name_b, numpy_ok=True)
    if a.device != b.device:
        raise ValueError(f"{name_a} is on {a.device} and {name_b} on {b.device}; expected one device")
    for t, name in ((a, name_a), (b, name_b)):
        check_finite(t, name)
    return a, b


def relative_error(a, b) -> float:
    """||a - b||_F / ||b||_F, or ||a - b||_F when b = 0 (e.g. the gradients of an all-dead layer).

    Computed in float64 after scaling by powers of two, so it neither underflows nor overflows at any input scale;
    empty tensors give 0. a and b are tensors or numpy arrays of one shape; see the module docstring for bad input.
    When b is much smaller than the terms summed to give it, round-off alone makes it large (see RELATIVE_TOLERANCE).
    """
    a, b = _checked_pair(a, b, "a", "b")
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {shape_text(a)} (a) and {shape_text(b)} (b): relative_error needs "
                         f"equal shapes")
    return _relative_error_of_checked(a, b)


@dataclass(frozen=True)
class Comparison:
    """How one computed gradient compares with its reference, rung by rung."""

    name: str
    exact: bool           # every entry equal in value (the dtypes may differ)
    allclose: bool        # relative_error <= tolerance
    max_abs_diff: float
    relative_error: float
    tolerance: float      # that of the lower precision of the two dtypes
    detail: str = ""      # why the comparison failed outright, e.g. different shapes

    @property
    def passed(self) -> bool:
        return self.allclose

    def __str__(self) -> str:
        line = (
            f"{self.name:<4} | exact: {str(self.exact):<5} | allclose: {str(self.allclose):<5} "
            f"| max |diff|: {self.max_abs_diff:.2e} | relative error: {self.relative_error:.2e}"
        )
        return f"{line} | {self.detail}" if self.detail else line


def tolerance_for(*dtypes: torch.dtype) -> float:
    """The relative tolerance of the lowest precision among `dtypes`: a comparison is as coarse as its coarser side."""
    if not dtypes:
        raise TypeError("tolerance_for needs at least one dtype, e.g. tolerance_for(torch.float32, torch.float64)")
    for dtype in dtypes:
        if dtype not in RELATIVE_TOLERANCE:
            known = ", ".join(str(d) for d in RELATIVE_TOLERANCE)
            raise TypeError(f"no tolerance for {dtype} (see RELATIVE_TOLERANCE); compare knows {known}: "
                            f"compute the gradient in one of those (converting a result afterwards would judge "
                            f"its round-off by the stricter tolerance)")
    return max(RELATIVE_TOLERANCE[dtype] for dtype in dtypes)


def compare(name: str, computed, reference) -> Comparison:
    """Compare a gradient with its reference: exact, within tolerance, max |difference|, norm-wise relative error.

    The tolerance is that of the lower precision of the two dtypes (a float32 result against a float64 reference
    is judged as float32), and assumes a well-conditioned gradient (see RELATIVE_TOLERANCE). Different shapes are a
    failed comparison (e.g. a gradient in numerator layout), reported with relative error inf and the shapes in
    ``detail``; bad input raises as described in the module docstring.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str such as 'dW', got {type(name).__name__}")
    computed, reference = _checked_pair(computed, reference, f"computed {name}", f"reference {name}")
    tolerance = tolerance_for(computed.dtype, reference.dtype)
    if computed.shape != reference.shape:
        return Comparison(name, False, False, math.inf, math.inf, tolerance,
                          f"shapes differ: computed {shape_text(computed)}, reference {shape_text(reference)}")
    computed, reference = computed.detach(), reference.detach()
    error = _relative_error_of_checked(computed, reference)
    difference = computed.to(torch.float64) - reference.to(torch.float64)
    return Comparison(
        name=name,
        exact=torch.equal(computed.to(torch.float64), reference.to(torch.float64)),
        allclose=error <= tolerance,
        max_abs_diff=difference.abs().max().item() if difference.numel() else 0.0,
        relative_error=error,
        tolerance=tolerance,
    )


def compare_gradients(computed, reference) -> list[Comparison]:
    """Compare two Gradients tuples field by field (dW, dX, dY)."""
    for label, value in (("computed", computed), ("reference", reference)):
        if getattr(value, "_fields", None) != ("dW", "dX", "dY"):
            raise TypeError(f"{label} must be a Gradients(dW, dX, dY), got {type(value).__name__}")
    return [compare(name, getattr(computed, name), getattr(reference, name)) for name in computed._fields]
