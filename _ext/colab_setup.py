"""Colab set-up cells, written from _config.yml: the repository is named in one place, so a fork changes one line.

The first code cell of every notebook installs what the notebook imports and Colab lacks: the helper package, from
the release tag `relugrad_ref` (_config.yml, `v` + pyproject.toml's version) of the repository, never from a branch
that moves under a reader, or, with no network, from the book's wheel of that version saved beside the notebook
(relugrad_wheel.py offers it on every notebook page). It shows what it installed and from where, says in one sentence
what to do when the install fails, and does nothing where that version is already installed (the book's build,
Binder, a local install); another version is replaced. The build rewrites that cell whenever it disagrees with the
configuration, and only that cell: every other cell, and the file's JSON layout, stay byte for byte as they were.
The notebooks' translations (notebooks/<language>/, notebook_translations.py) get the same cell, rewritten with them.
tests/test_journeys.py fails when a committed set-up cell disagrees with _config.yml.
"""

import ast
import json
import re
import sys
import tomllib
from pathlib import Path

from sphinx.util import logging

import notebook_translations

PACKAGE = "relugrad"   # the book's helper package, installed from the repository itself
# What Colab preinstalls, among what these notebooks import (module names): Colab needs nothing else installed.
COLAB_MODULES = frozenset({"torch", "numpy", "matplotlib", "IPython", "ipykernel"})
FIRST_LINE = "# Set-up for Colab, or any Jupyter without the book's helper package"
LEGACY_MARKER = "%pip install"   # what marked the hand-written set-up cells before they were generated

logger = logging.getLogger(__name__)


class SetupCellError(Exception):
    """A notebook imports something that its set-up cell could not install on Colab."""


RELEASE_TAG = re.compile(r"v(\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)?)")   # v + a PEP 440 version


def pinned_version(ref: str) -> str:
    """The helper package's version that a release tag names (v1.0.0 -> 1.0.0)."""
    match = RELEASE_TAG.fullmatch(ref or "")
    if not match:
        raise SetupCellError(f"_config.yml: relugrad_ref must be a release tag, v followed by relugrad's version "
                             f"(e.g. v1.0.0), not {ref!r}: a branch moves under the readers")
    return match.group(1)


def wheel_name(version: str) -> str:
    """The file name pip expects for this pure-Python package's wheel (PEP 427): what relugrad_wheel.py puts on the
    site, and what the set-up cell looks for beside the notebook."""
    return f"{PACKAGE}-{version}-py3-none-any.whl"


def package_version(root: Path) -> str:
    """The helper package's version, as pyproject.toml gives it."""
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def requirement(url: str, ref: str, path_to_book: str = "") -> str:
    """pip's requirement for the helper package, from the repository at its release tag."""
    if not url:
        raise SetupCellError("_config.yml must name the repository: repository.url")
    pinned_version(ref)
    subdirectory = path_to_book.strip("/")
    return f"{PACKAGE} @ git+{url.rstrip('/')}@{ref}" + (f"#subdirectory={subdirectory}" if subdirectory else "")


def imported_modules(notebook: dict) -> set[str]:
    """Top-level names of the modules that the notebook's code cells import (IPython magics left out)."""
    modules = set()
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        # A line magic or shell escape is not Python: keep its indentation, drop the rest.
        python = re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.M)
        try:
            tree = ast.parse(python)
        except SyntaxError as error:
            raise SetupCellError(f"code cell {index} does not parse: {error}") from error
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def missing_on_colab(notebook: dict) -> list[str]:
    """What the notebook imports that neither Python nor Colab brings."""
    return sorted(imported_modules(notebook) - set(sys.stdlib_module_names) - COLAB_MODULES)


def setup_cell_source(notebook: dict, url: str, ref: str, path_to_book: str = "") -> str:
    """The set-up cell this notebook must start with, for the repository and release named in the configuration."""
    missing = missing_on_colab(notebook)
    unknown = [name for name in missing if name != PACKAGE]
    if unknown:
        raise SetupCellError(
            f"it imports {', '.join(unknown)}, which Colab lacks: import it through the helper package "
            f"'{PACKAGE}' (as for myst-nb's glue: relugrad.notebook), or make it one of {PACKAGE}'s dependencies "
            "in pyproject.toml and teach _ext/colab_setup.py to install it")
    if not missing:
        return ""
    version, wanted = pinned_version(ref), requirement(url, ref, path_to_book)
    wheel = wheel_name(version)
    repository = wanted.split(" @ ", 1)[1]
    return "\n".join([
        FIRST_LINE,
        "# (written by the book's build from _config.yml: change the repository or the release there, not here).",
        "import importlib.metadata, os, subprocess, sys",
        "try:",
        f'    installed = importlib.metadata.version("{PACKAGE}")',
        "except importlib.metadata.PackageNotFoundError:",
        "    installed = None",
        f'if installed != "{version}":   # missing, or another version: install the pinned release',
        f'    wheel = "{wheel}"   # from the book\'s notebook pages: saved beside this notebook, it needs no network',
        f'    source = wheel if os.path.exists(wheel) else "{wanted}"',
        '    pip = subprocess.run([sys.executable, "-m", "pip", "install", source], capture_output=True, text=True)',
        "    if pip.returncode != 0:",
        "        class SetUpFailed(Exception):",
        "            def _render_traceback_(self):   # Jupyter shows the sentence alone, not a traceback",
        "                return [str(self)]",
        f'        raise SetUpFailed(f"Could not install {PACKAGE} {version} from {{source}} (no network?): save '
        f'{{wheel}} from the download menu of this notebook\'s page in the book beside this notebook and run '
        f'this cell again, or install {PACKAGE} from {repository}.")',
        "    importlib.invalidate_caches()",
        f'    print("{PACKAGE}", importlib.metadata.version("{PACKAGE}"), "from", source)',
    ])


def _lines(text: str) -> list[str]:
    """A cell's source as nbformat stores it: lines that keep their newline, the last without one."""
    return text.splitlines(keepends=True)


def setup_cell_index(notebook: dict) -> int | None:
    """Index of the notebook's set-up cell: its first code cell, if that is one; else None."""
    first_code = next((i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"), None)
    if first_code is None:
        return None
    source = "".join(notebook["cells"][first_code]["source"])
    return first_code if source.startswith(FIRST_LINE) or LEGACY_MARKER in source else None


def _hidden(metadata: dict) -> dict:
    """The set-up cell is plumbing for Colab: the book's page leaves it out (myst-nb's "remove-cell" tag); Jupyter
    and Colab still show and run it."""
    tags = list(metadata.get("tags", []))
    return {**metadata, "tags": tags if "remove-cell" in tags else tags + ["remove-cell"]}


def with_setup_cell(notebook: dict, url: str, ref: str, path_to_book: str = "") -> dict:
    """The notebook with its set-up cell as the configuration wants it (inserted before the first code cell if
    missing, removed if nothing is missing); the other cells are the same objects, untouched."""
    wanted = setup_cell_source(notebook, url, ref, path_to_book)
    cells = list(notebook["cells"])
    index = setup_cell_index(notebook)
    if index is not None and not wanted:
        del cells[index]
    elif index is not None:
        cells[index] = {**cells[index], "source": _lines(wanted), "metadata": _hidden(cells[index]["metadata"])}
    elif wanted:
        first_code = next((i for i, cell in enumerate(cells) if cell["cell_type"] == "code"), len(cells))
        cell = {"cell_type": "code", "execution_count": None, "id": "colab-setup", "metadata": _hidden({}),
                "outputs": [], "source": _lines(wanted)}
        cells.insert(first_code, cell)
    return {**notebook, "cells": cells}


def dumps(notebook: dict) -> str:
    """nbformat's own layout (one-space indent, sorted keys, UTF-8 as is), so an unchanged cell is unchanged text."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def sync(path: Path, url: str, ref: str, path_to_book: str = "") -> bool:
    """Rewrite the notebook at `path` if its set-up cell disagrees with the configuration; True if it did."""
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    try:
        updated = dumps(with_setup_cell(notebook, url, ref, path_to_book))
    except SetupCellError as error:
        raise SetupCellError(f"{path.name}: {error}") from error
    if updated == text:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


def _sync_notebooks(app, env, added, changed, removed):
    """Before Sphinx reads the documents: bring every notebook's set-up cell in line with the configuration, and
    have the notebooks that changed read (and so executed) again. A notebook whose file and configuration are as
    they were after the last check is not parsed again."""
    options = app.config.html_theme_options
    url, ref = options.get("repository_url", ""), app.config.relugrad_ref
    path_to_book = options.get("path_to_docs", "")
    project = Path(app.srcdir) / "pyproject.toml"
    if project.exists() and pinned_version(ref) != package_version(Path(app.srcdir)):
        raise SetupCellError(f"_config.yml: relugrad_ref {ref} is not v + relugrad's version in pyproject.toml "
                             f"({package_version(Path(app.srcdir))}): Colab would install another relugrad than "
                             f"the notebooks were run with; release the version, then set its tag here")
    checked_file = Path(app.doctreedir) / "colab-setup-checked.json"
    try:
        checked = json.loads(checked_file.read_text())
    except (OSError, ValueError):
        checked = {}
    rewritten, now_checked = [], {}
    for docname in sorted(env.found_docs):
        source = Path(env.doc2path(docname))
        if source.suffix != ".ipynb":
            continue
        for path in [source, *notebook_translations.translations_of(source)]:   # (a translation is no page)
            key = path.relative_to(app.srcdir).with_suffix("").as_posix()
            state = _state(path, url, ref, path_to_book)
            if checked.get(key) != state and sync(path, url, ref, path_to_book):
                logger.info(f"colab_setup: wrote the set-up cell of {key}.ipynb from _config.yml ({url}@{ref})")
                if path == source:
                    rewritten.append(docname)
                state = _state(path, url, ref, path_to_book)   # the file as rewritten
            now_checked[key] = state
    checked_file.parent.mkdir(parents=True, exist_ok=True)
    checked_file.write_text(json.dumps(now_checked))
    return rewritten


def _state(path: Path, *configuration: str) -> list:
    """What a check of this notebook depended on: the file as it stands, and the repository it names."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, *configuration, Path(__file__).stat().st_mtime_ns]


def setup(app):
    # The release tag of the helper package that set-up cells install (_config.yml: sphinx.config.relugrad_ref).
    app.add_config_value("relugrad_ref", "", "env", types=[str])
    app.connect("env-get-outdated", _sync_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
