"""A catalogue of common wrong gradient formulas, kept so the book can show each one being caught.

Every entry is deliberately wrong; the right formulas live in relugrad.formulas.
"""

from typing import Callable, NamedTuple

import torch

from relugrad.formulas import Gradients, hand_gradients, intermediates


class Bug(NamedTuple):
    name: str
    description: str
    gradients: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Gradients]
    needs_exact_zeros: bool = False  # caught only when some entry of Z is exactly 0


def _missing_mask(X, W, Y):
    _, _, E, _, _, _ = intermediates(X, W, Y)
    G = 2 * E  # forgot the ReLU mask
    return Gradients(dW=X.T @ G, dX=G @ W.T, dY=-2 * E)


def _wrong_transpose(X, W, Y):
    _, _, E, _, G, _ = intermediates(X, W, Y)
    return Gradients(dW=(X.T @ G).T, dX=G @ W, dY=-2 * E)  # right shapes only when k = n


def _missing_factor_two(X, W, Y):
    _, _, E, M, _, _ = intermediates(X, W, Y)
    G = E * M
    return Gradients(dW=X.T @ G, dX=G @ W.T, dY=-E)


def _mean_instead_of_sum(X, W, Y):
    m, n = Y.shape
    return Gradients(*(g / (m * n) for g in hand_gradients(X, W, Y)))


def _wrong_sign_of_dY(X, W, Y):
    dW, dX, dY = hand_gradients(X, W, Y)
    return Gradients(dW=dW, dX=dX, dY=-dY)


def _mask_with_greater_equal(X, W, Y):
    Z, _, E, _, _, _ = intermediates(X, W, Y)
    G = 2 * E * (Z >= 0).to(Z.dtype)  # the subgradient 1 at Z = 0, unlike torch.relu
    return Gradients(dW=X.T @ G, dX=G @ W.T, dY=-2 * E)


BUGS = [
    Bug("missing mask", "G = 2E: the ReLU mask M is forgotten", _missing_mask),
    Bug("wrong transpose", "dW = (XᵀG)ᵀ and dX = GW: shapes fit only when k = n", _wrong_transpose),
    Bug("missing factor 2", "G = E ⊙ M: the 2 from the square is dropped", _missing_factor_two),
    Bug("mean instead of sum", "f taken as the mean of Eᵢⱼ², so every gradient is 1/(mn) too small",
        _mean_instead_of_sum),
    Bug("wrong sign of dY", "dY = 2E: the minus sign of E = A − Y is lost", _wrong_sign_of_dY),
    Bug(">= for >", "M = 1[Z ≥ 0]: differs from torch.relu only where Z is exactly 0",
        _mask_with_greater_equal, needs_exact_zeros=True),
]
