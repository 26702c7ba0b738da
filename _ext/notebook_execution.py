"""Notebooks executed when they or what they import change, in parallel, and the pages quoting them kept current.

myst-nb's cache keys on a notebook's code alone: after a change to the helper package `relugrad` (or to the pinned
requirements) it would serve the old outputs, and Sphinx would not even re-read the notebooks. And a chapter that
quotes a notebook's numbers through glue is not re-written when only the notebook changed. This module fixes both,
and executes the notebooks a build needs side by side (they are independent; the machine has several cores) into
the same cache, so that myst-nb then finds every one of them there.
"""

import hashlib
import inspect
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from sphinx.util import logging

logger = logging.getLogger(__name__)
DEPENDENCIES = ("relugrad/*.py", "relugrad/data/*", "requirements.txt")   # what the notebooks read besides their code
DIGEST_FILE = "dependencies.sha256"


def dependency_digest(srcdir: Path) -> str:
    sha = hashlib.sha256()
    for pattern in DEPENDENCIES:
        for path in sorted(srcdir.glob(pattern)):
            sha.update(path.relative_to(srcdir).as_posix().encode())
            sha.update(path.read_bytes())
    # How outputs are stored is part of what a cached notebook was made by: outputs cached before a change to it
    # are made again, not served in the old form.
    sha.update(inspect.getsource(merged_streams).encode())
    return sha.hexdigest()


def _cache_dir(app) -> Path:
    return Path(app.env.mystnb_config.execution_cache_path)


def _notebooks(env, docnames) -> list[str]:
    return sorted(d for d in docnames if str(env.doc2path(d)).endswith(".ipynb"))


def _outdated(app, env, added, changed, removed):
    """Re-read every notebook when its dependencies changed, and every page that quotes a re-read notebook."""
    digest = dependency_digest(Path(app.srcdir))
    # Two stamps: the editions (and `book.py translate`) share one execution cache but each keeps its own doctrees,
    # so the run that executes the notebooks again must not leave the others reading their old glued values.
    cache_stamp, read_stamp = _cache_dir(app) / DIGEST_FILE, Path(app.doctreedir) / DIGEST_FILE
    app._book_cache_outdated = not cache_stamp.exists() or cache_stamp.read_text() != digest
    app._book_dependencies_changed = not read_stamp.exists() or read_stamp.read_text() != digest
    app._book_digest = digest
    notebooks = set(_notebooks(env, env.found_docs)) if app._book_dependencies_changed else set()
    rereading = notebooks | set(_notebooks(env, added | changed))
    if not rereading:
        return sorted(notebooks)
    quoted = {Path(env.doc2path(d)).relative_to(app.srcdir).as_posix() for d in rereading}
    quoting = set()
    for docname in env.found_docs - rereading:
        source = Path(env.doc2path(docname)).read_text(errors="ignore")
        if any(re.search(r"\{glue[:\w]*\}`/?" + re.escape(path), source) for path in quoted):
            quoting.add(docname)
    return sorted(notebooks | quoting)


def _execute_ahead(app, env, docnames):
    """Execute, side by side, the notebooks this build will read and the cache cannot serve. Each is executed once:
    a notebook that fails is reported here and shown as far as it ran, not executed again by myst-nb (a cell that
    never ends would cost the timeout twice)."""
    config = env.mystnb_config
    app._book_failed_notebooks = {}
    if config.execution_mode != "cache":
        return
    cache = get_cache(str(_cache_dir(app)))
    pending = []
    for docname in _notebooks(env, docnames):
        path = Path(env.doc2path(docname))
        notebook = nbformat.read(path, as_version=4)
        try:
            hit = cache.match_cache_notebook(notebook) is not None
        except KeyError:
            hit = False
        if app._book_cache_outdated or not hit:
            pending.append((docname, path, notebook))
    if pending:
        workers = max(1, min(len(pending), os.cpu_count() or 1))
        logger.info(f"executing {len(pending)} notebooks, {workers} at a time")

        def execute(item):
            _, path, notebook = item
            started = []   # each cell's index as it starts: the last one is the cell that failed, if one did
            result = single_nb_execution(notebook, cwd=str(path.parent), allow_errors=config.execution_allow_errors,
                                         timeout=config.execution_timeout, meta_override=True,
                                         on_cell_start=lambda cell, cell_index: started.append(cell_index))
            return item, result, started

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for (docname, path, notebook), result, started in pool.map(execute, pending):
                for cell in notebook.cells:
                    if cell.cell_type == "code":
                        cell.outputs = merged_streams(cell.outputs)
                if result.err is None:
                    cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path),
                                                              data={"execution_seconds": result.time}),
                                                check_validity=False, overwrite=True)
                    logger.info(f"{path.name}: executed in {result.time:.1f} s")
                else:
                    app._book_failed_notebooks[docname] = notebook
                    report = Path(app.outdir, "reports", *f"{docname}.err.log".split("/"))   # where myst-nb puts it
                    report.parent.mkdir(parents=True, exist_ok=True)
                    report.write_text(result.exc_string or "", encoding="utf-8")
                    where = path.relative_to(app.srcdir).as_posix()
                    limit = notebook.metadata.get("execution", {}).get("timeout", config.execution_timeout)
                    logger.warning(failure_message(where, notebook, started[-1] if started else None, result.err,
                                                   limit), type="notebook", subtype="execution")
    for folder in (_cache_dir(app), Path(app.doctreedir)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DIGEST_FILE).write_text(app._book_digest)


def failure_message(where: str, notebook, cell_index: int | None, error: Exception, limit: float) -> str:
    """What failed, where: the notebook, the cell (its number and first line) and what it did."""
    from nbclient.exceptions import CellTimeoutError

    if cell_index is None:
        cell = "before its first cell ran"
    else:
        first_line = (notebook.cells[cell_index].source.strip().splitlines() or [""])[0]
        cell = f"cell {cell_index + 1} of {len(notebook.cells)} (`{first_line}`)"
    if isinstance(error, CellTimeoutError):
        return (f"{where}: {cell} ran longer than the per-cell time limit of {limit} s and was stopped "
                f"(execute: timeout in _config.yml)")
    return f"{where}: {cell} failed:\n{error}"


def _show_failed_as_it_ran(app, docname, source):
    """The page of a notebook that failed is made from the run that failed (outputs up to the error), with myst-nb's
    own execution turned off for it."""
    notebook = getattr(app, "_book_failed_notebooks", {}).get(docname)
    if notebook is not None:
        notebook.metadata.setdefault("mystnb", {})["execution_mode"] = "off"
        source[0] = nbformat.writes(notebook)


def _write_executed_copy(app, doctree):
    """myst-nb writes jupyter_execute/<page>.ipynb from the notebook it read, which, when the outputs come from the
    cache, is the unexecuted source: write the executed notebook there instead (downloads are made from it)."""
    env = app.env
    path = Path(env.doc2path(env.docname))
    if path.suffix != ".ipynb" or env.mystnb_config.execution_mode != "cache":
        return
    try:
        _, executed = get_cache(str(_cache_dir(app))).merge_match_into_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return   # not in the cache: myst-nb executed it in place, and its copy has the outputs
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
    target = Path(env.mystnb_config.output_folder).joinpath(*env.docname.split("/")).with_suffix(".ipynb")
    target.write_text(nbformat.writes(executed), encoding="utf-8")


def merged_streams(outputs: list) -> list:
    """Each run of stream outputs (between figures and other displays) made into one output per stream, stdout
    first. How the kernel splits a cell's printing into messages, and how it interleaves stdout with stderr, depends
    on timing; myst-nb strips the trailing blanks of every message it joins, so the page, and the downloaded
    notebook, would change from build to build."""
    merged, run = [], {}   # run: stream name -> its output in the current run of streams

    def end_run():
        merged.extend(run[name] for name in sorted(run, key=lambda name: name != "stdout"))
        run.clear()

    for output in outputs:
        if output.get("output_type") != "stream":
            end_run()
            merged.append(output)
        elif output.get("name") in run:
            run[output["name"]]["text"] += output["text"]
        else:
            run[output.get("name")] = output
    end_run()
    return merged


def setup(app):
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _execute_ahead)
    app.connect("source-read", _show_failed_as_it_ran)
    app.connect("doctree-read", _write_executed_copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
