"""The verification ladder: exact, allclose, norm-wise relative error, central finite differences."""

from dataclasses import dataclass
from typing import Callable

import torch

# Norm-wise relative error a correct gradient stays below; generous against round-off
# (measured: about 2e-7 in float32 at k = 1024), far below the smallest bug (0.17 for a missing mask).
RELATIVE_TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b||_F / ||b||_F, or ||a - b||_F when b = 0 (e.g. the gradients of an all-dead layer)."""
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.detach().double(), b.detach().double()
    diff = torch.linalg.norm(a - b).item()
    scale = torch.linalg.norm(b).item()
    return diff / scale if scale > 0 else diff


@dataclass(frozen=True)
class Comparison:
    """How one computed gradient compares with its reference, rung by rung."""

    name: str
    exact: bool
    allclose: bool
    max_abs_diff: float
    relative_error: float

    @property
    def passed(self) -> bool:
        return self.allclose

    def __str__(self) -> str:
        return (
            f"{self.name:<4} | exact: {str(self.exact):<5} | allclose: {str(self.allclose):<5} "
            f"| max |diff|: {self.max_abs_diff:.2e} | relative error: {self.relative_error:.2e}"
        )


def compare(name: str, computed: torch.Tensor, reference: torch.Tensor) -> Comparison:
    """Compare a gradient with its reference; a shape mismatch counts as a failure, never a crash."""
    if computed.shape != reference.shape:
        return Comparison(name, False, False, float("inf"), float("inf"))
    computed, reference = computed.detach(), reference.detach()
    error = relative_error(computed, reference)
    return Comparison(
        name=name,
        exact=torch.equal(computed, reference),
        allclose=error <= RELATIVE_TOLERANCE.get(reference.dtype, 1e-5),
        max_abs_diff=(computed - reference).abs().max().item() if computed.numel() else 0.0,
        relative_error=error,
    )


def compare_gradients(computed, reference) -> list[Comparison]:
    """Compare two Gradients tuples field by field (dW, dX, dY)."""
    return [compare(name, getattr(computed, name), getattr(reference, name)) for name in computed._fields]


def central_difference(
    fn: Callable[[torch.Tensor], torch.Tensor], at: torch.Tensor, step: float = 1e-3
) -> torch.Tensor:
    """d fn / d at by central differences, entry by entry; needs float64 (in float32 round-off swamps it).

    f is piecewise quadratic, so away from a kink this has no truncation error, only round-off.
    """
    if at.dtype != torch.float64:
        raise TypeError(f"central differences need float64, got {at.dtype}")
    at = at.detach()
    grad = torch.empty_like(at)
    for index in range(at.numel()):
        shift = torch.zeros_like(at).view(-1)
        shift[index] = step
        shift = shift.view_as(at)
        grad.view(-1)[index] = (fn(at + shift) - fn(at - shift)) / (2 * step)
    return grad


def kink_free_step(X: torch.Tensor, W: torch.Tensor, cap: float = 1e-3) -> float:
    """A finite-difference step that moves no Z_ij across 0, so central differences see one quadratic piece.

    Shifting one entry of W (or X) by h moves Z_ij by at most h * max|X| (or h * max|W|).
    """
    Z = X @ W
    largest_factor = max(X.abs().max().item(), W.abs().max().item(), 1e-300)
    return min(cap, 0.5 * Z.abs().min().item() / largest_factor)
