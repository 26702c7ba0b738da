"""The checks themselves can fail: each known bug is caught, and the helpers compute what they claim."""

import math

import pytest
import torch

from relugrad import (BUGS, autograd_gradients, central_difference, compare, compare_gradients,
                      exact_zero_inputs, kink_free_step, mixed_sign_inputs, relative_error)


def test_relative_error_is_normwise():
    a, b = torch.tensor([3.0, 4.0]), torch.tensor([0.0, 0.0])
    assert relative_error(a, b) == pytest.approx(5.0)           # absolute when the reference is 0
    assert relative_error(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == pytest.approx(1.0)
    assert relative_error(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cannot compare shapes"):
        relative_error(torch.zeros(2, 3), torch.zeros(3, 2))


def test_compare_reports_each_rung():
    reference = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    same = compare("dW", reference.clone(), reference)
    assert same.exact and same.allclose and same.max_abs_diff == 0 and same.relative_error == 0
    off = compare("dW", reference * 1.001, reference)
    assert not off.exact and not off.allclose and off.max_abs_diff == pytest.approx(0.002)
    transposed = compare("dW", reference.T, reference)
    assert not transposed.allclose and math.isinf(transposed.relative_error)
    assert "dW" in str(off) and "relative error" in str(off)


def test_central_difference_of_a_quadratic_is_exact():
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([0.5, -1.5], dtype=torch.float64)
    estimate = central_difference(lambda v: v @ A @ v, x, step=0.1)
    assert torch.allclose(estimate, 2 * A @ x, rtol=0, atol=1e-12)
    with pytest.raises(TypeError, match="float64"):
        central_difference(lambda v: v.sum(), x.float())


def test_kink_free_step_moves_no_entry_of_Z_across_zero():
    X, W, _ = mixed_sign_inputs(12, 8, 8, seed=0)
    h = kink_free_step(X, W)
    Z = X @ W
    assert 0 < h <= 1e-3
    # one entry of W (or X) moved by h changes Z_ib by h * X_ia (or h * W_bj): less than any |Z_ij|
    assert h * X.abs().max() < Z.abs().min() and h * W.abs().max() < Z.abs().min()


@pytest.mark.parametrize("bug", BUGS, ids=lambda bug: bug.name)
def test_every_known_bug_is_caught(bug):
    """On square (k = n) mixed-sign inputs, or on inputs with exact zeros for `>=`, the check flags each bug."""
    X, W, Y = exact_zero_inputs() if bug.needs_exact_zeros else mixed_sign_inputs(6, 4, 4, seed=0)
    comparisons = compare_gradients(bug.gradients(X, W, Y), autograd_gradients(X, W, Y))
    assert not all(c.allclose for c in comparisons), bug.name
    assert max(c.relative_error for c in comparisons) > 1e-3


def test_mixed_sign_inputs_always_have_both_signs():
    for m, k, n in [(1, 4, 3), (7, 1, 4), (5, 3, 1), (2, 1, 1), (6, 4, 4)]:
        for seed in range(20):
            Z = torch.matmul(*mixed_sign_inputs(m, k, n, seed)[:2])
            assert (Z > 0).any() and (Z < 0).any()
    with pytest.raises(ValueError, match="at least two entries"):
        mixed_sign_inputs(1, 3, 1, seed=0)
