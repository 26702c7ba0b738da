"""Benchmark (not a test): what backward costs for the layer A = max(XW, 0), autograd's beside the hand backward
(relugrad.cost: a custom torch.autograd.Function saving a Boolean mask, or packed bits), from tiny to large sizes.
Prints each ratio to autograd's time with its 95 % interval and the noise floor of an A/A pair (autograd timed
against itself), and writes relugrad/data/backward_cost.json, the measurements the cost chapter's notebook plots
(timings change from run to run; the book's pages must not, so they read this file instead of timing at build).

Each round runs every variant once, in an order shuffled anew every round, so that no variant always runs first or
right after another; a ratio is the median over the rounds of a variant's time over its reference's time in the same
round, with a bootstrap interval (relugrad.cost.summarise).

Run it with `python3 book.py bench --backward`, or `.venv/bin/python tests/benchmark_backward.py [--device cuda]`;
`--sizes 8 64 --seconds 0.2 --output /tmp/b.json` is a quick trial that leaves the book's data alone.
"""

import argparse
import datetime
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from relugrad.cost import DATA, LAYERS, extra_saved_bytes, summarise, verdict  # noqa: E402

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]   # m = k = n
SECONDS_PER_VARIANT = 3.0    # per size: rounds until each variant has run about this long
MIN_ROUNDS, MAX_ROUNDS = 30, 400
MASK_PASS_SIZE = 1024
REFERENCE = "backward, autograd"
A_A = "backward, autograd, again"     # the same variant a second time: its ratio is the noise floor
SHORT = {"indistinguishable": "same", "slower": "slower", "faster": "faster"}


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
    threads = torch.get_num_threads()
    return f"{name}, {threads} thread{'s' if threads > 1 else ''} ({os.cpu_count()} logical CPUs)"


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


def time_call(run, device) -> float:
    synchronize(device)
    start = time.perf_counter()
    result = run()
    synchronize(device)
    seconds = time.perf_counter() - start
    del result
    return seconds


def rounds(runs: dict, count: int, shuffle: random.Random) -> dict:
    """Times of `count` rounds; each round runs every variant once, in a newly shuffled order."""
    times = {name: [] for name in runs}
    names = list(runs)
    for _ in range(count):
        shuffle.shuffle(names)
        for name in names:
            times[name].append(runs[name]())
    return times


def summaries(times: dict, pairs: dict) -> dict:
    return {name: summarise(times[name], times[reference], reference) for name, reference in pairs.items()}


def mask_passes(size: int, device: torch.device, dtype: torch.dtype, count: int, shuffle: random.Random) -> dict:
    """The one element-wise pass of each backward: autograd's ReLU backward (select U where A > 0) against G = U * mask
    on the Boolean mask and on the same bytes read as int8 (what relugrad.cost.apply_mask does), and the two
    conversions of the mask to float that these products contain."""
    generator = torch.Generator().manual_seed(size)
    U, Z = (torch.randn(size, size, generator=generator, dtype=dtype).to(device) for _ in range(2))
    A, mask = torch.relu(Z), Z > 0
    passes = {"autograd's ReLU backward": lambda: torch.ops.aten.threshold_backward(U, A, 0),
              "autograd's ReLU backward, again": lambda: torch.ops.aten.threshold_backward(U, A, 0),
              "U * mask, Boolean": lambda: U * mask,
              "U * mask, read as int8": lambda: U * mask.view(torch.int8),
              "mask to float, Boolean": lambda: mask.to(dtype),
              "mask to float, read as int8": lambda: mask.view(torch.int8).to(dtype)}
    runs = {name: (lambda run=run: time_call(run, device)) for name, run in passes.items()}
    for run in runs.values():
        run(), run()
    times = rounds(runs, count, shuffle)
    base = "autograd's ReLU backward"
    pairs = {name: base for name in passes if name != base}
    pairs["mask to float: Boolean over int8"] = "mask to float, read as int8"
    times["mask to float: Boolean over int8"] = times["mask to float, Boolean"]
    return {"size": size, "rounds": count,
            "seconds": {name: min(times[name]) for name in passes},
            "ratios": summaries(times, pairs)}


def measure(size: int, device: torch.device, dtype: torch.dtype, seconds: float, shuffle: random.Random) -> dict:
    generator = torch.Generator().manual_seed(size)
    X, W, U = (torch.randn(size, size, generator=generator, dtype=dtype).to(device) for _ in range(3))
    X.requires_grad_(True)
    W.requires_grad_(True)
    X_fixed = X.detach()                          # the first layer: its input needs no gradient
    runs = {f"backward, {name}": (lambda layer=layer: time_backward(layer, X, W, U, device))
            for name, layer in LAYERS.items()}
    runs[A_A] = runs[REFERENCE]
    for name in ("autograd", "hand, Boolean mask"):
        runs[f"backward without dX, {name}"] = lambda layer=LAYERS[name]: time_backward(layer, X_fixed, W, U, device)
    runs["forward, autograd"] = lambda: time_call(lambda: LAYERS["autograd"](X, W), device)
    for run in runs.values():                     # warm up: first calls allocate and pick kernels
        run(), run()
    estimate = max(min(run() for _ in range(3)) for run in runs.values())
    count = int(min(MAX_ROUNDS, max(MIN_ROUNDS, seconds / max(estimate, 1e-9))))
    times = rounds(runs, count, shuffle)
    pairs = {name: REFERENCE for name in runs if name.startswith("backward, ") and name != REFERENCE}
    pairs["backward without dX, hand, Boolean mask"] = "backward without dX, autograd"
    pairs["backward, autograd over forward"] = "forward, autograd"
    times["backward, autograd over forward"] = times[REFERENCE]
    return {"size": size, "rounds": count,
            "seconds": {name: min(times[name]) for name in runs},
            "ratios": summaries(times, pairs),
            "extra_saved_bytes": {name: extra_saved_bytes(layer, X, W) for name, layer in LAYERS.items()}}


def interval(summary: dict) -> str:
    low, high = summary["interval"]
    return f"{summary['median']:.3f} [{low:.3f}, {high:.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="m = k = n of each measurement")
    parser.add_argument("--seconds", type=float, default=SECONDS_PER_VARIANT,
                        help=f"per size, about how long each variant runs in all (default {SECONDS_PER_VARIANT}); "
                             f"rounds between {MIN_ROUNDS} and {MAX_ROUNDS}")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads PyTorch uses (default 1: on a small machine shared with other work, more "
                             "threads measure the other work as much as the layer)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the order of the variants in each round")
    parser.add_argument("--output", type=Path, default=ROOT / "relugrad" / "data" / DATA,
                        help="where to write the measurements (default: the file the book reads)")
    args = parser.parse_args()
    if min(args.sizes) < 1 or args.seconds <= 0 or args.threads < 1:
        parser.error("sizes and threads must be positive integers and seconds a positive number")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: run without --device for the CPU table", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    dtype = torch.float32
    shuffle = random.Random(args.seed)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"{machine(device)}; torch {torch.__version__}; {dtype}; the order shuffled every round")
    print("ratios to autograd's backward: median of the per-round ratios [95 % bootstrap interval]")
    print(f"{'m=k=n':>6} {'rounds':>6} {'forward':>10} {'backward':>10} {'A/A (noise floor)':>24} "
          f"{'hand, Boolean mask':>30} {'hand, packed bits':>30} {'no dX: hand':>30}")
    rows = []
    for size in args.sizes:
        row = measure(size, device, dtype, args.seconds, shuffle)
        rows.append(row)
        s, r = row["seconds"], row["ratios"]
        floor = r[A_A]["interval"]
        cells = [f"{interval(r[name])} {SHORT[verdict(r[name]['interval'], floor)]}" for name in
                 ("backward, hand, Boolean mask", "backward, hand, packed bits",
                  "backward without dX, hand, Boolean mask")]
        print(f"{size:6d} {row['rounds']:6d} {s['forward, autograd'] * 1e6:8.0f}µs {s[REFERENCE] * 1e6:8.0f}µs "
              f"{interval(r[A_A]):>24} " + " ".join(f"{cell:>30}" for cell in cells), flush=True)
    print("times: the best of the rounds; 'same' = indistinguishable from autograd (the interval contains 1 or "
          "overlaps the A/A pair's)")
    passes = mask_passes(MASK_PASS_SIZE, device, dtype, 200, shuffle)
    print(f"the mask pass at m = n = {MASK_PASS_SIZE}, against autograd's ReLU backward: " + ", ".join(
        f"{name} {interval(summary)}" for name, summary in passes["ratios"].items()))
    result = {
        "machine": machine(device), "device": device.type, "threads": torch.get_num_threads(),
        "dtype": str(dtype).removeprefix("torch."), "torch": torch.__version__, "python": platform.python_version(),
        "date": datetime.date.today().isoformat(), "load_average_at_start": load,
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "command": " ".join(["tests/benchmark_backward.py", *sys.argv[1:]]),
        "statistic": "seconds: the best of the rounds; each round runs every variant once, in an order shuffled "
                     "every round; ratios: the median over the rounds of a variant's time over its reference's in "
                     "the same round, a 95 % percentile bootstrap interval of that median, and the quartiles of the "
                     "single rounds' ratios; 'backward, autograd, again' over 'backward, autograd' is the A/A pair, "
                     "the noise floor",
        "rows": rows, "mask_pass": passes,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
