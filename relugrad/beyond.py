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

from relugrad.formulas import intermediates
from relugrad.validation import check_inputs, checked_positive


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


def _solve_per_unit(blocks: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """blocks[j]⁻¹ right[j] for every unit j. A loop of small solves: for a few tiny blocks a batched solve was
    ten times slower on a 2-core machine whose threads were busy."""
    return torch.stack([torch.linalg.solve(block, column) for block, column in zip(blocks, right)])


def _singular_unit(X: torch.Tensor, W: torch.Tensor, blocks: torch.Tensor) -> str | None:
    """Why some unit's Hessian block is singular, in words, or None if every block has full rank k. Units are
    counted from 1, as in the book; the column of W is named too."""
    k = W.shape[0]
    active = (X @ W > 0).sum(dim=0)
    ranks = torch.linalg.matrix_rank(blocks, hermitian=True)   # default tolerance: eigenvalues below k·eps·largest
    for j in range(W.shape[1]):
        unit = f"unit {j + 1} (column W[:, {j}])"
        if active[j] < k:
            return (f"{unit} is active on {int(active[j])} sample(s), fewer than its k = {k} weights, so its "
                    f"Hessian block 2 Xᵀ diag(M[:, {j}]) X has rank below {k}")
        if ranks[j] < k:
            return (f"the {int(active[j])} samples on which {unit} is active span only {int(ranks[j])} of the "
                    f"{k} directions of its weights, so its Hessian block has rank {int(ranks[j])}")
    return None


def newton_step(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """W after one Newton step, column by column: W_{:,j} - (2 Xᵀ diag(M_{:,j}) X)^{-1} (XᵀG)_{:,j}, the minimiser
    of the quadratic that equals f in W's region, extended to all weights (it may lie outside the region).

    Every block must be invertible. A unit active on fewer than k samples (a dead unit too), or whose active samples
    span fewer than k directions (numerical rank by torch.linalg.matrix_rank's default tolerance), has directions of
    zero curvature. Its equation H_j s = -g_j still has solutions (g_j = 2 Xᵀ diag(M_{:,j}) (X W_{:,j} - Y_{:,j}) lies
    in the range of H_j), but a whole line or plane of them: there is no unique Newton step. We raise ValueError
    naming the unit rather than pick one (a pseudo-inverse would pick the shortest; torch.linalg.solve returns a
    meaningless step, or raises only on an exactly zero pivot). damped_newton_step handles such units."""
    G = intermediates(X, W, Y).G
    blocks = hessian_blocks(X, W)
    reason = _singular_unit(X, W, blocks)
    if reason:
        raise ValueError(f"no unique Newton step: {reason}; use damped_newton_step")
    steps = _solve_per_unit(blocks, G.T @ X)                     # row j: block j⁻¹ (XᵀG)_{:,j}
    return W - steps.T


class DampedStep(NamedTuple):
    """W after one damped Newton step, and each unit's damping μ_j (shape (n,)) to pass to the next step."""
    W: torch.Tensor
    damping: torch.Tensor


def damped_newton_step(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor, damping=1.0, factor: float = 10.0,
                       max_tries: int = 40) -> DampedStep:
    """One Levenberg–Marquardt step, unit by unit: S_j = -(H_j + μ_j I)^{-1} g_j, with H_j = 2 Xᵀ diag(M_{:,j}) X and
    g_j = (XᵀG)_{:,j}. f is a sum of one term per unit, f_j = ||max(X W_{:,j}, 0) - Y_{:,j}||², so each unit is
    tried and accepted on its own:

    - if f_j falls, keep S_j and divide μ_j by `factor` for the next step (the model did well: closer to Newton);
    - if not, multiply μ_j by `factor` and try again from W (a shorter step, closer to the gradient step -g_j / μ_j,
      which lowers f_j once it is short enough, since W is inside a region).

    H_j + μ_j I is invertible for every μ_j > 0 in exact arithmetic, because H_j is positive semidefinite, so dead
    and thinly active units need no special case (in floating point a μ_j far below 1e-16·‖H_j‖ changes nothing, and
    the first tries may be rejected). A unit with zero gradient (a dead one) stays where it is and keeps its μ_j. A
    unit whose f_j has not fallen after `max_tries` tries stays where it is too, and returns the last μ_j it tried, so
    that the next step starts from there: a μ_j too small to help grows from call to call. f never rises (up to round-off). `damping`
    is one μ for every unit, or the per-unit μ_j that the previous step returned. Each μ_j is kept between the
    dtype's smallest normal number and its largest, so that it never underflows to 0 nor overflows to inf and can
    always be passed back.

    This is a simplified Levenberg–Marquardt rule: a step is accepted when f_j falls, with no gain ratio (actual
    against predicted decrease) and no trust region."""
    check_inputs(X, W, Y)
    k, n = W.shape
    if isinstance(damping, torch.Tensor):
        if damping.shape != (n,):
            raise ValueError(f"damping must be a number or one μ per unit, shape ({n},); got shape "
                             f"{tuple(damping.shape)}")
        if not bool(((damping > 0) & torch.isfinite(damping)).all()):
            raise ValueError(f"damping must be finite and > 0 for every unit; got {damping.tolist()}")
        mu = damping.to(W.dtype).clone()
    else:
        mu = torch.full((n,), checked_positive(damping, "damping"), dtype=W.dtype)
    info = torch.finfo(W.dtype)
    mu = mu.clamp(info.tiny, info.max)                      # float32 would round 1e-50 to 0 and 1e39 to inf
    if checked_positive(factor, "factor") <= 1:
        raise ValueError(f"factor must be > 1 (it grows μ after a rejected step), got {factor}")
    if isinstance(max_tries, bool) or not isinstance(max_tries, int) or max_tries < 1:
        raise ValueError(f"max_tries must be a whole number >= 1, got {max_tries!r}")
    parts = intermediates(X, W, Y)
    gradient = parts.G.T @ X                                # n × k: row j is unit j's gradient (XᵀG)_{:,j}
    blocks = hessian_blocks(X, W)
    before = (parts.E ** 2).sum(dim=0)                      # f_j, one per unit
    new, tried = W.clone(), mu.clone()
    pending = gradient.abs().amax(dim=1) > 0
    identity = torch.eye(k, dtype=W.dtype)
    for _ in range(max_tries):
        units = pending.nonzero().squeeze(1)
        if not len(units):
            break
        steps = _solve_per_unit(blocks[units] + mu[units, None, None] * identity, -gradient[units])
        trial = W[:, units] + steps.T
        accepted = ((torch.relu(X @ trial) - Y[:, units]) ** 2).sum(dim=0) < before[units]
        tried[units] = mu[units]
        new[:, units[accepted]] = trial[:, accepted]
        mu[units] = torch.where(accepted, mu[units] / factor, mu[units] * factor).clamp(info.tiny, info.max)
        pending[units[accepted]] = False
    mu[pending] = tried[pending]                            # no try lowered f_j: stay, and start next time from the
                                                            # last μ_j tried (the μ_j it came with might never grow)
    return DampedStep(new, mu)


def per_sample_gradients(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """∂f_i/∂W = x_iᵀ g_i for every sample i, as m × k × n, where f = Σ_i f_i; they sum to XᵀG."""
    check_inputs(X, W, Y)
    Z = X @ W
    G = 2 * (torch.relu(Z) - Y) * (Z > 0).to(Z.dtype)
    return X[:, :, None] * G[:, None, :]                   # the outer product of row i of X and row i of G


def cross_entropy_gradients(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor):
    """(dW, dX, G) for softmax with cross-entropy on a linear layer, f = -Σ_ij Y_ij log P_ij with P the softmax of
    each row of Z = XW: G = P - Y, dW = XᵀG, dX = GWᵀ. Each row of Y must sum to 1 (one-hot, or probabilities),
    which is what the derivation uses."""
    check_inputs(X, W, Y)
    sums = Y.sum(dim=1)
    wrong = (sums - 1).abs() > 1e-6
    if wrong.any():
        row = int(wrong.nonzero()[0])
        raise ValueError(f"each row of Y must sum to 1 (one-hot targets or probabilities); row {row} sums to "
                         f"{sums[row].item():.6g}")
    G = torch.softmax(X @ W, dim=1) - Y
    return X.T @ G, G @ W.T, G
