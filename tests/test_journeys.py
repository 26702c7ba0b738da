"""Every way a reader runs a notebook, proved the way each service starts it, without network (see journeys.py):

- Binder: a fresh environment made only from binder/ (Python from runtime.txt, `pip install -r` from the root);
- Colab, or a laptop with a downloaded notebook: only what Colab preinstalls, plus what the set-up cell installs
  from the repository (a local clone in place of GitHub);
- the set-up cells and the launch buttons follow the one place that names the repository, _config.yml;
- a notebook page's download is the executed notebook, and notebook links read as links outside the book.

(The book's build runs every notebook in tests/test_build.py; each notebook alone is in tests/test_notebooks.py.)
The journeys that make environments are marked `slow`: `python3 book.py test` runs them all; add
`-m "not slow"` to leave them out while working.
"""

import json
import re
import shutil
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml
from packaging.specifiers import SpecifierSet

import journeys
from journeys import NOTEBOOKS, ROOT

sys.path.insert(0, str(ROOT / "_ext"))
import colab_setup  # noqa: E402  (the book's extension modules live in _ext/)
import notebook_downloads  # noqa: E402

# The notebooks as this test session found them, before the build (which rewrites set-up cells) touched them:
# in CI's fresh clone, as committed.
FOUND_TEXT = {path.name: path.read_text() for path in NOTEBOOKS}
AS_FOUND = {name: json.loads(text) for name, text in FOUND_TEXT.items()}
# and their translations (notebooks/zh_CN/, tests/test_chinese_notebooks.py), whose set-up cells the build rewrites too
TRANSLATIONS_FOUND = {path.relative_to(ROOT / "notebooks").as_posix(): json.loads(path.read_text())
                      for path in sorted((ROOT / "notebooks").glob("*/*.ipynb"))}
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
BINDER_SIZE_LIMIT = 1.25e9   # bytes on disk; torch, numpy, matplotlib and a kernel alone take about 1.22e9 here
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
MYST_SYNTAX = re.compile(r"\{[\w:-]+\}`|^\s*(```|:::)\{", re.M)   # roles and directives: literal text in Jupyter

by_name = pytest.mark.parametrize("name", sorted(AS_FOUND), ids=lambda name: name[:2])


def markdown(notebook) -> str:
    return "\n\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")


def relative_links(notebook) -> list[str]:
    return [target for _, target in MARKDOWN_LINK.findall(markdown(notebook))
            if not urlsplit(target).scheme and not target.startswith("#")]


# --- glue: myst-nb's in the book's build, silent where myst-nb is absent ----------------------------------------

def test_glue_is_myst_nbs_where_myst_nb_is_installed(monkeypatch):
    import myst_nb
    from relugrad.notebook import glue
    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, variable, display=True: calls.append((name, variable, display)))
    glue("key", 2.5, display=False)
    assert calls == [("key", 2.5, False)]


def test_glue_without_myst_nb_records_nothing_and_shows_only_when_asked(monkeypatch, capsys):
    from relugrad.notebook import glue
    monkeypatch.setitem(sys.modules, "myst_nb", None)   # as on Binder and Colab: `import myst_nb` fails
    glue("key", 2.5, display=False)
    assert capsys.readouterr().out == ""
    glue("key", 2.5)
    assert capsys.readouterr().out == "2.5\n"


# --- set-up cells: written from _config.yml, exactly what Colab lacks -------------------------------------------

@pytest.mark.parametrize("name", sorted(AS_FOUND) + sorted(TRANSLATIONS_FOUND),
                         ids=lambda name: re.sub(r"_[^/]*$", "", name))   # 01, ..., zh_CN/01, ...
def test_committed_setup_cell_follows_the_config(name):
    (url, _, path), ref = journeys.repository(), journeys.relugrad_ref()
    notebook = {**AS_FOUND, **TRANSLATIONS_FOUND}[name]
    index = colab_setup.setup_cell_index(notebook)
    assert index is not None, f"{name} has no set-up cell"
    found = "".join(notebook["cells"][index]["source"])
    wanted = colab_setup.setup_cell_source(notebook, url, ref, path)
    assert found == wanted, (
        f"{name}: the committed set-up cell disagrees with _config.yml (repository {url}, release {ref}); "
        f"the build writes it (`python3 book.py build`): commit the notebook it rewrote.\n{found}")


@by_name
def test_setup_cell_installs_exactly_what_colab_lacks(name):
    notebook = AS_FOUND[name]
    (url, _, path), ref = journeys.repository(), journeys.relugrad_ref()
    assert colab_setup.missing_on_colab(notebook) == ["relugrad"]
    installs = re.findall(r'"(relugrad @ [^"]+)"', colab_setup.setup_cell_source(notebook, url, ref, path))
    subdirectory = f"#subdirectory={path.strip('/')}" if path.strip("/") else ""
    assert installs == [f"relugrad @ git+{url}@{ref}{subdirectory}"], installs


def test_a_fork_changes_one_line_and_only_set_up_cells_follow():
    """What the build does for a fork: only the set-up cell changes, and a second pass changes nothing."""
    for name, notebook in AS_FOUND.items():
        forked = colab_setup.with_setup_cell(notebook, "https://github.com/a-fork/relu-book", "v2.0.0")
        index = colab_setup.setup_cell_index(notebook)
        assert 'git+https://github.com/a-fork/relu-book@v2.0.0"' in "".join(forked["cells"][index]["source"])
        untouched = [i for i, (a, b) in enumerate(zip(notebook["cells"], forked["cells"])) if a != b]
        assert untouched == [index] and len(forked["cells"]) == len(notebook["cells"]), name
        again = colab_setup.with_setup_cell(forked, "https://github.com/a-fork/relu-book", "v2.0.0")
        assert colab_setup.dumps(again) == colab_setup.dumps(forked), f"{name}: not idempotent"


def test_committed_notebooks_are_in_the_layout_the_build_writes():
    """So that the build's rewrite of a set-up cell changes no other line of the file."""
    for name, text in FOUND_TEXT.items():
        assert colab_setup.dumps(AS_FOUND[name]) == text, name


def test_a_notebook_that_imports_what_colab_lacks_fails_the_build():
    notebook = {"cells": [{"cell_type": "code", "source": ["import torch\n", "from myst_nb import glue"]}]}
    with pytest.raises(colab_setup.SetupCellError, match="myst_nb"):
        colab_setup.setup_cell_source(notebook, "https://github.com/o/r", "v1.0.0")


def test_a_new_notebook_gets_a_setup_cell_before_its_first_code_cell():
    notebook = {"cells": [{"cell_type": "markdown", "source": ["# New"]},
                          {"cell_type": "code", "source": ["from relugrad import objective"]}]}
    written = colab_setup.with_setup_cell(notebook, "https://github.com/o/r", "v1.0.0")
    assert [cell["cell_type"] for cell in written["cells"]] == ["markdown", "code", "code"]
    assert colab_setup.setup_cell_index(written) == 1
    assert "git+https://github.com/o/r@v1.0.0" in "".join(written["cells"][1]["source"])


# --- launch buttons: from the same place ------------------------------------------------------------------------

@by_name
def test_launch_buttons_open_the_configured_repository(name, html_root):
    url, branch, path = journeys.repository()
    owner, repo = urlsplit(url).path.strip("/").split("/")[-2:]
    in_repository = f"{path.strip('/') + '/' if path.strip('/') else ''}notebooks/{name}"
    page = (html_root / "notebooks" / name).with_suffix(".html").read_text()
    binder = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
    colab = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
    binder_links = re.findall(rf'href="({re.escape(binder)}/[^"]+)"', page)
    colab_links = re.findall(rf'href="({re.escape(colab)}/[^"]+)"', page)
    assert len(binder_links) == 1 and len(colab_links) == 1, (binder_links, colab_links)
    assert binder_links[0].startswith(f"{binder}/v2/gh/{owner}/{repo}/{branch}?")
    assert binder_links[0].endswith(f"/{in_repository}")
    assert colab_links[0] == f"{colab}/github/{owner}/{repo}/blob/{branch}/{in_repository}"


# --- downloads and links ----------------------------------------------------------------------------------------

def download_of(page: Path) -> Path:
    links = re.findall(r'<a href="([^"]+)"[^>]*class="[^"]*btn-download-source-button', page.read_text(), re.S)
    assert len(links) == 1, f"{page.name}: {len(links)} download buttons"
    return (page.parent / links[0]).resolve()


@by_name
def test_download_is_the_executed_notebook(name, html_root):
    source = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    download = nbformat.read(download_of((html_root / "notebooks" / name).with_suffix(".html")), as_version=4)
    nbformat.validate(download)
    assert [cell.get("id") for cell in download.cells] == [cell.get("id") for cell in source.cells]
    figures = 0
    for mine, theirs in zip(source.cells, download.cells):
        if mine.cell_type != "code":
            continue
        assert theirs.source == mine.source
        assert theirs.execution_count is not None, f"{name}: a code cell was not executed"
        kinds = [output.output_type for output in theirs.outputs]
        assert "error" not in kinds
        # The set-up cell prints only when it installs relugrad, which the book's own build never needs to.
        setup = mine.source.startswith(colab_setup.FIRST_LINE)
        if not setup and ("print(" in mine.source or _figures_shown(mine.source)):
            assert theirs.outputs, f"{name}: no output from\n{mine.source[:200]}"
        shown = _figures_shown(mine.source)
        images = [output for output in theirs.outputs if "image/png" in output.get("data", {})]
        assert len(images) == shown, f"{name}: {shown} figures shown, {len(images)} in the download"
        figures += shown
    assert figures == sum(_figures_shown(cell.source) for cell in source.cells if cell.cell_type == "code")


def _figures_shown(source: str) -> int:
    """The figures a code cell shows: one per plt.show(), and one per figure drawn in each language (which shows the
    English one and glues the others hidden: relugrad.figures.in_each_language)."""
    return source.count("plt.show()") + source.count("in_each_language(")


def wheel_of(page: Path) -> Path:
    """The helper package's wheel that a notebook page's download menu offers (_ext/relugrad_wheel.py)."""
    links = re.findall(r'<a href="([^"]+)"[^>]*class="[^"]*btn-download-relugrad-button', page.read_text(), re.S)
    assert len(links) == 1, f"{page.name}: {len(links)} links to relugrad's wheel"
    return (page.parent / links[0]).resolve()


def test_every_notebook_page_offers_this_checkouts_relugrad_as_a_wheel(html_root):
    """One wheel, named as pip expects, beside the site's root; its modules are this checkout's, byte for byte."""
    import zipfile

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheels = {wheel_of((html_root / "notebooks" / name).with_suffix(".html")) for name in AS_FOUND}
    assert wheels == {(html_root / f"relugrad-{version}-py3-none-any.whl").resolve()}, wheels
    with zipfile.ZipFile(wheels.pop()) as wheel:
        shipped = {name: wheel.read(name) for name in wheel.namelist() if name.startswith("relugrad/")}
        metadata = wheel.read(f"relugrad-{version}.dist-info/METADATA").decode()
    ours = {path.relative_to(ROOT).as_posix(): path.read_bytes()
            for path in sorted((ROOT / "relugrad").rglob("*")) if path.is_file() and path.suffix in (".py", ".json")}
    assert shipped == ours, sorted(set(shipped) ^ set(ours)) or "a module differs from this checkout's"
    assert f"Version: {version}" in metadata and "Requires-Dist: torch" in metadata


@by_name
def test_download_links_work_outside_the_book(name, html_root):
    url, branch, path = journeys.repository()
    assert not CONFIG.get("html", {}).get("baseurl"), "with a baseurl, links go to the book's pages: test those"
    download = json.loads(download_of((html_root / "notebooks" / name).with_suffix(".html")).read_text())
    assert not relative_links(download), f"{name}: relative links do not work in a lone notebook"
    book = f"{url}/blob/{branch}" + (f"/{path.strip('/')}" if path.strip("/") else "")
    for target in relative_links(AS_FOUND[name]):
        resolved = (ROOT / "notebooks" / target.split("#")[0]).resolve().relative_to(ROOT).as_posix()
        assert f"]({book}/{resolved}" in markdown(download), f"{name}: {target}"


def test_links_become_book_pages_when_the_book_has_an_address():
    base, html = notebook_downloads.link_base("https://book.example/relu/", "https://github.com/o/r", "main", "")
    rewritten = notebook_downloads.absolute_links(
        "see [ReLU at zero](../chapters/relu_at_zero.md#at-zero) and [below](#numbers)", "notebooks/03", base, html)
    assert rewritten == ("see [ReLU at zero](https://book.example/relu/chapters/relu_at_zero.html#at-zero) and "
                         "[below](#numbers)")
    base, html = notebook_downloads.link_base("https://book.example/relu/", "https://github.com/o/r", "main", "",
                                              "zh_CN")   # the Chinese edition's download: its own pages
    rewritten = notebook_downloads.absolute_links("[ReLU at zero](../chapters/relu_at_zero.md)", "notebooks/03", base,
                                                  html)
    assert rewritten == "[ReLU at zero](https://book.example/relu/zh_CN/chapters/relu_at_zero.html)"


@by_name
def test_notebook_markdown_reads_the_same_in_jupyter(name):
    """MyST roles and directives show as literal text in Jupyter and Colab; Markdown links read as links."""
    found = [match.group(0) for match in MYST_SYNTAX.finditer(markdown(AS_FOUND[name]))]
    assert not found, f"{name}: {found}"


@by_name
def test_notebook_links_resolve_in_the_book(name, html_root):
    page = (html_root / "notebooks" / name).with_suffix(".html").read_text()
    for target in relative_links(AS_FOUND[name]):
        file = target.split("#")[0]
        assert (ROOT / "notebooks" / file).is_file(), f"{name}: {target} is no file"
        html = Path(file).with_suffix(".html").as_posix()
        assert re.search(rf'<a class="reference internal" href="{re.escape(html)}[#"]', page), \
            f"{name}: the book does not link {target} to its page"


# --- Binder ---------------------------------------------------------------------------------------------------

def test_binder_python_is_one_the_helper_package_accepts():
    version = journeys.runtime_python()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"{version}.0" in SpecifierSet(requires), \
        f"repo2docker would use Python {version}; relugrad requires {requires}: write binder/runtime.txt"
    assert journeys.find_python(version), f"Python {version} (binder/runtime.txt) is not on this machine"


def test_binder_requirements_are_what_the_notebooks_import():
    """binder/requirements.in names what the notebooks import (its lock, binder/requirements.txt, adds what that
    needs), and binder/postBuild installs the helper package from the repository."""
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "binder" / "requirements.in").read_text().splitlines()]
    packages = {journeys.normalise(re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0])
                for line in lines if line and not line.startswith("-")}
    local = re.findall(r"^python -m pip install .*-e \.$", (ROOT / "binder" / "postBuild").read_text(), re.M)
    imported = set().union(*(colab_setup.imported_modules(notebook) for notebook in AS_FOUND.values()))
    third_party = {journeys.normalise(module) for module in imported - set(sys.stdlib_module_names)}
    assert local, "binder/postBuild must install the helper package from the repository ('-e .')"
    assert packages | {"relugrad"} == third_party, f"installed {packages}, imported {third_party}"


def test_binder_pins_are_the_books():
    book = journeys.book_pins()
    for name, pin in journeys.book_pins(ROOT / "binder" / "requirements.in").items():
        assert pin.removesuffix("+cpu") == book[name], f"binder/requirements.txt pins {pin}, the book {book[name]}"


@pytest.fixture(scope="session")
def clone(tmp_path_factory):
    return journeys.make_clone(tmp_path_factory.mktemp("clone"))


@pytest.fixture(scope="session")
def binder(clone, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("binder") / "env"
    yield journeys.binder_environment(clone, prefix)
    shutil.rmtree(prefix, ignore_errors=True)   # 1.2 GB


@pytest.fixture(scope="session")
def colab(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("colab") / "env"
    yield journeys.colab_environment(prefix)
    shutil.rmtree(prefix, ignore_errors=True)


@pytest.mark.slow
def test_binder_environment_holds_what_the_notebooks_need_and_nothing_else(binder):
    installed, size, problems = binder.distributions(), binder.size_bytes(), []
    if binder.can_import("myst_nb"):
        problems.append("myst-nb is there, so the Binder journeys would prove nothing")
    if toolchain := [name for name in journeys.BOOK_TOOLCHAIN if name in installed]:
        problems.append(f"the book's build toolchain is there: {toolchain}")
    if size > BINDER_SIZE_LIMIT:
        problems.append(f"it takes {size / 1e9:.2f} GB on disk, more than {BINDER_SIZE_LIMIT / 1e9:.2f} GB")
    if not binder.can_import("relugrad") or not installed.get("torch", "").startswith("2.13.0"):
        problems.append("the helper package or torch 2.13.0 is missing")
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_runs_on_binder(path, binder, clone):
    folder = clone / "notebooks"   # Binder opens the notebook in its folder of the checkout
    notebook = nbformat.read(folder / path.name, as_version=4)
    before = binder.distributions()
    seconds = binder.execute(notebook, folder)
    assert not journeys.errors(notebook), journeys.errors(notebook)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert not setup.outputs, "on Binder the set-up cell must find the helper package and do nothing"
    assert binder.distributions() == before
    print(f"{path.name}: {seconds:.1f} s on Binder")


@pytest.mark.slow
def test_a_downloaded_notebook_runs_offline_with_the_wheel_saved_beside_it(colab, html_root, tmp_path):
    """A reader with no network: the notebook and relugrad's wheel, both from the notebook's page, in one folder.
    The set-up cell installs the wheel (its repository is unreachable here: a file:// address that does not exist)."""
    if colab.can_import("relugrad"):
        colab.pip_uninstall("relugrad")
    page = (html_root / "notebooks" / NOTEBOOKS[0].name).with_suffix(".html")
    notebook = nbformat.read(download_of(page), as_version=4)
    unreachable = (tmp_path / "no-such-repository").as_uri()
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    url, _, _ = journeys.repository()
    setup.source = setup.source.replace(f"git+{url}@", f"git+{unreachable}@")
    shutil.copy(wheel_of(page), tmp_path)
    colab.execute(notebook, tmp_path)
    assert not journeys.errors(notebook), journeys.errors(notebook)
    assert colab.can_import("relugrad")
    shown = "".join(output.get("text", "") for output in setup.outputs)
    assert "from relugrad-" in shown and ".whl" in shown, shown
    colab.pip_uninstall("relugrad")


@pytest.mark.slow
def test_a_failed_install_shows_one_sentence_not_a_traceback(colab, tmp_path):
    """No wheel and no network: the set-up cell's error output is one sentence that says what to do."""
    if colab.can_import("relugrad"):
        colab.pip_uninstall("relugrad")
    notebook = nbformat.read(ROOT / "notebooks" / NOTEBOOKS[0].name, as_version=4)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    url, _, _ = journeys.repository()
    setup.source = setup.source.replace(f"git+{url}@", f"git+{(tmp_path / 'no-such-repository').as_uri()}@")
    notebook.cells = [setup]
    colab.execute(notebook, tmp_path)
    errors = [output for output in setup.outputs if output.output_type == "error"]
    assert len(errors) == 1, setup.outputs
    assert len(errors[0].traceback) == 1, errors[0].traceback
    sentence = errors[0].traceback[0]
    assert sentence.startswith("Could not install relugrad") and ".whl" in sentence and "run this cell again" in sentence
    assert "Traceback" not in sentence and "\n" not in sentence, sentence


@pytest.mark.slow
def test_colab_environment_lacks_the_book(colab):
    assert not colab.can_import("myst_nb"), "with myst-nb there, the Colab journeys prove nothing"
    assert not colab.can_import("relugrad")
    assert set(map(journeys.normalise, journeys.COLAB_PREINSTALLED)) <= set(colab.distributions())


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_runs_on_colab(path, colab, clone, tmp_path):
    if colab.can_import("relugrad"):   # a fresh runtime for each notebook, as on Colab
        colab.pip_uninstall("relugrad")
    before = colab.distributions()
    notebook = journeys.from_clone(nbformat.read(clone / "notebooks" / path.name, as_version=4), clone)
    seconds = colab.execute(notebook, tmp_path)   # alone, in an empty folder
    assert not journeys.errors(notebook), journeys.errors(notebook)
    after = colab.distributions()
    added = {name: version for name, version in after.items() if name not in before}
    assert list(added) == ["relugrad"], f"the set-up cell installed {added}"
    assert {name: after[name] for name in before} == before, "the set-up cell changed what Colab had"
    assert not colab.can_import("myst_nb")
    print(f"{path.name}: {seconds:.1f} s on Colab, set-up cell included")
