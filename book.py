#!/usr/bin/env python3
"""The book's two commands (Python 3.11+ is all they need):

    python3 book.py build   # create .venv if missing, install requirements.lock, execute the notebooks, write _build/html
    python3 book.py test    # the same environment plus test tools, Chromium if missing, then the whole test suite

and `python3 book.py bench`, which measures the site and the build (see README).
"""

import sys

if sys.version_info < (3, 11):   # checked before anything else, so that older Pythons get a sentence, not a traceback
    sys.exit(f"This book needs Python 3.11 or newer; this is Python {sys.version.split()[0]} ({sys.executable}). "
             f"Run it with a newer one, e.g. python3.11 book.py build")

import argparse
import ast
import hashlib
import json
import os
import shutil
import signal
import subprocess
import venv
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "_ext"))
import build_lock  # noqa: E402  (plain Python: no dependency outside the standard library)
import editions  # noqa: E402  (the same, until it builds)
import requirements_lock  # noqa: E402  (the same)

VENV = ROOT / ".venv"
BIN = VENV / "bin"
BUILD = ROOT / "_build"
UP_TO_DATE = BUILD / "up-to-date.json"   # what the last successful build read, and what it wrote
NOT_READ_BY_THE_BUILD = ("_build", ".venv", ".git", "tests")   # and what .gitignore names (caches, logs, locks)
INSTALL_SECONDS = 30 * 60
BUILD_SECONDS = 30 * 60
TEST_SECONDS = 80 * 60


class SetupError(Exception):
    """Something about the machine or the checkout that the user must fix; its message says how."""


class Terminated(Exception):
    """SIGTERM (a CI job cancelled) or SIGHUP (the terminal closed): raised, so that run() stops what it started."""


def _raise_terminated(signum, frame):
    for name in ("SIGTERM", "SIGHUP"):   # a second signal must not cut the clean-up short
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Terminated(signum)


def run(command, timeout: float, **kwargs) -> int:
    """Run a command in its own process group and wait at most `timeout` seconds; then stop it and all it started.
    The command dies with this process even when this one is killed outright (kill -9)."""
    process = subprocess.Popen([str(c) for c in command], start_new_session=True,
                               preexec_fn=build_lock.die_with_parent(), **kwargs)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{Path(str(command[0])).name} ran longer than {timeout / 60:.0f} minutes: stopping it", file=sys.stderr)
        return 124
    except KeyboardInterrupt:
        return 130
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process and everything it left running in its group (a kernel, a render server)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _digest(paths) -> str:
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(path.read_bytes())
    return sha.hexdigest()


def _check_existing_venv() -> None:
    config = VENV / "pyvenv.cfg"
    if not config.exists():
        raise SetupError(f"{VENV} exists but is not a virtual environment (no pyvenv.cfg): "
                         f"move it away or delete it (rm -rf .venv), then run this command again")
    settings = {key.strip(): value.strip() for key, _, value in
                (line.partition("=") for line in config.read_text().splitlines()) if value}
    version = (settings.get("version_info") or settings.get("version") or "").strip()
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not version.startswith(mine + "."):
        raise SetupError(f"{VENV} was made by Python {version or 'of an unknown version'}, but this is Python "
                         f"{sys.version.split()[0]}: delete it (rm -rf .venv) and run this command again, "
                         f"or run it with the Python that made it")
    if not os.access(BIN / "python", os.X_OK):
        raise SetupError(f"{BIN / 'python'} is missing or broken: delete {VENV} (rm -rf .venv) and run this "
                         f"command again")


def _script_interpreter(script: Path) -> str | None:
    """The Python a script of .venv/bin runs (from its #! line, or pip's /bin/sh form for a path with spaces)."""
    try:
        with open(script, "rb") as handle:
            head = handle.read(512).decode(errors="replace").splitlines()
    except OSError:   # a folder, a dangling link
        return None
    if not head or not head[0].startswith("#!"):
        return None
    if head[0].strip() == "#!/bin/sh" and len(head) > 1 and head[1].startswith("'''exec' \""):
        return head[1].split('"')[1]
    return head[0][2:].strip().split(" ")[0] if "python" in head[0] else None


def editable_relugrad_folder() -> str | None:
    """The folder the editable install in .venv maps `relugrad` to (None: not installed editable)."""
    for finder in VENV.glob("lib/python*/site-packages/__editable___relugrad_*_finder.py"):
        for line in finder.read_text().splitlines():
            if line.startswith("MAPPING"):
                return ast.literal_eval(line.partition("=")[2].strip()).get("relugrad")
    for pth in VENV.glob("lib/python*/site-packages/__editable__.relugrad-*.pth"):   # setuptools' path-entry form
        lines = [line.strip() for line in pth.read_text().splitlines() if line.strip()]
        if lines and not lines[0].startswith("import"):
            return str(Path(lines[0]) / "relugrad")
    return None


def _check_venv_scripts_are_its_own() -> None:
    """A .venv copied from another checkout (cp -a) runs that checkout's .venv through its scripts' #! lines, and the
    book would build, "successfully", from code nobody is editing here. Cheap: it reads a line of each script."""
    this_bin = os.path.realpath(BIN)
    for script in BIN.iterdir():
        interpreter = _script_interpreter(script)
        if interpreter and os.path.realpath(os.path.dirname(interpreter)) != this_bin:
            raise SetupError(f"{VENV} was copied from another checkout (its {script.name} runs {interpreter}): "
                             f"delete it (rm -rf .venv) and run this command again")


def _ensure_relugrad_is_this_checkouts() -> None:
    """The notebooks import `relugrad` from this checkout, not from the one a copied .venv was installed from."""
    mapped = editable_relugrad_folder()
    if mapped is not None and os.path.realpath(mapped) == os.path.realpath(ROOT / "relugrad"):
        return
    print(f"book.py: relugrad in {VENV} is {mapped or 'not installed editable'}, not {ROOT / 'relugrad'}: "
          f"installing it from this checkout", flush=True)
    pip = [BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e"]
    if run(pip + [ROOT], INSTALL_SECONDS, cwd=ROOT) != 0:
        raise SetupError(f"installing relugrad from {ROOT} into {VENV} failed (see pip's message above); "
                         f"delete {VENV} (rm -rf .venv) and run this command again")


def ensure_environment(requirements: str) -> None:
    """Create .venv if missing and (re)install `requirements` whenever it, or what it includes, changed."""
    if VENV.exists():
        _check_existing_venv()
        _check_venv_scripts_are_its_own()
    elif not os.access(ROOT, os.W_OK):
        raise SetupError(f"cannot create {VENV}: {ROOT} is not writable by this user; "
                         f"run from a copy you own, or fix the permissions")
    else:
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    inputs = [ROOT / name for name in ("requirements.txt", "requirements-dev.txt", "requirements.lock",
                                       "requirements-dev.lock", "pyproject.toml") if (ROOT / name).exists()]
    stamp = VENV / f".installed-{requirements}"
    digest = f"{_digest(inputs)} for {ROOT}"   # the checkout too: a .venv copied from another one installs again
    if stamp.exists() and stamp.read_text() == digest:
        _ensure_relugrad_is_this_checkouts()
        return
    if not os.access(VENV, os.W_OK) or not os.access(VENV / "lib", os.W_OK):
        raise SetupError(f"cannot install into {VENV}: it is not writable by this user "
                         f"(fix its owner, e.g. sudo chown -R $USER .venv, or delete it and run again)")
    print(f"installing {requirements} into {VENV}", flush=True)
    try:
        lock = requirements_lock.check_current(requirements)   # what requirements.txt says, with every file's hash
    except requirements_lock.LockError as error:
        raise SetupError(str(error)) from None
    pip = [BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # Hash-checking mode cannot hash a folder: the lock first, then relugrad alone (its dependency is in the lock).
    if run(pip + ["--require-hashes", "-r", lock], INSTALL_SECONDS, cwd=ROOT) != 0 or \
            run(pip + ["--no-deps", "--no-build-isolation", "-e", ROOT], INSTALL_SECONDS, cwd=ROOT) != 0:
        raise SetupError(f"installing {lock.name} failed (see pip's message above); fix that, then run again")
    _ensure_relugrad_is_this_checkouts()
    stamp.write_text(digest)


def build_site(clean: bool = False) -> int:
    """Execute the notebooks and write _build/html; fails on any warning, formula error or notebook error.

    Like make, it does nothing when nothing the build reads has changed since the last successful build and nothing
    it wrote has been touched since: the site is then up to date, and Jupyter Book would take seconds to find that.
    """
    if len(editions.built(ROOT)) > 1:   # a BOOK_EDITIONS that names no edition stops here too
        # before any notebook runs: each draws its figures in Chinese only where the font is installed
        ensure_debian_packages(CHINESE_FONT, "the Chinese edition (its figures and PDF)",
                               otherwise=", or build the English edition alone: BOOK_EDITIONS=en python3 book.py build")
    ensure_environment("requirements.txt")
    with build_lock.acquire(build_lock.lock_path(ROOT)) as lock:
        if clean:
            shutil.rmtree(BUILD, ignore_errors=True)
        inputs, last = build_inputs(), last_build()
        outputs_touched = bool(last) and last.get("outputs") != file_states(BUILD / "html")
        if last.get("inputs") == inputs and not outputs_touched and \
                not (BUILD / ".doctrees" / "incomplete-build").exists():
            print(f"book.py: {BUILD / 'html'} is up to date (nothing the build reads has changed since the last "
                  f"successful build, and nothing it wrote has been touched)", flush=True)
            return 0
        UP_TO_DATE.unlink(missing_ok=True)
        command = [BIN / "jupyter-book", "build", ROOT, "--warningiserror", "--nitpick", "--keep-going"]
        if outputs_touched:   # Sphinx rewrites a page only when its source is newer: have it write every one
            print(f"book.py: files in {BUILD / 'html'} were changed or deleted since the last build: writing every "
                  f"page again", flush=True)
            command.append("--all")
        try:   # Jupyter Book shares the lock: it stays taken while Jupyter Book runs, even if this process is killed
            code = run(command, BUILD_SECONDS, cwd=ROOT, env=build_lock.build_environment(lock.name),
                       pass_fds=[lock.fileno()])
            if code == 0:
                editions.remove_unbuilt(ROOT)
            if code == 0 and len(editions.built(ROOT)) > 1:
                # the other editions, from the English pages, their catalogues and the same notebooks
                code = run([BIN / "python", ROOT / "_ext" / "editions.py", "html", *command[6:]], BUILD_SECONDS,
                           cwd=ROOT, env=build_lock.build_environment(lock.name), pass_fds=[lock.fileno()])
        finally:   # what runs in sessions of its own (kernels, the KaTeX server, Chromium) outlives the group
            build_lock.stop_processes_of_build(lock.name)
        if code == 0:
            UP_TO_DATE.write_text(json.dumps({"inputs": inputs, "outputs": file_states(BUILD / "html")}))
        return code


def file_states(folder: Path, skip=(), content: bool = False) -> dict[str, list]:
    """Size, modification and change time (or, with `content`, a digest of the bytes) of every file under `folder`,
    but those whose name or path matches `skip`. The system sets the change time at every write and no tool can set
    it back, so an edit that keeps size and modification time (cp -p, rsync or touch -r of an older copy) is seen
    too, at no cost (a digest of the site's 32 MB would cost 50-90 ms per build)."""
    states, pending = {}, [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except FileNotFoundError:
            continue
        for entry in entries:
            relative = Path(entry.path).relative_to(folder).as_posix()
            if any(fnmatch(entry.name, pattern) or fnmatch(relative, pattern) for pattern in skip):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.is_file():   # not a socket, a dangling link, a link to a folder
                stat = entry.stat()
                states[relative] = ([hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()] if content
                                    else [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns])
    return states


def build_inputs() -> dict:
    """Everything a build reads: the book's files (all but .git, the tests and what .gitignore names; by content, about
    1.5 MB), the book's settings in the environment (BOOK_*), the Chromium that prints the PDF, and the installed
    packages."""
    ignore = ROOT / ".gitignore"
    skip = [line.strip().rstrip("/") for line in (ignore.read_text().splitlines() if ignore.exists() else [])
            if line.strip() and not line.startswith("#")] + list(NOT_READ_BY_THE_BUILD)
    chromium = os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    packages = sorted(VENV.glob("lib/python*/site-packages"))
    return {"files": file_states(ROOT, skip, content=True),
            "settings": {name: value for name, value in sorted(os.environ.items()) if name.startswith("BOOK_")},
            "chromium": [chromium, os.stat(chromium).st_mtime_ns if os.path.exists(chromium) else None],
            "packages": [path.stat().st_mtime_ns for path in packages], "python": sys.version}


def last_build() -> dict:
    """What the last successful build read and wrote ({} if none is recorded)."""
    try:
        last = json.loads(UP_TO_DATE.read_text())
    except (OSError, ValueError):
        return {}
    return last if isinstance(last, dict) else {}


# Debian's packages that the tests need: the browser, and a Chinese font for the Chinese edition's PDF and pages.
CHINESE_FONT = {"fonts-noto-cjk": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")}
TEST_PACKAGES = {"chromium": Path("/usr/bin/chromium"), **CHINESE_FONT}


def ensure_debian_packages(packages: dict[str, Path], needed_by: str, otherwise: str = "") -> None:
    """Install Debian's `packages` (name: a file each installs) with apt when missing and allowed (as root); else
    stop with one sentence saying what `needed_by` needs and how to get it."""
    missing = [name for name, path in packages.items() if not path.exists()]
    if not missing:
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if run(["apt-get", "update", "-qq"], INSTALL_SECONDS) != 0 or \
                run(["apt-get", "install", "-y", "-qq", *missing], INSTALL_SECONDS, env=environment) != 0:
            raise SetupError(f"installing {' and '.join(missing)} with apt-get failed (see above), and {needed_by} "
                             f"cannot do without it{otherwise}")
    else:
        raise SetupError(f"{needed_by} needs Debian's {' and '.join(missing)}: sudo apt-get install -y "
                         f"{' '.join(missing)}{otherwise}")


def ensure_test_packages() -> None:
    """The browser tests drive Debian's Chromium, and the Chinese edition needs a Chinese font."""
    ensure_debian_packages(TEST_PACKAGES, "the tests")


def update_translations() -> int:
    """Extract the English pages' messages and merge them into every edition's catalogues (_ext/editions.py)."""
    ensure_environment("requirements.txt")
    with build_lock.acquire(build_lock.lock_path(ROOT)) as lock:
        return run([BIN / "python", ROOT / "_ext" / "editions.py", "catalogues"], BUILD_SECONDS, cwd=ROOT,
                   env=build_lock.build_environment(lock.name), pass_fds=[lock.fileno()])


def run_tests(pytest_args) -> int:
    ensure_environment("requirements-dev.txt")
    ensure_test_packages()
    return run([BIN / "python", "-m", "pytest", *pytest_args], TEST_SECONDS, cwd=ROOT)


def run_benchmark(notebooks: bool = False, backward: bool = False, editions: bool = False) -> int:
    ensure_environment("requirements-dev.txt")
    if notebooks:   # each notebook's run time in each environment a reader uses
        return run([BIN / "python", ROOT / "tests" / "benchmark_journeys.py"], TEST_SECONDS, cwd=ROOT)
    if backward:    # the cost chapter's times: hand backward against autograd's; writes relugrad/data/
        return run([BIN / "python", ROOT / "tests" / "benchmark_backward.py"], TEST_SECONDS, cwd=ROOT)
    ensure_test_packages()
    return run([BIN / "python", ROOT / "tests" / "benchmark.py", *(["--editions"] if editions else [])],
               TEST_SECONDS, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the site into _build/html")
    build.add_argument("--clean", action="store_true", help="delete _build first and execute every notebook")
    sub.add_parser("test", help="run the whole test suite (builds the site clean); other options go to pytest")
    sub.add_parser("translate", help="after editing the English: update locales/zh_CN/LC_MESSAGES/*.po (new "
                                     "messages untranslated, changed ones fuzzy) for a translator to settle")
    sub.add_parser("lock", help="compile requirements*.txt and binder/requirements.in into hash-pinned lock files")
    bench = sub.add_parser("bench", help="measure page weight, math time and build times, ours beside a default book")
    bench.add_argument("--notebooks", action="store_true",
                       help="instead: each notebook's run time in the book's, Binder's and Colab's environments")
    bench.add_argument("--backward", action="store_true",
                       help="instead: the backward pass of a layer, by hand and by autograd, in time and memory; "
                            "writes relugrad/data/backward_cost.json, which the cost chapter plots")
    bench.add_argument("--editions", action="store_true",
                       help="instead: our build times with both editions beside the English alone, one run each "
                            "(minutes, where the whole comparison takes over an hour)")
    args, pytest_args = parser.parse_known_args()
    for stop in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(stop) != signal.SIG_IGN:   # nohup's choice stays
            signal.signal(stop, _raise_terminated)
    try:
        if args.command == "test":
            return run_tests(pytest_args)
        if pytest_args:
            parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
        if args.command == "build":
            return build_site(clean=args.clean)
        if args.command == "translate":
            return update_translations()
        if args.command == "lock":
            requirements_lock.compile_locks()
            return 0
        return run_benchmark(notebooks=args.notebooks, backward=args.backward, editions=args.editions)
    except (SetupError, TimeoutError, requirements_lock.LockError) as error:
        print(f"book.py: {error}", file=sys.stderr)
        return 2
    except Terminated as stop:
        print(f"book.py: stopped by {signal.Signals(stop.args[0]).name}; what it had started is stopped too",
              file=sys.stderr)
        return 128 + stop.args[0]
    except PermissionError as error:
        print(f"book.py: permission denied on {error.filename}: fix its owner or permissions, "
              f"or work in a copy you own", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
