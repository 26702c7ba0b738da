"""The licences in every page's footer, with links to the files that hold them in the repository that _config.yml
names (the one place that names it): text and figures CC BY 4.0, code MIT, and how to cite the book."""

from html import escape

from sphinx.locale import get_translation

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)


def footer_html(url: str, branch: str) -> str:
    footer = ('<p class="book-licence">' + _('Text and figures: <a href="https://creativecommons.org/licenses/by/4.0/">'
              'CC BY 4.0</a> (<a href="{repo}/LICENSE-TEXT">LICENSE-TEXT</a>); code: MIT '
              '(<a href="{repo}/LICENSE">LICENSE</a>). To cite or reuse it: <a href="{repo}/CITATION.cff">'
              'CITATION.cff</a>.') + '</p>')
    return footer.format(repo=escape(f"{url.rstrip('/')}/blob/{branch}", quote=True))


def _add_footer(app, config):
    options = config.html_theme_options
    url, branch = options.get("repository_url", ""), options.get("repository_branch", "main")
    if url and not options.get("extra_footer"):
        options["extra_footer"] = footer_html(url, branch)


def setup(app):
    app.connect("config-inited", _add_footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
