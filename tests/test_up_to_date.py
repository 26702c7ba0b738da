"""`book.py build` does nothing when nothing the build reads has changed since the last successful build and nothing
it wrote has been touched (like make); any change to what it reads, or to what it wrote, builds again."""

import json
import os
import sys

import pytest

from conftest import ROOT, build_book

sys.path.insert(0, str(ROOT))
import book  # noqa: E402


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A small book folder for book.py's bookkeeping, with a fake Jupyter Book that records each run."""
    for name, text in {"_config.yml": "title: t\n", "_toc.yml": "root: index\n", "chapters/index.md": "# Home\n",
                       "relugrad/formulas.py": "X = 1\n", "tests/test_x.py": "", ".gitignore": ".build.lock\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(book, "ROOT", tmp_path)
    monkeypatch.setattr(book, "BUILD", tmp_path / "_build")
    monkeypatch.setattr(book, "UP_TO_DATE", tmp_path / "_build" / "up-to-date.json")
    monkeypatch.setattr(book, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(book, "ensure_environment", lambda requirements: None)
    monkeypatch.delenv("BOOK_CHROMIUM", raising=False)
    runs, outcome = [], {"code": 0}

    def fake_jupyter_book(command, timeout, **kwargs):
        runs.append(command)
        html = tmp_path / "_build" / "html"
        html.mkdir(parents=True, exist_ok=True)
        (html / "index.html").write_text("<p>Home</p>")
        return outcome["code"]

    monkeypatch.setattr(book, "run", fake_jupyter_book)
    return tmp_path, runs, outcome


def _touch(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_an_unchanged_book_is_not_built_again(scratch, capsys):
    folder, runs, _ = scratch
    assert book.build_site() == 0 and len(runs) == 1
    assert book.build_site() == 0 and len(runs) == 1, "nothing changed, yet Jupyter Book ran again"
    assert "is up to date" in capsys.readouterr().out


def _change(change: str, folder, monkeypatch) -> None:
    html, doctrees = folder / "_build" / "html", folder / "_build" / ".doctrees"
    if change == "edit a chapter":
        (folder / "chapters" / "index.md").write_text("# Home, edited\n")
    elif change == "edit the helper package":
        (folder / "relugrad" / "formulas.py").write_text("X = 2\n")   # the same size: content, not size, counts
    elif change == "add a chapter":
        (folder / "chapters" / "new.md").write_text("# New\n")
    elif change == "remove a chapter":
        (folder / "chapters" / "index.md").unlink()
    elif change == "edit the configuration":
        (folder / "_config.yml").write_text("title: u\n")
    elif change == "touch an output":
        _touch(html / "index.html")
    elif change == "edit an output, keeping its size and time":   # as cp -p or rsync of an older copy can
        page, stat = html / "index.html", (html / "index.html").stat()
        page.write_text(page.read_text().upper())
        os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif change == "delete an output":
        (html / "index.html").unlink()
    elif change == "name another Chromium":
        monkeypatch.setenv("BOOK_CHROMIUM", "/opt/chrome")
    elif change == "leave a failed build's marker":
        doctrees.mkdir(parents=True, exist_ok=True)
        (doctrees / "incomplete-build").touch()
    elif change == "corrupt the record":
        book.UP_TO_DATE.write_text("{")


@pytest.mark.parametrize("change", ["edit a chapter", "edit the helper package", "add a chapter", "remove a chapter",
                                    "edit the configuration", "touch an output",
                                    "edit an output, keeping its size and time", "delete an output",
                                    "name another Chromium", "leave a failed build's marker", "corrupt the record"])
def test_any_change_to_what_the_build_reads_or_wrote_builds_again(scratch, monkeypatch, change):
    folder, runs, _ = scratch
    assert book.build_site() == 0 and len(runs) == 1
    _change(change, folder, monkeypatch)
    assert book.build_site() == 0
    assert len(runs) == 2, f"after '{change}' the site was reported up to date"
    # Sphinx rewrites only pages whose sources are newer: an output changed by hand needs every page written.
    assert ("--all" in runs[1]) == ("output" in change), runs[1]


def test_what_the_build_does_not_read_does_not_build_again(scratch):
    folder, runs, _ = scratch
    assert book.build_site() == 0
    (folder / "tests" / "test_x.py").write_text("assert True\n")   # the tests
    (folder / ".build.lock").write_text("process 1")                # named in .gitignore
    (folder / "_build" / "screenshots").mkdir()                     # beside the site, in _build
    _touch(folder / "chapters" / "index.md")                          # a file saved again, unchanged
    assert book.build_site() == 0 and len(runs) == 1


def test_a_failed_build_is_built_again_and_clean_always_builds(scratch):
    folder, runs, outcome = scratch
    outcome["code"] = 1
    assert book.build_site() == 1
    outcome["code"] = 0
    assert book.build_site() == 0 and len(runs) == 2, "a failed build was followed by no build"
    assert json.loads(book.UP_TO_DATE.read_text())["outputs"]
    assert book.build_site(clean=True) == 0 and len(runs) == 3


def test_the_real_build_leaves_what_it_reads_as_it_found_it(build_log):
    """After a build, the next one finds nothing to do: the build does not rewrite its own inputs (a notebook's
    set-up cell, a worksheet) every time, which would make every build a full one."""
    build_book()   # whatever the other tests left changed
    code, log = build_book()
    assert code == 0, log[-3000:]
    assert "is up to date" in log and "Running Jupyter-Book" not in log, log[-3000:]
