"""Find every display equation of the book's sources and split it into the statements the checker evaluates."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
from derivation import parse_steps  # noqa: E402  (the build's own reading of a derivation)

ENVIRONMENT = re.compile(r"\\begin\{(bmatrix|cases|pmatrix)\}.*?\\end\{\1\}", re.S)
DOLLARS = re.compile(r"^\$\$\n(.*?)\n\$\$[ \t]*(?:\((\S+)\))?[ \t]*$", re.S | re.M)
DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(derivation|math)\}[^\n]*\n(.*?)^\1[ \t]*$", re.S | re.M)
OPTION = re.compile(r"^:(\w+):[ \t]*(.*)$")


@dataclass
class Block:
    """One display equation: where it is, its label, its statements, and which inputs its tangents vary."""

    source: str            # e.g. "chapters/gradient_w.md"
    label: str | None
    statements: list[str]
    vary: set[str]
    line: int

    @property
    def id(self) -> str:
        return f"{self.source}:{self.label or f'line {self.line}'}"


def sources() -> list[Path]:
    """Every chapter, and every notebook (its Markdown cells), in a stable order."""
    return sorted((ROOT / "chapters").rglob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb"))


def texts(path: Path) -> list[tuple[str, int]]:
    """(text, first line) of a chapter, or of each Markdown cell of a notebook."""
    if path.suffix == ".md":
        return [(path.read_text(), 1)]
    cells = json.loads(path.read_text())["cells"]
    return [("".join(cell["source"]), 1) for cell in cells if cell["cell_type"] == "markdown"]


def blocks(path: Path) -> list[Block]:
    found = []
    relative = path.relative_to(ROOT).as_posix()
    for text, first_line in texts(path):
        for match in DOLLARS.finditer(text):
            body, label = match.group(1), match.group(2)
            line = first_line + text[:match.start()].count("\n")
            found.append(Block(relative, label, split_display(body), _dotted(body), line))
        for match in DIRECTIVE.finditer(text):
            kind, body = match.group(2), match.group(3)
            options, content = {}, []
            for raw in body.splitlines():
                option = OPTION.match(raw.strip())
                if option and not content:
                    options[option.group(1)] = option.group(2).strip()
                else:
                    content.append(raw)
            line = first_line + text[:match.start()].count("\n")
            content_text = "\n".join(content)
            if kind == "math":
                statements = split_display(content_text)
            else:
                statements = chains_of(parse_steps(content_text))
            vary = ({v.strip() for v in options["vary"].split(",") if v.strip()} if "vary" in options
                    else _dotted(content_text))
            found.append(Block(relative, options.get("label"), statements, vary, line))
    return found


def chains_of(steps: list[dict]) -> list[str]:
    """A derivation's steps as chains `lhs rel rhs rel rhs ...` (a new left side starts a new chain)."""
    chains = []
    for step in steps:
        if step["lhs"]:
            chains.append(f"{step['lhs']} {step['rhs']}")
        else:
            chains[-1] += f" {step['rhs']}"
    return chains


def split_display(body: str) -> list[str]:
    """Statements of a $$ block: rows (\\\\), then \\qquad-separated parts; a part that starts with a relation
    continues the chain above it. Text after && is an annotation, not a statement."""
    stash = {}

    def protect(match):
        key = f"\x00{len(stash)}\x00"
        stash[key] = match.group(0)
        return key

    text = ENVIRONMENT.sub(protect, body)
    text = re.sub(r"\\(begin|end)\{(aligned|gathered|split)\}", " ", text)
    statements: list[str] = []
    for row in re.split(r"\\\\(?:\[[^\]]*\])?", text):
        math = row.split("&&")[0]
        for part in re.split(r"\\qquad", math):
            part = part.strip().rstrip(",;")
            if not part.removeprefix("&").strip():
                continue
            # A row that starts (after its indentation) with a relation continues the chain above it; one that starts
            # with \odot or + continues the expression above it (a long product broken over two rows on a phone).
            if re.match(r"^&?\s*(?:\\quad\s*)*(=|\\approx|\\le|\\ge|<|>|\\ne|\\odot|\+)", part) and statements:
                statements[-1] += " " + part.lstrip("&")
            else:   # a first row may start at the alignment point (&) to sit flush left
                statements.append(part.removeprefix("&").lstrip())
    for key, original in stash.items():
        statements = [s.replace(key, original) for s in statements]
    return statements


def _dotted(text: str) -> set[str]:
    return set(re.findall(r"\\dot\{?\s*([A-Z](?:_\{?\d\}?)?)", text))


def all_blocks() -> list[Block]:
    return [block for path in sources() for block in blocks(path)]
