"""Which of reveal.js's files the deck ships: those it loads, and nothing else.

sphinx-revealjs copies its whole reveal.js folder into the deck's _static: 17 themes (eight of them @import
fonts.googleapis.com), source maps and SCSS sources. slides/conf.py passes `excluded(...)` to Sphinx's
exclude_patterns, which Sphinx also applies when it copies static files: what remains is the theme the deck uses,
what that theme's CSS imports or points at (its fonts), reveal.js itself, the plugins the deck loads, and the
licence. A fork that picks another theme ships that theme instead.
"""

import re
from pathlib import Path, PurePosixPath

PREFIX = "revealjs"   # the folder inside sphinx-revealjs's _static, and inside the deck's
CORE = ("LICENSE", "dist/reveal.css", "dist/reveal.js")
CSS_REFERENCE = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)|url\(\s*['"]?([^'")\s]+)""")


def revealjs_folder() -> Path:
    from sphinx_revealjs.utils import get_revealjs_path
    return get_revealjs_path()


def _referenced(css: Path, root: Path) -> set[str]:
    """Files (relative to root) a stylesheet imports or points at, followed through the stylesheets it imports."""
    found, pending = set(), [css]
    while pending:
        sheet = pending.pop()
        for imported, pointed in CSS_REFERENCE.findall(sheet.read_text(errors="replace")):
            target = re.split(r"[?#]", imported or pointed)[0]
            if not target or re.match(r"[a-z]+:", target):   # data: URIs; another host is left for the test to see
                continue
            relative = (sheet.parent / target).resolve().relative_to(root.resolve()).as_posix()
            if relative not in found and (root / relative).is_file():
                found.add(relative)
                if relative.endswith(".css"):
                    pending.append(root / relative)
    return found


def used(theme: str, plugins: list[dict], root: Path | None = None) -> set[str]:
    """The files of reveal.js (relative to its folder) that a deck with this theme and these plugins loads."""
    root = root or revealjs_folder()
    stylesheet = f"dist/theme/{theme}.css"
    if not (root / stylesheet).is_file():
        raise ValueError(f"slides/conf.py: revealjs_style_theme = {theme!r} is not one of reveal.js's themes "
                         f"({', '.join(sorted(p.stem for p in (root / 'dist' / 'theme').glob('*.css')))})")
    files = {*CORE, stylesheet, *_referenced(root / stylesheet, root)}
    for plugin in plugins:
        source = PurePosixPath(plugin["src"])
        if source.parts[0] == PREFIX:   # a plugin of reveal.js's own (another is the deck's own static file)
            files.add(source.relative_to(PREFIX).as_posix())
    # A font or plugin folder's own licence goes with it (the fonts' OFL asks for that).
    licences = {(PurePosixPath(name).parent / "LICENSE").as_posix() for name in files}
    return files | {name for name in licences if (root / name).is_file()}


def excluded(theme: str, plugins: list[dict], root: Path | None = None) -> list[str]:
    """Sphinx exclude patterns (paths under the static folder) for every reveal.js file the deck does not load."""
    root = root or revealjs_folder()
    keep = used(theme, plugins, root)
    every = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
    return sorted(f"{PREFIX}/{name}" for name in every - keep)
