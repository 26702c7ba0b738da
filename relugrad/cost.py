"""What backward costs: the layer A = max(XW, 0) with the hand backward as a custom torch.autograd.Function that
saves a Boolean mask (1 byte an entry) or packed bits (1 bit an entry), beside autograd's, which saves the float
output A to rebuild the mask; a way to see what each saves (torch.autograd.graph.saved_tensors_hooks); and the
statistics the backward benchmark reports (paired ratios, their bootstrap interval, and a verdict against the
noise floor of an A/A pair).

The measured times the book quotes come from tests/benchmark_backward.py, which writes them to
relugrad/data/backward_cost.json (read here by `measured_times`): timing changes from run to run, and the book's
pages must not.
"""

import json
import random
import re
import statistics
from importlib import resources

import torch


def apply_mask(U: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """G = U ⊙ M for a Boolean mask M, in one vectorised pass, with the mask's bytes read as int8 (0 or 1). Both
    `U * mask` and this convert the mask to float on the way; PyTorch's conversion from bool is the slower kernel
    on CPU (tests/benchmark_backward.py times both conversions and both products)."""
    return U * mask.view(torch.int8)


class LinearReLU(torch.autograd.Function):
    """A = max(XW, 0), backward by hand: G = U ⊙ M, dX = GWᵀ, dW = XᵀG, where U = ∂f/∂A arrives from above.

    Saves X, W and the mask M = 1[Z > 0] as a Boolean tensor: 1 byte an entry, where autograd keeps A (4 in float32).
    """

    @staticmethod
    def forward(ctx, X, W):
        Z = X @ W
        mask = Z > 0
        ctx.save_for_backward(X, W, mask)
        return Z.relu_()                                  # Z is ours: no copy for A

    @staticmethod
    def backward(ctx, U):
        X, W, mask = ctx.saved_tensors
        G = apply_mask(U, mask)
        dX = torch.mm(G, W.t()) if ctx.needs_input_grad[0] else None
        dW = torch.mm(X.t(), G) if ctx.needs_input_grad[1] else None
        return dX, dW


_SHIFTS = torch.arange(8, dtype=torch.uint8)


def pack_bits(mask: torch.Tensor) -> torch.Tensor:
    """A Boolean tensor as bits, eight entries to a byte (the last byte padded with zeros)."""
    flat = mask.reshape(-1)
    padding = (-flat.numel()) % 8
    if padding:
        flat = torch.cat([flat, flat.new_zeros(padding)])
    return (flat.view(-1, 8).to(torch.uint8) << _SHIFTS.to(flat.device)).sum(dim=1, dtype=torch.uint8)


def _unpacked_bytes(packed: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """One byte (0 or 1) per entry of `shape`, from pack_bits' bits."""
    bits = (packed[:, None] >> _SHIFTS.to(packed.device)) & 1
    return bits.reshape(-1)[:shape.numel()].reshape(shape)


def unpack_bits(packed: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The inverse of pack_bits: the Boolean tensor of `shape`."""
    return _unpacked_bytes(packed, torch.Size(shape)).bool()


class LinearReLUPackedBits(torch.autograd.Function):
    """As LinearReLU, but the mask is saved as packed bits: 1/8 byte an entry, 32 times less than a float32 A."""

    @staticmethod
    def forward(ctx, X, W):
        Z = X @ W
        packed = pack_bits(Z > 0)
        ctx.save_for_backward(X, W, packed)
        ctx.shape = Z.shape
        return Z.relu_()

    @staticmethod
    def backward(ctx, U):
        X, W, packed = ctx.saved_tensors
        G = apply_mask(U, _unpacked_bytes(packed, ctx.shape))
        dX = torch.mm(G, W.t()) if ctx.needs_input_grad[0] else None
        dW = torch.mm(X.t(), G) if ctx.needs_input_grad[1] else None
        return dX, dW


def autograd_layer(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """The same layer as autograd records it: mm (saves X and W as needed), then relu (saves its output A)."""
    return torch.relu(X @ W)


LAYERS = {"autograd": autograd_layer, "hand, Boolean mask": LinearReLU.apply,
          "hand, packed bits": LinearReLUPackedBits.apply}


def saved_tensors(layer, X: torch.Tensor, W: torch.Tensor) -> list[dict]:
    """What `layer(X, W)` saves for backward, one entry per distinct storage: its shape, dtype, bytes, and whether it
    is one of the inputs (which exist anyway) or new memory kept alive only for backward."""
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        output = layer(X, W)
    inputs = {X.untyped_storage().data_ptr(), W.untyped_storage().data_ptr()}
    found = {}
    for tensor in saved:
        storage = tensor.untyped_storage()
        found.setdefault(storage.data_ptr(), {
            "shape": tuple(tensor.shape), "dtype": str(tensor.dtype).removeprefix("torch."),
            "bytes": storage.nbytes(), "input": storage.data_ptr() in inputs})
    del output
    return list(found.values())


def saved_bytes(run, *existing: torch.Tensor) -> int:
    """Bytes that `run()` keeps alive for backward: every distinct storage its operations save, seen by
    saved_tensors_hooks and counted once (a storage two operations save, such as autograd's ReLU output that the
    next matrix product or the loss saves as its input, counts once), less the storages of `existing` (inputs,
    weights, targets: they exist anyway)."""
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run()
    inputs = {t.untyped_storage().data_ptr() for t in existing}
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in saved}
    return sum(size for pointer, size in storages.items() if pointer not in inputs)


def extra_saved_bytes(layer, X: torch.Tensor, W: torch.Tensor) -> int:
    """Bytes kept alive only for backward: everything saved that is not an input (A, the mask, or the bits)."""
    return saved_bytes(lambda: layer(X, W), X, W)


def network_extra_saved_bytes(layer, X: torch.Tensor, weights: list[torch.Tensor]) -> int:
    """As extra_saved_bytes, for a stack A_l = layer(A_{l-1}, W_l) with A_0 = X: every distinct storage saved for
    backward that is not X or a weight."""
    def stack():
        A = X
        for W in weights:
            A = layer(A, W)
        return A
    return saved_bytes(stack, X, *weights)


def loss_extra_saved_bytes(layer, loss, X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> int:
    """As extra_saved_bytes, for loss(layer(X, W), Y): what the layer and the loss keep, beyond X, W and Y."""
    return saved_bytes(lambda: loss(layer(X, W), Y), X, W, Y)


# Statistics of the backward benchmark: each round times every variant once (in an order shuffled every round),
# and a variant is compared with its reference through the ratios of their times in the same rounds.

def paired_ratios(times: list[float], reference: list[float]) -> list[float]:
    """Each round's time of a variant over its reference's time in the same round."""
    if len(times) != len(reference) or not times:
        raise ValueError(f"paired times need the same, non-zero number of rounds: got {len(times)} and "
                         f"{len(reference)}")
    if min(reference) <= 0:
        raise ValueError("a reference time is zero or negative: times must be positive seconds")
    return [a / b for a, b in zip(times, reference)]


def median_interval(values: list[float], confidence: float = 0.95, resamples: int = 2000,
                    seed: int = 0) -> tuple[float, float, float]:
    """The median of `values` and a percentile bootstrap interval for it: the rounds drawn again with replacement,
    `resamples` times (seeded, so the same values give the same interval)."""
    if len(values) < 2:
        raise ValueError(f"an interval needs at least 2 values, got {len(values)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    generator = random.Random(seed)
    medians = sorted(statistics.median(generator.choices(values, k=len(values))) for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = medians[int(tail * (resamples - 1))]
    high = medians[int(round((1 - tail) * (resamples - 1)))]
    return statistics.median(values), low, high


def summarise(times: list[float], reference: list[float], reference_name: str, seed: int = 0) -> dict:
    """A variant against its reference: the median paired ratio, its 95 % bootstrap interval, and the quartiles of
    the single rounds' ratios (their spread)."""
    ratios = paired_ratios(times, reference)
    median, low, high = median_interval(ratios, seed=seed)
    quartiles = statistics.quantiles(ratios, n=4)
    return {"reference": reference_name, "median": median, "interval": [low, high],
            "quartiles": [quartiles[0], quartiles[2]], "rounds": len(ratios)}


def verdict(interval, floor) -> str:
    """'indistinguishable' when a ratio's interval contains 1 or overlaps the A/A pair's interval `floor` (the noise
    of the measurement), else 'slower' or 'faster'."""
    (low, high), (floor_low, floor_high) = interval, floor
    if low > high or floor_low > floor_high:
        raise ValueError(f"an interval runs from its low end to its high end: got {interval} and {floor}")
    if low <= 1 <= high or (low <= floor_high and floor_low <= high):
        return "indistinguishable"
    return "slower" if low > 1 else "faster"


# A verdict as the prose says it, in each language of the book (relugrad.notebook.LANGUAGES).
VERDICT_WORDS = {"indistinguishable": {"en": "indistinguishable from autograd", "zh_CN": "与 autograd 无法区分"},
                 "slower": {"en": "slower than autograd", "zh_CN": "比 autograd 慢"},
                 "faster": {"en": "faster than autograd", "zh_CN": "比 autograd 快"}}


def verdicts_in_words(sizes_by_verdict: dict[str, list[int]]) -> dict[str, str]:
    """The verdicts at the sizes m = k = n each holds at (in the order given), as the end of a sentence that begins
    "the hand backward was", in each language: "slower than autograd at every one of these sizes", or "slower than
    autograd at m = k = n = 256, 512 and 1024, and indistinguishable from autograd at 2048"."""
    if not sizes_by_verdict or not all(sizes_by_verdict.values()):
        raise ValueError(f"each verdict needs the sizes it holds at; got {sizes_by_verdict!r}")

    def listed(sizes, comma, last):
        sizes = [str(size) for size in sizes]
        return sizes[0] if len(sizes) == 1 else comma.join(sizes[:-1]) + last + sizes[-1]

    if len(sizes_by_verdict) == 1:
        (word,) = sizes_by_verdict
        return {"en": f"{VERDICT_WORDS[word]['en']} at every one of these sizes",
                "zh_CN": f"在所有这些规模上都{VERDICT_WORDS[word]['zh_CN']}"}
    english = [f"{VERDICT_WORDS[word]['en']} at {listed(sizes, ', ', ' and ')}"
               for word, sizes in sizes_by_verdict.items()]
    chinese = [f"在 {listed(sizes, '、', ' 和 ')} 时{VERDICT_WORDS[word]['zh_CN']}"
               for word, sizes in sizes_by_verdict.items()]
    return {"en": ", and ".join(english).replace(" at ", " at m = k = n = ", 1),
            "zh_CN": "，".join(chinese).replace("在 ", "在 m = k = n = ", 1)}


def machine_in_words(machine: str) -> dict[str, str]:
    """The machine as tests/benchmark_backward.py names it ("<processor>, 2 threads (4 logical CPUs)", or a GPU's
    name and its CUDA version), in each language."""
    cpu = re.fullmatch(r"(.+), (\d+) threads? \((\d+) logical CPUs\)", machine)
    if not cpu:
        return {"en": machine, "zh_CN": machine}
    name, threads, logical = cpu.groups()
    return {"en": machine, "zh_CN": f"{name}（使用 {threads} 个线程，共 {logical} 个逻辑 CPU）"}


DATA = "backward_cost.json"


def measured_times() -> dict:
    """The committed measurements of tests/benchmark_backward.py: machine, date, and the times per size."""
    return json.loads(resources.files("relugrad").joinpath("data", DATA).read_text())
