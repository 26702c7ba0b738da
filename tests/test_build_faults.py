"""The build can be trusted: each fault found in review is reproduced on a small book and must now be handled.

A failed build is never followed by a "successful" unchanged one; a change to the helper package re-executes the
notebooks and refreshes the pages that quote them; a LaTeX error fails the build and names the formula; the KaTeX
server starts robustly and never outlives the build; two builds at once do not collide; set-up mistakes get one
clear sentence; files that tools drop never become pages.
"""

import ast
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from scratch_book import GLUE, ROOT, build, make_book, notebook, page

pytestmark = pytest.mark.slow

GOOD = "# Home\n\nSee {doc}`other`.\n"
OTHER = "# Other\n\nA formula: $\\langle P, Q \\rangle$.\n"


def test_a_failed_build_is_not_followed_by_a_successful_unchanged_one(tmp_path):
    book = make_book(tmp_path, {"index.md": "# Home\n\nSee {doc}`missing_page`.\n", "other.md": OTHER})
    first, _ = build(book)
    second, log = build(book)
    assert first != 0 and second != 0, "the broken reference must fail every build until it is fixed"
    assert "missing_page" in log
    (book / "index.md").write_text(GOOD)
    fixed, log = build(book)
    assert fixed == 0, log[-3000:]


def test_a_missing_glue_key_fails_every_build(tmp_path):
    book = make_book(tmp_path, {"index.md": "# Home\n\nf = {glue:text}`/nb.ipynb::not_glued:.2f`.\n"},
                     {"nb.ipynb": notebook(f"{GLUE}\nglue('value', 1.5, display=False)")})
    first, log = build(book)
    second, _ = build(book)
    assert first != 0 and second != 0, log[-3000:]
    assert "not_glued" in log


def test_a_change_to_the_helper_package_re_executes_and_refreshes_the_quoting_page(tmp_path):
    (tmp_path / "relugrad").mkdir()
    (tmp_path / "relugrad" / "__init__.py").write_text("VALUE = 1.25\n")
    (tmp_path / "relugrad" / "notebook.py").write_text("from myst_nb import glue\n")
    book = make_book(tmp_path, {"index.md": "# Home\n\nThe value is {glue:text}`/nb.ipynb::value:.2f`.\n"},
                     {"nb.ipynb": notebook("import sys; sys.path.insert(0, '.')\nimport relugrad\n"
                                           f"{GLUE}\nglue('value', relugrad.VALUE, display=False)")})
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert "The value is 1.25" in _text(page(book, "index"))
    (tmp_path / "relugrad" / "__init__.py").write_text("VALUE = 2.5\n")
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert "The value is 2.50" in _text(page(book, "index")), "the chapter still shows the old number"
    assert re.search(r"nb\.ipynb: executed in", log), "the notebook was not executed again"


def test_a_change_to_the_helper_package_refreshes_the_quoting_page_in_every_edition(tmp_path):
    """The editions share one execution cache: the English build executes the notebook again, and the Chinese one
    must still read it again (it once saw the cache up to date and kept its old number)."""
    (tmp_path / "relugrad").mkdir()
    (tmp_path / "relugrad" / "__init__.py").write_text("VALUE = 1.25\n")
    (tmp_path / "relugrad" / "notebook.py").write_text("from myst_nb import glue\n")
    (tmp_path / "locales" / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)   # no catalogue: the edition shows English
    book = make_book(tmp_path, {"index.md": "# Home\n\nThe value is {glue:text}`/nb.ipynb::value:.2f`.\n"},
                     {"nb.ipynb": notebook("import sys; sys.path.insert(0, '.')\nimport relugrad\n"
                                           f"{GLUE}\nglue('value', relugrad.VALUE, display=False)")})
    code, log = build(book, editions=True)
    assert code == 0, log[-3000:]
    assert "The value is 1.25" in _text(page(book, "zh_CN/index"))
    (tmp_path / "relugrad" / "__init__.py").write_text("VALUE = 2.5\n")
    code, log = build(book, editions=True)
    assert code == 0, log[-3000:]
    assert "The value is 2.50" in _text(page(book, "index"))
    assert "The value is 2.50" in _text(page(book, "zh_CN/index")), "the Chinese page still shows the old number"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_a_latex_error_fails_the_build_and_names_the_formula(tmp_path):
    for formula, fragment in ((r"\frac{1}{\undefinedmacro}", "undefinedmacro"), (r"\frac{1}{", "frac")):
        book = make_book(tmp_path / fragment, {"index.md": GOOD, "other.md": f"# Other\n\n$$\n{formula}\n$$\n"})
        code, log = build(book)
        assert code != 0, f"{formula} did not fail the build"
        assert re.search(rf"other\.md.*KaTeX cannot render.*{fragment}", log), log[-3000:]


def test_no_render_server_outlives_a_build(tmp_path):
    book = make_book(tmp_path, {"index.md": GOOD, "other.md": OTHER})
    mark = f"BOOK_TEST_BUILD={tmp_path}"   # inherited by all this build starts, and by nothing of another build
    code, log = build(book, env=dict([mark.split("=", 1)]))
    assert code == 0, log[-3000:]
    survivors = subprocess.run(["pgrep", "-f", "katex-server.js"], capture_output=True, text=True).stdout.split()
    ours = [pid for pid in survivors if mark in _environment(pid)]
    assert not ours, f"KaTeX render servers left running: {ours}"


def _environment(pid: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def test_the_render_server_start_survives_a_refused_first_connection(tmp_path):
    """A server that creates its socket before it listens (what Node does under load) must still be reached."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import offline_math
    import sphinxcontrib.katex as katex

    late = tmp_path / "late_server.py"
    late.write_text(
        "import socket, sys, time\n"
        "path = sys.argv[sys.argv.index('--socket') + 1]\n"
        "server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "server.bind(path)\n"          # the socket file exists now: connections are refused until listen()
        "time.sleep(0.5)\n"
        "server.listen(1)\n"
        "connection, _ = server.accept()\n"
        "time.sleep(5)\n")

    class Late(katex.KaTeXServer):
        @classmethod
        def build_command(cls, socket=None, port=None):
            return [sys.executable, str(late), "--socket", str(socket)]

    process, sock = offline_math._start_server_process.__get__(Late)(tmp_path, timeout=5.0)
    try:
        assert process.poll() is None
    finally:
        sock.close()
        process.kill()
        process.wait()

    class Dying(katex.KaTeXServer):
        @classmethod
        def build_command(cls, socket=None, port=None):
            return [sys.executable, "-c", "raise SystemExit(3)"]

    with pytest.raises(katex.KaTeXError, match="exited at start"):
        offline_math._start_server_process.__get__(Dying)(tmp_path, timeout=5.0)


def test_two_builds_at_once_both_succeed_one_after_the_other(tmp_path):
    book = make_book(tmp_path, {"index.md": GOOD, "other.md": OTHER},
                     {"nb.ipynb": notebook(f"{GLUE}\nglue('value', 1.5, display=False)")})
    results = []

    def run():
        results.append(build(book))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=600)
    codes = [code for code, _ in results]
    logs = "\n".join(log for _, log in results)
    assert codes == [0, 0], logs[-4000:]
    assert "Another build of this book is running" in logs


def test_files_that_tools_drop_are_not_pages(tmp_path):
    book = make_book(tmp_path, {"index.md": GOOD, "other.md": OTHER})
    (book / ".pytest_cache").mkdir()
    (book / ".pytest_cache" / "README.md").write_text("# pytest cache directory\n")
    code, log = build(book)
    assert code == 0, log[-3000:]
    html = book / "_build" / "html"
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not p.relative_to(html).parts[0].startswith("_"))
    assert pages == ["genindex.html", "index.html", "other.html", "search.html"], pages


def test_a_removed_chapter_leaves_no_page_behind(tmp_path):
    book = make_book(tmp_path, {"index.md": GOOD, "other.md": OTHER})
    assert build(book)[0] == 0
    (book / "index.md").write_text("# Home\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "other.md").unlink()
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert not (book / "_build" / "html" / "other.html").exists()


# ---------------------------------------------------------------------------------------------- book.py set-up
def _ext_modules_book_py_imports() -> list[str]:
    """The plain-Python modules of _ext/ that book.py imports, read from book.py (a new import needs no edit here)."""
    tree = ast.parse((ROOT / "book.py").read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return sorted(f"{name}.py" for name in names if (ROOT / "_ext" / f"{name}.py").exists())


def _book_py(folder: Path, *arguments: str, python: str = sys.executable, prelude: str = "") -> subprocess.CompletedProcess:
    """Run a copy of book.py in `folder` (so that nothing touches this checkout's .venv)."""
    (folder / "_ext").mkdir(exist_ok=True)
    for name in ("book.py",):
        (folder / name).write_text((ROOT / name).read_text())
    for name in _ext_modules_book_py_imports():
        (folder / "_ext" / name).write_text((ROOT / "_ext" / name).read_text())
    code = f"{prelude}\nimport runpy, sys\nsys.argv = ['book.py', *{list(arguments)!r}]\nrunpy.run_path('book.py', run_name='__main__')"
    return subprocess.run([python, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120)


def test_an_old_python_gets_one_sentence(tmp_path):
    result = _book_py(tmp_path, "build", prelude="import sys; sys.version_info = (3, 10, 12, 'final', 0)")
    assert result.returncode != 0
    assert "needs Python 3.11 or newer" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_venv_made_by_another_python_gets_one_sentence(tmp_path):
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.10.12\n")
    result = _book_py(tmp_path, "build")
    assert result.returncode == 2
    assert "was made by Python 3.10.12" in result.stderr and "rm -rf .venv" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_venv_gets_one_sentence(tmp_path):
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "lib").mkdir()
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    (tmp_path / ".venv" / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}\n")
    os.symlink(sys.executable, tmp_path / ".venv" / "bin" / "python")
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        (tmp_path / name).write_text("")
    # Root may write anywhere, so the test makes os.access say what it says to an ordinary user.
    prelude = ("import os; _access = os.access\n"
               "os.access = lambda path, mode, **kw: False if '.venv' in str(path) and mode == os.W_OK "
               "else _access(path, mode, **kw)")
    result = _book_py(tmp_path, "build", prelude=prelude)
    assert result.returncode == 2
    assert "not writable" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_new_title_or_table_of_contents_reaches_every_page(tmp_path):
    """Every page's sidebar and previous/next links show the other chapters' titles and order: a renamed chapter or
    a chapter added to the table of contents must reach them, though only one source changed."""
    book = make_book(tmp_path, {"index.md": GOOD, "other.md": OTHER, "third.md": "# Third\n\nText.\n"})
    assert build(book)[0] == 0
    (book / "other.md").write_text(OTHER.replace("# Other", "# Renamed chapter"))
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert "Renamed chapter" in _text(page(book, "third")), "the third page still shows the old title"
    (book / "fourth.md").write_text("# Fourth chapter\n\nText.\n")
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    toc["chapters"].append({"file": "fourth"})
    (book / "_toc.yml").write_text(yaml.safe_dump(toc))
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert "Fourth chapter" in _text(page(book, "third")), "the new chapter is missing from the third page"


def test_the_notebooks_depend_on_the_helper_package_data(tmp_path):
    """`book.py bench --backward` rewrites relugrad/data/, which a notebook plots: a change there re-executes it."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import notebook_execution

    data = tmp_path / "relugrad" / "data" / "backward_cost.json"
    data.parent.mkdir(parents=True)
    (tmp_path / "relugrad" / "__init__.py").write_text("")
    data.write_text('{"date": "2026-11-28"}')
    before = notebook_execution.dependency_digest(tmp_path)
    data.write_text('{"date": "2031-01-02"}')
    assert notebook_execution.dependency_digest(tmp_path) != before, "the notebooks would keep the old data"
