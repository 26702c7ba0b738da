"""Benchmark (not a test): what backward costs for the layer A = max(XW, 0), autograd's beside the hand backward
(relugrad.cost: a custom torch.autograd.Function saving a Boolean mask, or packed bits), measured side by side in
one run, from tiny to large sizes. Prints the table with its ratios and the book's targets, and writes
relugrad/data/backward_cost.json, the measurements the cost chapter's notebook plots (timings change from run to
run; the book's pages must not, so they read this file instead of timing at build).

Run it with `python3 book.py bench --backward`, or `.venv/bin/python tests/benchmark_backward.py [--device cuda]`.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from relugrad.cost import DATA, LAYERS, saved_tensors  # noqa: E402

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]   # m = k = n
SECONDS_PER_VARIANT = 3.0    # per size: repetitions until each variant has run about this long
MIN_REPEATS, MAX_REPEATS = 15, 400
TARGET_FROM = 256             # where the matrix products dominate: hand backward <= 1.0 x autograd's
MEMORY_TARGET = 4             # autograd's extra saved bytes over the Boolean mask's


def machine(device: torch.device) -> str:
    """The processor (or GPU), as the operating system names it, with the threads PyTorch uses."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {torch.get_num_threads()} threads ({os.cpu_count()} logical CPUs)"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_backward(layer, X, W, U, device) -> float:
    """Seconds for one backward of layer(X, W) with upstream gradient U (the forward is not timed)."""
    A = layer(X, W)
    inputs = [t for t in (X, W) if t.requires_grad]
    synchronize(device)
    start = time.perf_counter()
    torch.autograd.grad(A, inputs, U)
    synchronize(device)
    return time.perf_counter() - start


def time_forward(layer, X, W, device) -> float:
    synchronize(device)
    start = time.perf_counter()
    A = layer(X, W)
    synchronize(device)
    seconds = time.perf_counter() - start
    del A
    return seconds


MASK_PASS_SIZE = 1024


def mask_passes(size: int, device: torch.device, dtype: torch.dtype) -> dict:
    """Seconds for the one element-wise pass of each backward: autograd's ReLU backward (select U where A > 0) against
    G = U * mask on the Boolean mask, and on the same bytes read as int8 (what relugrad.cost.apply_mask does)."""
    generator = torch.Generator().manual_seed(size)
    U, Z = (torch.randn(size, size, generator=generator, dtype=dtype).to(device) for _ in range(2))
    A, mask = torch.relu(Z), Z > 0
    passes = {"autograd's ReLU backward": lambda: torch.ops.aten.threshold_backward(U, A, 0),
              "U * mask, Boolean": lambda: U * mask,
              "U * mask, read as int8": lambda: U * mask.view(torch.int8)}
    times = {name: [] for name in passes}
    for _ in range(3):
        for run in passes.values():
            run()
    for _ in range(200):
        for name, run in passes.items():
            synchronize(device)
            start = time.perf_counter()
            run()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    base = times["autograd's ReLU backward"]
    return {"size": size, "seconds": {name: min(values) for name, values in times.items()},
            "paired_ratios": {name: statistics.median(a / b for a, b in zip(values, base))
                              for name, values in times.items()}}


def measure(size: int, device: torch.device, dtype: torch.dtype) -> dict:
    generator = torch.Generator().manual_seed(size)
    X, W, U = (torch.randn(size, size, generator=generator, dtype=dtype).to(device) for _ in range(3))
    X.requires_grad_(True)
    W.requires_grad_(True)
    X_fixed = X.detach()                          # the first layer: its input needs no gradient
    runs = {f"backward, {name}": (lambda layer=layer: time_backward(layer, X, W, U, device))
            for name, layer in LAYERS.items()}
    for name in ("autograd", "hand, Boolean mask"):
        runs[f"backward without dX, {name}"] = lambda layer=LAYERS[name]: time_backward(layer, X_fixed, W, U, device)
    runs["forward, autograd"] = lambda: time_forward(LAYERS["autograd"], X, W, device)
    for run in runs.values():                     # warm up: first calls allocate and pick kernels
        run(), run()
    estimate = max(statistics.median(run() for _ in range(3)) for run in runs.values())
    repeats = int(min(MAX_REPEATS, max(MIN_REPEATS, SECONDS_PER_VARIANT / max(estimate, 1e-9))))
    times = {name: [] for name in runs}
    for _ in range(repeats):                      # interleaved: a disturbance hits every variant alike
        for name, run in runs.items():
            times[name].append(run())
    saved = {name: sum(entry["bytes"] for entry in saved_tensors(layer, X, W) if not entry["input"])
             for name, layer in LAYERS.items()}
    # A ratio from times measured one right after the other, in the same round: a burst of load from elsewhere on
    # a shared machine slows both; the median over the rounds then ignores the rounds that were hit unevenly.
    pairs = {name: "backward, autograd" for name in runs if name.startswith("backward, ")}
    pairs.update({name: "backward without dX, autograd" for name in runs if name.startswith("backward without")})
    pairs["backward, autograd over forward"] = None
    ratios = {}
    for name, reference in pairs.items():
        if reference is None:
            numerator, denominator = times["backward, autograd"], times["forward, autograd"]
        else:
            numerator, denominator = times[name], times[reference]
        ratios[name] = statistics.median(a / b for a, b in zip(numerator, denominator))
    return {"size": size, "repeats": repeats,
            "seconds": {name: min(values) for name, values in times.items()},
            "median_seconds": {name: statistics.median(values) for name, values in times.items()},
            "paired_ratios": ratios,
            "extra_saved_bytes": saved}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES, help="m = k = n of each measurement")
    parser.add_argument("--output", type=Path, default=ROOT / "relugrad" / "data" / DATA,
                        help="where to write the measurements (default: the file the book reads)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: run without --device for the CPU table", file=sys.stderr)
        return 2
    dtype = torch.float32
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"{machine(device)}; torch {torch.__version__}; {dtype}; best of the repetitions, interleaved")
    print(f"{'m=k=n':>6} {'reps':>5} {'forward':>10} {'backward':>10} {'bwd/fwd':>8} "
          f"{'hand (bool)':>12} {'ratio':>6} {'hand (bits)':>12} {'ratio':>6} "
          f"{'no dX: auto':>12} {'hand':>10} {'ratio':>6} {'saved A':>10} {'bool':>9} {'bits':>9}")
    rows = []
    for size in args.sizes:
        row = measure(size, device, dtype)
        rows.append(row)
        s, r, saved = row["seconds"], row["paired_ratios"], row["extra_saved_bytes"]
        print(f"{size:6d} {row['repeats']:5d} {s['forward, autograd'] * 1e6:8.0f}µs "
              f"{s['backward, autograd'] * 1e6:8.0f}µs {r['backward, autograd over forward']:8.2f} "
              f"{s['backward, hand, Boolean mask'] * 1e6:10.0f}µs {r['backward, hand, Boolean mask']:6.3f} "
              f"{s['backward, hand, packed bits'] * 1e6:10.0f}µs {r['backward, hand, packed bits']:6.3f} "
              f"{s['backward without dX, autograd'] * 1e6:10.0f}µs "
              f"{s['backward without dX, hand, Boolean mask'] * 1e6:8.0f}µs "
              f"{r['backward without dX, hand, Boolean mask']:6.3f} "
              f"{saved['autograd']:10,d} {saved['hand, Boolean mask']:9,d} {saved['hand, packed bits']:9,d}",
              flush=True)
    print("times: the best of the repetitions; ratios: the median over the repetitions of two times measured one "
          "right after the other")
    large = [row for row in rows if row["size"] >= TARGET_FROM]
    if large:
        worst = max(row["paired_ratios"]["backward, hand, Boolean mask"] for row in large)
        print(f"target: hand backward (Boolean mask) <= 1.0 x autograd's for m, k, n >= {TARGET_FROM}: "
              f"worst ratio {worst:.3f} ({'met' if worst <= 1.0 else 'NOT met'})")
    memory = min(row["extra_saved_bytes"]["autograd"] / row["extra_saved_bytes"]["hand, Boolean mask"]
                 for row in rows)
    bits = min(row["extra_saved_bytes"]["autograd"] / row["extra_saved_bytes"]["hand, packed bits"] for row in rows)
    print(f"target: memory saved for the mask >= {MEMORY_TARGET} x smaller than autograd's: Boolean mask "
          f"{memory:.1f} x, packed bits {bits:.1f} x ({'met' if memory >= MEMORY_TARGET else 'NOT met'})")
    passes = mask_passes(MASK_PASS_SIZE, device, dtype)
    print(f"the mask pass at m = n = {MASK_PASS_SIZE}: " + ", ".join(
        f"{name} {seconds * 1e6:.0f}µs ({passes['paired_ratios'][name]:.2f} x)"
        for name, seconds in passes["seconds"].items()))
    result = {
        "machine": machine(device), "device": device.type, "dtype": str(dtype).removeprefix("torch."),
        "torch": torch.__version__, "python": platform.python_version(),
        "date": datetime.date.today().isoformat(), "load_average_at_start": load,
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "statistic": "seconds: the best of the repetitions (variants interleaved), median_seconds beside it; "
                     "paired_ratios: the median over the repetitions of a variant's time over its reference's in "
                     "the same repetition",
        "rows": rows, "mask_pass": passes,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
