"""The helper code of the part "Beyond one layer" against autograd: the bias, the activations, networks of any depth,
the Hessian and Newton's step, per-sample gradients, and the hand backward of the cost chapter (relugrad.beyond,
relugrad.cost, relugrad.notebook.agreement). No timing here: tests/benchmark_backward.py measures time."""

import json
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relugrad import mixed_sign_inputs, objective, relative_error
from relugrad.beyond import (ACTIVATIONS, activation_gradients, bias_gradients, damped_newton_step, hessian_matrix,
                             network_gradients, newton_step, per_sample_gradients)
from relugrad.cost import (LAYERS, VERDICT_WORDS, LinearReLU, extra_saved_bytes, machine_in_words, measured_times,
                           network_extra_saved_bytes, pack_bits, saved_tensors, unpack_bits, verdicts_in_words)
from relugrad.notebook import LANGUAGES, agreement, glue_words

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))
import editions  # noqa: E402  (the book's editions, for the languages each glued phrase needs)

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
def test_hessian_matches_autograd_and_newton_lands_on_the_minimiser_of_the_regions_quadratic(shape):
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


def _unit_terms(X, W, Y):
    """f_j, unit j's term of f, for every unit."""
    return ((torch.relu(X @ W) - Y) ** 2).sum(dim=0)


def test_newton_step_refuses_a_unit_active_on_fewer_than_k_samples():
    X, W, Y = mixed_sign_inputs(6, 3, 2, seed=3)
    assert (X @ W > 0).sum(dim=0).tolist() == [2, 3]      # unit 1: two samples for three weights
    Z = X @ W
    G = 2 * (torch.relu(Z) - Y) * (Z > 0)
    blocks = 2 * torch.einsum("ia,ij,ic->jac", X, (Z > 0).double(), X)
    assert torch.linalg.matrix_rank(blocks[0]).item() < 3                              # no unique step for unit 1
    assert torch.linalg.matrix_rank(blocks[1]).item() == 3
    with pytest.raises(ValueError, match=r"unit 1 \(column W\[:, 0\]\) is active on 2 sample\(s\), fewer than its k = 3"):
        newton_step(X, W, Y)


def test_newton_step_raises_exactly_when_some_unit_has_fewer_than_k_samples():
    """The reviewers' reproduction: 300 draws with 6 samples, 3 inputs and 2 units."""
    raised = 0
    for seed in range(300):
        X, W, Y = mixed_sign_inputs(6, 3, 2, seed=seed)
        thin = bool(((X @ W > 0).sum(dim=0) < 3).any())
        if thin:
            with pytest.raises(ValueError, match="no unique Newton step"):
                newton_step(X, W, Y)
            raised += 1
            continue
        S = newton_step(X, W, Y) - W
        M = (X @ W > 0).double()
        assert (X.T @ ((M * (X @ (W + S)) - Y) * M)).abs().max() < 1e-9     # eq-newton-lands
    assert raised == 178


def test_newton_step_names_a_dead_unit_and_a_unit_whose_samples_span_too_little():
    X, W, Y = mixed_sign_inputs(8, 3, 2, seed=0)
    assert int((X @ W[:, 0] > 0).sum()) >= 3
    dead = W.clone()
    dead[:, 1] = 0                                          # Z[:, 1] = 0 exactly: inactive on every sample
    with pytest.raises(ValueError, match=r"unit 2 \(column W\[:, 1\]\) is active on 0 sample\(s\)"):
        newton_step(X, dead, Y)
    flat = X.clone()
    flat[:, 2] = flat[:, 0] + flat[:, 1]                    # every sample in one plane of R^3
    assert int((flat @ W[:, 0] > 0).sum()) >= 3
    with pytest.raises(ValueError, match=r"on which unit 1 \(column W\[:, 0\]\) is active span only 2 of the 3"):
        newton_step(flat, W, Y)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(2, 8), k=st.integers(1, 4), n=st.integers(1, 4), seed=seeds,
       damping=st.floats(1e-6, 1e3))
def test_damped_newton_step_never_raises_f_and_leaves_still_units_still(m, k, n, seed, damping):
    X, W, Y = mixed_sign_inputs(m, k, n, seed)
    step = damped_newton_step(X, W, Y, damping=damping)
    assert (_unit_terms(X, step.W, Y) <= _unit_terms(X, W, Y)).all()
    assert step.damping.shape == (n,) and (step.damping > 0).all()
    Z = X @ W
    still = ~(X.T @ (2 * (torch.relu(Z) - Y) * (Z > 0))).any(dim=0)          # zero gradient: a dead unit
    assert torch.equal(step.W[:, still], W[:, still])


def test_damped_newton_step_moves_a_unit_that_has_no_newton_step():
    X, W, Y = mixed_sign_inputs(6, 3, 2, seed=3)           # unit 1 is active on 2 samples
    W_new, damping = damped_newton_step(X, W, Y)
    assert (_unit_terms(X, W_new, Y) < _unit_terms(X, W, Y)).all()
    again = damped_newton_step(X, W_new, Y, damping=damping)                # the damping carries over
    assert objective(X, again.W, Y) <= objective(X, W_new, Y)


def test_a_unit_that_no_try_helps_returns_the_last_damping_it_tried():
    """μ_2 = 1e-40 is far below 1e-16·‖H_2‖: in floating point H_2 + μ_2 I is the singular H_2, and all 40 tries
    fail. Returned unchanged, that μ_2 never grew: the unit stood still however often the step was repeated."""
    X, W, Y = mixed_sign_inputs(6, 3, 2, seed=2)           # unit 2 is active on a single sample
    step = damped_newton_step(X, W, Y, damping=torch.tensor([1.0, 1e-40], dtype=torch.float64), max_tries=40)
    assert torch.equal(step.W[:, 1], W[:, 1])                                # no try lowered f_2: it stays
    assert torch.isclose(step.damping[1], torch.tensor(1e-40 * 10.0 ** 39, dtype=torch.float64))   # the last tried
    again = damped_newton_step(X, step.W, Y, damping=step.damping)
    assert _unit_terms(X, again.W, Y)[1] < _unit_terms(X, W, Y)[1]          # the next call moves it


def test_damped_newton_step_runs_from_newton_to_gradient_descent():
    """Tiny damping where the Newton point is in the region: Newton's step; huge damping: -g / damping."""
    X, teacher, _ = mixed_sign_inputs(64, 4, 3, seed=1)
    Y = torch.relu(X @ teacher)
    W = teacher + 0.01 * torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.equal(X @ W > 0, X @ teacher > 0)
    assert torch.allclose(damped_newton_step(X, W, Y, damping=1e-12).W, newton_step(X, W, Y), rtol=1e-9, atol=1e-9)
    gradient = torch.func.grad(lambda w: objective(X, w, Y))(W)
    large = damped_newton_step(X, W, Y, damping=1e9)
    assert relative_error((large.W - W) * 1e9, -gradient) < 1e-6
    assert torch.allclose(large.damping, torch.full((3,), 1e8, dtype=torch.float64))


def test_damped_newton_step_rejects_bad_damping():
    X, W, Y = mixed_sign_inputs(6, 3, 2, seed=0)
    with pytest.raises(ValueError, match="damping must be a finite number > 0, got 0.0"):
        damped_newton_step(X, W, Y, damping=0.0)
    with pytest.raises(ValueError, match=r"one μ per unit, shape \(2,\); got shape \(3,\)"):
        damped_newton_step(X, W, Y, damping=torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="finite and > 0 for every unit"):
        damped_newton_step(X, W, Y, damping=torch.tensor([1.0, -1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="factor must be > 1"):
        damped_newton_step(X, W, Y, factor=1.0)


def test_a_singular_block_has_many_newton_steps_not_none():
    """g_j = 2 Xᵀ diag(M_{:,j}) (X W_{:,j} - Y_{:,j}) lies in range(Xᵀ diag(M_{:,j})) = range(H_j): H_j s = -g_j is
    solvable, with a line (or more) of solutions. Hence the book's "no unique Newton step", not "no Newton step"."""
    X, W, Y = mixed_sign_inputs(6, 3, 2, seed=3)           # unit 1 is active on 2 samples, k = 3
    dead = W.clone()
    dead[:, 1] = 0                                          # unit 2 dead: H = 0 and g = 0, every s solves it
    for weights, j in ((W, 0), (dead, 1)):
        Z = X @ weights
        H = 2 * X.T @ ((Z[:, j] > 0).double()[:, None] * X)
        g = X.T @ (2 * (torch.relu(Z[:, j]) - Y[:, j]) * (Z[:, j] > 0))
        assert torch.linalg.matrix_rank(H) < 3
        shortest = -torch.linalg.pinv(H) @ g                # the pseudo-inverse's pick, the shortest solution
        assert (H @ shortest + g).norm() <= 1e-12 * max(g.norm(), 1)       # lstsq residual ~ 0: solvable
        null = torch.linalg.svd(H).Vh[-1]                   # a direction of zero curvature
        assert (H @ (shortest + null) + g).norm() <= 1e-12 * max(g.norm(), 1)   # another solution


@pytest.mark.parametrize("dtype, damping", [(torch.float64, 5e-324), (torch.float32, 1e-44),
                                            (torch.float64, 1e308), (torch.float32, 1e38)])
def test_damped_newton_step_returns_a_damping_it_accepts_back(dtype, damping):
    """μ is divided by 10 after each accepted step: without a floor it underflowed to 0 (and the next call refused
    it); multiplied by 10 it could overflow to inf."""
    X, W, Y = (t.to(dtype) for t in mixed_sign_inputs(6, 3, 2, seed=2))
    info = torch.finfo(dtype)
    for _ in range(5):
        W, damping = damped_newton_step(X, W, Y, damping=damping)
        assert damping.dtype == dtype and ((damping >= info.tiny) & (damping <= info.max)).all()


def test_the_chapters_newton_step_by_hand():
    """The hand-sized example of chapters/beyond/newton.md, read from its block eq-newton-example-inputs: one unit,
    k = 2, four samples; the prose says f goes from 9 to 1 and W + S stays in W's region."""
    from contexts import _leftmost_symbol
    from display_math import ROOT, blocks
    from equations import PARSER, Evaluator, Scope, preprocess

    block = next(b for b in blocks(ROOT / "chapters" / "beyond" / "newton.md")
                 if b.label == "eq-newton-example-inputs")
    named = {}
    for statement in block.statements:
        scope = Scope(None)
        tree = PARSER.parse(preprocess(statement, scope))
        named[_leftmost_symbol(tree.children[0])] = Evaluator(scope)(tree.children[2]).t.double()
    X, W, Y = named["X"], named["W"], named["Y"]
    N = newton_step(X, W, Y)
    assert torch.equal(N, torch.tensor([[2.0], [1.0]], dtype=torch.float64))
    assert objective(X, W, Y).item() == 9 and objective(X, N, Y).item() == 1
    assert torch.equal(X @ N > 0, X @ W > 0)                # it lands inside W's region: a local minimum


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


def test_committed_measurements_carry_intervals_and_the_a_a_noise_floor():
    """What notebook 13 reads: every ratio a median with its interval, an A/A pair per size, the mask passes."""
    data = measured_times()
    assert data["threads"] >= 1 and "shuffled every round" in data["statistic"]
    for row in data["rows"] + [data["mask_pass"]]:
        assert row["rounds"] >= 30
        for summary in row["ratios"].values():
            low, high = summary["interval"]
            assert 0 < low <= summary["median"] <= high and summary["rounds"] == row["rounds"]
    for row in data["rows"]:
        assert row["ratios"]["backward, autograd, again"]["reference"] == "backward, autograd"
        assert {"backward, hand, Boolean mask", "backward, hand, packed bits", "backward, autograd over forward",
                "backward without dX, hand, Boolean mask"} <= set(row["ratios"])
    assert {"U * mask, Boolean", "U * mask, read as int8",
            "mask to float: Boolean over int8"} <= set(data["mask_pass"]["ratios"])


@pytest.mark.parametrize("loss,ratio", [
    (lambda A, Y: ((A - Y) ** 2).sum(), 0.625),                                  # saves E, not A: the mask saves
    (lambda A, Y: torch.nn.functional.mse_loss(A, Y, reduction="sum"), 1.25),    # saves A: the mask comes on top
    (torch.nn.MSELoss(), 1.25)])
def test_the_loss_decides_whether_the_mask_saves_memory_at_the_last_layer(loss, ratio):
    from relugrad.cost import loss_extra_saved_bytes
    X, W, Y = torch.randn(32, 16, requires_grad=True), torch.randn(16, 24, requires_grad=True), torch.randn(32, 24)
    kept = {name: loss_extra_saved_bytes(LAYERS[name], loss, X, W, Y) for name in ("autograd", "hand, Boolean mask")}
    assert kept["hand, Boolean mask"] / kept["autograd"] == ratio


def test_flop_counter_counts_only_matrix_products():
    """The cost chapter: FlopCounterMode's agreement with 2mkn is by construction, the element-wise rest counts 0."""
    from torch.utils.flop_counter import FlopCounterMode
    Z, Y = torch.randn(40, 30), torch.randn(40, 30)
    with FlopCounterMode(display=False) as counter:
        ((torch.relu(Z) - Y) ** 2).sum()
    assert counter.get_total_flops() == 0


def test_median_interval_is_seeded_and_holds_the_median():
    from relugrad.cost import median_interval, summarise
    values = [1 + 0.01 * ((7 * i) % 13 - 6) for i in range(60)]
    median, low, high = median_interval(values)
    assert low <= median <= high and median_interval(values) == (median, low, high)
    assert median_interval([2.0] * 10) == (2.0, 2.0, 2.0)
    summary = summarise([2 * v for v in values], [2.0] * 60, "reference")
    assert summary["reference"] == "reference" and summary["rounds"] == 60
    assert summary["quartiles"][0] <= summary["median"] <= summary["quartiles"][1]


@pytest.mark.parametrize("interval,expected", [
    ((0.99, 1.03), "indistinguishable"),      # contains 1
    ((1.02, 1.04), "indistinguishable"),      # above 1, but overlaps the A/A interval
    ((1.04, 1.06), "slower"), ((0.90, 0.95), "faster")])
def test_verdict_reads_a_ratio_against_the_a_a_noise_floor(interval, expected):
    from relugrad.cost import verdict
    assert verdict(interval, (0.97, 1.03)) == expected


def test_benchmark_statistics_reject_bad_input():
    from relugrad.cost import median_interval, paired_ratios, verdict
    with pytest.raises(ValueError, match="same, non-zero number of rounds"):
        paired_ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="zero or negative"):
        paired_ratios([1.0], [0.0])
    with pytest.raises(ValueError, match="at least 2 values"):
        median_interval([1.0])
    with pytest.raises(ValueError, match="low end to its high end"):
        verdict((1.1, 1.0), (0.9, 1.1))


def test_benchmark_rounds_run_every_variant_once_in_a_shuffled_order():
    """The method the cost chapter states: each round runs every variant once, the order shuffled every round."""
    import random
    from benchmark_backward import rounds
    order = []
    runs = {name: (lambda name=name: order.append(name) or 1.0) for name in "abcdef"}
    times = rounds(runs, 20, random.Random(0))
    assert all(len(values) == 20 for values in times.values())
    per_round = [order[i:i + 6] for i in range(0, len(order), 6)]
    assert all(sorted(names) == list("abcdef") for names in per_round)
    assert len({tuple(names) for names in per_round}) > 10 and len({names[0] for names in per_round}) > 1


@pytest.mark.parametrize("error,words", [(0.0, {"en": "bit for bit", "zh_CN": "逐位相同"}),
                                         (1.234e-16, {"en": "to a relative error of 1.2e-16",
                                                      "zh_CN": "相对误差为 1.2e-16"})])
def test_agreement_says_bit_for_bit_only_for_zero(error, words):
    assert agreement(error) == words


def test_every_phrase_is_in_every_language_of_the_book():
    assert LANGUAGES == ("en", *editions.LANGUAGES)
    phrases = [agreement(0.0), agreement(1e-16), *VERDICT_WORDS.values(),
               verdicts_in_words({"slower": [256, 512], "indistinguishable": [1024]}),
               machine_in_words("Intel(R) Xeon(R) Processor, 1 thread (2 logical CPUs)")]
    for words in phrases:
        assert set(words) == set(LANGUAGES), words
    with pytest.raises(ValueError, match="zh_CN"):
        glue_words("half_translated", {"en": "bit for bit"})


def test_verdicts_read_as_the_end_of_a_sentence_in_each_language():
    mixed = verdicts_in_words({"slower": [256, 512, 1024], "indistinguishable": [2048]})
    assert mixed == {"en": "slower than autograd at m = k = n = 256, 512 and 1024, and indistinguishable from "
                           "autograd at 2048",
                     "zh_CN": "在 m = k = n = 256、512 和 1024 时比 autograd 慢，在 2048 时与 autograd 无法区分"}
    assert verdicts_in_words({"faster": [256, 512]}) == {"en": "faster than autograd at every one of these sizes",
                                                         "zh_CN": "在所有这些规模上都比 autograd 快"}
    with pytest.raises(ValueError):
        verdicts_in_words({"slower": []})


def test_the_machine_is_named_in_each_language():
    assert machine_in_words("Intel(R) Xeon(R) Processor, 2 threads (4 logical CPUs)") == {
        "en": "Intel(R) Xeon(R) Processor, 2 threads (4 logical CPUs)",
        "zh_CN": "Intel(R) Xeon(R) Processor（使用 2 个线程，共 4 个逻辑 CPU）"}
    gpu = "NVIDIA H100 80GB HBM3 (CUDA 12.8)"
    assert machine_in_words(gpu) == {"en": gpu, "zh_CN": gpu}


def test_agreement_rejects_what_is_not_an_error():
    for bad in (-1e-16, float("nan")):
        with pytest.raises(ValueError):
            agreement(bad)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 7), k=sizes, n=st.integers(2, 7), seed=seeds, smoothing=st.sampled_from([0.0, 0.1]))
def test_cross_entropy_gradients_match_autograd(m, k, n, seed, smoothing):
    from relugrad.beyond import cross_entropy_gradients
    X, W, _ = mixed_sign_inputs(m, k, n, seed)
    labels = torch.randint(n, (m,), generator=torch.Generator().manual_seed(seed))
    Y = (1 - smoothing) * torch.nn.functional.one_hot(labels, n).double() + smoothing / n
    dW, dX, G = cross_entropy_gradients(X, W, Y)
    dX_auto, dW_auto = _autograd(
        lambda X, W: torch.nn.functional.cross_entropy(X @ W, labels, reduction="sum", label_smoothing=smoothing), X, W)
    assert relative_error(dW, dW_auto) < 1e-12 and relative_error(dX, dX_auto) < 1e-12
    assert torch.allclose(G.sum(dim=1), torch.zeros(m, dtype=G.dtype), atol=1e-12)   # P and Y rows both sum to 1


def test_cross_entropy_targets_must_sum_to_one_per_row():
    from relugrad.beyond import cross_entropy_gradients
    X, W, _ = mixed_sign_inputs(4, 3, 2, seed=0)
    with pytest.raises(ValueError, match="row 0 sums to 2"):
        cross_entropy_gradients(X, W, torch.ones(4, 2, dtype=torch.float64))


def test_gelu_slope_turns_where_its_second_derivative_vanishes():
    """The activations chapter: GELU''(z) = 2Φ'(z) + zΦ''(z) = Φ'(z)(2 - z²), with Φ''(z) = -zΦ'(z)."""
    z = torch.linspace(-4, 4, 801, dtype=torch.float64)
    density = torch.exp(-z ** 2 / 2) / (2 * torch.pi) ** 0.5
    second = torch.func.vmap(torch.func.grad(torch.func.grad(torch.nn.functional.gelu)))(z)
    assert torch.allclose(second, density * (2 - z ** 2), rtol=1e-12, atol=1e-12)


class _ReluSlopeOneAtZero(torch.autograd.Function):
    """ReLU whose backward uses slope 1 at z = 0 (the homework's Z * (Z >= 0)); PyTorch's uses 0."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.relu(z)

    @staticmethod
    def backward(ctx, upstream):
        (z,) = ctx.saved_tensors
        return upstream * (z >= 0).to(z.dtype)


@pytest.mark.parametrize("depth,dead_layer", [(3, 1), (4, 2)])
def test_a_sample_dead_in_a_lower_layer_adds_nothing_under_any_convention_at_zero(depth, dead_layer):
    """any_depth.md: a sample whose units in layer l are all inactive has a locally constant loss. Without biases
    the rows of Z above are exactly 0 (kinks), yet the weights' gradients are the same with slope 0 or 1 at 0, and
    the same as those of the batch without the sample."""
    generator = torch.Generator().manual_seed(depth)
    widths = [3, 5, 4, 4, 3][: depth + 1]
    X = torch.randn(7, widths[0], generator=generator, dtype=torch.float64)
    weights = [torch.randn(a, b, generator=generator, dtype=torch.float64) for a, b in zip(widths, widths[1:])]
    Y = torch.randn(7, widths[-1], generator=generator, dtype=torch.float64)
    A = X[:1]                                              # make sample 0 dead in `dead_layer`
    for W in weights[: dead_layer - 1]:
        A = torch.relu(A @ W)
    assert A.any()                                         # alive below: it dies in `dead_layer` itself
    weights[dead_layer - 1] -= (A @ weights[dead_layer - 1]).clamp_min(0).max() / A.pow(2).sum() * A.T + 1e-3 * A.T

    def gradients(relu, X, Y):
        leaves = [W.clone().requires_grad_(True) for W in weights]
        A, rows = X, []
        for W in leaves:
            A = relu(A @ W)
            rows.append(A[0].detach())
        ((A - Y) ** 2).sum().backward()
        return [W.grad for W in leaves], rows
    slope_zero, rows = gradients(torch.relu, X, Y)
    assert (rows[dead_layer - 1] == 0).all() and all((row == 0).all() for row in rows[dead_layer:])
    slope_one, _ = gradients(_ReluSlopeOneAtZero.apply, X, Y)
    without, _ = gradients(torch.relu, X[1:], Y[1:])
    for zero, one, rest in zip(slope_zero, slope_one, without):
        assert torch.equal(zero, one)
        assert torch.allclose(zero, rest, rtol=1e-12, atol=1e-12)
    assert Y[0].abs().sum() > 0        # so under slope 1 the sample's row of G_L, -2 Y_0, is not zero


@pytest.mark.parametrize("m,n,seed", [(5, 4, 0), (3, 6, 1)])
def test_a_residual_connection_adds_the_copys_gradient(m, n, seed):
    """Z = A + AW (any_depth.md): ∂f/∂A = G + G W^T and ∂f/∂W = A^T G, with G = ∂f/∂Z, for f = ||max(Z, 0) - Y||²."""
    A, W, Y = mixed_sign_inputs(m, n, n, seed=seed)
    def f_of_Z(Z):
        return ((torch.relu(Z) - Y) ** 2).sum()

    dA, dW = _autograd(lambda a, w: f_of_Z(a + a @ w), A, W)
    G = _autograd(f_of_Z, A + A @ W)[0]
    assert torch.allclose(dA, G + G @ W.T, rtol=1e-12, atol=1e-12)
    assert torch.allclose(dW, A.T @ G, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(dA, G @ W.T)   # the copy's term is really there
