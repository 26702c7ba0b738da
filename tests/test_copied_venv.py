"""A .venv copied from another checkout (cp -a) is never used as it is: its scripts would run the other checkout's
.venv, and its editable install would import the other checkout's `relugrad`, and the book would build from code
nobody is editing here, "successfully". book.py refuses the first with one sentence and reinstalls the second."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))
import book  # noqa: E402

FINDER = "__editable___relugrad_1_0_0_finder.py"


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout with a .venv as pip leaves it (scripts, an editable relugrad, an up-to-date stamp); pip is faked."""
    root, venv = tmp_path / "checkout", tmp_path / "checkout" / ".venv"
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (venv / "bin").mkdir(parents=True)
    site.mkdir(parents=True)
    version = ".".join(map(str, sys.version_info[:3]))
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}\n")
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / "bin" / "activate").write_text("# not a script with a #! line\n")
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        (root / name).write_text(f"{name}\n")
    for name, value in {"ROOT": root, "VENV": venv, "BIN": venv / "bin"}.items():
        monkeypatch.setattr(book, name, value)
    pip_runs = []
    monkeypatch.setattr(book, "run", lambda command, timeout, **kwargs: pip_runs.append(command) or 0)
    make_script(venv / "bin" / "jupyter-book", venv / "bin" / "python")
    map_relugrad(site, root / "relugrad")
    book.ensure_environment("requirements.txt")   # (faked) installs, and writes the stamp
    pip_runs.clear()
    return root, site, pip_runs


def make_script(path, interpreter):
    if " " in str(interpreter):   # pip's form for a path a #! line cannot hold
        path.write_text(f"#!/bin/sh\n'''exec' \"{interpreter}\" \"$0\" \"$@\"\n' '''\nimport sys\n")
    else:
        path.write_text(f"#!{interpreter}\nimport sys\n")


def map_relugrad(site, folder):
    (site / FINDER).write_text(f"import sys\nMAPPING: dict[str, str] = {{'relugrad': {str(folder)!r}}}\n")


def test_a_venv_of_this_checkout_is_used_as_it_is(checkout):
    _, _, pip_runs = checkout
    book.ensure_environment("requirements.txt")
    assert pip_runs == [], "nothing was wrong, yet pip ran"


@pytest.mark.parametrize("elsewhere", ["/home/someone/book/.venv/bin/python", "/home/some one/book/.venv/bin/python"])
def test_scripts_that_run_another_checkouts_venv_get_one_sentence(checkout, elsewhere):
    root, _, pip_runs = checkout
    make_script(root / ".venv" / "bin" / "jupyter-book", elsewhere)
    with pytest.raises(book.SetupError, match=r"copied from another checkout .*rm -rf \.venv") as error:
        book.ensure_environment("requirements.txt")
    assert elsewhere in str(error.value) and pip_runs == []


def test_relugrad_of_another_checkout_is_installed_again_from_this_one(checkout, capsys):
    root, site, pip_runs = checkout
    map_relugrad(site, "/home/someone/book/relugrad")
    book.ensure_environment("requirements.txt")
    assert [command[-3:] for command in pip_runs] == [["--no-deps", "-e", root]], pip_runs
    assert "/home/someone/book/relugrad" in capsys.readouterr().out


def test_a_stamp_written_for_another_checkout_installs_again(checkout):
    root, _, pip_runs = checkout
    stamp = root / ".venv" / ".installed-requirements.txt"
    stamp.write_text(stamp.read_text().replace(str(root), "/home/someone/book"))
    book.ensure_environment("requirements.txt")
    assert any("-r" in command for command in pip_runs), pip_runs
    assert stamp.read_text().endswith(f" for {root}")
