"""The checks themselves can fail: each known bug is caught, and the helpers compute what they claim."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from relugrad import (BUGS, RELATIVE_TOLERANCE, Gradients, autograd_gradients, central_difference, compare,
                      compare_gradients, exact_zero_inputs, hand_gradients, kink_free_step, mixed_sign_inputs,
                      objective, relative_error)

NAN, INF = float("nan"), float("inf")


def f64(*values):
    return torch.tensor(values, dtype=torch.float64)


# ---- relative_error -------------------------------------------------------------------------------------------

def test_relative_error_is_normwise():
    a, b = torch.tensor([3.0, 4.0]), torch.tensor([0.0, 0.0])
    assert relative_error(a, b) == pytest.approx(5.0)           # absolute when the reference is 0
    assert relative_error(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == pytest.approx(1.0)
    assert relative_error(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])) == pytest.approx(1.0)
    assert relative_error(torch.zeros(0, 3), torch.zeros(0, 3)) == 0.0
    with pytest.raises(ValueError, match="cannot compare shapes 2×3 .a. and 3×2 .b."):
        relative_error(torch.zeros(2, 3), torch.zeros(3, 2))


@pytest.mark.parametrize("scale", [1e-100, 1e100])
def test_relative_error_is_the_same_at_every_input_scale(scale):
    """The missing factor 2 halves every gradient: relative error 1/2 at any scale, never 0 (underflow) or nan."""
    missing_factor_two = next(bug for bug in BUGS if bug.name == "missing factor 2")
    X, W, Y = mixed_sign_inputs(6, 4, 4, seed=0)
    at_scale_one = compare_gradients(missing_factor_two.gradients(X, W, Y), hand_gradients(X, W, Y))
    X, W, Y = X * scale, W * scale, Y * scale
    scaled = compare_gradients(missing_factor_two.gradients(X, W, Y), hand_gradients(X, W, Y))
    for one, other in zip(at_scale_one, scaled):
        assert other.relative_error == pytest.approx(one.relative_error, rel=1e-12) == pytest.approx(0.5)
        assert not other.allclose


def test_relative_error_at_the_ends_of_the_float64_range():
    def exactly(value):
        return pytest.approx(value, rel=1e-12, abs=0)   # pytest.approx alone would let 0 pass for 1e-170

    assert relative_error(f64(1e308, -1e308), f64(-1e308, 1e308)) == exactly(2.0)   # a - b overflows
    assert relative_error(f64(4e-323), f64(2e-323)) == exactly(1.0)                 # subnormals
    assert relative_error(f64(1e300, 1e300, 1e300, 1e300), f64(0, 0, 0, 0)) == exactly(2e300)
    assert relative_error(f64(1e-200, 0.0), f64(1e-200, 1e-216)) == exactly(1e-16)   # squares underflow
    assert relative_error(f64(1.0, 1e-170), f64(1.0, 0.0)) == exactly(1e-170)        # so would diff**2


def test_relative_error_accepts_numpy_arrays():
    a, b = np.array([[1.0, 2.0]]), np.array([[1.0, 4.0]], dtype=np.float32)
    assert relative_error(a, b) == relative_error(torch.tensor(a), torch.tensor(b))
    assert relative_error(a, torch.tensor(b)) == pytest.approx(2 / math.sqrt(17))


BAD_ARGUMENTS = [  # (a, b, error, message)
    (None, f64(1.0), TypeError, r"a must be a torch.Tensor or numpy.ndarray, got NoneType"),
    (f64(1.0), [1.0], TypeError, r"b must be a torch.Tensor or numpy.ndarray, got list"),
    (f64(1.0), 1.0, TypeError, r"b must be .*, got float"),
    (torch.tensor([1 + 0j]), torch.tensor([1 + 5j]), TypeError, r"a has complex dtype torch.complex64"),
    (torch.tensor([1]), torch.tensor([2]), TypeError, r"a has non-floating dtype torch.int64"),
    (np.array([1, 2]), f64(1.0, 2.0), TypeError, r"a is a numpy array of dtype int64"),
    (torch.ones(2, device="meta"), torch.ones(2), ValueError, r"a is a meta tensor"),
    (torch.ones(2).to_sparse(), torch.ones(2), TypeError, r"a is a torch.sparse_coo tensor"),
    (f64(1.0, 2.0), f64(1.0, NAN), ValueError, r"b has 1 non-finite entry .* the first is b\[1\] = nan"),
    (f64(INF, -INF), f64(INF, -INF), ValueError, r"a has 2 non-finite entries .* the first is a\[0\] = inf"),
]


@pytest.mark.parametrize("a,b,error,message", BAD_ARGUMENTS, ids=[m for *_, m in BAD_ARGUMENTS])
def test_relative_error_rejects_bad_input_by_name(a, b, error, message):
    with pytest.raises(error, match=message):
        relative_error(a, b)


# ---- compare --------------------------------------------------------------------------------------------------

def test_compare_reports_each_rung():
    reference = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    same = compare("dW", reference.clone(), reference)
    assert same.exact and same.allclose and same.max_abs_diff == 0 and same.relative_error == 0
    off = compare("dW", reference * 1.001, reference)
    assert not off.exact and not off.allclose and off.max_abs_diff == pytest.approx(0.002)
    assert "dW" in str(off) and "relative error" in str(off)


def test_compare_counts_different_shapes_as_a_failure_and_says_why():
    reference = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    transposed = compare("dW", reference.T, reference)
    assert not transposed.exact and not transposed.allclose and math.isinf(transposed.relative_error)
    assert "shapes differ: computed 2×1, reference 1×2" in str(transposed)


@pytest.mark.parametrize("dtype", list(RELATIVE_TOLERANCE))
def test_compare_exact_always_means_allclose(dtype):
    for values in (torch.zeros(3, 2), torch.randn(3, 2, generator=torch.Generator().manual_seed(0)),
                   torch.tensor([[torch.finfo(dtype).max, torch.finfo(dtype).tiny]], dtype=dtype)):
        values = values.to(dtype)
        result = compare("dW", values, values.clone())
        assert result.exact and result.allclose and result.relative_error == 0


@pytest.mark.parametrize("computed,reference", [(INF, INF), (-INF, -INF), (NAN, NAN), (1.0, INF), (NAN, 1.0)])
def test_compare_rejects_non_finite_values(computed, reference):
    """A gradient of f at finite inputs is finite: nan or inf is an error, never 'exact but not allclose'."""
    side = "computed" if not math.isfinite(computed) else "reference"
    with pytest.raises(ValueError, match=rf"{side} dY has 1 non-finite entry"):
        compare("dY", f64(computed), f64(reference))


def test_compare_rejects_complex_values():
    with pytest.raises(TypeError, match="computed dW has complex dtype"):
        compare("dW", torch.tensor([1 + 0j]), torch.tensor([1 + 5j]))


def test_compare_rejects_a_name_that_is_not_a_string():
    with pytest.raises(TypeError, match="name must be a str"):
        compare(None, f64(1.0), f64(1.0))


def test_compare_accepts_numpy_arrays():
    result = compare("dW", np.array([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert result.exact and result.allclose


@pytest.mark.parametrize("shape", [(6, 4, 4), (5, 3, 2)])
def test_compare_judges_with_the_lower_precision_of_the_two(shape):
    """A correct float32 gradient against a float64 reference (or the other way round) is judged as float32."""
    X, W, Y = mixed_sign_inputs(*shape, seed=0, dtype=torch.float32)
    in_float32 = hand_gradients(X, W, Y)
    in_float64 = hand_gradients(X.double(), W.double(), Y.double())
    for low, high in zip(in_float32, in_float64):
        assert not torch.equal(low.double(), high)   # there is round-off to judge
        for result in (compare("dW", low, high), compare("dW", high, low)):
            assert result.tolerance == RELATIVE_TOLERANCE[torch.float32]
            assert result.allclose, result


def test_compare_gradients_rejects_plain_tuples():
    X, W, Y = mixed_sign_inputs(6, 4, 4, seed=0)
    with pytest.raises(TypeError, match="reference must be a Gradients.dW, dX, dY., got tuple"):
        compare_gradients(hand_gradients(X, W, Y), tuple(hand_gradients(X, W, Y)))


def _exact_gradients(X, W, Y) -> Gradients:
    """dW, dX, dY in exact rational arithmetic on the floats given, rounded once to float64."""
    x, w, y = ([[Fraction(v) for v in row] for row in t.double().tolist()] for t in (X, W, Y))
    m, k, n = len(x), len(w), len(y[0])
    z = [[sum((x[i][a] * w[a][j] for a in range(k)), Fraction(0)) for j in range(n)] for i in range(m)]
    e = [[max(z[i][j], 0) - y[i][j] for j in range(n)] for i in range(m)]
    g = [[2 * e[i][j] if z[i][j] > 0 else Fraction(0) for j in range(n)] for i in range(m)]
    as_tensor = lambda rows: torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)  # noqa: E731
    return Gradients(
        dW=as_tensor([[sum(x[i][a] * g[i][j] for i in range(m)) for j in range(n)] for a in range(k)]),
        dX=as_tensor([[sum(g[i][j] * w[a][j] for j in range(n)) for a in range(k)] for i in range(m)]),
        dY=as_tensor([[-2 * e[i][j] for j in range(n)] for i in range(m)]),
    )


def _worst_error(computed: Gradients, reference: Gradients) -> float:
    return max(relative_error(c, r) for c, r in zip(computed, reference))


def _reference_gradients(X, W, Y) -> Gradients:
    """Exact for float64; float64 for lower precisions, whose own round-off is far above float64's."""
    if X.dtype == torch.float64:
        return _exact_gradients(X, W, Y)
    return hand_gradients(X.double(), W.double(), Y.double())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64], ids=str)
def test_tolerances_separate_correct_gradients_from_every_bug(dtype):
    """Where RELATIVE_TOLERANCE comes from, measured rather than typed. A tolerance must be at least twice the worst
    relative error of correct gradients in that dtype (over many small random layers, where cancellation makes
    relative errors largest) and at most a third of the smallest error of any bug (each on the book's inputs for
    it). bfloat16 has no tolerance because none meets both."""
    generator = torch.Generator().manual_seed(0)
    worst_correct = 0.0
    for seed in range(1000):
        m, k, n = (int(d) for d in torch.randint(1, 10, (3,), generator=generator))
        X, W, Y = (t.to(dtype) for t in mixed_sign_inputs(max(m, 2), k, n, seed))
        worst_correct = max(worst_correct, _worst_error(hand_gradients(X, W, Y), _reference_gradients(X, W, Y)))
    smallest_bug = math.inf
    for bug in BUGS:
        inputs = exact_zero_inputs() if bug.needs_exact_zeros else mixed_sign_inputs(6, 4, 4, seed=0)
        X, W, Y = (t.to(dtype) for t in inputs)
        smallest_bug = min(smallest_bug, _worst_error(bug.gradients(X, W, Y), _reference_gradients(X, W, Y)))
    measured = f"correct gradients reach {worst_correct:.1e}, the smallest bug {smallest_bug:.1e}"
    if dtype in RELATIVE_TOLERANCE:
        assert 2 * worst_correct <= RELATIVE_TOLERANCE[dtype] <= smallest_bug / 3, measured
    else:
        assert 2 * worst_correct > smallest_bug / 3, f"{dtype} could have a tolerance: {measured}"
        with pytest.raises(TypeError, match=f"no tolerance for {dtype}"):
            compare("dW", X, X)


@pytest.mark.parametrize("bug", BUGS, ids=lambda bug: bug.name)
def test_every_known_bug_is_caught(bug):
    """On square (k = n) mixed-sign inputs, or on inputs with exact zeros for `>=`, the check flags each bug."""
    X, W, Y = exact_zero_inputs() if bug.needs_exact_zeros else mixed_sign_inputs(6, 4, 4, seed=0)
    comparisons = compare_gradients(bug.gradients(X, W, Y), autograd_gradients(X, W, Y))
    assert not all(c.allclose for c in comparisons), bug.name
    assert max(c.relative_error for c in comparisons) > 1e-3


def _stationary_point(m=200, k=4, n=3):
    """Targets that make dW = XᵀG vanish: in each column, the active residuals are orthogonal to the active inputs."""
    X, W, _ = mixed_sign_inputs(m, k, n, seed=0)
    Z = X @ W
    generator = torch.Generator().manual_seed(0)
    E = torch.randn(Z.shape, generator=generator, dtype=Z.dtype)
    for j in range(n):
        active = Z[:, j] > 0
        Q, _ = torch.linalg.qr(X[active])
        E[active, j] -= Q @ (Q.T @ E[active, j])
    return X, W, torch.relu(Z) - E


def test_a_correct_gradient_misses_its_tolerance_at_a_stationary_point():
    """The tolerances assume a well-conditioned gradient (the chapter on verification says so): where the terms of
    XᵀG cancel almost completely, the same correct sum taken in another order misses the float64 tolerance by
    orders of magnitude, though its error is round-off next to the size of the terms, || |X|ᵀ|G| ||."""
    X, W, Y = _stationary_point()
    reference = autograd_gradients(X, W, Y).dW
    G = 2 * (torch.relu(X @ W) - Y) * (X @ W > 0)
    terms = (X.abs().T @ G.abs()).norm()
    assert reference.norm() < 1e-12 * terms                                   # a stationary point
    reordered = sum(torch.outer(X[i], G[i]) for i in reversed(range(X.shape[0])))   # XᵀG, summed backwards
    assert (reordered - reference).norm() < 1e-15 * terms                     # right, up to round-off
    assert compare("dW", reordered, reference).relative_error > 1e3 * RELATIVE_TOLERANCE[torch.float64]


def test_a_correct_float32_gradient_misses_its_tolerance_near_a_fit():
    """Judged against float64, a correct float32 gradient fails once |E| << |A|: E = A - Y loses digits."""
    X, W, _ = mixed_sign_inputs(6, 4, 4, seed=0)
    A = torch.relu(X @ W)
    Y = A + 1e-3 * torch.randn(A.shape, generator=torch.Generator().manual_seed(0), dtype=A.dtype)
    in_float32 = hand_gradients(X.float(), W.float(), Y.float())
    assert not all(c.passed for c in compare_gradients(in_float32, hand_gradients(X, W, Y)))
    far = (X, W, mixed_sign_inputs(6, 4, 4, seed=0)[2])   # the same layer, targets far from A
    assert all(c.passed for c in compare_gradients(hand_gradients(*(t.float() for t in far)), hand_gradients(*far)))


# ---- central_difference ---------------------------------------------------------------------------------------

def test_central_difference_of_a_quadratic_is_exact():
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([0.5, -1.5], dtype=torch.float64)
    estimate = central_difference(lambda v: v @ A @ v, x, step=0.1)
    assert torch.allclose(estimate, 2 * A @ x, rtol=0, atol=1e-12)


def test_central_difference_works_on_a_transposed_view():
    A = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    view = A.T   # 3×2, not contiguous
    estimate = central_difference(lambda v: (v * v).sum(), view, step=0.25)
    assert torch.allclose(estimate, 2 * view, rtol=0, atol=1e-12)
    assert torch.equal(estimate, central_difference(lambda v: (v * v).sum(), view.contiguous(), step=0.25))


def test_central_difference_divides_by_the_distance_actually_stepped():
    """In float32, 1 ± 1e-3 rounds to points 2.0000338e-3 apart, not 2e-3: the slope of v is then exactly 1."""
    estimate = central_difference(lambda v: v.sum(), torch.tensor([1.0]), step=1e-3)
    assert estimate.dtype == torch.float32 and estimate.item() == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_float32_central_differences_are_a_usable_coarse_check(seed):
    """Norm-wise, float32 differences with the largest kink-free step tell every bug from the right formula."""
    X, W, Y = mixed_sign_inputs(6, 4, 4, seed=seed, dtype=torch.float32)
    numeric = Gradients(
        dW=central_difference(lambda w: objective(X, w, Y), W, kink_free_step(X, W, wrt="W")),
        dX=central_difference(lambda x: objective(x, W, Y), X, kink_free_step(X, W, wrt="X")),
        dY=central_difference(lambda y: objective(X, W, y), Y, step=0.5),   # f is quadratic in Y: no kink
    )
    assert all(g.dtype == torch.float32 for g in numeric)
    right = _worst_error(hand_gradients(X, W, Y), numeric)
    for bug in BUGS:
        if not bug.needs_exact_zeros:
            assert _worst_error(bug.gradients(X, W, Y), numeric) > 100 * right, bug.name


BAD_STEPS = [(0, ValueError, "got 0.0"), (-1e-3, ValueError, "got -0.001"), (NAN, ValueError, "got nan"),
             (INF, ValueError, "got inf"), ("0.1", TypeError, "got str"), (None, TypeError, "got NoneType"),
             (True, TypeError, "got bool")]


@pytest.mark.parametrize("step,error,message", BAD_STEPS, ids=[m for *_, m in BAD_STEPS])
def test_central_difference_rejects_bad_steps(step, error, message):
    with pytest.raises(error, match=rf"step must be a (finite number > 0|real number), {message}"):
        central_difference(lambda v: v.sum(), f64(1.0, 2.0), step=step)


def test_central_difference_rejects_a_step_too_small_to_move_an_entry():
    with pytest.raises(ValueError, match=r"step 1e-20 does not move at\[1\] = 2 in torch.float64"):
        central_difference(lambda v: v.sum(), f64(0.0, 2.0), step=1e-20)


BAD_POINTS = [
    (np.array([1.0, 2.0]), TypeError, "at must be a torch.Tensor, got numpy.ndarray"),
    ([1.0, 2.0], TypeError, "at must be a torch.Tensor, got list"),
    (torch.tensor([1.0, 2.0], dtype=torch.float16), TypeError, "at has dtype torch.float16; central differences"),
    (torch.tensor([1, 2]), TypeError, "at has non-floating dtype torch.int64"),
    (torch.tensor([1 + 1j]), TypeError, "at has complex dtype"),
    (f64(1.0, INF), ValueError, r"at has 1 non-finite entry .* at\[1\] = inf"),
]


@pytest.mark.parametrize("at,error,message", BAD_POINTS, ids=[m for *_, m in BAD_POINTS])
def test_central_difference_rejects_bad_points(at, error, message):
    with pytest.raises(error, match=message):
        central_difference(lambda v: v.sum(), at)


BAD_FUNCTIONS = [
    (lambda v: v * 2, ValueError, r"fn must return a scalar, got a tensor of shape 2 for at\[0\] \+ step"),
    (lambda v: "f", TypeError, r"fn must return a scalar tensor or a real number, got str"),
    (lambda v: v.sum() / 0, ValueError, r"fn returned inf for at\[0\] \+ step"),
    ("not a function", TypeError, r"fn must be callable .*, got str"),
]


@pytest.mark.parametrize("fn,error,message", BAD_FUNCTIONS, ids=[m for *_, m in BAD_FUNCTIONS])
def test_central_difference_rejects_bad_functions(fn, error, message):
    with pytest.raises(error, match=message):
        central_difference(fn, f64(1.0, 2.0))


# ---- kink_free_step -------------------------------------------------------------------------------------------

def _signs_after_moving_one_entry(X, W, wrt, h):
    """sign(Z) after W_ab (or X_ab) moves by +h or -h, for every entry and both directions: shape (2, entries, m, n)."""
    Z = X @ W
    if wrt == "W":   # W_ab + s h moves column b of Z by s h X[:, a]
        shifts = torch.einsum("ia,bj->abij", X, torch.eye(W.shape[1], dtype=X.dtype))
    else:            # X_ab + s h moves row a of Z by s h W[b, :]
        shifts = torch.einsum("ai,bj->abij", torch.eye(X.shape[0], dtype=X.dtype), W)
    shifts = shifts.reshape(-1, *Z.shape)
    return torch.stack([torch.sign(Z + h * shifts), torch.sign(Z - h * shifts)])


@pytest.mark.parametrize("wrt", ["W", "X"])
@pytest.mark.parametrize("shape", [(6, 4, 4), (6, 3, 5), (12, 8, 8), (1, 4, 3), (7, 1, 4)])
def test_kink_free_step_is_the_largest_step_that_crosses_no_kink(shape, wrt):
    """At the returned step no Z_ij changes sign; at the full distance (step / safety), a hair further, one does."""
    for seed in range(3):
        X, W, _ = mixed_sign_inputs(*shape, seed=seed)
        Z_signs = torch.sign(X @ W)
        h = kink_free_step(X, W, wrt=wrt)
        assert torch.all(_signs_after_moving_one_entry(X, W, wrt, h) == Z_signs)
        beyond = _signs_after_moving_one_entry(X, W, wrt, h / 0.5 * (1 + 1e-9))
        assert torch.any(beyond != Z_signs)
        assert kink_free_step(X, W, wrt=wrt, safety=0.9) == pytest.approx(h * 0.9 / 0.5, rel=1e-15, abs=0)


def test_kink_free_step_without_wrt_is_safe_for_both():
    smaller = set()
    for seed in range(10):
        X, W, _ = mixed_sign_inputs(6, 3, 5, seed=seed)
        steps = {wrt: kink_free_step(X, W, wrt=wrt) for wrt in ("W", "X")}
        assert kink_free_step(X, W) == min(steps.values())
        smaller.add(min(steps, key=steps.get))
    assert smaller == {"W", "X"}   # the cases include both, so taking either one alone would fail


def test_kink_free_step_names_the_exact_zeros_of_Z():
    X, W, _ = exact_zero_inputs()
    zeros = (X @ W == 0).nonzero().tolist()
    first = r"Z\[{}, {}\]".format(*zeros[0])
    with pytest.raises(ValueError, match=rf"Z = XW has {len(zeros)} exact zeros? \({first}.*kink"):
        kink_free_step(X, W)


BAD_FACTORS = [  # (X, W, keyword arguments, error, message)
    (torch.ones(4, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64), {}, ValueError,
     "X must be a matrix .2-D., got shape 4"),
    (f64(1.0, NAN).reshape(1, 2), torch.ones(2, 3, dtype=torch.float64), {}, ValueError,
     r"X has 1 non-finite entry .* X\[0, 1\] = nan"),
    (torch.ones(2, 2, dtype=torch.float64), torch.full((2, 2), -INF, dtype=torch.float64), {}, ValueError,
     r"W has 4 non-finite entries .* W\[0, 0\] = -inf"),
    (torch.ones(2, 2), torch.ones(3, 2), {}, ValueError, "X is 2×2 and W is 3×2"),
    (torch.ones(2, 2, dtype=torch.int64), torch.ones(2, 2, dtype=torch.int64), {}, TypeError,
     "X has dtype torch.int64"),
    (torch.ones(2, 2), torch.ones(2, 2), {"wrt": "Y"}, ValueError, "f has no kink in Y"),
    (torch.ones(2, 2), torch.ones(2, 2), {"wrt": "w"}, ValueError, "wrt must be 'W', 'X' or None"),
    (torch.ones(2, 2), torch.ones(2, 2), {"safety": 1}, ValueError, r"safety must lie in \(0, 1\)"),
    (torch.ones(2, 2), torch.ones(2, 2), {"safety": 0}, ValueError, "safety must be a finite number > 0"),
    (torch.ones(0, 2), torch.ones(2, 2), {}, ValueError, "Z = XW is 0×2: it has no entries"),
]


@pytest.mark.parametrize("X,W,kwargs,error,message", BAD_FACTORS, ids=[m for *_, m in BAD_FACTORS])
def test_kink_free_step_rejects_bad_input(X, W, kwargs, error, message):
    with pytest.raises(error, match=message):
        kink_free_step(X, W, **kwargs)


def test_mixed_sign_inputs_always_have_both_signs():
    for m, k, n in [(1, 4, 3), (7, 1, 4), (5, 3, 1), (2, 1, 1), (6, 4, 4)]:
        for seed in range(20):
            Z = torch.matmul(*mixed_sign_inputs(m, k, n, seed)[:2])
            assert (Z > 0).any() and (Z < 0).any()
    with pytest.raises(ValueError, match="at least two entries"):
        mixed_sign_inputs(1, 3, 1, seed=0)
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        mixed_sign_inputs(2, 0, 3, seed=0)
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        mixed_sign_inputs(2, 3, 3, seed=0, dtype=torch.int64)
