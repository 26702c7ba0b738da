"""The book builds with zero warnings; every number is glued, every link and anchor resolves, every formula renders."""

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent


def test_build_has_no_warnings(build_log):
    # Sphinx's own "WARNING: ..." and "ERROR: ..." lines. Not the kernel's: its "WARNING |" notice about TCP,
    # and ipykernel's occasional "ERROR:tornado..." traceback when a kernel shuts down after its notebook ran.
    problems = re.findall(r".*\b(?:WARNING|ERROR): .*", build_log)
    assert not problems, problems


def test_notebooks_print_no_warnings_or_errors(html_root):
    """What -W does not see: a warning or error printed by a notebook cell lands on the page, and the build passes."""
    for path in sorted((html_root / "notebooks").glob("*.html")):
        text = path.read_text()
        assert "output stderr" not in text and "output traceback" not in text, path.name
        assert not re.search(r"\b\w*(Warning|Error)\b:", re.sub(r"<[^>]+>", "", text)), path.name


def test_every_notebook_was_executed_in_this_build(build_log):
    executed = re.findall(r"(\d\d_\w+)\.ipynb: executed in", build_log)
    assert sorted(executed) == sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def pages(html_root):
    """The English pages (the Chinese edition's folder, zh_CN/, is tested by tests/test_chinese_edition.py)."""
    return [p for p in html_root.rglob("*.html") if not p.relative_to(html_root).as_posix().startswith(("_", "zh_CN/"))]


GLUE_REFERENCE = re.compile(r"\{glue(?::\w+)?\}`(/?[\w/]+\.ipynb)::(\w+)")


def _quoted_glue() -> set[tuple[str, str]]:
    """(notebook, key) of every glue reference in the chapters, the notebooks' Markdown and their translations (a
    glued phrase's words in another language, `key_zh_CN`, are quoted there alone)."""
    quoted = set()
    for path in sorted((ROOT / "chapters").rglob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb")) + \
            sorted((ROOT / "locales").rglob("*.po")):
        text = path.read_text()
        quoted |= {(Path(notebook).stem, key) for notebook, key in GLUE_REFERENCE.findall(text)}
    return quoted | _translated_figures()


def _translated_figures() -> set[tuple[str, str]]:
    """(notebook, `<figure name>_<language>`) of each named figure's rendition in another edition's language: the
    other edition's page shows it in the figure's place (_ext/translated_figures.py), so it is quoted there."""
    sys.path.insert(0, str(ROOT / "_ext"))
    from translated_figures import figure_name
    from relugrad.notebook import LANGUAGES
    return {(path.stem, f"{name}_{language}") for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
            for cell in json.loads(path.read_text())["cells"]
            if (name := figure_name(cell.get("metadata"))) is not None for language in LANGUAGES[1:]}


def _glued(build_dir: Path) -> set[tuple[str, str]]:
    """(notebook, key) of every value the executed notebooks glued in this build."""
    import json
    return {(path.name.split(".")[0], key) for path in (build_dir / "jupyter_execute").rglob("*.glue.json")
            for key in json.loads(path.read_text())}


def test_every_quoted_number_was_glued(html_root):
    missing = _quoted_glue() - _glued(html_root.parent)
    assert not missing, f"quoted but never glued (the page would show nothing): {sorted(missing)}"


def test_every_glued_number_is_quoted(html_root):
    unused = _glued(html_root.parent) - _quoted_glue()
    assert not unused, f"glued but quoted nowhere: {sorted(unused)}"


def test_glued_numbers_are_pasted(html_root):
    for path in pages(html_root):
        text = path.read_text()
        assert "{glue" not in text and "pending_glue" not in text.lower(), path
        assert not re.search(r'class="pasted-text">\s*<', text), f"{path}: an empty pasted number"


NUMBER_IN_PROSE = re.compile(r"(?<![\w{}_^.\\])(?:\d+\.\d+(?:e-?\d+)?|\d+e-?\d+|10\^\{?-?\d+\}?)(?![\w}])")


FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\S*)")


def prose_of(markdown: str) -> str:
    """The Markdown without its code blocks and math directives; the text of other directives (exercises,
    solutions, admonitions) is prose like any other. Fences are paired as MyST pairs them: a bare fence closes the
    innermost open one of its character and at least its length."""
    kept, stack = [], []   # stack: (fence, is code or math)
    for line in markdown.splitlines():
        match = FENCE.match(line)
        if match:
            fence, info = match.groups()
            if not info and stack and stack[-1][0][0] == fence[0] and len(fence) >= len(stack[-1][0]):
                stack.pop()
                continue
            if info:
                hidden = not info.startswith("{") or info in ("{derivation}", "{math}")
                stack.append((fence, hidden or any(h for _, h in stack)))
                continue
        if not any(hidden for _, hidden in stack):
            kept.append(line)
    return "\n".join(kept)


def test_no_result_is_typed_into_prose():
    """Decimal numbers and powers of ten in prose must be glued from the run that measured them."""
    typed = []
    for path in sorted((ROOT / "chapters").rglob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb")):
        if path.suffix == ".ipynb":
            import json
            texts = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]
        else:
            texts = [path.read_text()]
        for text in texts:
            text = re.sub(r"\{glue[^`]*`[^`]*`|\$\$.*?\$\$", " ", prose_of(text), flags=re.S)
            text = re.sub(r"https?://\S+|CC BY(?:-SA)? \d\.\d", " ", text)   # addresses and licence names
            typed += [f"{path.name}: {text[max(0, m.start() - 40):m.end() + 10]!r}" for m in NUMBER_IN_PROSE.finditer(text)]
    assert not typed, typed


def test_math_is_prerendered_without_errors(html_root):
    rendered = 0
    for path in pages(html_root):
        text = path.read_text()
        assert "katex-error" not in text, path
        assert not re.search(r"\$\$|\\\(|\\\[", re.sub(r"<annotation.*?</annotation>|<pre.*?</pre>", "", text, flags=re.S)), path
        rendered += text.count('class="katex"')
    assert rendered > 200


def test_no_tex_is_left_unrendered_in_the_text(html_root):
    """A formula that Markdown broke apart (a line starting with "- " inside $...$ becomes a list) shows raw TeX."""
    leftovers = []
    for path in pages(html_root):
        html = re.sub(r"<annotation.*?</annotation>|<pre.*?</pre>|<code.*?</code>|<script.*?</script>|<style.*?</style>",
                      "", path.read_text(), flags=re.S)
        text = re.sub(r"<[^>]+>", "", html)
        leftovers += [f"{path.name}: {m.group(0)!r}" for m in re.finditer(r".{0,30}(?:\\[a-zA-Z]{2,}|\$[^$\n]{1,40}\$?).{0,10}", text)]
    assert not leftovers, leftovers


def test_derivations_announce_the_number_they_show(html_root):
    """A screen reader hears the same equation number that the page shows, and that references use."""
    checked = 0
    for path in pages(html_root):
        for announced, shown in re.findall(r'aria-label="Derivation \((\d+)\)"[^>]*>\s*<span class="eqno">\((\d+)\)',
                                           path.read_text()):
            assert announced == shown, f"{path.name}: announced ({announced}), shown ({shown})"
            checked += 1
    assert checked >= 20


def test_every_exercise_reference_shows_its_number(html_root):
    """sphinx-exercise leaves a reference's text as a bare "Exercise" when it cannot number the target."""
    bare = [path.name for path in pages(html_root)
            if re.search(r'<span class="std std-ref">Exercise\s*</span>', path.read_text())]
    assert not bare, bare


def test_no_equation_reference_is_wrapped_in_a_second_pair_of_parentheses(html_root):
    """{eq} already prints "(68)"; writing "({eq}`...`)" in the source shows "((68))"."""
    doubled = []
    for path in pages(html_root):
        text = re.sub(r"<[^>]+>", "", re.sub(r"<script.*?</script>|<style.*?</style>", "", path.read_text(), flags=re.S))
        doubled += [f"{path.name}: {m.group(0)!r}" for m in re.finditer(r".{0,30}\(\(\d+\)[),].{0,10}", text)]
    assert not doubled, doubled


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.links.append(attrs[key])


def test_no_broken_internal_link_or_anchor(html_root):
    parsed = {}
    for path in pages(html_root) + [html_root / "index.html"]:
        parser = _Links()
        parser.feed(path.read_text())
        parsed[path.resolve()] = parser
    broken = []
    for path, parser in parsed.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("mailto:", "javascript:", "//")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                broken.append(f"{path.name}: {link}")
            elif parts.fragment and target in parsed and parts.fragment not in parsed[target].ids:
                broken.append(f"{path.name}: {link} (no such anchor)")
    assert not broken, broken


def test_no_page_repeats_an_inline_script(html_root):
    """Sphinx 7.4 writes some inline scripts twice; a repeated `const` is a SyntaxError in the browser."""
    for path in pages(html_root):
        inline = [body.strip() for body in re.findall(r"<script>(.*?)</script>", path.read_text(), flags=re.S)]
        repeated = {body[:60] for body in inline if inline.count(body) > 1}
        assert not repeated, (path, repeated)


def test_no_page_references_another_host_for_assets(html_root):
    for path in pages(html_root):
        text = path.read_text()
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', text), path


def test_every_stylesheet_is_linked_with_its_checksum(html_root):
    """Sphinx links a stylesheet it has copied as name.css?v=checksum; one copied only after the pages were written
    is linked without it in a clean build and with it in the next: the same page then differs between the two."""
    for path in pages(html_root):
        if path.relative_to(html_root).parts[0] == "slides":
            continue   # the deck: sphinx-revealjs links its own files
        for href in re.findall(r'<link rel="stylesheet"[^>]*href="([^"]*_static/[^"]+)"', path.read_text()):
            assert "?v=" in href, (path.name, href)


def test_every_icon_the_theme_draws_is_in_the_trimmed_font(html_root):
    """The icon font is cut down to the glyphs in use: an icon the theme draws from CSS alone (an admonition's
    lightbulb or warning triangle) must survive the cut, or it shows as an empty box."""
    from fontTools.ttLib import TTFont

    static = html_root / "_static"
    css = (static / "styles" / "pydata-sphinx-theme.css").read_text()
    wanted = {ord(glyph) for glyph in re.findall(r'--pst-icon-[a-z-]+:"([\ue000-\uf8ff])"', css)}
    wanted |= {int(code, 16) for code in re.findall(r'--pst-icon-[a-z-]+:"\\([ef][0-9a-f]{3})"', css)}
    assert {0xF0EB, 0xF071} <= wanted   # the tip's lightbulb and the warning's triangle
    glyphs = set()
    for font in (static / "vendor" / "fontawesome" / "webfonts").glob("*.woff2"):
        glyphs |= set(TTFont(font).getBestCmap())
    assert not wanted - glyphs, sorted(hex(c) for c in wanted - glyphs)


def test_every_icon_a_stylesheet_draws_is_in_the_icon_font(html_root):
    """Extensions draw icons by code point (sphinx-exercise's pencil, "\\f303"), not by class; the icon font, cut
    down to the glyphs the site uses, must keep those too, or the reader sees an empty box."""
    from fontTools.ttLib import TTFont

    drawn = {int(code, 16) for path in (html_root / "_static").glob("*.css")
             for code in re.findall(r'content:\s*"\\([ef][0-9a-f]{3})"', path.read_text())}
    assert drawn, "no stylesheet draws an icon by code point: is sphinx-exercise's stylesheet still there?"
    glyphs = set(TTFont(html_root / "_static" / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2")
                 .getBestCmap())
    assert drawn <= glyphs, [hex(code) for code in sorted(drawn - glyphs)]
