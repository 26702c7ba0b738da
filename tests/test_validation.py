"""Bad input gets a clear error that names what was wrong, never a silent wrong answer."""

import pytest
import torch

from relugrad import autograd_gradients, hand_gradients, intermediates

FUNCTIONS = [hand_gradients, autograd_gradients, intermediates]


def ok(m=10, k=4, n=3, dtype=torch.float64):
    return torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype), torch.randn(m, n, dtype=dtype)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_inner_dimensions_that_do_not_fit_name_both_shapes(fn):
    X, _, Y = ok()
    W = torch.randn(3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"X is 10×4 and W is 3×3.*4 rows"):
        fn(X, W, Y)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_targets_of_the_wrong_shape_name_the_expected_shape(fn):
    X, W, _ = ok()
    with pytest.raises(ValueError, match=r"Y is 3×10 but XW is 10×3"):
        fn(X, W, torch.randn(3, 10, dtype=torch.float64))


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_vectors_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(ValueError, match=r"X must be a matrix \(2-D\), got shape 4"):
        fn(torch.randn(4, dtype=torch.float64), W, Y)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_integer_dtypes_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(TypeError, match=r"W has dtype torch.int64; gradients need a floating dtype"):
        fn(X, torch.ones(4, 3, dtype=torch.int64), Y)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_mixed_dtypes_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(TypeError, match=r"share one dtype.*X: torch.float32, W: torch.float64"):
        fn(X.float(), W, Y)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_non_tensors_are_rejected(fn):
    _, W, Y = ok()
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got list"):
        fn([[1.0] * 4] * 10, W, Y)
