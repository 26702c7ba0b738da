"""One build of the book at a time: an exclusive lock on a file, waited for with a message, never forever.

Two builds at once corrupt the notebook execution cache (an SQLite database). Used by book.py (plain Python, before
the environment exists) and by the Sphinx extension (for `jupyter-book build` run directly); no dependencies.
"""

import fcntl
import os
import time
from pathlib import Path

WAIT_SECONDS = 30 * 60
HELD_BY_PARENT = "BOOK_BUILD_LOCK_HELD"   # set by book.py for the build it starts, which must not wait for it


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
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()}, since {time.strftime('%H:%M:%S')}")
    handle.flush()
    return handle
