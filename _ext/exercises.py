"""Exercises and their hidden solutions (sphinx-exercise), offline, valid and readable on every screen and on paper.

sphinx-exercise gives every exercise and solution body the same id ("exercise-content", "solution-content"), so a
page with several exercises repeats ids; they become classes here. Its solutions open and close with
sphinx-togglebutton's script, which the book's light pages load only where a page has something to toggle
(light_pages.py). On paper, book.js opens every solution; the whole-book PDF prints them at the end of their chapter,
so that a printed exercise is not followed by its answer (book_pdf.py).

sphinx-exercise also keeps a copy of each exercise's node in the build environment, and each copy refers to its whole
page: the environment Sphinx loads and saves on every build was 1.75 MB, two thirds of it those pages. The copies
serve only for their titles and numbers, so they are kept without the page.
"""

import re

REPEATED_IDS = re.compile(r'<section id="(exercise-content|solution-content)">')


def _ids_to_classes(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "-content" in body:
        context["body"] = REPEATED_IDS.sub(r'<section class="\1">', body)


def _registry_without_pages(app, env):
    for entry in getattr(env, "sphinx_exercise_registry", {}).values():
        node = entry.get("node")
        if node is not None:
            entry["node"] = detached = node.deepcopy()   # a copy: the page's own node stays in its page
            for part in detached.findall():
                part.document = None


def setup(app):
    app.connect("html-page-context", _ids_to_classes)
    app.connect("env-updated", _registry_without_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
