"""Inputs that let the checks fail: the homework's, mixed-sign, exact-zero and all-dead cases.

Each draws from its own torch.Generator, so calling one never changes the global random state.
"""

import torch

from relugrad.validation import GRADIENT_DTYPES, type_name

# What torch.Generator.manual_seed accepts: a signed or an unsigned 64-bit integer.
SEED_RANGE = (-2**63, 2**64 - 1)


def _check_sizes(**sizes) -> None:
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"{name} must be an int, got {type_name(size)}")
        if size < 1:
            raise ValueError(f"{name} must be at least 1, got {size}")


def _check_seed_and_dtype(seed, dtype) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type_name(seed)}")
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise ValueError(f"seed must lie in [-2**63, 2**64 - 1] (a 64-bit integer, as torch.Generator takes), "
                         f"got {seed}")
    if dtype not in GRADIENT_DTYPES:  # float8 has no matmul: refuse it here rather than fail deep inside torch
        raise TypeError(f"dtype must be a floating torch.dtype with a matmul ("
                        + ", ".join(map(str, GRADIENT_DTYPES)) + f"), got {dtype!r}")


def homework_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The original exercise: seed 0, then X = randn(10, 4), W = randn(4, 4), Y = randn(10, 4), in that order.

    Drawn from a fresh generator seeded 0, which gives bit for bit what `torch.manual_seed(0)` and the global
    generator give, without reseeding the global generator.
    """
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(10, 4, generator=generator, requires_grad=True)
    W = torch.randn(4, 4, generator=generator, requires_grad=True)
    Y = torch.randn(10, 4, generator=generator, requires_grad=True)
    return X, W, Y


def mixed_sign_inputs(m: int, k: int, n: int, seed: int, dtype: torch.dtype = torch.float64):
    """Random normal X, W, Y for which Z = XW surely has both positive and negative entries.

    With all Z > 0 a missing mask goes unnoticed, so draws without both signs are redrawn.
    """
    _check_sizes(m=m, k=k, n=n)
    _check_seed_and_dtype(seed, dtype)
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
    _check_sizes(m=m, k=k, n=n)
    _check_seed_and_dtype(seed, dtype)
    if m * n < 3:
        raise ValueError(f"Z is {m}×{n}: it needs at least three entries to hold a zero and both signs")
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
    _check_sizes(m=m, k=k, n=n)
    _check_seed_and_dtype(seed, dtype)
    generator = torch.Generator().manual_seed(seed)
    X = torch.rand(m, k, generator=generator, dtype=torch.float64).add(0.1).to(dtype)
    W = -torch.rand(k, n, generator=generator, dtype=torch.float64).add(0.1).to(dtype)
    Y = torch.randn(m, n, generator=generator, dtype=torch.float64).to(dtype)
    return X, W, Y
