"""Clear errors for bad input: name the argument, its shape or dtype, and what was expected."""

import torch


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape) or "scalar"


def check_inputs(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> None:
    """Raise TypeError/ValueError unless X (m×k), W (k×n), Y (m×n) are floating matrices that fit."""
    named = {"X": X, "W": W, "Y": Y}
    for name, t in named.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 2:
            raise ValueError(f"{name} must be a matrix (2-D), got shape {_shape(t)}")
        if not t.dtype.is_floating_point:
            raise TypeError(
                f"{name} has dtype {t.dtype}; gradients need a floating dtype such as torch.float64"
            )
    if len({t.dtype for t in named.values()}) > 1:
        raise TypeError(
            "X, W and Y must share one dtype, got "
            + ", ".join(f"{name}: {t.dtype}" for name, t in named.items())
        )
    if len({t.device for t in named.values()}) > 1:
        raise ValueError(
            "X, W and Y must be on one device, got "
            + ", ".join(f"{name}: {t.device}" for name, t in named.items())
        )
    (m, k), (k_w, n) = X.shape, W.shape
    if k != k_w:
        raise ValueError(
            f"X is {_shape(X)} and W is {_shape(W)}: XW needs W to have {k} rows "
            f"(one per column of X), not {k_w}"
        )
    if tuple(Y.shape) != (m, n):
        raise ValueError(
            f"Y is {_shape(Y)} but XW is {m}×{n} (X is {_shape(X)}, W is {_shape(W)}): "
            f"Y must have the shape of XW"
        )
