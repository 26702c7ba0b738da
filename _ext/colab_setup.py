"""Colab set-up cells, written from _config.yml: the repository is named in one place, so a fork changes one line.

The first code cell of every notebook installs what the notebook imports and Colab lacks (the helper package,
from the branch of the repository that the launch buttons open), and does nothing where the package is already
there (the book's build, Binder, a local install). The build rewrites that cell whenever it disagrees with the
configuration, and only that cell: every other cell, and the file's JSON layout, stay byte for byte as they were.
tests/test_journeys.py fails when a committed set-up cell disagrees with _config.yml.
"""

import ast
import json
import re
import sys
from pathlib import Path

from sphinx.util import logging

PACKAGE = "relugrad"   # the book's helper package, installed from the repository itself
# What Colab preinstalls, among what these notebooks import (module names): Colab needs nothing else installed.
COLAB_MODULES = frozenset({"torch", "numpy", "matplotlib", "IPython", "ipykernel"})
FIRST_LINE = "# Set-up for Colab, or any Jupyter without the book's helper package"
LEGACY_MARKER = "%pip install"   # what marked the hand-written set-up cells before they were generated

logger = logging.getLogger(__name__)


class SetupCellError(Exception):
    """A notebook imports something that its set-up cell could not install on Colab."""


def requirement(url: str, branch: str, path_to_book: str = "") -> str:
    """pip's requirement for the helper package, from the repository and branch the launch buttons open."""
    if not url or not branch:
        raise SetupCellError("_config.yml must name the repository: repository.url and repository.branch")
    subdirectory = path_to_book.strip("/")
    return f"{PACKAGE} @ git+{url.rstrip('/')}@{branch}" + (f"#subdirectory={subdirectory}" if subdirectory else "")


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


def setup_cell_source(notebook: dict, url: str, branch: str, path_to_book: str = "") -> str:
    """The set-up cell this notebook must start with, for the repository named in the configuration."""
    missing = missing_on_colab(notebook)
    unknown = [name for name in missing if name != PACKAGE]
    if unknown:
        raise SetupCellError(
            f"it imports {', '.join(unknown)}, which Colab lacks: import it through the helper package "
            f"'{PACKAGE}' (as for myst-nb's glue: relugrad.notebook), or make it one of {PACKAGE}'s dependencies "
            "in pyproject.toml and teach _ext/colab_setup.py to install it")
    if not missing:
        return ""
    return "\n".join([
        FIRST_LINE,
        "# (written by the book's build from _config.yml: change the repository there, not here).",
        "import importlib.util",
        f'if importlib.util.find_spec("{PACKAGE}") is None:',
        f'    %pip install --quiet "{requirement(url, branch, path_to_book)}"',
        "    importlib.invalidate_caches()",
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


def with_setup_cell(notebook: dict, url: str, branch: str, path_to_book: str = "") -> dict:
    """The notebook with its set-up cell as the configuration wants it (inserted before the first code cell if
    missing, removed if nothing is missing); the other cells are the same objects, untouched."""
    wanted = setup_cell_source(notebook, url, branch, path_to_book)
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


def sync(path: Path, url: str, branch: str, path_to_book: str = "") -> bool:
    """Rewrite the notebook at `path` if its set-up cell disagrees with the configuration; True if it did."""
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    try:
        updated = dumps(with_setup_cell(notebook, url, branch, path_to_book))
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
    url, branch = options.get("repository_url", ""), options.get("repository_branch", "")
    path_to_book = options.get("path_to_docs", "")
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
        state = _state(source, url, branch, path_to_book)
        if checked.get(docname) != state and sync(source, url, branch, path_to_book):
            logger.info(f"colab_setup: wrote the set-up cell of {docname}.ipynb from _config.yml ({url}@{branch})")
            rewritten.append(docname)
            state = _state(source, url, branch, path_to_book)   # the file as rewritten
        now_checked[docname] = state
    checked_file.parent.mkdir(parents=True, exist_ok=True)
    checked_file.write_text(json.dumps(now_checked))
    return rewritten


def _state(path: Path, *configuration: str) -> list:
    """What a check of this notebook depended on: the file as it stands, and the repository it names."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, *configuration, Path(__file__).stat().st_mtime_ns]


def setup(app):
    app.connect("env-get-outdated", _sync_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
