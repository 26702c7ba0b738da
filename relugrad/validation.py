"""Clear errors for bad input: name the argument, say what it got and what was expected."""

import numbers

import numpy as np
import torch


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


def check_finite(t: torch.Tensor, name: str) -> None:
    """Raise ValueError unless every entry of `t` is finite, naming how many are not and where the first is."""
    bad = ~torch.isfinite(t.detach())
    count = int(bad.sum())
    if count:
        first = tuple(int(i) for i in bad.nonzero()[0])
        where = f"{name}[{', '.join(map(str, first))}]" if first else name
        entries = "entry" if count == 1 else "entries"
        raise ValueError(f"{name} has {count} non-finite {entries} (nan or ±inf) of {t.numel()}; "
                         f"the first is {where} = {t.detach()[first].item()}; expected finite values")


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
