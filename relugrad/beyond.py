"""The hand formulas of the part "Beyond one layer": a bias, other activations, any depth, the Hessian and Newton's
step, per-sample gradients. Each is derived in its chapter (chapters/beyond/) and checked against autograd by
tests/test_beyond.py.

Notation as in the book: X (m × k), W (k × n), Y (m × n), Z = XW (+ 1_m b^T), A = φ(Z), E = A - Y, M = 1[Z > 0],
G = ∂f/∂Z; every gradient has the shape of its variable. Vectors such as the bias b are PyTorch's 1-D tensors here
(b has shape (n,), and X @ W + b broadcasts it over the rows, which is the book's 1_m b^T).
"""

import math
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from relugrad.validation import check_inputs


class BiasGradients(NamedTuple):
    """df/dW, df/dX, df/db, df/dY for f = ||max(XW + 1_m b^T, 0) - Y||_F^2."""

    dW: torch.Tensor
    dX: torch.Tensor
    db: torch.Tensor
    dY: torch.Tensor


def bias_gradients(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor, Y: torch.Tensor) -> BiasGradients:
    """The bias chapter's results: G = 2E ⊙ M with Z = XW + 1_m b^T; dW = XᵀG, dX = GWᵀ, db = Gᵀ1_m, dY = -2E."""
    check_inputs(X, W, Y)
    if b.shape != (W.shape[1],):
        raise ValueError(f"b must have shape ({W.shape[1]},), one entry per unit, got {tuple(b.shape)}")
    Z = X @ W + b                                   # broadcasting: row i of Z gets b added, i.e. 1_m b^T
    E = torch.relu(Z) - Y
    G = 2 * E * (Z > 0).to(Z.dtype)
    return BiasGradients(dW=X.T @ G, dX=G @ W.T, db=G.sum(dim=0), dY=-2 * E)


class Activation(NamedTuple):
    """An element-wise activation φ, its derivative φ' written by hand, and where φ has a kink (None: nowhere)."""

    name: str
    phi: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor]
    kink: float | None


LEAKY_SLOPE = 0.01   # PyTorch's default negative_slope


def _normal_density(z: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


# Derivatives as the activations chapter derives them. At a kink each takes the value PyTorch's backward takes:
# ReLU 0 (z > 0 is false at 0), LeakyReLU the negative slope (PyTorch's backward tests z > 0 as well).
ACTIVATIONS = {
    "ReLU": Activation("ReLU", torch.relu, lambda z: (z > 0).to(z.dtype), kink=0.0),
    "LeakyReLU": Activation("LeakyReLU", lambda z: F.leaky_relu(z, LEAKY_SLOPE),
                            lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE)), kink=0.0),
    "GELU": Activation("GELU", F.gelu, lambda z: torch.special.ndtr(z) + z * _normal_density(z), kink=None),
    "sigmoid": Activation("sigmoid", torch.sigmoid, lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)), kink=None),
    "tanh": Activation("tanh", torch.tanh, lambda z: 1 - torch.tanh(z) ** 2, kink=None),
}


def activation_gradients(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor, activation: Activation):
    """(dW, dX, G) for f = ||φ(XW) - Y||_F^2: G = 2E ⊙ φ'(Z), dW = XᵀG, dX = GWᵀ."""
    check_inputs(X, W, Y)
    Z = X @ W
    G = 2 * (activation.phi(Z) - Y) * activation.derivative(Z)
    return X.T @ G, G @ W.T, G


class LayerGradients(NamedTuple):
    """The weights' gradients of a ReLU network (one per layer, first layer first), dX, and every G_l."""

    dWs: list[torch.Tensor]
    dX: torch.Tensor
    Gs: list[torch.Tensor]


def network_gradients(X: torch.Tensor, weights: list[torch.Tensor], Y: torch.Tensor) -> LayerGradients:
    """Backpropagation for f = ||A_L - Y||_F^2, A_0 = X, A_l = max(A_{l-1} W_l, 0), by the recursion
    G_L = 2E ⊙ M_L, dW_l = A_{l-1}ᵀ G_l, G_{l-1} = (G_l W_lᵀ) ⊙ M_{l-1}, dX = G_1 W_1ᵀ."""
    if not weights:
        raise ValueError("a network needs at least one weight matrix")
    activations, masks = [X], []
    for W in weights:
        Z = activations[-1] @ W
        masks.append((Z > 0).to(Z.dtype))
        activations.append(torch.relu(Z))
    check_inputs(activations[-2], weights[-1], Y)
    G = 2 * (activations[-1] - Y) * masks[-1]
    dWs, Gs = [], [G]
    for layer in range(len(weights) - 1, -1, -1):           # l = L, ..., 1 (0-based: L-1, ..., 0)
        dWs.append(activations[layer].T @ G)
        upstream = G @ weights[layer].T                      # ∂f/∂A_{l-1}: the one-layer dX, one layer down
        if layer:
            G = upstream * masks[layer - 1]
            Gs.append(G)
    return LayerGradients(dWs=dWs[::-1], dX=upstream, Gs=Gs[::-1])


def hessian_blocks(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """The n diagonal blocks 2 Xᵀ diag(M_{:,j}) X of the Hessian of f in W (where no Z_ij is 0), as n × k × k."""
    M = (X @ W > 0).to(X.dtype)
    return 2 * torch.einsum("ia,ij,ic->jac", X, M, X)


def hessian_matrix(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """The Hessian of f with respect to vec(W) (columns of W stacked): block-diagonal, kn × kn."""
    return torch.block_diag(*hessian_blocks(X, W))


def newton_step(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """W after one Newton step, column by column: W_{:,j} - (2 Xᵀ diag(M_{:,j}) X)^{-1} (XᵀG)_{:,j}.

    Raises torch.linalg.LinAlgError when a block is singular (a unit active on fewer than k independent samples)."""
    check_inputs(X, W, Y)
    Z = X @ W
    M = (Z > 0).to(Z.dtype)
    G = 2 * (torch.relu(Z) - Y) * M
    steps = torch.linalg.solve(hessian_blocks(X, W), (X.T @ G).T.unsqueeze(-1))   # one k × 1 solve per unit
    return W - steps.squeeze(-1).T


def per_sample_gradients(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """∂f_i/∂W = x_iᵀ g_i for every sample i, as m × k × n, where f = Σ_i f_i; they sum to XᵀG."""
    check_inputs(X, W, Y)
    Z = X @ W
    G = 2 * (torch.relu(Z) - Y) * (Z > 0).to(Z.dtype)
    return X[:, :, None] * G[:, None, :]                   # the outer product of row i of X and row i of G
