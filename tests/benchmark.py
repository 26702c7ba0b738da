"""Benchmark (not a test): page weight, requests and time until the math is visible, for every page, and the
build's clean / no-op / one-chapter rebuild times; ours beside a default Jupyter Book configuration of the same
content, measured in one run. Run it with `python3 book.py bench`."""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from browser import chromium, serve, site_pages, visit

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
DEFAULT_CONFIG = """title: "Gradients of one ReLU layer"
only_build_toc_files: true
exclude_patterns: [README.md, _build, .venv, tests, .ci, relugrad, _ext, binder]
execute:
  execute_notebooks: cache
  timeout: 600
parse:
  myst_enable_extensions: [amsmath, colon_fence, dollarmath, deflist, substitution]
sphinx:
  config:
    numfig: true
    math_numfig: true
"""


def timed_build(book: Path) -> float:
    start = time.perf_counter()
    subprocess.run([JUPYTER_BOOK, "build", book, "--quiet"], cwd=book, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def build_times(book: Path) -> dict:
    shutil.rmtree(book / "_build", ignore_errors=True)
    times = {"clean build": timed_build(book), "no-op rebuild": timed_build(book)}
    chapter = book / "chapters" / "gradient_x.md"
    chapter.write_text(chapter.read_text() + "\n")
    try:
        times["rebuild, one chapter touched"] = timed_build(book)
    finally:
        chapter.write_text(chapter.read_text()[:-1])
    return times


def measure_pages(html: Path) -> dict:
    results = {}
    with serve(html) as base, chromium() as browser:
        for path in site_pages(html):
            page, context, record = visit(browser, base + path, origin=base)
            math = page.evaluate("document.querySelectorAll('main .math .katex, main mjx-container').length")
            raw = page.evaluate("document.querySelectorAll('main .math').length")
            results[path] = (record.bytes, record.requests,
                             record.math_ready_ms if (math or not raw) else None, len(record.foreign_requests))
            context.close()
    return results


def main():
    with tempfile.TemporaryDirectory() as scratch:
        default = Path(scratch) / "default-book"
        shutil.copytree(ROOT, default, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "_ext", "*.pyc"))
        (default / "_config.yml").write_text(DEFAULT_CONFIG)
        ours_times, default_times = build_times(ROOT), build_times(default)
        ours, theirs = measure_pages(ROOT / "_build" / "html"), measure_pages(default / "_build" / "html")

    print(f"{'page':42s} | {'ours: kB':>8s} {'req':>4s} {'math ms':>8s} | {'default: kB':>11s} {'req':>4s} "
          f"{'math ms':>8s} {'blocked':>7s}")
    for path in ours:
        b1, r1, m1, _ = ours[path]
        b2, r2, m2, f2 = theirs.get(path, (0, 0, None, 0))
        show = lambda ms: "never" if ms is None else f"{ms:.0f}"
        print(f"{path:42s} | {b1 / 1e3:8.0f} {r1:4d} {show(m1):>8s} | {b2 / 1e3:11.0f} {r2:4d} {show(m2):>8s} {f2:7d}")
    heaviest_ours = max(v[0] for v in ours.values())
    heaviest_default = max(v[0] for v in theirs.values())
    print(f"\nheaviest page: ours {heaviest_ours / 1e3:.0f} kB, default {heaviest_default / 1e3:.0f} kB "
          f"(ratio {heaviest_default / heaviest_ours:.1f}); most requests: ours {max(v[1] for v in ours.values())}, "
          f"default {max(v[1] for v in theirs.values())}")
    print(f"\n{'build':32s} {'ours s':>8s} {'default s':>10s}")
    for name in ours_times:
        print(f"{name:32s} {ours_times[name]:8.1f} {default_times[name]:10.1f}")


if __name__ == "__main__":
    main()
