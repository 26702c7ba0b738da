"""A small book made on the fly with this book's configuration and extensions, to reproduce build faults fast."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
BUILD_SECONDS = 10 * 60


GLUE = "from relugrad.notebook import glue"   # as the book's notebooks do (myst-nb itself is not on Colab)


def notebook(*cells: str) -> str:
    """A notebook (JSON text): a title, then the given code cells."""
    return json.dumps({
        "cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# A notebook"}] +
                 [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                   "source": source} for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5})


def make_book(folder: Path, chapters: dict[str, str], notebooks: dict[str, str] | None = None) -> Path:
    """A book in `folder`: this book's _config.yml (minus its bibliography) and _ext/, and the given pages."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config.pop("bibtex_bibfiles", None)
    for name in [name for name in config["sphinx"]["config"] if name.startswith("bibtex_")]:   # no bibliography here
        config["sphinx"]["config"].pop(name)
    config["title"] = "Scratch book"
    (folder / "_config.yml").write_text(yaml.safe_dump(config))
    shutil.copytree(ROOT / "_ext", folder / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    files = list(chapters) + list(notebooks or {})
    toc = {"format": "jb-book", "root": files[0].rsplit(".", 1)[0],
           "chapters": [{"file": name.rsplit(".", 1)[0]} for name in files[1:]]}
    (folder / "_toc.yml").write_text(yaml.safe_dump(toc))
    for name, text in {**chapters, **(notebooks or {})}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def build(folder: Path, timeout: float = BUILD_SECONDS, env: dict | None = None,
          editions: bool = False) -> tuple[int, str]:
    """`jupyter-book build` as book.py runs it (warnings as errors, nitpicky, keep going), then, with `editions`, the
    other editions from the folder's catalogues as book.py builds them; (exit code, log)."""
    log = folder / "build.log"
    commands = [[JUPYTER_BOOK, "build", folder, "--warningiserror", "--nitpick", "--keep-going"]]
    if editions:
        commands.append([sys.executable, folder / "_ext" / "editions.py", "html"])
    with open(log, "w") as output:
        for command in commands:
            process = subprocess.Popen(command, cwd=folder, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True, env={**os.environ, **(env or {})})
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = 124
            finally:
                sys.path.insert(0, str(ROOT))
                from book import stop_group
                stop_group(process)
            if code != 0:
                break
    return code, log.read_text()


def page(folder: Path, name: str) -> str:
    return (folder / "_build" / "html" / f"{name}.html").read_text()
