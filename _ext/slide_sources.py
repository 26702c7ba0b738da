"""Slides made of the book's own sources: an equation or derivation included from its chapter by label, and a figure
included from its executed notebook by name, so that a slide can never drift from the book.

    ```{slide-equation} gradient_w eq-dW-differential
    ```
    ```{slide-figure} 03_relu_mask fig-mask-homework
    ```

The included text keeps its mathematics and explanations; cross-references into the book become plain text (the
slides are a deck of their own). Each included file is a dependency of the slide page, so a changed chapter or a
re-executed notebook rebuilds the slides.

In a translated deck (`-D language=zh_CN`) an included derivation's explanations are the chapter's own translations
(locales/<language>/LC_MESSAGES/chapters/<chapter>.po), its formulas untouched; the deck's own prose is translated by
Sphinx from slides.po (slides/conf.py). Included text is therefore never a message of the deck's catalogue.
"""

import base64
import json
import re
from functools import lru_cache
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

import slide_figures

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
LOCALES = ROOT / "locales"
DECK_DOMAIN = "slides"   # the deck's catalogue: locales/<language>/LC_MESSAGES/slides.po
EXECUTED = ROOT / "_build" / "jupyter_execute" / "notebooks"   # the book's build writes the executed notebooks here


class SlideSourceError(Exception):
    pass


def translations(catalogue: Path) -> dict[str, str]:
    """{English: translation} of a gettext catalogue's settled messages (not empty, not fuzzy); {} if it is missing."""
    if not catalogue.is_file():
        return {}
    return dict(_settled(str(catalogue), catalogue.stat().st_mtime_ns))


@lru_cache(maxsize=64)
def _settled(path: str, _mtime_ns: int) -> tuple[tuple[str, str], ...]:
    # read once per version of the file (a deck's titles look up its catalogue once per slide)
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        return tuple((m.id, m.string) for m in read_po(handle) if m.id and m.string and not m.fuzzy)


def catalogue_of(language: str, domain: str) -> Path:
    """Where a page's catalogue is: `chapters/gradient_w`, `notebooks/03_relu_mask`, or the deck's `slides`."""
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


def _translated(text: str, language: str, domain: str) -> str:
    return translations(catalogue_of(language, domain)).get(text, text) if language != "en" else text


def _title(target: str, language: str = "en") -> str:
    """The title of a chapter or notebook named by a {doc} role, as plain text, in the deck's language."""
    name = Path(target).name
    chapter, notebook = CHAPTERS / f"{name}.md", ROOT / "notebooks" / f"{name}.ipynb"
    if chapter.exists():
        title = chapter.read_text().splitlines()[0].lstrip("# ").strip()
        return _translated(title, language, f"chapters/{name}")
    if notebook.exists():
        first = next(c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "markdown")
        title = "".join(first["source"]).splitlines()[0].lstrip("# ").strip()
        return _translated(title, language, f"notebooks/{name}")
    raise SlideSourceError(f"no chapter or notebook {target}")


# An equation reference the sentence cannot do without: "the fourth line of {eq}`eq-dW-differential`".
NAMED_EQ = re.compile(r"\b(of|by|in|from|with|to|see|as in)\s+\{eq\}`([^`]+)`")


# The same in Chinese: the equation comes before the particle that ties it to the noun ("{eq}`...` 的第四行").
NAMED_EQ_ZH = re.compile(r"\{eq\}`([^`]+)`\s*(?=的)")
# How a translated deck names a slide, an equation of a chapter, and a chapter (Chinese quotes a title: “...”).
NAMES = {
    "en": {"slide": "slide {number}, *{title}*", "equation": "the equation in *{chapter}*", "doc": "*{title}*"},
    "zh_CN": {"slide": "第 {number} 张幻灯片“{title}”", "equation": "“{chapter}”一章中的公式", "doc": "“{title}”"},
}


def _chapter_of(label: str, language: str = "en") -> str:
    """The title of the chapter that holds the equation labelled `label`."""
    pattern = re.compile(rf"^:label:\s*{re.escape(label)}\s*$|^\$\$[ \t]*\({re.escape(label)}\)[ \t]*$", re.M)
    for path in sorted(CHAPTERS.rglob("*.md")):
        text = path.read_text()
        if pattern.search(text):
            return _title(path.relative_to(CHAPTERS).with_suffix("").as_posix(), language)
    raise SlideSourceError(f"no chapter has an equation labelled {label}")


def _equation_name(label: str, slides: dict[str, str], language: str = "en") -> str:
    if label in slides:
        return slides[label]                   # the slide of this deck that shows it
    return NAMES[language]["equation"].format(chapter=_chapter_of(label, language))


def deck_titles(deck_source: str, language: str = "en") -> dict[str, str]:
    """{equation label: "slide N, *its title*"} for the slides that include an equation, from a deck's MyST source
    (in a translated deck, with the title its catalogue gives the slide)."""
    titles, current, number = {}, "", 0
    for line in deck_source.splitlines():
        if heading := re.match(r"^#{1,2} (.+)$", line):
            number += 1
            title = _translated(heading.group(1).strip(), language, DECK_DOMAIN)
            current = NAMES[language]["slide"].format(number=number, title=title)
        elif inclusion := re.match(r"^(?:`{3,}|:{3,})\{slide-equation\}\s+\S+\s+(\S+)", line):
            titles.setdefault(inclusion.group(1), current)
    return titles


def plain_references(text: str, slides: dict[str, str] | None = None, language: str = "en") -> str:
    """Cross-references into the book as text: {doc} as the title in italics, citations dropped, and {eq} dropped
    where it is an aside, but named where the sentence needs it ("the fourth line of {eq}`...`" becomes "the fourth
    line of slide 6, *Route 2: tangents*", the slide that shows it, or else names the chapter that holds it).
    In Chinese the same, with the deck's Chinese titles: "{eq}`...` 的第四行" becomes "第 6 张幻灯片“……”的第四行"."""
    if language == "en":
        text = NAMED_EQ.sub(lambda m: f"{m.group(1)} {_equation_name(m.group(2), slides or {})}", text)
    else:
        text = NAMED_EQ_ZH.sub(lambda m: _equation_name(m.group(1), slides or {}, language), text)
    text = re.sub(r"\s*[(（]?\{eq\}`[^`]+`[)）]?", "", text)
    text = re.sub(r"\s*\{cite:p\}`[^`]+`", "", text)
    return re.sub(r"\{doc\}`([^`]+)`",
                  lambda m: NAMES[language]["doc"].format(title=_title(m.group(1), language)), text)


def translated_explanations(source: str, catalogue: dict[str, str]) -> str:
    """An included derivation (find_equation's MyST) with each step's explanation replaced by its translation in the
    chapter's catalogue; its formulas as they are. An explanation with no settled translation stays in English (the
    deck's tests name it)."""
    from derivation import parse_steps

    fence, *lines, end = source.rstrip("\n").split("\n")
    if fence != "```{derivation}":
        return source
    options = []
    while lines and lines[0].startswith(":"):
        options.append(lines.pop(0))
    rows = []
    for step in parse_steps("\n".join(lines)):
        if step["lhs"]:
            rows.append(step["lhs"])
        why = catalogue.get(step["why"], step["why"])
        rows.append(f"&{step['rhs']}" + (f" && {why}" if why else ""))
    return "\n".join([fence, *options, "", *rows, end]) + "\n"


def find_equation(text: str, label: str) -> str:
    """The MyST source of the display equation or derivation labelled `label`, without its label (no number)."""
    for match in re.finditer(r"^(`{3,}|:{3,})\{(derivation|math)\}[^\n]*\n(.*?)^\1[ \t]*$", text, re.S | re.M):
        body = match.group(3)
        if re.search(rf"^:label:\s*{re.escape(label)}\s*$", body, re.M):
            body = re.sub(r"^:label:.*\n", "", body, flags=re.M)
            return f"```{{{match.group(2)}}}\n{body}```\n"
    match = re.search(rf"^\$\$\n((?:(?!\$\$).)*?)\n\$\$[ \t]*\({re.escape(label)}\)[ \t]*$", text, re.S | re.M)
    if match:
        return f"$$\n{match.group(1)}\n$$\n"
    raise SlideSourceError(f"no equation labelled {label}")


def figure_png(notebook: dict, name: str) -> tuple[bytes, str]:
    """(PNG bytes, alt text) of the figure that the notebook's cell named `name` draws."""
    for cell in notebook["cells"]:
        mystnb = cell.get("metadata", {}).get("mystnb", {})
        if mystnb.get("figure", {}).get("name") == name:
            for output in cell.get("outputs", []):
                if "image/png" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/png"]), mystnb.get("image", {}).get("alt", "")
            raise SlideSourceError(f"the cell of {name} has no figure: was its notebook executed?")
    raise SlideSourceError(f"no figure named {name}")


class SlideEquation(SphinxDirective):
    required_arguments = 2   # chapter, label

    def run(self):
        chapter, label = self.arguments
        path = CHAPTERS / f"{chapter}.md"
        self.env.note_dependency(str(path))
        language = self.config.language or "en"
        try:
            deck = Path(self.env.doc2path(self.env.docname)).read_text()
            source = find_equation(path.read_text(), label)
            if language != "en":   # the chapter's own translations, and the deck's titles for the slides it names
                for domain in (f"chapters/{chapter}", DECK_DOMAIN):
                    self.env.note_dependency(str(catalogue_of(language, domain)))
                source = translated_explanations(source, translations(catalogue_of(language, f"chapters/{chapter}")))
            source = plain_references(source, deck_titles(deck, language), language)
        except (OSError, ValueError, SlideSourceError) as error:
            raise self.error(f"slide-equation {chapter} {label}: {error}")
        included = self.parse_text_to_nodes(source)
        for node in included:   # translated with its chapter, above: not a message of the deck's catalogue
            for text in node.findall(nodes.TextElement):
                text["translatable"] = False
        return included


class SlideFigure(SphinxDirective):
    required_arguments = 2   # notebook, figure name

    def run(self):
        notebook, name = self.arguments
        if self.env.app.builder.name == "gettext":
            # A figure has no words of the deck's: its alt text is the notebook's (and gettext extracts an image's alt
            # whatever its flags), so the deck's catalogue is made without it, and without an executed notebook.
            return []
        path = EXECUTED / f"{notebook}.ipynb"
        self.env.note_dependency(str(path))
        try:
            png, alt = figure_png(json.loads(path.read_text()), name)
        except (OSError, SlideSourceError) as error:
            raise self.error(f"slide-figure {notebook} {name}: {error} (build the book first)")
        language = self.config.language or "en"
        # larger type, with its words in the deck's language (_ext/slide_figures.py)
        rendition = slide_figures.folder_of(ROOT, language) / f"{name}.png"
        if rendition.exists():
            png = rendition.read_bytes()
        elif language != "en":
            raise self.error(f"slide-figure {notebook} {name}: no rendition in {language} at {rendition}")
        if language != "en":   # its alt text from the notebook page's catalogue
            self.env.note_dependency(str(catalogue_of(language, f"notebooks/{notebook}")))
            alt = _translated(alt, language, f"notebooks/{notebook}")
        folder = Path(self.env.srcdir) / "_figures"
        folder.mkdir(exist_ok=True)
        target = folder / f"{name}.png"
        if not target.exists() or target.read_bytes() != png:
            target.write_bytes(png)
        image = nodes.image(uri=f"_figures/{name}.png", alt=alt)
        return [image]


def setup(app):
    app.add_directive("slide-equation", SlideEquation)
    app.add_directive("slide-figure", SlideFigure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
