"""The whole book as one PDF, printed offline from the built site by Chromium and linked from every page.

Each page of the table of contents is printed by Debian's Chromium (through Playwright) with the site's own print
style and its title as the running head, and the pages are bound by pypdf into a book: a title page (title, author,
licences, version, read from the sources) and a contents with page numbers in front, every later page numbered at its
foot and labelled so, links between pages (equations, chapters, sections) turned into links inside the PDF, and
bookmarks nested part, chapter, section. No LaTeX and no network: a page that asks
for another host is refused. A page is printed again only when it, or what its print reads, has changed. Where
Chromium (or Playwright, or pypdf) is missing, the build says so, and no page links to a PDF that does not exist.
"""

import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

from sphinx.locale import get_translation
from sphinx.util import logging

logger = logging.getLogger(__name__)
_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)

PDF_NAME = "book.pdf"
# Another Chromium or Chrome (a laptop's) can be named with this variable.
CHROMIUM = os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# A4 with 16 mm side margins: the page's text column is this wide in CSS pixels (96 per inch), so the page is laid
# out, and its wide equations are fitted (book.js), at the width it is printed at.
PAPER = {"format": "A4", "margin": {"top": "16mm", "bottom": "16mm", "left": "16mm", "right": "16mm"}}
COLUMN_PX = round((210 - 2 * 16) / 25.4 * 96)
HERE = Path(__file__).parent
# Files of the site that decide what the PDF looks like, besides its pages: a change in any of them reprints it.
LOOKS = ("_static/katex/math.css", "_static/styles/sphinx-book-theme.css", "_static/styles/pydata-sphinx-theme.css")


def printer_missing(language: str | None = None) -> str:
    """Why the PDF (of the edition in `language`) cannot be printed on this machine ("" if it can)."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (install it: apt-get install chromium, or set BOOK_CHROMIUM)"
    for module in ("playwright", "pypdf"):   # looked up, not imported: importing Playwright costs a no-op build 0.3 s
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -r requirements.txt)"
    if (language or "").startswith("zh") and not cjk_fonts():   # or every character would print as a box
        return "no Chinese font on this machine (install one: apt-get install fonts-noto-cjk)"
    return ""


def cjk_fonts() -> list[str]:
    """The fonts that fontconfig (and so Chromium) has for Chinese."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in listed.stdout.splitlines() if line.strip()]


def _decide(app, config):
    # A config value (rebuild "html"): when it changes, every page is written again, with or without the link.
    reason = printer_missing(config.language)
    config.book_pdf = "" if reason else PDF_NAME
    if reason:
        logger.info(f"whole-book PDF: not made, {reason}; the site links to no PDF", color="darkred")


def _link_from_page(app, pagename, templatename, context, doctree):
    """Add the whole book to the page's download menu (next to the page's own source and print buttons)."""
    if not app.config.book_pdf:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link",
                "url": context["pathto"](app.config.book_pdf, 1),
                "text": _("book .pdf"),
                "tooltip": _("Download the whole book as one PDF"),
                "icon": "fas fa-file-pdf",
                "label": "download-book-pdf-button",
            })


def reading_order(env, root: str) -> list[str]:
    """The documents of the table of contents, in reading order."""
    order = []

    def visit(docname):
        if docname not in order:
            order.append(docname)
            for child in env.toctree_includes.get(docname, []):
                visit(child)

    visit(root)
    return order


def _shared_digest(out: Path) -> str:
    """What every printed page depends on besides its own HTML: the print style and scripts, and the figures."""
    sha = hashlib.sha256()
    sources = [*(out / name for name in LOOKS), *sorted((out / "_images").glob("*")),
               Path(__file__), HERE / "offline_book_assets" / "book.js", HERE / "offline_book_assets" / "scrollable.js"]
    for path in sources:
        if path.is_file():
            sha.update(path.name.encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def made_from(digest: str, *outputs: Path) -> str:
    """A stamp: what a file was made from, and the file as it was made (a file since changed or deleted by hand is
    made again, not taken to be up to date)."""
    made = [hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing" for path in outputs]
    return " ".join([digest, *made])


def _page_key(shared: str, page: Path) -> str:
    return hashlib.sha256(shared.encode() + page.name.encode() + page.read_bytes()).hexdigest()


def without_dates(data: bytes) -> bytes:
    """A PDF from Chromium with its creation and modification dates taken out, so that two builds of the same
    sources give the same file (what a PDF's content depends on is the sources, not the clock), and its text's
    characters named as written (characters_not_radicals)."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = pypdf.PdfWriter(clone_from=reader)
    info = {key: value for key, value in (reader.metadata or {}).items() if key not in ("/CreationDate", "/ModDate")}
    writer.metadata = None
    writer.add_metadata(info)
    characters_not_radicals(writer)   # the slides' and handout's Chinese too
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Chromium names a Chinese character whose glyph Noto Sans CJK shares with a radical by the radical (⽤ U+2F64 for
# 用 U+7528): a reader who copies or searches the PDF's text would get the radicals. NFKC maps the Kangxi radicals
# to their characters; the simplified radicals have no mapping, hence this table.
SIMPLIFIED_RADICALS = str.maketrans("⻅⻆⻓⻔⻚⻛⻜⻢⻥⻦⻨⻩⻬⻮⻳⻉⻋⻈", "见角长门页风飞马鱼鸟麦黄齐齿龟贝车讠")
_CHARACTER_BLOCK = re.compile(rb"beginbfchar.*?endbfchar", re.S)   # lines "<code> <unicode>", one to one
_TO_RADICAL = re.compile(rb"^(\s*<[0-9A-Fa-f]+>\s*<)(2[EeFf][0-9A-Fa-f]{2})(>\s*)$", re.M)


def _character(match: re.Match) -> bytes:
    radical = chr(int(match.group(2), 16))
    character = unicodedata.normalize("NFKC", radical.translate(SIMPLIFIED_RADICALS))
    if len(character) != 1 or character == radical:
        return match.group(0)
    return match.group(1) + f"{ord(character):04X}".encode() + match.group(3)


def characters_not_radicals(writer) -> int:
    """Each font's ToUnicode map sends the characters Chromium named by radicals back to the characters (only in its
    one-to-one entries, bfchar: a range's start moves the whole range); returns how many maps changed."""
    seen, changed = set(), 0
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            to_unicode = font.get_object().get("/ToUnicode")
            if to_unicode is None or to_unicode.idnum in seen:
                continue
            seen.add(to_unicode.idnum)
            stream = to_unicode.get_object()
            data = stream.get_data()
            fixed = _CHARACTER_BLOCK.sub(lambda block: _TO_RADICAL.sub(_character, block.group(0)), data)
            if fixed != data:
                stream.set_data(fixed)
                changed += 1
    return changed


PREPARE_FOR_PRINT = """async (book) => {
    await document.fonts.ready;
    // Links into the site would point at this machine's files: keep their text, drop the link; links to another
    // page of the book stay, and become links inside the PDF when the pages are joined (joined()).
    const pages = new Set(book);
    document.querySelectorAll("a[href]").forEach(a => {
        if (a.protocol === "file:" && !pages.has(a.href.split("#")[0])) a.removeAttribute("href");
    });
    if (window.bookSolutionsToEnd) window.bookSolutionsToEnd();
    if (window.bookFitForPrint) window.bookFitForPrint();
    // Chromium writes a named destination for each element that a link of the same page points at: point a hidden
    // link at every element of the article with an id (headings, equations, figures, exercises), so that links from
    // other pages, and the bookmarks of sections, can land on it.
    const article = document.querySelector("article.bd-article") || document.body;
    const targets = document.createElement("div");
    targets.hidden = true;
    article.querySelectorAll("[id]").forEach(element => {
        const link = document.createElement("a");
        link.href = "#" + element.id;
        targets.appendChild(link);
    });
    document.body.appendChild(targets);
}"""
# The running head: the chapter's title at the top of each of its pages. The page number is stamped at the foot when
# the pages are joined (numbered()), as it counts across the whole book, not from each printed page.
HEAD = ('<div style="width: 100%; margin: 0 16mm; font: 8pt sans-serif; color: #666; text-align: right; '
        'border-bottom: 0.5pt solid #ccc; padding-bottom: 1mm">{}</div>')
NO_FOOT = "<span></span>"
# Pages printed side by side, each in its own tab (Chromium renders each tab in a process of its own): two tabs
# print the book in 13 s instead of 19 s on two cores; a third only competes for them.
TABS = max(1, min(4, os.cpu_count() or 1))


async def offline_context(browser, **options):
    """A browser context that loads the site's own files and refuses every request to another host."""
    context = await browser.new_context(**options)
    await context.route("**/*", lambda route: route.continue_()
                        if route.request.url.startswith(("file:", "data:")) else route.abort())
    return context


def print_all(jobs: list) -> list:
    """Run printing jobs (each `async job(browser)`) side by side in one Chromium; returns their results."""
    import asyncio

    from playwright.async_api import async_playwright

    async def run():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return await asyncio.gather(*(job(browser) for job in jobs))
            finally:
                await browser.close()

    return asyncio.run(run())


def print_pages(urls: list[str], tabs: int = TABS, heads: list[str] | None = None, book: list[str] = ()) -> list[bytes]:
    """Print each page (a file:// URL) with the site's print style; every request to another host is refused. With
    `heads`, each page's running head (a chapter title); links to the pages of `book` (file:// URLs) are kept."""
    import asyncio
    from html import escape

    async def print_book(browser):
        printed = [b""] * len(urls)
        pending = list(enumerate(urls))
        context = await offline_context(browser, viewport={"width": COLUMN_PX, "height": 1000}, color_scheme="light")

        async def tab():
            page = await context.new_page()
            await page.emulate_media(media="print", color_scheme="light")
            while pending:
                index, url = pending.pop(0)
                await page.goto(url, wait_until="load")
                await page.evaluate(PREPARE_FOR_PRINT, list(book))
                head = {} if heads is None else {"display_header_footer": True, "footer_template": NO_FOOT,
                                                 "header_template": HEAD.format(escape(heads[index]))}
                printed[index] = await page.pdf(**PAPER, print_background=True, prefer_css_page_size=False, **head)

        await asyncio.gather(*(tab() for _ in range(max(1, min(tabs, len(urls))))))
        return printed

    return print_all([print_book])[0]


def print_html(html: str) -> bytes:
    """Print a page given as HTML (the title page and contents), on the book's paper."""
    async def print_front(browser):
        context = await offline_context(browser, color_scheme="light")
        page = await context.new_page()
        await page.set_content(html, wait_until="load")
        return await page.pdf(**PAPER, print_background=True)

    return print_all([print_front])[0]


def _print_book(app, exception):
    if exception is not None or app.builder.format != "html" or not app.config.book_pdf:
        return
    out = Path(app.outdir)
    docnames = reading_order(app.env, app.config.root_doc)
    pages = [out / app.builder.get_target_uri(docname) for docname in docnames]
    target = out / app.config.book_pdf
    stamp = Path(app.doctreedir) / "book-pdf.sha256"
    shared = _shared_digest(out)
    keys = [_page_key(shared, page) for page in pages]
    about = about_the_book(app)   # the title page's words: they come from files that are no page of the book
    digest = hashlib.sha256(("".join(keys) + json.dumps(about, sort_keys=True)).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == made_from(digest, target):
        logger.info(f"whole-book PDF: {target.name} is up to date")
        return
    # Each page's print is kept, under its key, from one build to the next: a change to one chapter reprints that
    # chapter only (printing all of them took about 20 s).
    cache = Path(app.doctreedir) / "book-pdf"
    cache.mkdir(exist_ok=True)
    titles = {key: app.env.titles[docname].astext() for docname, key in zip(docnames, keys)}
    book = [page.as_uri() for page in pages]
    for attempt in ("cached", "printed again"):
        missing = [(page, key) for page, key in zip(pages, keys) if not (cache / f"{key}.pdf").is_file()]
        if missing:
            logger.info(f"whole-book PDF: printing {len(missing)} of {len(pages)} pages with {CHROMIUM} ...",
                        nonl=True)
            try:
                printed = print_pages([page.as_uri() for page, _ in missing],
                                      heads=[titles[key] for _, key in missing], book=book)
                for (_, key), pdf in zip(missing, printed):
                    write_atomically(cache / f"{key}.pdf", pdf)
            except Exception as error:   # Playwright's errors (a timeout, a crashed tab) say what went wrong
                _give_up(target, pages, f"printing failed: {error}")
                return
        readers, unreadable = joined([(cache / f"{key}.pdf", titles[key]) for key in keys])
        if not unreadable:
            break
        named = ", ".join(f"{page.name} ({error})" for page, key in zip(pages, keys)
                          for path, error in unreadable if path.stem == key)
        for path, _ in unreadable:
            path.unlink(missing_ok=True)   # printed again by the next attempt, or the next build
        if attempt == "cached":
            logger.info(f"whole-book PDF: the cached print of {named} cannot be read; printing again")
    else:
        _give_up(target, pages, f"Chromium's print of {named} cannot be read")
        return
    for old in cache.glob("*.pdf"):
        if old.stem not in keys:
            old.unlink()
    chapters = [Chapter(docname, uri, titles[key], reader, sections(app.env, docname))
                for docname, uri, key, reader in zip(docnames, book, keys, readers)]
    try:
        front = _front_matter(Path(app.doctreedir) / "book-pdf-front", about,
                              book_parts(app.env, app.config.root_doc, chapters))
        writer = bound(front, chapters, book_parts(app.env, app.config.root_doc, chapters))
    except Exception as error:   # Chromium (the front matter's print) or pypdf failing on a print it just read
        _give_up(target, pages, f"binding the book failed: {type(error).__name__}: {error}")
        return
    writer.add_metadata({"/Title": app.config.html_title or app.config.project, "/Author": app.config.author})
    characters_not_radicals(writer)
    merged = io.BytesIO()
    writer.write(merged)
    try:
        write_atomically(target, merged.getvalue())
        write_atomically(stamp, made_from(digest, target).encode())
    except OSError as error:
        _give_up(target, pages, f"cannot write {target}: {error}")
        return
    logger.info(f" {target.name}, {len(writer.pages)} pages, {target.stat().st_size // 1024} kB")


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that it is, at every moment, either the old file or the whole new one: a build killed while
    writing leaves no file cut short for a later build to take as good (a temporary file is renamed over it)."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):   # from a build killed while writing
        leftover.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def joined(parts: list[tuple[Path, str]]):
    """The printed pages read, in order, and the files that could not be read, each with pypdf's error (a file cut
    short, say); those are left out."""
    import pypdf

    readers, unreadable = [], []
    for path, _title in parts:
        try:
            reader = pypdf.PdfReader(path)
            if not reader.pages:
                raise ValueError("no pages")
            readers.append(reader)
        except Exception as error:   # pypdf raises many kinds on a damaged file; any of them means "print it again"
            unreadable.append((path, f"{type(error).__name__}: {error}"))
    return readers, unreadable


# ------------------------------------------------------------------------------------------ binding the book
class Chapter:
    """One page of the table of contents as printed: its document, URL, title, print and sections."""

    def __init__(self, docname, uri, title, reader, sections):
        self.docname, self.uri, self.title, self.reader, self.sections = docname, uri, title, reader, sections
        self.start = 0            # its first page in the bound book (0-based)
        self.targets = {}         # id of an element -> (page in the bound book, its top in PDF points)


def sections(env, docname: str) -> list[tuple[int, str, str]]:
    """The page's headings below its title, two levels deep, as (level 1 or 2, title, id), from Sphinx's own table
    of contents of the page."""
    from docutils import nodes

    found = []

    def walk(bullets, level):
        for item in bullets.children:
            if not isinstance(item, nodes.list_item) or not item.children:
                continue
            ref = next(iter(item[0].findall(nodes.reference)), None)
            anchor = ref.get("anchorname", "").lstrip("#") if ref is not None else ""
            depth = max(level, 1)
            if anchor:
                found.append((depth, ref.astext(), anchor))
            for child in item.children:
                if isinstance(child, nodes.bullet_list) and depth < 2:
                    walk(child, level + 1)

    toc = env.tocs.get(docname)
    if toc is not None:
        for bullets in ([toc] if isinstance(toc, nodes.bullet_list) else toc.findall(nodes.bullet_list)):
            walk(bullets, 0)
            break
    return found


def book_parts(env, root: str, chapters: list) -> list[tuple[str, list]]:
    """The chapters grouped into the parts of _toc.yml (the captions of the root's toctrees); the root page and a
    book without parts have the caption ""."""
    from sphinx import addnodes

    caption_of = {}
    for toctree in env.get_doctree(root).findall(addnodes.toctree):
        for _title, docname in toctree["entries"]:
            caption_of.setdefault(docname, toctree.get("caption") or "")
    parts = []
    for chapter in chapters:
        caption = "" if chapter.docname == root else caption_of.get(chapter.docname, parts[-1][0] if parts else "")
        if not parts or parts[-1][0] != caption or not caption:
            parts.append((caption, []))
        parts[-1][1].append(chapter)
    return parts


def about_the_book(app) -> dict:
    """What the title page says, read from the sources (never typed twice): the title and author (_config.yml), the
    licences (the first paragraph of LICENSE-TEXT, the name of LICENSE), the version (pyproject.toml) and the commit
    (git), where there are such files."""
    import subprocess
    import tomllib

    source = Path(app.srcdir)
    about = {"title": app.config.html_title or app.config.project, "author": app.config.author,
             "copyright": app.config.copyright, "licences": [], "version": "", "contents": _("Contents")}
    text = source / "LICENSE-TEXT"
    if text.is_file():
        about["licences"].append(" ".join(text.read_text(encoding="utf-8").strip().split("\n\n")[0].split()))
    code = source / "LICENSE"
    if code.is_file():
        name = code.read_text(encoding="utf-8").strip().splitlines()[0].strip()
        about["licences"].append(_("The code: {name} (the file LICENSE).").format(name=name))
    versions = []
    try:
        versions.append(_("Version {version}").format(
            version=tomllib.loads((source / "pyproject.toml").read_text())["project"]["version"]))
    except (OSError, KeyError, ValueError):
        pass
    try:
        commit = subprocess.run(["git", "-C", str(source), "log", "-1", "--format=%cs %h"], capture_output=True,
                                text=True, timeout=20).stdout.split()
        if len(commit) == 2:
            versions.append(_("from commit {commit} of {date}").format(commit=commit[1], date=commit[0]))
    except (OSError, subprocess.SubprocessError):
        pass
    about["version"] = ", ".join(versions)
    return about


FRONT_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", sans-serif; color: #222; margin: 0; }
.title-page { height: 255mm; display: flex; flex-direction: column; break-after: page; }
.title-page h1 { font-size: 30pt; font-weight: 600; margin: 55mm 0 6mm; line-height: 1.2; }
.title-page .author { font-size: 14pt; margin: 0; }
.title-page .version { font-size: 11pt; color: #555; margin: 4mm 0 0; }
.title-page .colophon { margin-top: auto; font-size: 9pt; color: #444; line-height: 1.45; }
.contents h2 { font-size: 20pt; font-weight: 600; margin: 0 0 6mm; }
.contents .part { font-weight: 600; font-size: 12pt; margin: 5mm 0 1.5mm; break-after: avoid; }
.contents a { display: flex; align-items: baseline; color: inherit; text-decoration: none; font-size: 10.5pt;
              margin: 1.2mm 0; }
.contents .part + a, .contents .part ~ a { padding-left: 5mm; }
.contents .leader { flex: 1; border-bottom: 1px dotted #999; margin: 0 2mm; }
"""


def front_matter_html(about: dict, parts: list, first_page: dict) -> str:
    """The title page and the contents, each chapter with the number of the page it starts on."""
    from html import escape

    lines = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(about['title'])}</title>",
             f"<style>{FRONT_STYLE}</style></head><body>",
             "<section class='title-page'>", f"<h1>{escape(about['title'])}</h1>",
             f"<p class='author'>{escape(about['author'])}</p>"]
    if about["version"]:
        lines.append(f"<p class='version'>{escape(about['version'])}</p>")
    lines.append("<div class='colophon'>")
    if about["copyright"]:
        lines.append(f"<p>© {escape(about['copyright'])} {escape(about['author'])}</p>")
    lines += [f"<p>{escape(licence)}</p>" for licence in about["licences"]]
    lines += ["</div></section>", f"<section class='contents'><h2>{escape(about.get('contents', 'Contents'))}</h2>"]
    for caption, chapters in parts:
        if caption:
            lines.append(f"<p class='part'>{escape(caption)}</p>")
        for chapter in chapters:
            lines.append(f"<a href='{escape(chapter.uri)}'><span>{escape(chapter.title)}</span>"
                         f"<span class='leader'></span><span>{first_page[chapter.docname]}</span></a>")
    lines.append("</section></body></html>")
    return "\n".join(lines)


def _front_matter(cache: Path, about: dict, parts: list):
    """The title page and contents, printed (and kept, like the pages) with the page numbers the chapters get
    behind them; printed again if its own length moves them."""
    import pypdf

    cache.mkdir(exist_ok=True)
    chapters = [chapter for _caption, members in parts for chapter in members]
    length, used = 2, set()
    for _ in range(4):
        first_page, page = {}, length
        for chapter in chapters:
            first_page[chapter.docname] = page + 1
            page += len(chapter.reader.pages)
        html = front_matter_html(about, parts, first_page)
        path = cache / f"{hashlib.sha256((html + Path(__file__).read_text()).encode()).hexdigest()}.pdf"
        used.add(path)
        reader = None
        if path.is_file():
            try:
                reader = pypdf.PdfReader(path)
                len(reader.pages)
            except Exception:   # cut short by a build killed while writing it: print it again
                reader = None
        if reader is None:
            write_atomically(path, print_html(html))
            reader = pypdf.PdfReader(path)
        if len(reader.pages) == length:
            break
        length = len(reader.pages)
    for old in cache.glob("*.pdf"):
        if old not in used:
            old.unlink()
    return reader


def _name(name) -> str:
    """An element's id from the name of its destination in Chromium's print (a PDF name: "/id")."""
    return str(name)[1:] if str(name).startswith("/") else str(name)


LINK = "book-pdf:"   # a link between pages of the book, while they are being joined: book-pdf:<docname>#<id>


def _mark_links(reader, pages: dict, docname: str | None) -> None:
    """Turn each link of a print that points into the book (a file:// URL of one of its pages, or a named
    destination of the same page) into LINK form, and drop the print's named destinations (every page has its
    own, under the same names; pypdf would merge them into one list)."""
    from urllib.parse import unquote

    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            link = annotation.get_object()
            if link.get("/Subtype") != "/Link":
                continue
            action = link.get("/A")
            action = action.get_object() if action is not None else {}
            goal = None
            if action.get("/S") == "/URI":
                url, _, fragment = str(action.get("/URI")).partition("#")
                if url in pages:
                    goal = (pages[url], unquote(fragment))
            elif action.get("/S") == "/GoTo" and isinstance(action.get("/D"), str) and docname:
                goal = (docname, _name(action["/D"]))
            elif isinstance(link.get("/Dest"), str) and docname:
                goal = (docname, _name(link["/Dest"]))
            if goal:
                link.pop("/Dest", None)
                link[NameObject("/A")] = DictionaryObject({NameObject("/S"): NameObject("/URI"),
                                                           NameObject("/URI"): TextStringObject(LINK + "#".join(goal))})
    catalog = reader.trailer["/Root"]
    for key in ("/Names", "/Dests"):
        if key in catalog:
            del catalog[key]


def _number_pages(writer) -> None:
    """Page labels 1, 2, 3 ... (what a viewer shows), and the same number printed at the foot of every page but the
    title page."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    writer.set_page_label(0, len(writer.pages) - 1, style="/D", start=1)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))

    def stream(text):
        content = DecodedStreamObject()
        content.set_data(text.encode("latin-1"))
        return writer._add_object(content)

    save = stream("q\n")
    for index, page in enumerate(writer.pages):
        if index == 0:
            continue
        number = str(index + 1)
        resources = page.get("/Resources")
        if resources is None:
            page[NameObject("/Resources")] = resources = DictionaryObject()
        resources = resources.get_object()
        if "/Font" not in resources:
            resources[NameObject("/Font")] = DictionaryObject()
        resources["/Font"].get_object()[NameObject("/BookPageNumber")] = font
        x = float(page.mediabox.width) / 2 - len(number) * 0.556 * 9 / 2   # Helvetica's digits are 0.556 em wide
        contents = page.get("/Contents")
        present = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else \
            [page.raw_get("/Contents")]
        page[NameObject("/Contents")] = ArrayObject([save, *present, stream(
            f"Q\nq BT /BookPageNumber 9 Tf 0.3 g {x:.2f} 22.7 Td ({number}) Tj ET Q\n")])


def bound(front, chapters: list, parts: list):
    """The book: the front matter, then every chapter's print; links between pages and the bookmarks (part,
    chapter, sections) go to the page and place they name; every page numbered."""
    import pypdf
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NullObject

    writer = pypdf.PdfWriter()
    pages = {chapter.uri: chapter.docname for chapter in chapters}
    _mark_links(front, pages, None)
    writer.append(front, import_outline=False)
    for chapter in chapters:
        chapter.start = len(writer.pages)
        for name, destination in chapter.reader.named_destinations.items():
            try:
                page = chapter.reader.get_destination_page_number(destination)
            except Exception:   # a destination on no page
                continue
            top = destination.get("/Top")
            chapter.targets[_name(name)] = (chapter.start + page, None if top is None else float(top))
        _mark_links(chapter.reader, pages, chapter.docname)
        writer.append(chapter.reader, import_outline=False)
    by_name = {chapter.docname: chapter for chapter in chapters}

    def place(docname, fragment):
        chapter = by_name[docname]
        return chapter.targets.get(fragment) or (chapter.start, None)

    for page in writer.pages:
        for annotation in page.get("/Annots") or []:
            link = annotation.get_object()
            action = link.get("/A")
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            if not uri.startswith(LINK):
                continue
            docname, _, fragment = uri[len(LINK):].partition("#")
            index, top = place(docname, fragment)
            link[NameObject("/A")] = DictionaryObject({
                NameObject("/S"): NameObject("/GoTo"),
                NameObject("/D"): ArrayObject([writer.pages[index].indirect_reference, NameObject("/XYZ"), NullObject(),
                                               NullObject() if top is None else FloatObject(top), NullObject()])})
    for caption, members in parts:
        parent = writer.add_outline_item(caption, members[0].start) if caption else None
        for chapter in members:
            item, under = writer.add_outline_item(chapter.title, chapter.start, parent=parent), None
            for level, title, anchor in chapter.sections:
                if anchor not in chapter.targets:
                    continue
                index, top = chapter.targets[anchor]
                fit = pypdf.generic.Fit.xyz(top=top)
                added = writer.add_outline_item(title, index, parent=item if level == 1 or under is None else under,
                                                fit=fit)
                if level == 1:
                    under = added
    writer.page_mode = "/UseOutlines"
    _number_pages(writer)
    return writer


def _opens(pdf: Path) -> bool:
    import pypdf

    try:
        return len(pypdf.PdfReader(pdf).pages) > 0
    except Exception:   # missing, cut short or not a PDF at all
        return False


def _give_up(target: Path, pages: list[Path], reason: str) -> None:
    """A failed print is a warning, not a traceback; the build then fails (warnings are errors) and the next one
    prints again. The last whole PDF, if there is one, is kept: it opens, and a page linking to it is not broken.
    Without one, the link is taken out of the pages, which would otherwise point at nothing."""
    if _opens(target):
        logger.warning(f"whole-book PDF: {reason}; {target.name} is still the one the last build made",
                       type="book_pdf")
        return
    logger.warning(f"whole-book PDF: {reason}; there is no {target.name}, and no page links to one", type="book_pdf")
    target.unlink(missing_ok=True)
    link = re.compile(r'<li><a href="[^"]*' + re.escape(target.name) + r'"[^>]*>.*?</a>\s*</li>', re.S)
    for page in pages:
        if page.is_file():
            html = page.read_text(encoding="utf-8")
            write_atomically(page, link.sub("", html).encode("utf-8"))


def setup(app):
    app.add_config_value("book_pdf", "", "html", [str])
    app.connect("config-inited", _decide)
    # After sphinx-book-theme has made the page's header buttons (priority 501).
    app.connect("html-page-context", _link_from_page, priority=510)
    app.connect("build-finished", _print_book)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
