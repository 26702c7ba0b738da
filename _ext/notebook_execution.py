"""Notebooks executed when they or what they import change, in parallel, and the pages quoting them kept current.

myst-nb's cache keys on a notebook's code alone: after a change to the helper package `relugrad` (or to the pinned
requirements) it would serve the old outputs, and Sphinx would not even re-read the notebooks. And a chapter that
quotes a notebook's numbers through glue is not re-written when only the notebook changed. This module fixes both,
and executes the notebooks a build needs side by side (they are independent; the machine has several cores) into
the same cache, so that myst-nb then finds every one of them there.
"""

import hashlib
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
    return sha.hexdigest()


def _cache_dir(app) -> Path:
    return Path(app.env.mystnb_config.execution_cache_path)


def _notebooks(env, docnames) -> list[str]:
    return sorted(d for d in docnames if str(env.doc2path(d)).endswith(".ipynb"))


def _outdated(app, env, added, changed, removed):
    """Re-read every notebook when its dependencies changed, and every page that quotes a re-read notebook."""
    digest = dependency_digest(Path(app.srcdir))
    stamp = _cache_dir(app) / DIGEST_FILE
    app._book_dependencies_changed = not stamp.exists() or stamp.read_text() != digest
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
    """Execute, side by side, the notebooks this build will read and the cache cannot serve."""
    config = env.mystnb_config
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
        if app._book_dependencies_changed or not hit:
            pending.append((path, notebook))
    if pending:
        workers = max(1, min(len(pending), os.cpu_count() or 1))
        logger.info(f"executing {len(pending)} notebooks, {workers} at a time")

        def execute(item):
            path, notebook = item
            return item, single_nb_execution(notebook, cwd=str(path.parent), allow_errors=config.execution_allow_errors,
                                             timeout=config.execution_timeout, meta_override=True)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for (path, notebook), result in pool.map(execute, pending):
                if result.err is None:
                    cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path),
                                                              data={"execution_seconds": result.time}),
                                                check_validity=False, overwrite=True)
                    logger.info(f"{path.name}: executed in {result.time:.1f} s")
                # A failure is left to myst-nb, which executes the notebook again and reports the error in full.
    _cache_dir(app).mkdir(parents=True, exist_ok=True)
    (_cache_dir(app) / DIGEST_FILE).write_text(app._book_digest)


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
    """Consecutive outputs of one stream joined into one, as the pages show them: how the kernel split a cell's
    printing into messages depends on timing, and the downloaded notebook must be the same in every build."""
    merged = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == output.get("name")):
            merged[-1]["text"] = merged[-1]["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def setup(app):
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _execute_ahead)
    app.connect("doctree-read", _write_executed_copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
