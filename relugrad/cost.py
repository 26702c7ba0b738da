"""What backward costs: the layer A = max(XW, 0) with the hand backward as a custom torch.autograd.Function that
saves a Boolean mask (1 byte an entry) or packed bits (1 bit an entry), beside autograd's, which saves the float
output A to rebuild the mask; and a way to see what each saves (torch.autograd.graph.saved_tensors_hooks).

The measured times the book quotes come from tests/benchmark_backward.py, which writes them to
relugrad/data/backward_cost.json (read here by `measured_times`): timing changes from run to run, and the book's
pages must not.
"""

import json
from importlib import resources

import torch


def apply_mask(U: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """G = U ⊙ M for a Boolean mask M, in one vectorised pass: the mask's bytes read as int8 (0 or 1), which PyTorch
    multiplies into a float tensor in about the time autograd's ReLU backward takes to select from A. (`U * mask` on the Boolean
    tensor itself computes the same G, but converts each entry on the way, which is several times slower:
    tests/benchmark_backward.py measures the three ways.)"""
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


def extra_saved_bytes(layer, X: torch.Tensor, W: torch.Tensor) -> int:
    """Bytes kept alive only for backward: everything saved that is not an input (A, the mask, or the bits)."""
    return sum(entry["bytes"] for entry in saved_tensors(layer, X, W) if not entry["input"])


def network_extra_saved_bytes(layer, X: torch.Tensor, weights: list[torch.Tensor]) -> int:
    """As extra_saved_bytes, for a stack A_l = layer(A_{l-1}, W_l) with A_0 = X: every distinct storage saved for
    backward that is not X or a weight. A storage that two operations save (autograd's ReLU output, which the next
    matrix product saves as its input) counts once."""
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        A = X
        for W in weights:
            A = layer(A, W)
    inputs = {t.untyped_storage().data_ptr() for t in (X, *weights)}
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in saved}
    return sum(size for pointer, size in storages.items() if pointer not in inputs)


DATA = "backward_cost.json"


def measured_times() -> dict:
    """The committed measurements of tests/benchmark_backward.py: machine, date, and the times per size."""
    return json.loads(resources.files("relugrad").joinpath("data", DATA).read_text())
