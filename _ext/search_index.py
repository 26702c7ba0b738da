"""The search index of an incremental build equals a clean build's: words deleted from a page leave it.

Sphinx 7.4 updates `searchindex.js` incrementally: it loads the old index, takes the rewritten pages out of every
word's set of pages, and feeds them again. A word found only in text since deleted keeps its key with no pages,
and so ships in `searchindex.js` (a name or a secret typed into a chapter and removed) until a clean build.
"""

from sphinx.util import logging

logger = logging.getLogger(__name__)


def without_orphan_words(mapping: dict[str, set[str]]) -> dict[str, set[str]]:
    """The word -> pages mapping without the words that no page holds any more."""
    return {word: pages for word, pages in mapping.items() if pages}


def _drop_orphan_words(app):
    # html-collect-pages runs among the builder's finishing tasks, after every page was fed to the index and
    # before the index is dumped; it adds no page.
    indexer = getattr(app.builder, "indexer", None)
    if indexer is None:
        return []
    indexer.prune(app.env.all_docs)   # as the dump will: pages removed from the book hold no word
    for name in ("_mapping", "_title_mapping"):
        mapping = getattr(indexer, name)
        kept = without_orphan_words(mapping)
        if len(kept) != len(mapping):
            logger.verbose(f"search index: {len(mapping) - len(kept)} words no page holds any more dropped")
            mapping.clear()
            mapping.update(kept)
    return []


def setup(app):
    app.connect("html-collect-pages", _drop_orphan_words)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
