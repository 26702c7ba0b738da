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


def plain_references(text: str) -> str:
    """Cross-references into the book as text: {doc} as the title in italics, {eq} and citations dropped."""
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
            source = plain_references(find_equation(path.read_text(), label))
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
