"""One build of the book at a time: an exclusive lock on a file, waited for with a message, never forever.

Two builds at once corrupt the notebook execution cache (an SQLite database). Used by book.py (plain Python, before
the environment exists) and by the Sphinx extension (for `jupyter-book build` run directly); no dependencies.

A build killed outright (kill -9) cannot stop what it started, and some of that runs in sessions of its own (the
kernels, the KaTeX server, Chromium). So every process of a build carries the lock's path in its environment, and
whoever takes the lock next first stops every process still carrying it: no build runs beside a killed one's
leftovers. Where Linux allows, a build's processes are also made to die with the process that started them.
"""

import ctypes
import fcntl
import os
import signal
import sys
import time
from pathlib import Path

WAIT_SECONDS = 30 * 60
STOP_SECONDS = 10
# Set by book.py, to the lock's path, for the build it starts (which then must not wait for it); every process of
# that build inherits it, which is how a later build finds the leftovers of a killed one.
HELD_BY_PARENT = "BOOK_BUILD_LOCK_HELD"


def lock_path(root) -> Path:
    return Path(root) / ".build.lock"


def acquire(path: Path, wait_seconds: float = WAIT_SECONDS, say=print):
    """Hold an exclusive lock on `path`; returns the open file that holds it (the lock goes when it is closed)."""
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        say(f"Another build of this book is running ({holder}); waiting for it to finish "
            f"(at most {wait_seconds / 60:.0f} minutes).")
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.close()
                    raise TimeoutError(f"another build of this book held {path} for {wait_seconds / 60:.0f} "
                                       f"minutes; if no build is running, delete {path}") from None
                time.sleep(0.5)
    stopped = stop_processes_of_build(path)
    if stopped:
        say(f"Stopped {stopped} process(es) left running by a build of this book that was killed.")
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()}, since {time.strftime('%H:%M:%S')}")
    handle.flush()
    return handle


def build_environment(path: Path) -> dict:
    """The environment for the build that holds the lock on `path`: it marks all the build's processes as its own."""
    return {**os.environ, HELD_BY_PARENT: os.path.realpath(path)}


def processes_of_build(path: Path) -> list[int]:
    """The processes (other than this one) whose environment marks them as part of a build holding `path`."""
    mark = f"{HELD_BY_PARENT}={os.path.realpath(path)}".encode()
    found, spared = [], _this_process_and_its_ancestors()
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit() or int(name) in spared:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as environ:
                if mark in environ.read().split(b"\0"):
                    found.append(int(name))
        except OSError:   # gone meanwhile, or not ours to read
            pass
    return found


def _this_process_and_its_ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def stop_processes_of_build(path: Path, wait_seconds: float = STOP_SECONDS) -> int:
    """Stop (SIGTERM, then SIGKILL) every process left over from a build holding `path`; returns how many there were."""
    pids = processes_of_build(path)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in set(pids) & set(processes_of_build(path)):   # looked up again: a pid may have been reused
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_seconds
        while set(pids) & set(processes_of_build(path)) and time.monotonic() < deadline:
            time.sleep(0.05)
    return len(pids)


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent():
    """A `preexec_fn` for Popen: the child is killed when the process that started it dies, however it dies (Linux;
    elsewhere None, and the next build's clean-up above is what stops them)."""
    if _libc is None:
        return None
    parent = os.getpid()

    def preexec():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:   # the parent died before prctl took effect
            os._exit(1)
    return preexec
