"""Benchmark (not a test): page weight, requests and time until the math is visible, for every page, and the
build's clean / no-op / one-chapter rebuild times; ours (both editions, and the English alone) beside a default
Jupyter Book configuration of the same content, measured in one run. Run it with `python3 book.py bench`."""

import os
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
exclude_patterns: [README.md, _build, ".*", "**/.*", tests, relugrad, _ext, binder]
bibtex_bibfiles: [chapters/references.bib]
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


def timed_build(command: list, book: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=book, check=True, timeout=1800, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


CLEAN_REPEATS = 2   # clean builds of each book, ours and the default's interleaved (a shared machine)
EDIT_REPEATS = 3    # after each clean build: this many rounds of no-op and one-chapter rebuilds; each figure is the best


NO_PDF = {"BOOK_CHROMIUM": "/nonexistent/chromium"}   # our site alone: book_pdf then prints nothing
ENGLISH = {"BOOK_EDITIONS": "en"}                       # the English edition alone (site and PDF), as before 中文版


def build_times(books: dict[str, tuple[list, Path, dict]], clean_repeats: int = CLEAN_REPEATS,
                edit_repeats: int = EDIT_REPEATS) -> dict[str, dict[str, float]]:
    """Clean build, no-op rebuild and one-chapter rebuild of each book, interleaved run by run; the best of each.
    A chapter is touched by adding a line break at its end and removing it again: both are one-chapter rebuilds."""
    times = {name: {} for name in books}

    def record(name, kind, seconds):
        times[name][kind] = min(times[name].get(kind, float("inf")), seconds)

    for _ in range(clean_repeats):
        for name, (command, book, env) in books.items():
            shutil.rmtree(book / "_build", ignore_errors=True)
            record(name, "clean build", timed_build(command, book, env))
            chapter = book / "chapters" / "gradient_x.md"
            text = chapter.read_text()
            try:
                for _ in range(edit_repeats):
                    record(name, "no-op rebuild", timed_build(command, book, env))
                    chapter.write_text(text + "\n")
                    record(name, "rebuild, one chapter touched", timed_build(command, book, env))
                    chapter.write_text(text)
                    record(name, "rebuild, one chapter touched", timed_build(command, book, env))
            finally:
                chapter.write_text(text)
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


def editions():
    """Our build with both editions beside the English edition alone: one clean build each, then a no-op and two
    one-chapter rebuilds, the two books interleaved."""
    our_build = [sys.executable, ROOT / "book.py", "build"]
    times = build_times({"both editions": (our_build, ROOT, {}), "English only": (our_build, ROOT, ENGLISH)},
                        clean_repeats=1, edit_repeats=1)
    both, english = times["both editions"], times["English only"]
    print(f"{'build (python3 book.py build, with the PDFs)':46s} {'both editions s':>15s} {'English only s':>14s} "
          f"{'ratio':>6s}")
    for name in both:
        print(f"{name:46s} {both[name]:15.2f} {english[name]:14.2f} {both[name] / english[name]:6.2f}")
    print("\nOne clean build of each, interleaved, each followed by a no-op and two one-chapter rebuilds "
          "(the best of the two); ratio = both editions / English only (BOOK_EDITIONS=en).")


def main():
    if "--editions" in sys.argv[1:]:
        return editions()
    with tempfile.TemporaryDirectory() as scratch:
        default = Path(scratch) / "default-book"
        shutil.copytree(ROOT, default, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "_ext", "*.pyc"))
        (default / "_config.yml").write_text(DEFAULT_CONFIG)
        our_build = [sys.executable, ROOT / "book.py", "build"]   # what an author runs
        default_build = [JUPYTER_BOOK, "build", default, "--quiet"]
        # Ours with the PDF last, so that the site measured below is the one `book.py build` leaves.
        times = build_times({"ours, no PDF": (our_build, ROOT, NO_PDF),
                             "ours, English only": (our_build, ROOT, ENGLISH),
                             "ours": (our_build, ROOT, {}), "default": (default_build, default, {})})
        ours_times, default_times = times["ours"], times["default"]
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
    site_times, english_times = times["ours, no PDF"], times["ours, English only"]
    print(f"\n{'build (best of all runs)':32s} {'default s':>9s} {'site s':>7s} {'ratio':>6s} "
          f"{'site+PDF s':>10s} {'ratio':>6s} {'English only s':>14s}")
    for name in ours_times:
        print(f"{name:32s} {default_times[name]:9.2f} {site_times[name]:7.2f} "
              f"{site_times[name] / default_times[name]:6.2f} {ours_times[name]:10.2f} "
              f"{ours_times[name] / default_times[name]:6.2f} {english_times[name]:14.2f}")
    print(f"\nratio = ours / default: `python3 book.py build` against `jupyter-book build` of the same content with a "
          f"default configuration,\n{CLEAN_REPEATS} clean builds each, interleaved, each followed by {EDIT_REPEATS} no-op "
          f"and {2 * EDIT_REPEATS} one-chapter rebuilds.\n'site' is our build without the whole-book PDF, which the "
          f"default does not make; 'site+PDF' is what `python3 book.py build` does where Chromium is installed\n(both "
          f"editions, each with its PDF); 'English only' is the same with BOOK_EDITIONS=en, the English edition alone.")


if __name__ == "__main__":
    main()
