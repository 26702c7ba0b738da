"""The objective f(X, W, Y) = ||max(XW, 0) - Y||_F^2 and its gradients, by hand and by autograd.

Notation (the same in every chapter, notebook and test):
X (m x k), W (k x n), Y (m x n); Z = XW, A = max(Z, 0), E = A - Y, M = 1[Z > 0], G = 2 E * M.
A gradient has the shape of its variable, like PyTorch's ``.grad``.
"""

from typing import Callable, NamedTuple

import torch

from relugrad.validation import check_inputs


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


def intermediates(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> Intermediates:
    """The forward pass and G = df/dZ, each named as in the book."""
    check_inputs(X, W, Y)
    Z = X @ W
    A = torch.relu(Z)
    E = A - Y
    M = (Z > 0).to(Z.dtype)  # strict: the subgradient 0 at Z = 0, as torch.relu's backward
    G = 2 * E * M
    f = (E * E).sum()
    return Intermediates(Z=Z, A=A, E=E, M=M, G=G, f=f)


def objective(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """f = ||max(XW, 0) - Y||_F^2 (a sum of squares, not a mean)."""
    return intermediates(X, W, Y).f


def hand_gradients(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> Gradients:
    """The book's results: df/dW = X^T G, df/dX = G W^T, df/dY = -2E."""
    _, _, E, _, G, _ = intermediates(X, W, Y)
    return Gradients(dW=X.T @ G, dX=G @ W.T, dY=-2 * E)


def autograd_gradients(
    X: torch.Tensor,
    W: torch.Tensor,
    Y: torch.Tensor,
    relu: Callable[[torch.Tensor], torch.Tensor] = torch.relu,
) -> Gradients:
    """The reference: PyTorch autograd on the same objective.

    ``relu`` lets the ReLU chapter swap in other spellings of max(z, 0), which differ only at z = 0.
    """
    check_inputs(X, W, Y)
    X, W, Y = (t.detach().clone().requires_grad_(True) for t in (X, W, Y))
    f = ((relu(X @ W) - Y) ** 2).sum()
    f.backward()
    return Gradients(dW=W.grad, dX=X.grad, dY=Y.grad)
