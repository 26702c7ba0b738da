"""A build killed by a signal (SIGTERM: a CI job cancelled; SIGKILL: kill -9) leaves nothing of itself running, and the
next build never runs beside what it started: it waits for it or stops it.

Each test holds a small book's build, run by a copy of book.py, in one phase (a kernel executing a notebook; the
KaTeX server rendering pages; Chromium printing the PDF), signals book.py, then builds again. Processes are told
apart by what ties them to the scratch folder (command line, working folder or environment), not by how book.py
marks them.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from scratch_book import ROOT, make_book, notebook

sys.path.insert(0, str(ROOT / "_ext"))
import build_lock  # noqa: E402

pytestmark = pytest.mark.slow

REACH_SECONDS = 120   # to start the build and reach the held phase, on a loaded machine
BUILD_SECONDS = 240

# Holds the build in a phase while the file `hold` names it; writes `reached` once there.
HOLD_EXTENSION = '''
import asyncio, os, time
from pathlib import Path
import book_pdf

HOLD, REACHED = Path({folder!r}) / "hold", Path({folder!r}) / "reached"

def held(phase):
    return HOLD.exists() and HOLD.read_text() == phase

def _hold_pages(app, pagename, templatename, context, doctree):
    if pagename == "index" and held("pages"):   # after its formula was rendered: the KaTeX server runs
        REACHED.touch()
        time.sleep(600)

_offline_context = book_pdf.offline_context

async def _hold_printing(browser, **options):   # Chromium runs
    if held("pdf"):
        REACHED.touch()
        await asyncio.sleep(600)
    return await _offline_context(browser, **options)

book_pdf.offline_context = _hold_printing

def setup(app):
    app.connect("html-page-context", _hold_pages)
    return {{"parallel_read_safe": True}}
'''

HOLD_CELL = '''import os, time
from pathlib import Path
if (Path({folder!r}) / "hold").exists() and (Path({folder!r}) / "hold").read_text() == "notebooks":
    (Path({folder!r}) / "reached").touch()
    time.sleep(600)
print("done")'''

# book.py, copied into the scratch book, with this test run's environment (nothing is installed anywhere).
RUN_BOOK_PY = ("import sys; from pathlib import Path; sys.path.insert(0, {folder!r}); import book\n"
               "book.VENV = Path(sys.prefix); book.BIN = book.VENV / 'bin'\n"
               "book.ensure_environment = lambda requirements: None\n"
               "sys.argv = ['book.py', 'build']; sys.exit(book.main())")


def _scratch_book(folder: Path) -> Path:
    make_book(folder, {"index.md": "# Home\n\nA formula: $\\langle P, Q \\rangle$.\n"},
              {"nb.ipynb": notebook(HOLD_CELL.format(folder=str(folder)))})
    (folder / "_ext" / "hold.py").write_text(HOLD_EXTENSION.format(folder=str(folder)))
    config = yaml.safe_load((folder / "_config.yml").read_text())
    config["sphinx"]["extra_extensions"].append("hold")
    for name in [name for name in config["sphinx"]["config"] if name.startswith("bibtex_")]:   # no bibliography here
        del config["sphinx"]["config"][name]
    (folder / "_config.yml").write_text(yaml.safe_dump(config))
    (folder / "book.py").write_text((ROOT / "book.py").read_text())
    return folder


def _start_book_py(folder: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as output:
        return subprocess.Popen([sys.executable, "-c", RUN_BOOK_PY.format(folder=str(folder))], cwd=folder,
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _processes_of(folder: Path) -> dict[int, str]:
    """Every living process tied to `folder` (but this one), and their descendants: pid -> its start time (a pid
    may be reused)."""
    mark, found, parents = str(folder).encode(), {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        pid = int(name)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd").encode()
            ties = [Path(f"/proc/{pid}/cmdline").read_bytes(), Path(f"/proc/{pid}/environ").read_bytes(), cwd]
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue   # a zombie: it runs nothing any more
            parents[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if any(mark in tie for tie in ties):
            found[pid] = _start_time(pid)
    for pid in parents:
        ancestor = parents[pid]
        while ancestor in parents and ancestor not in found:
            ancestor = parents[ancestor]
        if ancestor in found:
            found[pid] = _start_time(pid)
    return found


def _still_running(processes: dict[int, str]) -> list[str]:
    living = []
    for pid, started in processes.items():
        if _start_time(pid) == started and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            living.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
    return living


def _stop_all(folder: Path) -> None:
    for pid in _processes_of(folder):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_the_next_build_stops_what_a_killed_build_left_running(tmp_path):
    """What outlives a build killed outright (kill -9), in a session of its own, is stopped by the next build before
    it starts: here a process of such a build, which the lock no longer shows."""
    lock = build_lock.lock_path(tmp_path)
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True,
                                env=build_lock.build_environment(lock))
    try:
        said = []
        with build_lock.acquire(lock, say=said.append):
            assert leftover.poll() is not None, "the next build started beside the killed one's process"
        assert said == ["Stopped 1 process(es) left running by a build of this book that was killed."], said
    finally:
        leftover.kill()
        leftover.wait()


@pytest.mark.parametrize("phase", ["notebooks", "pages", "pdf"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_build_leaves_nothing_running_beside_the_next(tmp_path, phase, sig):
    folder = _scratch_book(tmp_path / "book")
    (folder / "hold").write_text(phase)
    try:
        first = _start_book_py(folder, tmp_path / "first.log")
        deadline = time.monotonic() + REACH_SECONDS
        while not (folder / "reached").exists():
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"the build did not reach the {phase} phase in {REACH_SECONDS} s"
            time.sleep(0.2)
        of_the_first = _processes_of(folder)
        os.kill(first.pid, sig)
        first.wait(timeout=60)
        if sig == signal.SIGTERM:   # book.py could clean up: it must have
            assert _still_running(of_the_first) == [], f"left running after {sig.name} of book.py"
        deadline = time.monotonic() + 3   # what dies with book.py takes a moment to go
        while _still_running(of_the_first) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _still_running(of_the_first)
        print(f"after {sig.name} in the {phase} phase, of {len(of_the_first)} processes these ran on: {left}")

        (folder / "hold").unlink()
        second = _start_book_py(folder, tmp_path / "second.log")
        code = second.wait(timeout=BUILD_SECONDS)
        log = (tmp_path / "second.log").read_text()
        assert code == 0, log[-3000:]
        assert _still_running(of_the_first) == [], f"the killed build's processes outlived the next build"
        if left:   # they were stopped, or waited for, before the second build ran
            assert "left running by a build of this book that was killed" in log or "waiting" in log, log[-3000:]
        assert _processes_of(folder) == {}, "a build left processes running"
    finally:
        _stop_all(folder)
