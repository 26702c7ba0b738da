"""Student worksheets written from one source: each notebook in worksheets/ is the solution version, and the build
writes the students' version into notebooks/ under the same name, its solutions replaced by stubs.

Marks, as nbgrader writes them:
- in a code cell, the lines from `### BEGIN SOLUTION` to `### END SOLUTION` become `# YOUR CODE HERE` and a
  `raise NotImplementedError(...)` that names the function being written, at the same indentation;
- in a Markdown cell, the text from `<!-- BEGIN SOLUTION -->` to `<!-- END SOLUTION -->` becomes a prompt;
- a cell tagged `solution-only` is left out.
The source's Colab set-up cell is kept in line with _config.yml like every notebook's (colab_setup.py), and the
students' version is rewritten only when it would change, so a no-op build writes nothing. tests/test_worksheet.py
fails while a committed students' version differs from what the build would write.
"""

import copy
import re
from pathlib import Path

import colab_setup
from sphinx.util import logging

logger = logging.getLogger(__name__)
SOURCES = "worksheets"      # the solution versions
TARGETS = "notebooks"       # where the students' versions go, beside the other notebooks
CODE_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.M | re.S)
MARKDOWN_REGION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.S)
MARKDOWN_PROMPT = "*Write your answer here.*"
SOLUTION_ONLY = "solution-only"


class WorksheetError(Exception):
    """A worksheet source that cannot be turned into a students' version."""


def _stub(source: str, match: re.Match) -> str:
    indent = match.group(1)
    defined = re.findall(r"^\s*def (\w+)\(", source[:match.start()], flags=re.M)
    where = f"{defined[-1]}: " if defined else ""
    return (f"{indent}# YOUR CODE HERE\n"
            f'{indent}raise NotImplementedError("{where}replace this line by your code")' + match.group(2))


def student_version(notebook: dict) -> dict:
    """The students' version of a worksheet source: solutions replaced by stubs, solution-only cells left out."""
    cells, regions = [], 0
    for cell in notebook["cells"]:
        if SOLUTION_ONLY in cell.get("metadata", {}).get("tags", []):
            continue
        cell = copy.deepcopy(cell)
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            new, count = CODE_REGION.subn(lambda match: _stub(source, match), source)
            cell["outputs"], cell["execution_count"] = [], None
        else:
            new, count = MARKDOWN_REGION.subn(MARKDOWN_PROMPT, source)
        if "BEGIN SOLUTION" in new or "END SOLUTION" in new:
            raise WorksheetError(f"cell {cell.get('id')}: a solution mark without its partner")
        regions += count
        cell["source"] = new.splitlines(keepends=True)
        cells.append(cell)
    if not regions:
        raise WorksheetError("no solution is marked (### BEGIN SOLUTION ... ### END SOLUTION)")
    return {**notebook, "cells": cells}


def write_students_versions(root: Path, url: str, ref: str, path_to_book: str = "") -> list[Path]:
    """Bring each source's set-up cell in line with the configuration, then write each students' version that would
    change; returns the students' versions written."""
    written = []
    for source in sorted((root / SOURCES).glob("*.ipynb")):
        colab_setup.sync(source, url, ref, path_to_book)
        import json
        text = colab_setup.dumps(student_version(json.loads(source.read_text(encoding="utf-8"))))
        target = root / TARGETS / source.name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def _write(app):
    options = app.config.html_theme_options
    written = write_students_versions(Path(app.srcdir), options.get("repository_url", ""),
                                      app.config.relugrad_ref, options.get("path_to_docs", ""))
    for path in written:
        logger.info(f"worksheets: wrote the students' version {TARGETS}/{path.name} from {SOURCES}/{path.name}")


def setup(app):
    # Before Sphinx looks for changed documents, so that a rewritten students' version is read (and executed) again.
    app.connect("builder-inited", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
