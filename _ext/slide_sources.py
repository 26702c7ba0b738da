"""Slides made of the book's own sources: an equation or derivation included from its chapter by label, and a figure
included from its executed notebook by name, so that a slide can never drift from the book.

    ```{slide-equation} gradient_w eq-dW-differential
    ```
    ```{slide-figure} 03_relu_mask fig-mask-homework
    ```

The included text keeps its mathematics and explanations; cross-references into the book become plain text (the
slides are a deck of their own). Each included file is a dependency of the slide page, so a changed chapter or a
re-executed notebook rebuilds the slides.
"""

import base64
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
EXECUTED = ROOT / "_build" / "jupyter_execute" / "notebooks"   # the book's build writes the executed notebooks here


class SlideSourceError(Exception):
    pass


def _title(target: str) -> str:
    """The title of a chapter or notebook named by a {doc} role, as plain text."""
    name = Path(target).name
    chapter, notebook = CHAPTERS / f"{name}.md", ROOT / "notebooks" / f"{name}.ipynb"
    if chapter.exists():
        return chapter.read_text().splitlines()[0].lstrip("# ").strip()
    if notebook.exists():
        first = next(c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "markdown")
        return "".join(first["source"]).splitlines()[0].lstrip("# ").strip()
    raise SlideSourceError(f"no chapter or notebook {target}")


# An equation reference the sentence cannot do without: "the fourth line of {eq}`eq-dW-differential`".
NAMED_EQ = re.compile(r"\b(of|by|in|from|with|to|see|as in)\s+\{eq\}`([^`]+)`")


def _chapter_of(label: str) -> str:
    """The title of the chapter that holds the equation labelled `label`."""
    pattern = re.compile(rf"^:label:\s*{re.escape(label)}\s*$|^\$\$[ \t]*\({re.escape(label)}\)[ \t]*$", re.M)
    for path in sorted(CHAPTERS.rglob("*.md")):
        text = path.read_text()
        if pattern.search(text):
            return text.splitlines()[0].lstrip("# ").strip()
    raise SlideSourceError(f"no chapter has an equation labelled {label}")


def _equation_name(label: str, slides: dict[str, str]) -> str:
    if label in slides:
        return slides[label]                   # the slide of this deck that shows it
    return f"the equation in *{_chapter_of(label)}*"


def deck_titles(deck_source: str) -> dict[str, str]:
    """{equation label: "slide N, *its title*"} for the slides that include an equation, from a deck's MyST source."""
    titles, current, number = {}, "", 0
    for line in deck_source.splitlines():
        if heading := re.match(r"^#{1,2} (.+)$", line):
            number += 1
            current = f"slide {number}, *{heading.group(1).strip()}*"
        elif inclusion := re.match(r"^(?:`{3,}|:{3,})\{slide-equation\}\s+\S+\s+(\S+)", line):
            titles.setdefault(inclusion.group(1), current)
    return titles


def plain_references(text: str, slides: dict[str, str] | None = None) -> str:
    """Cross-references into the book as text: {doc} as the title in italics, citations dropped, and {eq} dropped
    where it is an aside, but named where the sentence needs it ("the fourth line of {eq}`...`" becomes "the fourth
    line of slide 6, *Route 2: tangents*", the slide that shows it, or else names the chapter that holds it)."""
    text = NAMED_EQ.sub(lambda m: f"{m.group(1)} {_equation_name(m.group(2), slides or {})}", text)
    text = re.sub(r"\s*\(?\{eq\}`[^`]+`\)?", "", text)
    text = re.sub(r"\s*\{cite:p\}`[^`]+`", "", text)
    return re.sub(r"\{doc\}`([^`]+)`", lambda m: f"*{_title(m.group(1))}*", text)


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
        try:
            deck = Path(self.env.doc2path(self.env.docname)).read_text()
            source = plain_references(find_equation(path.read_text(), label), deck_titles(deck))
        except (OSError, SlideSourceError) as error:
            raise self.error(f"slide-equation {chapter} {label}: {error}")
        return self.parse_text_to_nodes(source)


class SlideFigure(SphinxDirective):
    required_arguments = 2   # notebook, figure name

    def run(self):
        notebook, name = self.arguments
        path = EXECUTED / f"{notebook}.ipynb"
        self.env.note_dependency(str(path))
        try:
            png, alt = figure_png(json.loads(path.read_text()), name)
        except (OSError, SlideSourceError) as error:
            raise self.error(f"slide-figure {notebook} {name}: {error} (build the book first)")
        rendition = ROOT / "_build" / ".slide-figures" / f"{name}.png"   # larger type (_ext/slide_figures.py)
        if rendition.exists():
            png = rendition.read_bytes()
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
