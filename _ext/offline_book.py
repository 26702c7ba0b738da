"""Sphinx extension: the book's own build behaviour, one module per concern (each says why it exists).

Listed once in _config.yml (`local_extensions`); it loads the modules below, all of which live in _ext/.
"""

import gc

MODULES = (
    "book_messages",    # the words of these extensions in the edition's language (first: the others use them)
    "theme_words",      # the themes' words their own catalogues leave in English, translated by the book's catalogue
    "build_guard",      # one build at a time; never "succeeded" while a page was built with a warning
    "notebook_execution",  # notebooks re-executed when relugrad changes, side by side; quoting pages kept current
    "offline_math",     # KaTeX prerendered at build time, served locally; LaTeX errors fail the build
    "light_pages",      # only the scripts, styles and icon glyphs a page uses; figures as palette PNGs
    "theme_fixes",      # template and script fixes for accessibility and small screens
    "derivation",       # multi-step derivations with prose explanations, numbered like equations
    "exercises",        # exercises and hidden solutions: valid ids, toggles loaded where used, solutions on paper
    "figure_links",     # each image links to its full-size file (a tap on a phone opens it)
    "book_pdf",         # the whole book as one PDF, printed offline by Chromium, linked from every page
    "slides",           # the lecture slides (reveal.js, offline) and their PDF, and the one-page handout
    "colab_setup",      # each notebook's Colab set-up cell, written from the repository named in _config.yml
    "worksheets",       # the students' worksheets, written from their solution versions in worksheets/
    "notebook_downloads",  # a notebook page's download gives the executed notebook, with links that work alone
    "notebook_translations",  # in another edition, the notebook's launch buttons open its translated notebook
    "translated_figures",  # in another edition, each notebook figure is the one drawn in its language
    "relugrad_wheel",   # the helper package as a wheel on the site, offered with each notebook (runs it offline)
    "licence",          # the licences and how to cite, in every page's footer
    "explorer",         # the in-page explorer of the mask and the gradients: script and data on its page only
    "i18n_messages",    # gettext extracts the prose, never the mathematics or the code; the language switcher
)


def setup(app):
    # A build allocates millions of small, long-lived objects (doctrees, templates, the environment) and Python's
    # collector, at its default thresholds, scans them again and again: a one-chapter rebuild spent an eighth of its
    # time there. A build is a short process, so collecting less often costs little memory.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    for module in MODULES:
        app.setup_extension(module)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
