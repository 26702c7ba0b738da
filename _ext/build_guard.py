"""A build that is never reported as successful while a page of it was built with a warning or an error.

Sphinx re-reads only changed documents and keeps its environment after a build that merely warned, so a second,
unchanged build after a failed one re-emitted nothing and "succeeded" with the broken page still in place. Here a
marker stays in the doctree folder until a build finishes with no warning; while it is there, every document is
read and written again. A changed title or table of contents has every page written again (each page's sidebar and
previous/next links show them). Also: one build at a time (a second one waits), and only the book's own pages in the
output.
"""

import os
from pathlib import Path

import build_lock
from editions import LANGUAGES
from sphinx.util import logging

logger = logging.getLogger(__name__)
MARKER = "incomplete-build"
SITE_PAGES = {"genindex", "search", "index"}   # pages Sphinx or Jupyter Book add beside the documents
# Folders of pages that the book's build makes beside the documents: the deck (slides.py), the other editions
# (editions.py, whose pages are built apart and copied in)
MADE_BESIDE = ("slides", *LANGUAGES)


def _take_lock(app, config):
    if not os.environ.get(build_lock.HELD_BY_PARENT):
        app._book_lock = build_lock.acquire(build_lock.lock_path(app.srcdir), say=logger.info)


def _start(app):
    marker = Path(app.doctreedir) / MARKER
    app._book_full_rebuild = marker.exists()
    if app._book_full_rebuild:
        logger.info("the last build did not finish cleanly: reading and writing every page again")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


def _outdated(app, env, added, changed, removed):
    app._book_navigation = _navigation(env)   # before the changed documents are read again
    return sorted(env.found_docs) if getattr(app, "_book_full_rebuild", False) else []


def _navigation(env) -> tuple:
    """What every page's navigation shows of the others: their titles, and the table of contents' order."""
    return ({docname: title.astext() for docname, title in env.titles.items()},
            {docname: list(children) for docname, children in env.toctree_includes.items()})


def _navigation_changed(app, env):
    """A chapter's new title, or a chapter added, removed or moved in the table of contents, changes the sidebar and
    the previous/next links of every page, but Sphinx writes again only the pages whose sources changed."""
    before = getattr(app, "_book_navigation", None)
    if before and before[0] and before != _navigation(env):   # (a first build writes every page anyway)
        logger.info("a title or the table of contents changed: writing every page again (their navigation shows it)")
        return sorted(env.found_docs)
    return []


def _finish(app, exception):
    if exception is None and app.builder.format == "html":
        _remove_stale_pages(app)
    if exception is None and app._warncount == 0:
        (Path(app.doctreedir) / MARKER).unlink(missing_ok=True)


def _remove_stale_pages(app):
    """Delete pages of documents that are no longer part of the book (a removed chapter, a stray README)."""
    out = Path(app.outdir)
    documents = set(app.env.found_docs) | SITE_PAGES
    for page in out.rglob("*.html"):
        relative = page.relative_to(out)
        if relative.parts[0].startswith("_") or relative.parts[0] in MADE_BESIDE:
            continue
        if relative.with_suffix("").as_posix() not in documents:
            logger.info(f"removing {relative}: it is not a page of the book")
            page.unlink()


def _extension_digest() -> str:
    """A digest of this folder's code and assets: when they change, every page must be written again."""
    import hashlib
    sha = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            sha.update(path.relative_to(here).as_posix().encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def setup(app):
    # Sphinx re-reads every document when a config value changes: this one changes with the book's extensions, so
    # that a change to them (a new script, a fixed template) reaches every page, not only the pages edited since.
    app.add_config_value("book_extensions_digest", _extension_digest(), "env")
    app.connect("config-inited", _take_lock)
    app.connect("builder-inited", _start)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-get-updated", _navigation_changed)
    app.connect("build-finished", _finish, priority=1000)   # last: after every check that may still warn
    return {"parallel_read_safe": True, "parallel_write_safe": True}
