"""The helper code of the part "Beyond one layer" against autograd: the bias, the activations, networks of any depth,
the Hessian and Newton's step, per-sample gradients, and the hand backward of the cost chapter (relugrad.beyond,
relugrad.cost, relugrad.notebook.agreement). No timing here: tests/benchmark_backward.py measures time."""

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relugrad import mixed_sign_inputs, objective, relative_error
from relugrad.beyond import (ACTIVATIONS, activation_gradients, bias_gradients, hessian_matrix, network_gradients,
                             newton_step, per_sample_gradients)
from relugrad.cost import (LAYERS, LinearReLU, extra_saved_bytes, measured_times, network_extra_saved_bytes,
                           pack_bits, saved_tensors, unpack_bits)
from relugrad.notebook import agreement

seeds = st.integers(min_value=0, max_value=2**31 - 1)
sizes = st.integers(min_value=1, max_value=7)


def _autograd(function, *tensors):
    leaves = [t.clone().requires_grad_(True) for t in tensors]
    function(*leaves).backward()
    return [leaf.grad for leaf in leaves]


@settings(max_examples=40, deadline=None)
@given(m=st.integers(2, 7), k=sizes, n=sizes, seed=seeds)
def test_bias_gradients_match_autograd(m, k, n, seed):
    X, W, Y = mixed_sign_inputs(m, k, n, seed)
    b = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    hand = bias_gradients(X, W, b, Y)
    dX, dW, db, dY = _autograd(lambda X, W, b, Y: ((torch.relu(X @ W + b) - Y) ** 2).sum(), X, W, b, Y)
    for mine, theirs in ((hand.dW, dW), (hand.dX, dX), (hand.db, db), (hand.dY, dY)):
        assert mine.shape == theirs.shape and relative_error(mine, theirs) < 1e-12


def test_bias_must_have_one_entry_per_unit():
    X, W, Y = mixed_sign_inputs(4, 3, 2, seed=0)
    with pytest.raises(ValueError, match="one entry per unit"):
        bias_gradients(X, W, torch.zeros(3, dtype=torch.float64), Y)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(7, 3, 5), (6, 4, 4)])
def test_activation_derivatives_match_autograd(name, shape):
    activation = ACTIVATIONS[name]
    z = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    z = z[z != 0].clone().requires_grad_(True)          # away from the kink at 0
    (slope,) = torch.autograd.grad(activation.phi(z).sum(), z)
    assert relative_error(activation.derivative(z.detach()), slope) < 1e-13
    X, W, Y = mixed_sign_inputs(*shape, seed=3)
    dW, dX, _ = activation_gradients(X, W, Y, activation)
    dX_auto, dW_auto = _autograd(lambda X, W: ((activation.phi(X @ W) - Y) ** 2).sum(), X, W)
    assert relative_error(dW, dW_auto) < 1e-12 and relative_error(dX, dX_auto) < 1e-12


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_derivative_at_zero_is_the_one_autograd_uses(name):
    activation = ACTIVATIONS[name]
    z = torch.zeros((), dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(activation.phi(z), z)
    assert activation.derivative(z.detach()).item() == slope.item()


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(1, 5), seed=seeds)
def test_backpropagation_recursion_matches_autograd(depth, seed):
    generator = torch.Generator().manual_seed(seed)
    widths = torch.randint(1, 6, (depth + 1,), generator=generator).tolist()
    X = torch.randn(6, widths[0], generator=generator, dtype=torch.float64)
    weights = [torch.randn(widths[l], widths[l + 1], generator=generator, dtype=torch.float64) for l in range(depth)]
    Y = torch.randn(6, widths[-1], generator=generator, dtype=torch.float64)

    def f(X, *weights):
        A = X
        for W in weights:
            A = torch.relu(A @ W)
        return ((A - Y) ** 2).sum()

    dX, *dWs = _autograd(f, X, *weights)
    hand = network_gradients(X, weights, Y)
    assert len(hand.dWs) == depth and len(hand.Gs) == depth
    for mine, theirs in zip(hand.dWs + [hand.dX], dWs + [dX]):
        assert relative_error(mine, theirs) < 1e-12


@pytest.mark.parametrize("shape", [(30, 3, 4), (20, 4, 4)])
def test_hessian_matches_autograd_and_newton_lands_on_the_regions_minimum(shape):
    X, W, Y = mixed_sign_inputs(*shape, seed=0)
    k, n = W.shape
    H = torch.autograd.functional.hessian(lambda w: objective(X, w, Y), W)
    H = H.permute(1, 0, 3, 2).reshape(k * n, k * n)      # vec order: entry (a, b) at b k + a
    assert relative_error(hessian_matrix(X, W), H) < 1e-12
    N = newton_step(X, W, Y)
    M = (X @ W > 0).double()
    model_gradient = X.T @ (2 * (M * (X @ N) - Y) * M)     # the region's quadratic, at N
    assert model_gradient.abs().max() < 1e-9
    step = torch.linalg.solve(H, torch.func.grad(lambda w: objective(X, w, Y))(W).T.reshape(-1))
    assert torch.allclose(N, W - step.reshape(n, k).T, rtol=1e-10, atol=1e-10)


def test_per_sample_gradients_are_what_vmap_computes_and_sum_to_the_gradient():
    X, W, Y = mixed_sign_inputs(9, 3, 5, seed=4)
    per_sample = torch.func.vmap(torch.func.grad(lambda x, W, y: ((torch.relu(x @ W) - y) ** 2).sum(), argnums=1),
                                 in_dims=(0, None, 0))(X, W, Y)
    mine = per_sample_gradients(X, W, Y)
    assert relative_error(mine, per_sample) < 1e-12
    assert relative_error(mine.sum(dim=0), _autograd(lambda W: objective(X, W, Y), W)[0]) < 1e-12


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("x_needs_gradient", [True, False])
def test_hand_layers_pass_gradcheck(name, x_needs_gradient):
    X, W, _ = mixed_sign_inputs(6, 4, 5, seed=1)
    assert torch.autograd.gradcheck(LAYERS[name], (X.requires_grad_(x_needs_gradient), W.requires_grad_(True)))


def test_hand_layer_returns_no_gradient_for_an_input_that_needs_none():
    X, W, _ = mixed_sign_inputs(5, 3, 4, seed=2)
    W.requires_grad_(True)
    A = LinearReLU.apply(X, W)
    (dW,) = torch.autograd.grad(A, (W,), torch.ones_like(A))
    assert torch.allclose(dW, X.T @ (X @ W > 0).double())


@pytest.mark.parametrize("shape", [(1,), (7,), (8,), (13, 7), (3, 5, 9)])
def test_packed_bits_round_trip(shape):
    mask = torch.rand(*shape, generator=torch.Generator().manual_seed(0)) > 0.5
    packed = pack_bits(mask)
    assert packed.dtype == torch.uint8 and packed.numel() == -(-mask.numel() // 8)
    assert torch.equal(unpack_bits(packed, mask.shape), mask)


def test_saved_bytes_are_a_float_output_a_byte_mask_and_bits():
    X, W = torch.randn(64, 32, requires_grad=True), torch.randn(32, 48, requires_grad=True)
    saved = {name: extra_saved_bytes(layer, X, W) for name, layer in LAYERS.items()}
    assert saved == {"autograd": 64 * 48 * 4, "hand, Boolean mask": 64 * 48, "hand, packed bits": 64 * 48 // 8}
    inputs = [entry for entry in saved_tensors(LAYERS["autograd"], X, W) if entry["input"]]
    assert sorted(entry["shape"] for entry in inputs) == [(32, 48), (64, 32)]


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_stack_of_layers_counts_a_shared_output_once(depth):
    X = torch.randn(16, 16, requires_grad=True)
    weights = [torch.randn(16, 16, requires_grad=True) for _ in range(depth)]
    entries = 16 * 16
    assert network_extra_saved_bytes(LAYERS["autograd"], X, weights) == depth * entries * 4
    assert network_extra_saved_bytes(LAYERS["hand, Boolean mask"], X, weights) == (depth - 1) * entries * 4 + depth * entries


def test_committed_measurements_name_the_machine_and_cover_tiny_to_large():
    data = measured_times()
    assert data["machine"] and data["date"] and data["torch"]
    sizes = [row["size"] for row in data["rows"]]
    assert sizes == sorted(sizes) and sizes[0] <= 16 and sizes[-1] >= 1024
    for row in data["rows"]:
        assert set(row["seconds"]) >= {"forward, autograd", "backward, autograd", "backward, hand, Boolean mask",
                                       "backward, hand, packed bits"}
        assert all(seconds > 0 for seconds in row["seconds"].values())
    json.dumps(data)   # plain data: what the notebook reads


@pytest.mark.parametrize("error,text", [(0.0, "bit for bit"), (1.234e-16, "to a relative error of 1.2e-16")])
def test_agreement_says_bit_for_bit_only_for_zero(error, text):
    assert agreement(error) == text


def test_agreement_rejects_what_is_not_an_error():
    for bad in (-1e-16, float("nan")):
        with pytest.raises(ValueError):
            agreement(bad)
