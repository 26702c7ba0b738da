"""Clear errors for bad input: name the argument, say what it got and what was expected."""

import numbers
import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch._C import _functorch as functorch


# Float8 types have no matmul: leave them out rather than fail deep inside torch.
GRADIENT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def shape_text(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape) or "scalar"


def type_name(value) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _listing(names) -> str:
    """"X and W", "X, W and Y"."""
    *most, last = names
    return f"{', '.join(most)} and {last}"


def checked_tensor(value, name: str, *, numpy_ok: bool = False) -> torch.Tensor:
    """`value` as a dense, real floating-point tensor that holds values; TypeError or ValueError naming `name`.

    With ``numpy_ok`` a numpy array of dtype float16, float32 or float64 is copied into a tensor instead of
    rejected.
    """
    if numpy_ok and isinstance(value, np.ndarray):
        if value.dtype.type not in (np.float16, np.float32, np.float64):
            raise TypeError(f"{name} is a numpy array of dtype {value.dtype}; expected float16, float32 or float64")
        value = torch.tensor(value.astype(value.dtype.newbyteorder("="), copy=False))
    if not isinstance(value, torch.Tensor):
        expected = "a torch.Tensor or numpy.ndarray" if numpy_ok else "a torch.Tensor"
        raise TypeError(f"{name} must be {expected}, got {type_name(value)}")
    if value.layout != torch.strided:
        raise TypeError(f"{name} is a {value.layout} tensor; expected a dense (strided) tensor, e.g. {name}.to_dense()")
    if value.is_meta:
        raise ValueError(f"{name} is a meta tensor (a shape without values); expected a tensor with values")
    if not value.dtype.is_floating_point:
        kind = "complex" if value.dtype.is_complex else "non-floating"
        raise TypeError(f"{name} has {kind} dtype {value.dtype}; expected a real floating-point dtype "
                        f"such as torch.float64")
    return value


def _values(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """The plain tensor of values under torch.func's wrappers, and whether a vmap batch wraps it.

    Inside torch.func.vmap a tensor is one sample's view of a batch, and asking it for one value (.item()) is an
    error; the plain tensor underneath holds the whole batch and can be checked. grad and jvp wrappers are peeled
    the same way.
    """
    batched = False
    while functorch.is_functorch_wrapped_tensor(t):
        batched = batched or functorch.is_batchedtensor(t)
        t = functorch.get_unwrapped(t)
    return t.detach(), batched


class _NonFinite(NamedTuple):
    count: int
    total: int
    where: str  # the first non-finite entry, e.g. "X[2, 1]", or "X" alone for a scalar or under vmap
    value: float
    batched: bool  # under vmap the counts are over the whole batch, not one sample

    @property
    def of_total(self) -> str:
        return f"of {self.total}" + (" in vmap's batch" if self.batched else "")


def _non_finite(t: torch.Tensor, name: str) -> _NonFinite | None:
    """None if every entry of `t` is finite; else how many are not, and the first."""
    values, batched = _values(t)
    bad = ~torch.isfinite(values)
    if not bad.any():
        return None
    first = tuple(int(i) for i in bad.nonzero()[0])
    # Under vmap the position would count the batch dimensions, which the caller never sees.
    where = f"{name} (in vmap's batch)" if batched else f"{name}[{', '.join(map(str, first))}]" if first else name
    return _NonFinite(int(bad.sum()), values.numel(), where, values[first].item(), batched)


def check_finite(t: torch.Tensor, name: str) -> None:
    """Raise ValueError unless every entry of `t` is finite, naming how many are not and where the first is."""
    found = _non_finite(t, name)
    if found:
        entries = "entry" if found.count == 1 else "entries"
        raise ValueError(f"{name} has {found.count} non-finite {entries} (nan or ±inf) {found.of_total}; "
                         f"the first is {found.where} = {found.value}; expected finite values")


def _overflow_message(t: torch.Tensor, name: str, formula: str, cause: str) -> str | None:
    found = _non_finite(t, name)
    if not found:
        return None
    dtype = str(t.dtype).removeprefix("torch.")
    batch = " in vmap's batch" if found.batched else ""
    at = (f"at {found.where} = {found.value} ({found.count} of {found.total} entries{batch})" if found.total > 1
          else f"({name} = {found.value})")
    remedy = "scale the inputs down" if t.dtype == torch.float64 else "use float64 or scale the inputs down"
    return (f"{name} = {formula} overflows {dtype} {at}: {cause} (the largest {dtype} is "
            f"{torch.finfo(t.dtype).max:.2g}); {remedy}")


def no_overflow(t: torch.Tensor, name: str, formula: str, cause: str) -> torch.Tensor:
    """`t`, computed from finite inputs as ``name = formula``; ValueError if it came out nan or ±inf.

    Finite inputs with a non-finite result mean the result, or a sum on the way to it, went past the dtype's
    largest number (inf, or inf - inf = nan): say which quantity, instead of passing the nan on.
    """
    message = _overflow_message(t, name, formula, cause)
    if message:
        raise ValueError(message)
    return t


def warn_on_overflow(t: torch.Tensor, name: str, formula: str, cause: str) -> torch.Tensor:
    """`t` as `no_overflow` gives it, but a RuntimeWarning instead of the error: for a result that others ignore."""
    message = _overflow_message(t, name, formula, cause)
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return t


def checked_positive(value, name: str) -> float:
    """`value` as a float if it is a finite real number > 0; TypeError or ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type_name(value)}")
    value = float(value)
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def _check_matrices(named: dict) -> None:
    for name, t in named.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type_name(t)}")
        if t.dim() != 2:
            raise ValueError(f"{name} must be a matrix (2-D), got shape {shape_text(t)}")
        if t.dtype not in GRADIENT_DTYPES:
            raise TypeError(f"{name} has dtype {t.dtype}; gradients need a floating dtype: "
                            + ", ".join(map(str, GRADIENT_DTYPES)))
        checked_tensor(t, name)  # dense, not meta
    if len({t.dtype for t in named.values()}) > 1:
        raise TypeError(
            f"{_listing(named)} must share one dtype, got "
            + ", ".join(f"{name}: {t.dtype}" for name, t in named.items())
        )
    if len({t.device for t in named.values()}) > 1:
        raise ValueError(
            f"{_listing(named)} must be on one device, got "
            + ", ".join(f"{name}: {t.device}" for name, t in named.items())
        )


def _check_product(X: torch.Tensor, W: torch.Tensor) -> None:
    k, k_w = X.shape[1], W.shape[0]
    if k != k_w:
        raise ValueError(
            f"X is {shape_text(X)} and W is {shape_text(W)}: XW needs W to have {k} rows "
            f"(one per column of X), not {k_w}"
        )


def check_factors(X: torch.Tensor, W: torch.Tensor) -> None:
    """Raise TypeError/ValueError unless X (m×k) and W (k×n) are finite floating matrices whose product exists."""
    _check_matrices({"X": X, "W": W})
    _check_product(X, W)
    for name, t in (("X", X), ("W", W)):
        check_finite(t, name)


def check_inputs(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> None:
    """Raise TypeError/ValueError unless X (m×k), W (k×n), Y (m×n) are finite floating matrices that fit."""
    _check_matrices({"X": X, "W": W, "Y": Y})
    _check_product(X, W)
    m, n = X.shape[0], W.shape[1]
    if tuple(Y.shape) != (m, n):
        raise ValueError(
            f"Y is {shape_text(Y)} but XW is {m}×{n} (X is {shape_text(X)}, W is {shape_text(W)}): "
            f"Y must have the shape of XW"
        )
    # Values last: a NaN or inf would otherwise flow silently into every gradient.
    for name, t in (("X", X), ("W", W), ("Y", Y)):
        check_finite(t, name)
