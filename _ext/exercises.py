"""Exercises and their hidden solutions (sphinx-exercise), offline, valid and readable on every screen and on paper.

sphinx-exercise gives every exercise and solution body the same id ("exercise-content", "solution-content"), so a
page with several exercises repeats ids; they become classes here. Its solutions open and close with
sphinx-togglebutton's script, which the book's light pages load only where a page has something to toggle
(light_pages.py). On paper, book.js opens every solution; the whole-book PDF prints them at the end of their chapter,
so that a printed exercise is not followed by its answer (book_pdf.py).

A solution's heading ("Solution to Exercise 7 (Warm-up: ...)") opens and closes it, all of it: sphinx-exercise made
most of the heading a link back to the exercise, and a tap there scrolled away and left the solution closed. The
heading becomes plain text, named so that the toggle button can take it as its name (book.js stretches the button
over the heading), and the link back to the exercise ("Back to Exercise 7") is the first line inside the solution.

sphinx-exercise also keeps a copy of each exercise's node in the build environment, and each copy refers to its whole
page: the environment Sphinx loads and saves on every build was 1.75 MB, two thirds of it those pages. The copies
serve only for their titles and numbers, so they are kept without the page.
"""

import re

from sphinx.locale import get_translation

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

REPEATED_IDS = re.compile(r'<section id="(exercise-content|solution-content)">')
# A solution's heading as sphinx-exercise writes it: "Solution to" and a link to the exercise, then its content.
SOLUTION_HEADING = re.compile(
    r'(<div class="solution\b[^"]*"[^>]*? id="(?P<id>[^"]+)"[^>]*>\s*)'
    r'<p class="admonition-title">(?P<start>[^<]*)'
    r'<a class="reference internal" href="(?P<href>[^"]*)">(?P<name>.*?)</a></p>'
    r'(?P<between>\s*)<section class="solution-content">', re.S)
# "Exercise 7", or the word sphinx-exercise uses in the edition's language ("练习 7")
EXERCISE_NUMBER = re.compile(r"\s*([^\s\d<>()]+\s*\d[\d.]*)")


def _heading_opens_solution(match) -> str:
    """The heading as text (a span the toggle button is labelled by), the link back to the exercise inside."""
    number = EXERCISE_NUMBER.match(match["name"])
    back = _("Back to {name}").format(name=number.group(1)) if number else _("Back to the exercise")
    start, name = match["start"].rstrip(), match["name"].strip()
    return (f'{match.group(1)}<p class="admonition-title"><span class="book-solution-heading" '
            f'id="{match["id"]}-heading">{start} {name}</span></p>{match["between"]}'
            f'<section class="solution-content">\n<p class="book-solution-back"><a class="reference internal" '
            f'href="{match["href"]}">{back}</a></p>')


def _ids_to_classes(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "-content" in body:
        body = REPEATED_IDS.sub(r'<section class="\1">', body)
        context["body"] = SOLUTION_HEADING.sub(_heading_opens_solution, body)


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
