"""Shared fixtures: the site, built clean once per test session, exactly as `python3 book.py build` builds it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"


BUILD_TIMEOUT = 1800   # seconds: a clean build executes every notebook


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: makes fresh environments (minutes); `-m 'not slow'` leaves it out")


@pytest.fixture(scope="session")
def build_log() -> str:
    """Build the book from scratch (every notebook executed) with warnings as errors and nitpicky references."""
    shutil.rmtree(BUILD, ignore_errors=True)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [jupyter_book, "build", ROOT, "--warningiserror", "--nitpick", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    log = result.stdout + result.stderr
    BUILD.mkdir(exist_ok=True)
    (BUILD / "build.log").write_text(log)
    if result.returncode != 0:
        reports = "\n".join(p.read_text()[-3000:] for p in (HTML / "reports").glob("**/*.log"))
        pytest.fail(f"the book does not build cleanly:\n{log[-6000:]}\n{reports}")
    return log


@pytest.fixture(scope="session")
def html_root(build_log) -> Path:
    return HTML
