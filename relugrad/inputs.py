"""Inputs that let the checks fail: the homework's, mixed-sign, exact-zero and all-dead cases."""

import torch


def homework_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The original exercise: seed 0, then X = randn(10, 4), W = randn(4, 4), Y = randn(10, 4), in that order."""
    torch.manual_seed(0)
    X = torch.randn(10, 4, requires_grad=True)
    W = torch.randn(4, 4, requires_grad=True)
    Y = torch.randn(10, 4, requires_grad=True)
    return X, W, Y


def mixed_sign_inputs(m: int, k: int, n: int, seed: int, dtype: torch.dtype = torch.float64):
    """Random normal X, W, Y for which Z = XW surely has both positive and negative entries.

    With all Z > 0 a missing mask goes unnoticed, so draws without both signs are redrawn.
    """
    if m * n < 2:
        raise ValueError(f"Z is {m}×{n}: it needs at least two entries to have both signs")
    generator = torch.Generator().manual_seed(seed)
    for _ in range(1000):
        X, W, Y = (torch.randn(*shape, generator=generator, dtype=torch.float64).to(dtype)
                   for shape in ((m, k), (k, n), (m, n)))
        Z = X @ W
        if (Z > 0).any() and (Z < 0).any():
            return X, W, Y
    raise RuntimeError(f"no mixed-sign draw for m={m}, k={k}, n={n}, seed={seed}")


def exact_zero_inputs(seed: int = 0, m: int = 6, k: int = 3, n: int = 4, dtype: torch.dtype = torch.float64):
    """Small integer-valued X, W (exact in floating point) so that Z has exact zeros and both signs."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(1000):
        X = torch.randint(-2, 3, (m, k), generator=generator).to(dtype)
        W = torch.randint(-2, 3, (k, n), generator=generator).to(dtype)
        Z = X @ W
        if (Z == 0).any() and (Z > 0).any() and (Z < 0).any():
            Y = torch.randn(m, n, generator=generator, dtype=torch.float64).to(dtype)
            return X, W, Y
    raise RuntimeError(f"no draw with exact zeros in Z for seed={seed}")


def all_dead_inputs(m: int = 5, k: int = 3, n: int = 4, seed: int = 0, dtype: torch.dtype = torch.float64):
    """X > 0 and W < 0, so every entry of Z is negative and every unit is dead."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.rand(m, k, generator=generator, dtype=torch.float64).add(0.1).to(dtype)
    W = -torch.rand(k, n, generator=generator, dtype=torch.float64).add(0.1).to(dtype)
    Y = torch.randn(m, n, generator=generator, dtype=torch.float64).to(dtype)
    return X, W, Y
