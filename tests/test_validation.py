"""Bad input gets a clear error that names what was wrong, never a silent wrong answer."""

import numpy as np
import pytest
import torch

from relugrad import BUGS, HandLayer, autograd_gradients, hand_gradients, intermediates, kink_free_step, objective

# Every function of the package that takes X, W and Y, the wrong formulas of the catalogue included.
FUNCTIONS = {
    "hand_gradients": hand_gradients, "autograd_gradients": autograd_gradients, "intermediates": intermediates,
    "objective": objective, "HandLayer": HandLayer.apply,
    **{f"bug: {bug.name}": bug.gradients for bug in BUGS},
}
EACH_FUNCTION = pytest.mark.parametrize("fn", FUNCTIONS.values(), ids=FUNCTIONS.keys())


def ok(m=10, k=4, n=3, dtype=torch.float64):
    return torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype), torch.randn(m, n, dtype=dtype)


@EACH_FUNCTION
def test_inner_dimensions_that_do_not_fit_name_both_shapes(fn):
    X, _, Y = ok()
    W = torch.randn(3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"X is 10×4 and W is 3×3.*4 rows"):
        fn(X, W, Y)


@EACH_FUNCTION
def test_targets_of_the_wrong_shape_name_the_expected_shape(fn):
    X, W, _ = ok()
    with pytest.raises(ValueError, match=r"Y is 3×10 but XW is 10×3"):
        fn(X, W, torch.randn(3, 10, dtype=torch.float64))


@EACH_FUNCTION
def test_vectors_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(ValueError, match=r"X must be a matrix \(2-D\), got shape 4"):
        fn(torch.randn(4, dtype=torch.float64), W, Y)


@EACH_FUNCTION
def test_integer_dtypes_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(TypeError, match=r"W has dtype torch.int64; gradients need a floating dtype"):
        fn(X, torch.ones(4, 3, dtype=torch.int64), Y)


@EACH_FUNCTION
def test_complex_dtypes_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(TypeError, match=r"Y has dtype torch.complex128; gradients need a floating dtype"):
        fn(X, W, Y.to(torch.complex128))


@EACH_FUNCTION
def test_meta_tensors_are_rejected(fn):
    X, W, Y = (t.to("meta") for t in ok())
    with pytest.raises(ValueError, match=r"X is a meta tensor \(a shape without values\)"):
        fn(X, W, Y)


@EACH_FUNCTION
def test_mixed_dtypes_are_rejected(fn):
    X, W, Y = ok()
    with pytest.raises(TypeError, match=r"X, W and Y must share one dtype.*X: torch.float32, W: torch.float64"):
        fn(X.float(), W, Y)


@EACH_FUNCTION
def test_non_tensors_are_rejected(fn):
    _, W, Y = ok()
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got list"):
        fn([[1.0] * 4] * 10, W, Y)


@EACH_FUNCTION
@pytest.mark.parametrize("name", ["X", "W", "Y"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_non_finite_entries_name_the_tensor_the_count_and_the_first(fn, name, bad):
    inputs = dict(zip("XWY", ok()))
    inputs[name] = inputs[name].clone()
    inputs[name][2, 1] = bad
    inputs[name][2, 2] = bad
    with pytest.raises(ValueError, match=rf"{name} has 2 non-finite entries .* the first is {name}\[2, 1\] = {bad}"):
        fn(*inputs.values())


@pytest.mark.parametrize("name", ["X", "W"])
def test_kink_free_step_rejects_non_finite_factors(name):
    inputs = dict(zip("XW", ok()[:2]))
    inputs[name] = inputs[name].clone()
    inputs[name][0, 2] = float("nan")
    with pytest.raises(ValueError, match=rf"{name} has 1 non-finite entry .* the first is {name}\[0, 2\] = nan"):
        kink_free_step(*inputs.values())


@pytest.fixture
def axes():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    yield ax
    plt.close(figure)


@pytest.mark.parametrize("matrix,error,message", [
    (torch.zeros(4), ValueError, "matrix must be a matrix .2-D., got shape 4"),
    ([[1.0, 2.0]], TypeError, "matrix must be a torch.Tensor or numpy.ndarray, got list"),
    (torch.zeros(2, 2, dtype=torch.complex64), TypeError, "matrix has dtype complex64"),
], ids=["vector", "list", "complex"])
def test_heatmaps_reject_what_is_not_a_real_matrix(axes, matrix, error, message):
    from relugrad.plotting import mask_heatmap, signed_heatmap

    with pytest.raises(error, match=message):
        signed_heatmap(axes, matrix, "Z")
    with pytest.raises(error, match=message.replace("matrix", "mask", 1)):
        mask_heatmap(axes, matrix, "M")


@pytest.mark.parametrize("limit", [0, -1.0, float("nan")])
def test_signed_heatmap_rejects_a_limit_that_is_not_positive(axes, limit):
    from relugrad.plotting import signed_heatmap

    with pytest.raises(ValueError, match="limit must be a finite number > 0"):
        signed_heatmap(axes, torch.randn(3, 2), "Z", limit=limit)


def test_heatmaps_accept_tensors_and_arrays(axes):
    from relugrad.plotting import mask_heatmap, signed_heatmap

    assert signed_heatmap(axes, torch.zeros(3, 2, requires_grad=True), "Z").get_clim() == (-1.0, 1.0)
    assert signed_heatmap(axes, np.array([[1.0, -3.0]]), "Z").get_clim() == (-3.0, 3.0)
    assert mask_heatmap(axes, torch.tensor([[True, False]]), "M").get_array().shape == (1, 2)
