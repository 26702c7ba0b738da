"""Light pages: each page loads only the scripts and styles it uses, and the icon font only the glyphs used.

Each fix is at the point where the problem is made: the page's list of scripts and styles, or the built font.
"""

import hashlib
import importlib
import json
import re
import shutil
from pathlib import Path

import pydata_sphinx_theme

# sphinx-thebe (live code cells) is switched off in _config.yml, yet its assets load on every page.
# (fontawesome.js, 1.5 MB, is dropped in templates/static/webpack-macros.html: the icon font draws the icons.)
UNUSED_SCRIPTS = ("sphinx-thebe.js",)
UNUSED_INLINE_MARKERS = ("THEBE_JS_URL", "thebe", "kernelName")
# katex-math.css is bundled into the math stylesheet (see offline_math), with KaTeX's own and the book's.
UNUSED_STYLES = ("sphinx-thebe.css", "katex-math.css")
# Assets that load on every page but serve only some: (file names, does this page need them?).
CONDITIONAL_ASSETS = [
    (("sphinx-design", "design-tabs.js"), lambda page, body: 'class="sd-' in body),
    (("togglebutton",), lambda page, body: "toggle" in body or re.search(r'class="[^"]*\bdropdown\b', body)),
    (("exercise.css",), lambda page, body: 'class="exercise' in body or 'class="solution' in body),
    (("mystnb.",), lambda page, body: 'class="cell' in body),
    (("pygments.css", "clipboard.min.js", "copybutton"), lambda page, body: 'class="highlight' in body),
    # Sphinx's search scripts (sphinx_highlight marks the search words on a page opened from the results), and, in
    # an edition in another language, their strings in it (translations.js calls doctools.js).
    (("doctools.js", "sphinx_highlight.js", "translations.js"), lambda page, body: page == "search"),
]



def without_comments(text: str, language: str) -> str:
    """The book's own stylesheet or script as shipped on every page: the comments, written for its authors, left
    out (about 9 kB a page, on pages held to 1 MB). CSS: every /* ... */; JavaScript: every line that is only a //
    comment (a // after code stays: it could sit inside a string)."""
    if language == "css":
        return re.sub(r"/\*.*?\*/[ \t]*\n?", "", text, flags=re.S)
    if language == "js":
        return re.sub(r"^[ \t]*//.*\n", "", text, flags=re.M)
    raise ValueError(f"language must be 'css' or 'js', not {language!r}")

def _is_unused(asset, pagename: str, body_html: str) -> bool:
    filename = str(asset.filename or "")
    inline = asset.attributes.get("body", "")
    if any(filename.endswith(name) for name in UNUSED_SCRIPTS + UNUSED_STYLES):
        return True
    if inline and any(marker in inline for marker in UNUSED_INLINE_MARKERS):
        return True
    if asset.attributes.get("type") == "text/x-thebe-config":
        return True
    return any(any(name in filename for name in names) and not needed(pagename, body_html)
               for names, needed in CONDITIONAL_ASSETS)


def _trim_page_assets(app, pagename, templatename, context, doctree):
    """Drop unused assets and the duplicates Sphinx 7.4 emits for inline scripts added per page."""
    body_html = context.get("body", "")
    for key in ("script_files", "css_files"):
        seen, kept = set(), []
        for asset in context.get(key, []):
            # Sphinx 7.4 gives one inline script's two copies the file names None and "": both mean inline.
            identity = (str(asset.filename or ""), tuple(sorted((k, str(v)) for k, v in asset.attributes.items())))
            if identity in seen or _is_unused(asset, pagename, body_html):
                continue
            seen.add(identity)
            kept.append(asset)
        context[key] = kept


# Stylesheets that their extensions copy into _static only when the build has finished: a clean build's pages, written
# before, linked them without the checksum (?v=) Sphinx gives every other stylesheet, and a later build's pages with
# one, so the same page differed between a clean and an incremental build. (file name prefix: package, its file)
LATE_STYLESHEETS = {"exercise.css": ("sphinx_exercise", "assets/html/exercise.css"),
                    "mystnb.": ("myst_nb", "static/mystnb.css")}


def _copy_late_stylesheets(app):
    """Copy those stylesheets before any page is written (their extensions copy them again at the end)."""
    if app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for filename, _ in app.registry.css_files:   # as the extensions added them, relative to _static
        name = str(filename)
        for prefix, (package, relative) in LATE_STYLESHEETS.items():
            if name.startswith(prefix) and name.endswith(".css"):
                source = Path(importlib.import_module(package).__file__).parent / relative
                target = static / name
                if not target.exists() or target.read_bytes() != source.read_bytes():
                    static.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)


def _count_page(app, pagename, templatename, context, doctree):
    app._book_pages_written = getattr(app, "_book_pages_written", 0) + 1


def _fonts_digest(fonts) -> str:
    return hashlib.sha256(b"".join(font.read_bytes() for font in fonts)).hexdigest()


def _trim_icon_rules(target: Path, stylesheet: str, used: set[str]) -> None:
    """The theme's stylesheet names a glyph for each of Font Awesome's 1,881 icons (92 kB of its 397 kB): keep the
    rules of the icons the site uses, and everything else as it is."""
    def keep(match):
        names = re.findall(r"\.(fa-[a-z0-9-]+):before", match.group(1))
        return match.group(0) if any(name in used for name in names) else ""

    trimmed = re.sub(r'(?<=})((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"[^"]*"\}', keep, stylesheet)
    if not target.exists() or target.read_text() != trimmed:
        target.write_text(trimmed)


def _subset_icon_fonts(app, exception):
    """Cut the icon fonts (156 kB for the solid set alone) down to the glyphs the site's pages and scripts use.

    Work that is the same on every build is skipped: with no page written and the fonts still the subset of the
    last build, nothing is scanned; a subset, always cut from the theme's original fonts, is kept under the doctree
    folder by the glyphs it holds, so that a build after which Sphinx copied the full fonts back (it does whenever a
    page is written) copies the kept subset instead of cutting it again.
    """
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    static = out / "_static"
    webfonts = static / "vendor" / "fontawesome" / "webfonts"
    fonts = sorted(webfonts.glob("*.woff2"))
    stamp = webfonts / ".subset.json"
    last = json.loads(stamp.read_text()) if stamp.exists() else {}
    if not getattr(app, "_book_pages_written", 0) and last.get("fonts") == _fonts_digest(fonts):
        return
    theme_static = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"
    stylesheet = (theme_static / "styles" / "pydata-sphinx-theme.css").read_text()   # the original, never trimmed
    codepoints = {}
    # (The look-behind starts each match at a rule's start: without it the search retries every position, 20× slower.)
    for selectors, code in re.findall(r'(?<=[{}])([^{}]+)\{content:"\\(f[0-9a-f]{3}|e[0-9a-f]{3})"\}', stylesheet):
        for name in re.findall(r"\.(fa-[a-z0-9-]+):before", selectors):
            codepoints[name] = int(code, 16)
    # Icons drawn by a stylesheet's content (sphinx-exercise's title icon, the book's objectives and recap boxes).
    for css in sorted(static.glob("*.css")) + sorted((static / "katex").glob("*.css")):
        unicodes_in_css = re.findall(r'content:\s*"\\(f[0-9a-f]{3}|e[0-9a-f]{3})"', css.read_text(errors="ignore"))
        codepoints.update({f"css:{code}": int(code, 16) for code in unicodes_in_css})
    used = {name for name in codepoints if name.startswith("css:")}
    used |= _icons_named(list(out.rglob("*.html")) + list((static / "scripts").glob("*.js")),
                         Path(app.doctreedir) / "icon-names.json")
    # The theme also draws icons from CSS alone (admonition titles: a lightbulb, a warning triangle, ...), through
    # custom properties such as --pst-icon-lightbulb: keep every glyph those name.
    css_icons = {int(code, 16) for code in re.findall(r'--pst-icon-[a-z-]+:"\\([ef][0-9a-f]{3})"', stylesheet)}
    css_icons |= {ord(glyph) for glyph in re.findall(r'--pst-icon-[a-z-]+:"([\ue000-\uf8ff])"', stylesheet)}
    unicodes = sorted({codepoints[name] for name in used if name in codepoints} | css_icons)
    _trim_icon_rules(static / "styles" / "pydata-sphinx-theme.css", stylesheet, used)
    if last.get("unicodes") == unicodes and last.get("fonts") == _fonts_digest(fonts):
        return
    originals = theme_static / "vendor" / "fontawesome" / "webfonts"
    kept = Path(app.doctreedir) / "icon-font-subsets"
    kept.mkdir(parents=True, exist_ok=True)
    for font in fonts:
        original = (originals / font.name).read_bytes()
        key = hashlib.sha256(original + json.dumps(unicodes).encode()).hexdigest()[:32]
        subset_file = kept / f"{key}.woff2"
        if not subset_file.exists():
            subset_file.write_bytes(_subset(originals / font.name, unicodes))
        data = subset_file.read_bytes()
        if font.read_bytes() != data:
            font.write_bytes(data)
    stamp.write_text(json.dumps({"unicodes": unicodes, "fonts": _fonts_digest(fonts)}))


def _icons_named(paths: list[Path], kept: Path) -> set[str]:
    """The icon names (fa-...) that these pages and scripts use; a file unchanged since the last build is not read
    again (its names are kept, by its size and time, in `kept`)."""
    try:
        last = json.loads(kept.read_text())
    except (OSError, ValueError):
        last = {}
    now, names = {}, set()
    for path in paths:
        stat = path.stat()
        state = f"{stat.st_size}:{stat.st_mtime_ns}"
        entry = last.get(str(path))
        if not entry or entry[0] != state:
            entry = [state, sorted(set(re.findall(r"\bfa-[a-z0-9-]+", path.read_text(errors="ignore"))))]
        now[str(path)] = entry
        names.update(entry[1])
    if now != last:
        kept.write_text(json.dumps(now))
    return names


def _subset(font: Path, unicodes: list[int]) -> bytes:
    """The font cut down to these code points, as woff2."""
    import io

    from fontTools import subset  # matplotlib's dependency; woff2 output needs brotli

    options = subset.Options(flavor="woff2", layout_features=["*"], notdef_outline=True)
    subsetter = subset.Subsetter(options)
    loaded = subset.load_font(str(font), options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(loaded)
    buffer = io.BytesIO()
    subset.save_font(loaded, buffer, options)
    return buffer.getvalue()


def _is_palette_png(path: Path) -> bool:
    """A PNG's colour type is byte 25 of the file (in its IHDR chunk); 3 is a palette."""
    with open(path, "rb") as file:
        header = file.read(26)
    return len(header) == 26 and header[25] == 3


def _palette_images(app, exception):
    """Figures as 256-colour PNGs: a third of the bytes, and plots (solid backgrounds, a few colours, one colour map)
    look the same. Each is converted once: one that is already a palette image is left alone."""
    if exception is not None or app.builder.format != "html":
        return
    pending = [path for path in sorted((Path(app.outdir) / "_images").glob("*.png")) if not _is_palette_png(path)]
    if not pending:
        return
    from PIL import Image  # matplotlib's dependency

    for path in pending:
        with Image.open(path) as image:
            dpi = image.info.get("dpi")
            palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                    dither=Image.Dither.NONE)
        palette.save(path, optimize=True, **({"dpi": dpi} if dpi else {}))


def setup(app):
    app.connect("builder-inited", _copy_late_stylesheets, priority=900)   # after the extensions have added them
    app.connect("build-finished", _palette_images)
    # After every extension has added its per-page assets.
    app.connect("html-page-context", _trim_page_assets, priority=999)
    app.connect("html-page-context", _count_page)
    app.connect("build-finished", _subset_icon_fonts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
