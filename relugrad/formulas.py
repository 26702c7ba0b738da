"""The objective f(X, W, Y) = ||max(XW, 0) - Y||_F^2 and its gradients, by hand and by autograd.

Notation (the same in every chapter, notebook and test):
X (m x k), W (k x n), Y (m x n); Z = XW, A = max(Z, 0), E = A - Y, M = 1[Z > 0], G = 2 E * M.
A gradient has the shape of its variable, like PyTorch's ``.grad``.
"""

import warnings
from typing import Callable, NamedTuple

import torch

from relugrad.validation import check_inputs, no_overflow, warn_on_overflow


class Intermediates(NamedTuple):
    """Every quantity of the forward pass, plus G = df/dZ."""

    Z: torch.Tensor  # pre-activation XW, m x n
    A: torch.Tensor  # ReLU output, m x n
    E: torch.Tensor  # error A - Y, m x n
    M: torch.Tensor  # ReLU mask 1[Z > 0], m x n, same dtype as Z
    G: torch.Tensor  # gradient at the pre-activation, 2 E * M, m x n
    f: torch.Tensor  # objective ||E||_F^2, a scalar


class Gradients(NamedTuple):
    """df/dW, df/dX, df/dY, each with the shape of its variable."""

    dW: torch.Tensor
    dX: torch.Tensor
    dY: torch.Tensor


# Finite inputs can still overflow a dtype on the way (inf, or inf - inf = nan). Each result is checked in the order
# it is made, so the error names the first quantity that overflowed instead of passing a nan on.
OVERFLOW_CAUSES = {"Z": ("XW", "|X|·|W| too large"), "E": ("A - Y", "A and Y too large"), "G": ("2E * M", "E too large"),
                   "f": ("||E||_F^2", "the squared errors add up to too much"),
                   "dW": ("XᵀG", "|X|·|G| too large"), "dX": ("GWᵀ", "|G|·|W| too large"), "dY": ("-2E", "E too large")}


def no_overflow_in(results, warn_only=("f",)):
    """`results` (a named tuple) unchanged; ValueError naming the first field that overflowed its dtype.

    f gets a RuntimeWarning instead: f = ||E||_F^2 passes the dtype's largest number long before G does (at |E|
    around 1e154 in float64, 256 in float16), and the gradients, made from E and G, are unaffected.
    """
    for name, value in results._asdict().items():
        if name in OVERFLOW_CAUSES:
            check = warn_on_overflow if name in warn_only else no_overflow
            check(value, name, *OVERFLOW_CAUSES[name])
    return results


def intermediates(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> Intermediates:
    """The forward pass and G = df/dZ, each named as in the book; ValueError naming any that overflows the dtype."""
    check_inputs(X, W, Y)
    Z = X @ W
    A = torch.relu(Z)
    E = A - Y
    M = (Z > 0).to(Z.dtype)  # strict: the subgradient 0 at Z = 0, as torch.relu's backward
    G = 2 * E * M
    f = (E * E).sum()
    return no_overflow_in(Intermediates(Z=Z, A=A, E=E, M=M, G=G, f=f))


def objective(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """f = ||max(XW, 0) - Y||_F^2 (a sum of squares, not a mean); ValueError if it overflows the dtype."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the overflow of f is an error here, raised below
        f = intermediates(X, W, Y).f
    return no_overflow(f, "f", *OVERFLOW_CAUSES["f"])


def hand_gradients(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> Gradients:
    """The book's results: df/dW = X^T G, df/dX = G W^T, df/dY = -2E; ValueError if one overflows the dtype."""
    _, _, E, _, G, _ = intermediates(X, W, Y)
    return no_overflow_in(Gradients(dW=X.T @ G, dX=G @ W.T, dY=-2 * E))


def autograd_gradients(
    X: torch.Tensor,
    W: torch.Tensor,
    Y: torch.Tensor,
    relu: Callable[[torch.Tensor], torch.Tensor] = torch.relu,
) -> Gradients:
    """The reference: PyTorch autograd on the same objective.

    ``relu`` lets the ReLU chapter swap in other spellings of max(z, 0), which differ only at z = 0.
    Like `hand_gradients`, raises ValueError naming Z, E or a gradient if it overflows the dtype.
    """
    check_inputs(X, W, Y)
    X, W, Y = (t.detach().clone().requires_grad_(True) for t in (X, W, Y))
    Z = no_overflow(X @ W, "Z", *OVERFLOW_CAUSES["Z"])
    E = no_overflow(relu(Z) - Y, "E", "relu(XW) - Y", "relu(XW) and Y too large")
    (E ** 2).sum().backward()   # an f that overflows does not matter: the backward never uses its value
    return no_overflow_in(Gradients(dW=W.grad, dX=X.grad, dY=Y.grad))
