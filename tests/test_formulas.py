"""The hand formulas against autograd and against finite differences, over many shapes, dtypes and seeds."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relugrad import (RELATIVE_TOLERANCE, Gradients, all_dead_inputs, autograd_gradients, central_difference,
                      exact_zero_inputs, hand_gradients, homework_inputs, intermediates, kink_free_step,
                      mixed_sign_inputs, objective, relative_error)

dims = st.integers(min_value=1, max_value=9)
dtypes = st.sampled_from([torch.float32, torch.float64])
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def _assert_gradients_match(computed, reference, tolerance):
    for name in ("dW", "dX", "dY"):
        got, want = getattr(computed, name), getattr(reference, name)
        assert got.shape == want.shape, name
        assert relative_error(got, want) <= tolerance, (name, relative_error(got, want))


@settings(max_examples=150, deadline=None)
@given(m=dims, k=dims, n=dims, dtype=dtypes, seed=seeds)
def test_hand_formulas_match_autograd(m, k, n, dtype, seed):
    if m * n < 2:
        m = 2
    X, W, Y = mixed_sign_inputs(m, k, n, seed, dtype)
    hand = hand_gradients(X, W, Y)
    assert hand.dW.shape == W.shape and hand.dX.shape == X.shape and hand.dY.shape == Y.shape
    assert hand.dW.dtype == dtype
    _assert_gradients_match(hand, autograd_gradients(X, W, Y), RELATIVE_TOLERANCE[dtype])


@settings(max_examples=60, deadline=None)
@given(m=dims, k=dims, n=dims, seed=seeds)
def test_hand_formulas_match_central_differences(m, k, n, seed):
    """Independent of autograd: f is piecewise quadratic, so kink-free central differences are exact to round-off."""
    if m * n < 2:
        m = 2
    X, W, Y = mixed_sign_inputs(m, k, n, seed)
    numeric = Gradients(
        dW=central_difference(lambda w: objective(X, w, Y), W, kink_free_step(X, W, wrt="W")),
        dX=central_difference(lambda x: objective(x, W, Y), X, kink_free_step(X, W, wrt="X")),
        dY=central_difference(lambda y: objective(X, W, y), Y, step=0.5),   # f is quadratic in Y: no kink
    )
    _assert_gradients_match(hand_gradients(X, W, Y), numeric, 1e-6)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(2, 8), k=st.integers(1, 8), n=st.integers(1, 8), seed=seeds)
def test_gradcheck_of_the_objective(m, k, n, seed):
    inputs = tuple(t.requires_grad_(True) for t in mixed_sign_inputs(m, k, n, seed))
    assert torch.autograd.gradcheck(lambda X, W, Y: objective(X, W, Y), inputs)


def test_intermediates_follow_the_notation():
    X, W, Y = mixed_sign_inputs(7, 3, 5, seed=1)
    Z, A, E, M, G, f = intermediates(X, W, Y)
    assert torch.equal(Z, X @ W)
    assert torch.equal(A, torch.where(Z > 0, Z, torch.zeros_like(Z)))
    assert torch.equal(E, A - Y)
    assert torch.equal(M, (Z > 0).to(Z.dtype))
    assert torch.allclose(G, 2 * E * M)
    assert torch.isclose(f, (E ** 2).sum())   # a sum, not a mean


def test_relu_at_exactly_zero_uses_the_subgradient_zero():
    """With exact zeros in Z, the hand mask must match torch.relu's backward (slope 0 at 0), not Z >= 0."""
    for seed in range(10):
        X, W, Y = exact_zero_inputs(seed)
        Z = X @ W
        assert (Z == 0).any()
        parts = intermediates(X, W, Y)
        assert torch.all(parts.M[Z == 0] == 0)
        assert torch.all(parts.G[Z == 0] == 0)
        _assert_gradients_match(hand_gradients(X, W, Y), autograd_gradients(X, W, Y), 1e-12)


def test_homeworks_spelling_differs_at_zero():
    """`z * (z >= 0)` has slope 1 at 0; on inputs with exact zeros its gradients differ from torch.relu's."""
    X, W, Y = exact_zero_inputs(0)
    homework = autograd_gradients(X, W, Y, relu=lambda z: z * (z >= 0))
    assert relative_error(homework.dW, hand_gradients(X, W, Y).dW) > 1e-3


def test_all_dead_layer_has_zero_weight_and_input_gradients():
    X, W, Y = all_dead_inputs()
    assert torch.all(X @ W < 0)
    hand = hand_gradients(X, W, Y)
    assert torch.count_nonzero(hand.dW) == 0 and torch.count_nonzero(hand.dX) == 0
    assert torch.equal(hand.dY, 2 * Y)   # A = 0, so E = -Y and dY = -2E = 2Y
    _assert_gradients_match(hand, autograd_gradients(X, W, Y), 1e-12)


def test_homework_case_is_reproduced_bit_for_bit():
    """The homework's own recipe: seed 0, then X, W, Y from the global generator, in that order."""
    X, W, Y = homework_inputs()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        assert torch.equal(X, torch.randn(10, 4)) and torch.equal(W, torch.randn(4, 4))
        assert torch.equal(Y, torch.randn(10, 4))
    hand = hand_gradients(X.detach(), W.detach(), Y.detach())
    reference = autograd_gradients(X, W, Y)
    for name in ("dW", "dX", "dY"):
        assert torch.equal(getattr(hand, name), getattr(reference, name)), name


def test_homework_inputs_leave_the_global_random_generator_alone():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12345)
        state = torch.get_rng_state()
        homework_inputs()
        assert torch.equal(torch.get_rng_state(), state)


def test_autograd_reference_is_the_sum_of_squares():
    """The reference itself is checked against finite differences, so a wrong reference cannot hide a wrong formula."""
    X, W, Y = mixed_sign_inputs(5, 4, 4, seed=3)
    reference = autograd_gradients(X, W, Y)
    step = kink_free_step(X, W, wrt="W")
    assert relative_error(reference.dW, central_difference(lambda w: objective(X, w, Y), W, step)) < 1e-6
    assert relative_error(reference.dY, central_difference(lambda y: objective(X, W, y), Y, step)) < 1e-6
    assert torch.isclose(objective(X, W, Y), ((torch.relu(X @ W) - Y) ** 2).sum())
