"""Shared fixtures: the site, built clean once per test session, exactly as `python3 book.py build --clean` builds it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"
BUILD_LOG = ROOT / ".build-test.log"   # outside _build, which the clean build deletes
BUILD_SECONDS = 20 * 60


def build_book(*arguments: str, timeout: float = BUILD_SECONDS, root: Path = ROOT) -> tuple[int, str]:
    """Run `book.py build` with the given arguments; (exit code, log). Output goes to a file, never a pipe that a
    stray child could hold open, and the wait is bounded."""
    log = root / ".build-test.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, root / "book.py", "build", *arguments], cwd=root,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            sys.path.insert(0, str(ROOT))
            from book import stop_group
            stop_group(process)
    text = log.read_text()
    if code is None:
        pytest.fail(f"the build ran longer than {timeout / 60:.0f} minutes:\n{text[-4000:]}")
    return code, text


@pytest.fixture(scope="session")
def build_log() -> str:
    """Build the book from scratch (every notebook executed) with warnings as errors and nitpicky references; an
    author rerunning a few tests may set TESTS_REUSE_BUILD=1 to bring the last build up to date instead."""
    code, log = build_book(*([] if os.environ.get("TESTS_REUSE_BUILD") == "1" else ["--clean"]))
    BUILD.mkdir(exist_ok=True)
    (BUILD / "build.log").write_text(log)
    if code != 0:
        reports = "\n".join(p.read_text()[-3000:] for p in (HTML / "reports").glob("**/*.log"))
        pytest.fail(f"the book does not build cleanly:\n{log[-6000:]}\n{reports}")
    return log


@pytest.fixture(scope="session")
def html_root(build_log) -> Path:
    return HTML


@pytest.fixture(scope="session")
def every_page(html_root) -> tuple[dict, dict]:
    """Every page of every edition checked in Chromium, once a session, for the tests that read the results
    (tests/site_checks.py): {(page, mode): what failed}, {page: what its interface shows}."""
    import site_checks
    return site_checks.check_every_page(html_root, site_checks.all_pages())
