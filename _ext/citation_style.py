"""Citations in one style, the same in the text and in the reference list: author and year.

The text cites author–year (`bibtex_reference_style: author_year` in _config.yml: "Parr and Howard, 2018"), and the
list labels each entry with exactly that text, made by the same sphinxcontrib-bibtex template, instead of pybtex's
alpha labels ("[PH18]"). An entry without a year is cited "n.d." in both, and its list entry gives the date its web
page was consulted (the entry's `urldate`, shown by pybtex as "visited on"). Selected by
`bibtex_default_style: authoryear`.
"""

from types import SimpleNamespace

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle   # sorted by author, year, title
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.template import join, year

NAME = "authoryear"


def author_year(entry) -> str:
    """The entry's author–year citation as the text shows it, e.g. "Bright et al., 2025" or "Karpathy, n.d."."""
    person = PersonStyle()   # the defaults of the author_year reference style: last names, "et al." after two
    template = join(sep=", ")[person.author_or_editor_or_title(full=False), year]
    return template.format_data({"entry": entry, "style": SimpleNamespace(person=person)}).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year(entry)


class AuthorYearStyle(AlphaStyle):
    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("pybtex.style.formatting", NAME, AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
