#!/usr/bin/env python3
"""The book's two commands (Python 3.11+ is all they need):

    python3 book.py build   # create .venv if missing, install requirements.txt, execute the notebooks, write _build/html
    python3 book.py test    # the same environment plus test tools, Chromium if missing, then the whole test suite

and `python3 book.py bench`, which measures the site and the build (see README).
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
BUILD = ROOT / "_build"
JUPYTER_CACHE = BUILD / ".jupyter_cache"
HELPER_STAMP = BUILD / ".relugrad-digest"


def _digest(paths) -> str:
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(path.read_bytes())
    return sha.hexdigest()


def ensure_environment(requirements: str) -> None:
    """Create .venv if missing and (re)install `requirements` whenever it, or what it includes, changed."""
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    inputs = [ROOT / name for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml")]
    stamp = VENV / f".installed-{requirements}"
    digest = _digest(inputs)
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing {requirements} into {VENV}", flush=True)
    subprocess.run([BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([BIN / "python", "-m", "pip", "install", "--quiet", "-r", ROOT / requirements], check=True, cwd=ROOT)
    stamp.write_text(digest)


def build_site(clean: bool = False) -> int:
    """Execute the notebooks and write _build/html; fails on any warning or notebook error."""
    ensure_environment("requirements.txt")
    helper_digest = _digest((ROOT / "relugrad").glob("*.py"))
    if clean:
        shutil.rmtree(BUILD, ignore_errors=True)
    elif not HELPER_STAMP.exists() or HELPER_STAMP.read_text() != helper_digest:
        # The execution cache keys on notebook code only: re-run them all when the helper package changes.
        shutil.rmtree(JUPYTER_CACHE, ignore_errors=True)
    command = [BIN / "jupyter-book", "build", ROOT, "--warningiserror", "--nitpick", "--keep-going"]
    code = subprocess.run(command, cwd=ROOT).returncode
    if code == 0:
        HELPER_STAMP.write_text(helper_digest)
    return code


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it with apt when missing and allowed."""
    if Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    else:
        sys.exit("The browser tests need Debian's Chromium: sudo apt-get install -y chromium")


def run_tests(pytest_args) -> int:
    ensure_environment("requirements-dev.txt")
    ensure_chromium()
    return subprocess.run([BIN / "python", "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def run_benchmark(notebooks: bool = False) -> int:
    ensure_environment("requirements-dev.txt")
    if notebooks:   # each notebook's run time in each environment a reader uses
        return subprocess.run([BIN / "python", ROOT / "tests" / "benchmark_journeys.py"], cwd=ROOT).returncode
    ensure_chromium()
    return subprocess.run([BIN / "python", ROOT / "tests" / "benchmark.py"], cwd=ROOT).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the site into _build/html")
    build.add_argument("--clean", action="store_true", help="delete _build first and execute every notebook")
    sub.add_parser("test", help="run the whole test suite (builds the site clean); other options go to pytest")
    bench = sub.add_parser("bench", help="measure page weight, math time and build times, ours beside a default book")
    bench.add_argument("--notebooks", action="store_true",
                       help="instead: each notebook's run time in the book's, Binder's and Colab's environments")
    args, pytest_args = parser.parse_known_args()
    if args.command == "test":
        return run_tests(pytest_args)
    if pytest_args:
        parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
    if args.command == "build":
        return build_site(clean=args.clean)
    return run_benchmark(notebooks=args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
