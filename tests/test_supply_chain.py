"""What the book installs and ships is pinned, checked and its own:

- the book's environment comes from hash-pinned locks (requirements.lock, requirements-dev.lock) compiled from the
  current requirements, and is exactly what they pin; CPU-only torch, nothing of CUDA;
- Binder's lock takes torch from PyTorch's CPU index alone (one file, by address and hash), the rest with hashes;
- Colab's set-up cell installs the helper package's release tag (or the book's wheel saved beside the notebook),
  shows what it installs, replaces another version, and says in one sentence what to do when it cannot;
- the slides ship only the reveal.js files the deck loads (no theme that @imports fonts.googleapis.com).
"""

import importlib.metadata
import re
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import colab_setup  # noqa: E402
import requirements_lock  # noqa: E402
import slide_assets  # noqa: E402

LOCKS = [ROOT / lock for lock in requirements_lock.LOCKS.values()]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
NOT_LOCKED = {"pip", "relugrad"}   # pip comes with the venv; relugrad is this checkout, installed editable


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(lock: Path) -> list[str]:
    """Each requirement of a lock, its continuation lines joined, comments left out."""
    text = re.sub(r"\s*\\\n\s*", " ", lock.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in requirements(lock):
        if match := re.match(r"([A-Za-z0-9._-]+)==(\S+)", line):
            found[normalise(match.group(1))] = match.group(2)
        elif match := re.match(r"([A-Za-z0-9._-]+) @ \S+/\w+-([^-]+)-\S+\.whl", line):
            found[normalise(match.group(1))] = match.group(2).replace("%2B", "+")
    return found


# --- the book's environment ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_requirement_of_each_lock_is_pinned_with_a_hash(lock):
    lines = requirements(lock)
    assert len(lines) > 10, f"{lock.name} is nearly empty"
    unhashed = [line for line in lines if "--hash=sha256:" not in line]
    assert not unhashed, f"{lock.name}: without --hash, pip's --require-hashes refuses the whole file: {unhashed}"
    unpinned = [line for line in lines if "==" not in line.split(" --hash")[0] and " @ " not in line]
    assert not unpinned, f"{lock.name}: not pinned to one version: {unpinned}"


def test_the_environment_running_the_tests_is_exactly_the_lock():
    locked = pins(ROOT / "requirements-dev.lock")
    installed = {normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    differ = {name: (version, locked.get(name)) for name, version in installed.items()
              if name not in NOT_LOCKED and locked.get(name) != version}
    assert not differ, f"installed, but not at the version requirements-dev.lock pins (installed, locked): {differ}"
    assert set(pins(ROOT / "requirements.lock")) <= set(locked), "the dev lock must hold the whole book's lock"


@pytest.mark.parametrize("requirements", list(requirements_lock.LOCKS))
def test_each_lock_was_compiled_from_the_requirements_as_they_are(requirements):
    lock = requirements_lock.lock_path(requirements)
    assert requirements_lock.recorded_digest(lock) == requirements_lock.inputs_digest(requirements), (
        f"{requirements} changed since {lock.relative_to(ROOT)} was compiled: run `python3 book.py lock`")


def test_a_requirement_changed_without_locking_again_is_refused(tmp_path, monkeypatch):
    for name in ("requirements.txt", "requirements-dev.txt", "requirements.lock", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(requirements_lock, "ROOT", tmp_path)
    requirements_lock.check_current("requirements.txt")
    (tmp_path / "requirements.txt").write_text((ROOT / "requirements.txt").read_text() + "# a comment changes nothing\n")
    requirements_lock.check_current("requirements.txt")
    (tmp_path / "requirements.txt").write_text((ROOT / "requirements.txt").read_text() + "rich==14.0.0\n")
    with pytest.raises(requirements_lock.LockError, match="python3 book.py lock"):
        requirements_lock.check_current("requirements.txt")


def test_book_py_installs_the_lock_with_hashes_then_the_helper_package_alone(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT))
    import book
    commands = []
    monkeypatch.setattr(book, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(book, "BIN", tmp_path / ".venv" / "bin")
    monkeypatch.setattr(book.venv, "create", lambda path, **_: (Path(path) / "lib").mkdir(parents=True))
    monkeypatch.setattr(book, "run", lambda command, *_, **__: commands.append([str(c) for c in command]) or 0)
    monkeypatch.setattr(book, "_ensure_relugrad_is_this_checkouts", lambda: None)
    book.ensure_environment("requirements.txt")
    assert len(commands) == 2, commands
    assert "--require-hashes" in commands[0] and commands[0][-2:] == ["-r", str(ROOT / "requirements.lock")]
    assert commands[1][-4:] == ["--no-deps", "--no-build-isolation", "-e", str(ROOT)], commands[1]


def test_nothing_of_cuda_and_torch_is_the_cpu_wheel_everywhere():
    hashes = set()
    for lock in LOCKS:
        text = lock.read_text()
        assert not re.search(r"^(nvidia-|triton|cuda-)", text, re.M | re.I), f"{lock.name} pulls in CUDA packages"
        assert pins(lock)["torch"].endswith("+cpu"), f"{lock.name} pins {pins(lock)['torch']}, not a CPU build"
        entry = next(line for line in requirements(lock) if line.startswith("torch"))
        hashes |= set(re.findall(r"--hash=sha256:(\w+)", entry))
    assert len(hashes) == 1, f"torch must be one file, the same in every lock: {hashes}"


# --- Binder ---------------------------------------------------------------------------------------------------------

def test_binder_takes_torch_from_its_index_alone_and_the_rest_with_hashes():
    lock = ROOT / "binder" / "requirements.txt"
    options = [line for line in requirements(lock) if line.startswith("-")]
    assert not options, f"no index, extra index or find-links: any index could then serve a package: {options}"
    torch = [line for line in requirements(lock) if line.startswith("torch")]
    assert len(torch) == 1 and torch[0].startswith(f"torch @ {requirements_lock.CPU_WHEELS}/torch-"), torch
    assert "-cp311-cp311-manylinux_2_28_x86_64.whl" in torch[0], "Binder runs Python 3.11 (runtime.txt) on x86_64"
    book = pins(ROOT / "requirements.lock")
    differ = {name: version for name, version in pins(lock).items() if book.get(name) != version}
    assert not differ, f"Binder pins other versions than the book's lock: {differ}"


def test_binder_installs_the_helper_package_apart():
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o100, "repo2docker runs binder/postBuild only if it is executable"
    assert "pip install --no-deps --no-build-isolation -e ." in post_build.read_text()
    assert "setuptools" in pins(ROOT / "binder" / "requirements.txt"), "--no-build-isolation needs setuptools"


# --- Colab ----------------------------------------------------------------------------------------------------------

def test_colab_installs_the_release_of_the_version_in_pyproject():
    ref = CONFIG["sphinx"]["config"]["relugrad_ref"]
    assert ref == f"v{VERSION}", f"_config.yml's relugrad_ref {ref} is not v + pyproject.toml's version {VERSION}"
    with pytest.raises(colab_setup.SetupCellError, match="release tag"):
        colab_setup.requirement("https://github.com/o/r", "main")


def test_a_released_helper_package_is_never_changed_under_its_version():
    """Colab installs relugrad from the tag relugrad_ref. Once that tag exists, relugrad/ as committed must be what
    it tagged: a change after it needs a new version and tag (README, Forking), or Colab's readers get the old code
    (the notebooks importing relugrad.figures failed there on v1.0.0). Before its tag exists the version is unreleased."""
    ref = CONFIG["sphinx"]["config"]["relugrad_ref"]
    tagged = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/tags/{ref}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    if tagged.returncode != 0:
        pytest.skip(f"{ref} is not tagged in this clone: the version is not released yet")
    changed = subprocess.run(["git", "diff", "--name-only", ref, "--", "relugrad"], cwd=ROOT, capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()
    assert not changed, (f"relugrad changed since its release {ref} ({changed}): raise version in pyproject.toml, "
                         f"set relugrad_ref to match, build, commit and tag (README, Forking)")


WHEEL = f"relugrad-{VERSION}-py3-none-any.whl"
GIT_RELEASE = f"relugrad @ git+https://github.com/o/r@v{VERSION}"


def _run_setup_cell(monkeypatch, folder, installed_version, pip_fails=False):
    """Run the set-up cell in `folder` as Jupyter would, with pip and the installed version faked; returns
    (pip's install arguments, what the cell printed, the exception it raised or None)."""
    notebook = {"cells": [{"cell_type": "code", "source": "from relugrad import objective"}]}
    source = colab_setup.setup_cell_source(notebook, "https://github.com/o/r", f"v{VERSION}")
    calls, printed = [], []

    def version(name):   # pip's install, once made, gives the pinned version
        if calls and not pip_fails:
            return VERSION
        if installed_version is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed_version

    def pip(arguments, **options):
        calls.append(arguments[arguments.index("install") + 1:])
        return subprocess.CompletedProcess(arguments, 1 if pip_fails else 0, "", "ERROR: no network" * pip_fails)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(subprocess, "run", pip)
    monkeypatch.chdir(folder)
    try:
        exec(source, {"print": lambda *a: printed.append(" ".join(map(str, a)))})
    except Exception as error:   # what Jupyter would show
        return calls, printed, error
    return calls, printed, None


@pytest.mark.parametrize("installed, installs", [(None, True), ("0.9.0", True), (VERSION, False)])
def test_colab_setup_cell_installs_unless_the_pinned_version_is_there_and_shows_it(installed, installs, monkeypatch,
                                                                                     tmp_path):
    calls, printed, error = _run_setup_cell(monkeypatch, tmp_path, installed)
    assert error is None
    assert calls == ([[GIT_RELEASE]] if installs else []), calls
    assert printed == ([f"relugrad {VERSION} from {GIT_RELEASE}"] if installs else []), printed


def test_setup_cell_installs_the_books_wheel_saved_beside_the_notebook(monkeypatch, tmp_path):
    """Offline: the wheel from the notebook's page, saved in the notebook's folder, is what pip installs."""
    (tmp_path / WHEEL).write_bytes(b"")
    calls, printed, error = _run_setup_cell(monkeypatch, tmp_path, None)
    assert error is None and calls == [[WHEEL]] and printed == [f"relugrad {VERSION} from {WHEEL}"], (calls, printed)


def test_a_failed_install_says_in_one_sentence_what_to_do(monkeypatch, tmp_path):
    """No traceback: IPython shows what an exception's _render_traceback_ gives, here one sentence that names the
    wheel to save and the repository to install from."""
    calls, printed, error = _run_setup_cell(monkeypatch, tmp_path, None, pip_fails=True)
    assert calls == [[GIT_RELEASE]] and not printed
    assert error is not None and hasattr(error, "_render_traceback_"), error
    shown = error._render_traceback_()
    assert len(shown) == 1 and shown[0].count(". ") == 0 and shown[0].endswith("."), shown
    assert WHEEL in shown[0] and "https://github.com/o/r" in shown[0] and "run this cell again" in shown[0], shown


# --- the slides -----------------------------------------------------------------------------------------------------

def _deck_configuration() -> dict:
    return runpy.run_path(str(ROOT / "slides" / "conf.py"))


def test_the_deck_ships_one_theme_and_no_sources_or_maps():
    from sphinx.util.matching import Matcher
    conf = _deck_configuration()
    excluded = Matcher(conf["exclude_patterns"])
    root = slide_assets.revealjs_folder()
    shipped = {path.relative_to(root).as_posix() for path in root.rglob("*")
               if path.is_file() and not excluded(f"revealjs/{path.relative_to(root).as_posix()}")}
    themes = {name for name in shipped if re.fullmatch(r"dist/theme/[^/]+\.css", name)}
    assert themes == {f"dist/theme/{conf['revealjs_style_theme']}.css"}, themes
    assert not [name for name in shipped if name.endswith((".map", ".scss"))]
    assert {"dist/reveal.js", "dist/reveal.css", "plugin/notes/notes.js", "LICENSE"} <= shipped
    remote = [name for name in shipped if "fonts.googleapis.com" in (root / name).read_text(errors="replace")]
    assert not remote, f"these load fonts from Google: {remote}"


def test_a_built_deck_loads_only_local_files_that_it_ships(tmp_path):
    """A deck built with slides/conf.py (one slide; about two seconds): nothing under it names Google's fonts, and
    every file its page and stylesheets load is there."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.md").write_text("# Deck\n\n## A slide\n\n$$x^2$$\n")
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "revealjs", "-q", "-W", "-c", ROOT / "slides",
                    "-d", tmp_path / "doctrees", tmp_path / "src", out], check=True, timeout=120, cwd=tmp_path)
    files = [path for path in out.rglob("*") if path.is_file()]
    assert not [path for path in files if b"fonts.googleapis.com" in path.read_bytes()]
    shipped = {path.relative_to(out / "_static" / "revealjs").as_posix()
               for path in (out / "_static" / "revealjs").rglob("*") if path.is_file()}
    conf = _deck_configuration()
    assert shipped == slide_assets.used(conf["revealjs_style_theme"], conf["revealjs_script_plugins"])
    page = (out / "index.html").read_text()
    loaded = [target.split("?")[0] for target in re.findall(r'(?:href|src)="(_static/[^"#]+)"', page)]
    assert loaded and not [target for target in loaded if not (out / target).is_file()], loaded
