"""The hash-pinned lock files that book.py installs: every package of the environment, at one version, with hashes.

requirements.txt and requirements-dev.txt say what the book and its tests need, binder/requirements.in what Binder's
notebooks need; `python3 book.py lock` compiles them with pip-tools (`pip-compile --generate-hashes`) into
requirements.lock, requirements-dev.lock and binder/requirements.txt, keeping every pin the locks already hold
unless the requirements move it. pip installs a lock with --require-hashes, so a
file from any index whose hash the lock does not list is refused. Each lock's first line records a digest of its
inputs, so that a requirements file changed without locking again is found before anything is installed.
Plain Python (the standard library): book.py imports it before the environment exists.
"""

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.txt": "requirements.lock", "requirements-dev.txt": "requirements-dev.lock",
         "binder/requirements.in": "binder/requirements.txt"}   # Binder's: what the notebooks need, nothing else
BINDER = "binder/requirements.in"
# Binder takes torch from PyTorch's CPU index alone: one file, by its address and hash (no index is searched for it).
CPU_WHEELS = "https://download.pytorch.org/whl/cpu"
BINDER_PLATFORM = "manylinux_2_28_x86_64"   # mybinder.org's machines
PIP_TOOLS = "pip-tools==7.6.2"   # the maintained compiler of hash-pinned requirements
DIGEST_LINE = "# inputs sha256: "
EDITABLE = "-e ."                 # the book's own package: pip cannot hash a folder, so book.py installs it apart
CUDA = re.compile(r"^(nvidia-|triton==|cuda-)", re.I | re.M)   # what a CUDA build of torch drags in
COMPILE_SECONDS = 30 * 60


class LockError(Exception):
    """A lock is missing, stale or unsafe; the message says which and what to run."""


def lock_path(requirements: str) -> Path:
    return ROOT / LOCKS[requirements]


def requirement_lines(path: Path) -> list[str]:
    """The requirements of a file and of the files it includes (-r), comments and blank lines left out, in order."""
    lines = []
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        elif line:
            lines.append(line)
    return lines


def inputs_digest(requirements: str) -> str:
    """What a lock was compiled from: the requirement lines (not comments) and the helper package's dependencies."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("dependencies", [])
    text = "\n".join(requirement_lines(ROOT / requirements) + ["pyproject:"] + sorted(dependencies))
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    first = lock.read_text().split("\n", 1)[0]
    return first[len(DIGEST_LINE):].strip() if first.startswith(DIGEST_LINE) else None


def check_current(requirements: str) -> Path:
    """The lock of `requirements`, after making sure it exists and was compiled from the requirements as they are."""
    lock = lock_path(requirements)
    if not lock.exists():
        raise LockError(f"{lock.name} is missing: run `python3 book.py lock` to compile it from {requirements}")
    if recorded_digest(lock) != inputs_digest(requirements):
        raise LockError(f"{requirements} (or pyproject.toml's dependencies) changed since {lock.name} was compiled: "
                        f"run `python3 book.py lock`, then commit both files")
    return lock


def pin_binder_torch(text: str) -> str:
    """The Binder lock's `torch==X+cpu` (found in this machine's pip sources) as the one wheel of PyTorch's CPU index
    for Binder's Python and platform, with the same hash: pip fetches that address and checks the hash."""
    match = re.search(r"^torch==(\S+) \\\n    --hash=sha256:(\w+)\n(?!    --hash)", text, re.M)
    if not match or not match.group(1).endswith("+cpu"):
        raise LockError("binder/requirements.txt must pin one CPU wheel of torch (torch==X.Y.Z+cpu, one hash): pip "
                        "found another; give it PyTorch's CPU index (PIP_EXTRA_INDEX_URL=" + CPU_WHEELS + ")")
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    wheel = f"torch-{match.group(1).replace('+', '%2B')}-{python}-{python}-{BINDER_PLATFORM}.whl"
    return text.replace(match.group(0).split(" \\")[0], f"torch @ {CPU_WHEELS}/{wheel}", 1)


def unpin_binder_torch(lock: Path) -> None:
    """Back to `torch==X+cpu` before compiling again, so that pip-compile keeps that pin without fetching the URL."""
    if lock.exists():
        text = re.sub(rf"^torch @ {re.escape(CPU_WHEELS)}/torch-([^-]+)-\S+\.whl",
                      lambda match: "torch==" + match.group(1).replace("%2B", "+"), lock.read_text(), flags=re.M)
        lock.write_text(text)


def finish(lock: Path, requirements: str) -> None:
    """pip-compile's output made installable with --require-hashes (the editable package dropped: book.py installs
    it with --no-deps), checked for CUDA packages, and stamped with its inputs' digest."""
    text = lock.read_text()
    # pip-compile writes the editable with a warning that pip cannot hash it, and the line saying why it is there.
    text = re.sub(r"# WARNING: pip install will require the following package to be hashed\.\n(#.*\n)*"
                  rf"{re.escape(EDITABLE)}\n(    #.*\n)*", "", text)
    if re.search(rf"^{re.escape(EDITABLE)}$", text, re.M):
        raise LockError(f"{lock.name}: could not drop the editable line '{EDITABLE}' from pip-compile's output")
    if found := CUDA.findall(text):
        raise LockError(f"{lock.name} would install a CUDA build of torch ({', '.join(sorted(set(found)))}…): pip "
                        f"found no CPU wheel of torch; give it PyTorch's CPU index (PIP_EXTRA_INDEX_URL="
                        f"https://download.pytorch.org/whl/cpu; the hashes keep that index from swapping any file)")
    if requirements == BINDER:
        text = pin_binder_torch(text)
    lock.write_text(f"{DIGEST_LINE}{inputs_digest(requirements)}\n{text}")


def compile_locks(which=tuple(LOCKS)) -> None:
    """Compile the locks with pip-tools, installed for the purpose in a throwaway environment."""
    try:
        _compile(which)
    except subprocess.CalledProcessError as error:
        raise LockError(f"{Path(str(error.cmd[-1])).name}: {' '.join(map(str, error.cmd[1:4]))} failed "
                        f"(see its message above)") from None
    except subprocess.TimeoutExpired as error:
        raise LockError(f"{' '.join(map(str, error.cmd[1:4]))} ran longer than {COMPILE_SECONDS // 60} minutes") \
            from None


def _compile(which) -> None:
    with tempfile.TemporaryDirectory(prefix="book-lock-") as scratch:
        venv.create(scratch, with_pip=True)
        python = Path(scratch) / "bin" / "python"
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PIP_TOOLS],
                       check=True, timeout=COMPILE_SECONDS)
        runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
        if runtime != f"python-{sys.version_info.major}.{sys.version_info.minor}":
            raise LockError(f"binder/runtime.txt asks for {runtime}: run `python3 book.py lock` with that Python, "
                            f"which resolves Binder's lock for it")
        for requirements, lock in ((name, LOCKS[name]) for name in which):
            if requirements == BINDER:
                unpin_binder_torch(ROOT / lock)
            # The other locks are constrained by the book's, so that they never disagree on a version.
            constraint = ["--constraint", LOCKS["requirements.txt"]] if requirements != "requirements.txt" else []
            print(f"compiling {requirements} into {lock}", flush=True)
            subprocess.run([python, "-m", "piptools", "compile", "--quiet", "--generate-hashes", "--allow-unsafe",
                            "--strip-extras", "--no-emit-index-url", "--no-emit-find-links", *constraint,
                            "--output-file", lock, requirements], cwd=ROOT, check=True, timeout=COMPILE_SECONDS,
                           env={**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 book.py lock"})
            finish(ROOT / lock, requirements)


if __name__ == "__main__":
    try:
        compile_locks(sys.argv[1:] or tuple(LOCKS))
    except LockError as error:
        sys.exit(str(error))
