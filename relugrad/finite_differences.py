"""Rung 2 of the verification ladder: central finite differences, and the largest step that crosses no kink of f.

f is piecewise quadratic: while a step moves no Z_ij across 0, f along the step is one quadratic, and a central
difference of a quadratic has no truncation error. Only round-off remains, and it grows like 1/h as h shrinks,
so the largest kink-free step is the most accurate one. Near a fit no step helps: each entry of E = A - Y carries
a rounding error of about u(|X||W|)_ij, u|A_ij| when the terms of Z_ij do not cancel, so the estimate's relative
error is about u ||A|| / ||E|| (notebook 02).
"""

import math
import numbers
from typing import Callable

import torch

from relugrad.formulas import OVERFLOW_CAUSES
from relugrad.validation import (check_factors, check_finite, checked_positive, checked_tensor, no_overflow, shape_text,
                                 type_name)

DIFFERENCE_DTYPES = (torch.float32, torch.float64)


def _scalar(value, at_entry: str) -> torch.Tensor | float:
    """fn's value, checked to be one finite number."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"fn must return a scalar, got a tensor of shape {shape_text(value)} for {at_entry}")
        value = value.detach().reshape(())
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"fn must return a scalar tensor or a real number, got {type_name(value)} for {at_entry}")
    if not math.isfinite(value):
        raise ValueError(f"fn returned {float(value)} for {at_entry}; expected a finite number")
    return value


def _entry_name(index: int, shape: torch.Size) -> str:
    """The flat index as it reads in the error messages, e.g. at[1, 2], or at for a 0-d tensor."""
    position = [str(int(i)) for i in torch.unravel_index(torch.tensor(index), shape)]
    return f"at[{', '.join(position)}]" if position else "at"


def central_difference(
    fn: Callable[[torch.Tensor], torch.Tensor], at: torch.Tensor, step: float = 1e-3
) -> torch.Tensor:
    """d fn / d at by central differences, entry by entry, in the dtype of `at` (float32 or float64).

    Each quotient divides by the distance between the two points actually evaluated, (x + h) - (x - h) as rounded
    in that dtype, not by 2h. Float32 gives a usable coarse check norm-wise with a large kink-free step.

    Raises TypeError unless `fn` is callable, `at` is a float32/float64 tensor (any layout of strides, e.g. a
    transposed view) and `fn` returns one number; ValueError for a non-finite `at`, a `step` that is not a finite
    number > 0, a step too small to move an entry of `at` in its dtype, or a non-finite value of `fn`.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable (a function of one tensor), got {type_name(fn)}")
    at = checked_tensor(at, "at")
    if at.dtype not in DIFFERENCE_DTYPES:
        raise TypeError(f"at has dtype {at.dtype}; central differences need torch.float32 or torch.float64 "
                        f"(in lower precision, round-off in f swamps the difference)")
    check_finite(at, "at")
    step = checked_positive(step, "step")
    base = at.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.empty_like(base)
    for index in range(base.numel()):
        entry = _entry_name(index, base.shape)
        up, down = base.clone(), base.clone()
        up.view(-1)[index] += step
        down.view(-1)[index] -= step
        distance = up.view(-1)[index] - down.view(-1)[index]
        if distance == 0:
            raise ValueError(f"step {step:g} does not move {entry} = {base.view(-1)[index].item():g} in {at.dtype}; "
                             f"use a larger step")
        grad.view(-1)[index] = (_scalar(fn(up), f"{entry} + step") - _scalar(fn(down), f"{entry} - step")) / distance
    return grad


def _exact_zeros_message(Z: torch.Tensor) -> str:
    zeros = [tuple(int(i) for i in z) for z in (Z == 0).nonzero()]
    shown = ", ".join(f"Z[{i}, {j}]" for i, j in zeros[:5]) + (", …" if len(zeros) > 5 else "")
    return (f"Z = XW has {len(zeros)} exact zero{'s' if len(zeros) > 1 else ''} ({shown}): f has a kink there, so "
            f"every step crosses it and a central difference mixes two one-sided slopes. Use inputs without "
            f"exact zeros in Z, e.g. mixed_sign_inputs")


def kink_free_step(X: torch.Tensor, W: torch.Tensor, wrt: str | None = None, safety: float = 0.5) -> float:
    """The largest central-difference step that moves no Z_ij across 0, times `safety` (default: half of it).

    Perturbing one entry W_ab by h moves Z_ib by h X_ia for every i, so the step for W is
    min over i of (min_b |Z_ib|) / (max_a |X_ia|); perturbing X_ab moves Z_aj by h W_bj, so the step for X is
    min over j of (min_a |Z_aj|) / (max_b |W_bj|). ``wrt="W"`` or ``"X"`` gives that one; ``wrt=None`` the smaller
    of the two, a step safe for either. f is quadratic in Y with no kink, so any step is kink-free for Y.
    The safety factor keeps the perturbed Z at least (1 - safety) |Z_ij| away from 0, a margin for round-off in Z.

    Raises TypeError/ValueError for X, W that are not finite floating matrices with a product, for `wrt` other than
    "W", "X" or None, for `safety` outside (0, 1), for an empty Z, for a Z = XW that overflows the dtype, and when Z
    has exact zeros (naming them): there no step is kink-free.
    """
    check_factors(X, W)
    if wrt not in ("W", "X", None):
        raise ValueError(f"wrt must be 'W', 'X' or None (a step safe for both), got {wrt!r}; "
                         f"f has no kink in Y, so any step is kink-free for Y")
    safety = checked_positive(safety, "safety")
    if not safety < 1:
        raise ValueError(f"safety must lie in (0, 1): 1 would let the step reach a kink; got {safety}")
    Z = no_overflow((X @ W).detach(), "Z", *OVERFLOW_CAUSES["Z"])
    if Z.numel() == 0:
        raise ValueError(f"Z = XW is {shape_text(Z)}: it has no entries, so there is no step to choose")
    if (Z == 0).any():
        raise ValueError(_exact_zeros_message(Z))
    Z, X, W = (t.detach().to(torch.float64).abs() for t in (Z, X, W))
    # Z has no zero, so no row of X and no column of W is all zeros: the divisions are safe.
    steps = {"W": (Z.amin(dim=1) / X.amax(dim=1)).min().item(), "X": (Z.amin(dim=0) / W.amax(dim=0)).min().item()}
    step = safety * (min(steps.values()) if wrt is None else steps[wrt])
    if not 0 < step < math.inf:  # the ratio |Z| / |X| or |Z| / |W| went past float64's range
        raise ValueError(f"the kink-free step for {wrt or 'W and X'} is {step} in float64 (smallest |Z| "
                         f"{Z.min().item():.3g}, largest |X| {X.max().item():.3g}, largest |W| {W.max().item():.3g}): "
                         f"rescale X and W so that their entries and those of Z = XW are of similar size")
    return step
