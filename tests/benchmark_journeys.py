"""Benchmark (not a test): how long a reader waits for each notebook in each environment, and what the Binder
environment costs to make. Run it with `python3 book.py bench --notebooks` (or `.venv/bin/python` on this file).

Environments, made as tests/journeys.py makes them for the tests:
- the book's build: this .venv, which builds the site (Sphinx, Jupyter Book, myst-nb, ...);
- Binder: a fresh environment from binder/ (Python from runtime.txt, `pip install -r binder/requirements.txt`);
- Colab: torch, numpy, matplotlib and ipykernel only; every run starts without the helper package, as a fresh
  Colab runtime does, so its set-up cell installs it (from a local clone, in place of GitHub).
The notebooks run in order, `--passes` times (3 unless told): the first pass is a fresh session (matplotlib's
font cache is built by the first notebook that plots); of the later, warm passes the best is printed, which is the
least disturbed by whatever else this 2-core machine is running. Times run from the kernel's start to the last
cell's end.

`--before REV` also makes the Binder environment of a past revision (with Python 3.11 when that revision names
none, where repo2docker's default 3.10 cannot install it) and prints its size and install time beside today's.
"""

import argparse
import datetime
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

import journeys
from journeys import NOTEBOOKS, ROOT


def cell_seconds(cell) -> float:
    """A cell's run time, from the timing nbclient records in its metadata."""
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def run_notebooks(environment, clone: Path, scratch: Path, colab: bool, passes: int) -> dict:
    """{(notebook, pass): (seconds, set-up cell seconds)}."""
    results = {}
    for run in range(1, passes + 1):
        for path in sorted((clone / "notebooks").glob("*.ipynb")):
            notebook = nbformat.read(clone / "notebooks" / path.name, as_version=4)
            folder = clone / "notebooks"
            if colab:
                if environment.can_import("relugrad"):
                    environment.pip_uninstall("relugrad")
                notebook = journeys.from_clone(notebook, clone)
                folder = Path(tempfile.mkdtemp(dir=scratch))
            seconds = environment.execute(notebook, folder)
            problems = journeys.errors(notebook)
            if problems:
                sys.exit(f"{path.name} failed in {environment.name}: {problems}")
            setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
            results[path.name, run] = (seconds, cell_seconds(setup))
            print(f"  {environment.name:12s} {path.name:32s} pass {run}: {seconds:5.1f} s", flush=True)
    return results


def mib(size: int) -> str:
    return f"{size / 2**20:6.0f} MiB ({size / 1e9:.2f} GB)"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", metavar="REV", help="also measure the Binder environment of this revision")
    parser.add_argument("--passes", type=int, default=3, help="runs of every notebook in every environment (>= 2)")
    args = parser.parse_args()
    if args.passes < 2:
        parser.error("--passes must be at least 2: one fresh, one or more warm")

    with tempfile.TemporaryDirectory(prefix="journeys-bench-") as scratch:
        scratch = Path(scratch)
        clone = journeys.make_clone(scratch / "clone")
        made = {}
        if args.before:
            old = journeys.make_clone(scratch / "before-clone", revision=args.before)
            version = journeys.runtime_python(old)
            if version == journeys.REPO2DOCKER_DEFAULT_PYTHON:
                print(f"{args.before}: no binder/runtime.txt, so repo2docker would use Python {version}; "
                      "measured with 3.11", flush=True)
                version = "3.11"
            before = journeys.binder_environment(old, scratch / "before-env", python_version=version)
            before.name = f"Binder {args.before[:7]}"
            made[before.name] = (before.install_seconds, before.size_bytes())
        print("making the Binder and Colab environments ...", flush=True)
        binder = journeys.binder_environment(clone, scratch / "binder-env")
        made["Binder"] = (binder.install_seconds, binder.size_bytes())
        colab = journeys.colab_environment(scratch / "colab-env")
        made["Colab"] = (colab.install_seconds, colab.size_bytes())
        book = journeys.Environment("book's build", ROOT / ".venv")

        times = {}
        if args.before:   # the revision's own notebooks, in its own Binder environment
            times[before.name] = run_notebooks(before, old, scratch, colab=False, passes=args.passes)
            shutil.rmtree(before.prefix)
        for environment, is_colab in ((book, False), (binder, False), (colab, True)):
            times[environment.name] = run_notebooks(environment, clone, scratch, is_colab, passes=args.passes)

    print("\nenvironment             install     size on disk")
    for name, (seconds, size) in made.items():
        print(f"{name:22s} {seconds:6.1f} s   {mib(size)}")
    print(f"{'book (.venv)':22s} {'':8s}   {mib(book.size_bytes())}")

    names = list(times)
    print("\nseconds from the kernel's start to the last cell's end: first pass (fresh session) / best warm pass")
    print(f"{'notebook':32s} " + " ".join(f"{name:>16s}" for name in names))
    for path in NOTEBOOKS:
        row = []
        for name in names:
            if (path.name, 1) not in times[name]:
                row.append("-")
                continue
            (first, setup) = times[name][path.name, 1]
            best = min(times[name][path.name, run][0] for run in range(2, args.passes + 1))
            row.append(f"{first:5.1f} / {best:4.1f}" + (f" ({setup:.1f})" if name == "Colab" else "      "))
        print(f"{path.name:32s} " + " ".join(f"{cell:>16s}" for cell in row))
    print("(Colab: in brackets, the set-up cell's share, which installs the helper package from the repository)")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\nbenchmark took {time.perf_counter() - start:.0f} s")
