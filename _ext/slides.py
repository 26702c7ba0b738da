"""Teaching material built with the book: the lecture slides (slides/, a reveal.js deck), their PDF, and the one-page
handout of the summary card as A4 and Letter PDFs, all offline and all rebuilt only when what they show changed.

The slides are a Sphinx project of their own (slides/conf.py), built by sphinx-revealjs in a separate process once
the book's documents are read, because they include the chapters' equations and the executed notebooks' figures
(_ext/slide_sources.py); it runs while the book's pages are written. A warning there is a warning of the book's build.
The PDFs are printed by Chromium, as the whole-book PDF is (book_pdf.py), side by side in one browser: the slides one
slide per page at 1280 × 720, the handout from the summary chapter's page, reduced to the card (its results, the
mistakes and what catches each, the checks) and scaled to one page.

Each edition has its own: the Chinese edition's build (editions.py) builds the deck with -D language=zh_CN (its
prose from locales/zh_CN/LC_MESSAGES/slides.po, what it includes from the chapters' catalogues) into
_build/html/zh_CN/slides/, and prints the handout from the Chinese summary page, its title and footer in Chinese.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sphinx.locale import get_translation
from sphinx.util import logging

import book_pdf
import slide_sources

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)
logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
SLIDES_DIR = "slides"                 # the deck, in the site: slides/index.html
SLIDES_PDF = "slides/slides.pdf"
HANDOUTS = {"handout-a4.pdf": "A4", "handout-letter.pdf": "Letter"}
HANDOUT_PAGE = "chapters/summary"
# The card's sections of the summary chapter (ids from its headings): what the handout keeps.
HANDOUT_SECTIONS = ("the-results-on-one-card", "the-common-mistakes-and-what-catches-each", "where-each-check-belongs")
PAPER_MM = {"A4": (210, 297), "Letter": (215.9, 279.4)}
MARGIN_MM = 10
SLIDE_SECONDS = 300


def _digest(paths) -> str:
    sha = hashlib.sha256()
    for path in sorted(set(paths)):
        if path.is_file():
            sha.update(str(path).encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


INCLUSION = re.compile(r"^(?:`{3,}|:{3,})\{slide-(equation|figure)\}[ \t]+(\S+)[ \t]+(\S+)", re.M)


def _slide_digest(srcdir: Path, language: str = "en") -> str:
    """What the deck shows: its own files (and, translated, its catalogue), the extensions that build it, and the one
    equation or figure each slide includes, in the deck's language (not the whole chapter or notebook it comes from,
    nor its whole catalogue: an edit elsewhere in a chapter or its translation leaves the deck be)."""
    deck = [path for path in (srcdir / SLIDES_DIR).rglob("*") if "_figures" not in path.parts]
    if language != "en":
        deck.append(slide_sources.catalogue_of(language, slide_sources.DECK_DOMAIN))
    sha = hashlib.sha256(_digest([*deck, *HERE.glob("*.py"), *(HERE / "offline_book_assets").glob("*")]).encode())
    sha.update(language.encode())
    for source in sorted((srcdir / SLIDES_DIR).glob("*.md")):
        text = source.read_text()
        for kind, origin, name in INCLUSION.findall(text):
            try:
                if kind == "equation":
                    chapter = (slide_sources.CHAPTERS / f"{origin}.md").read_text()
                    shown = slide_sources.find_equation(chapter, name)
                    if language != "en":
                        shown = slide_sources.translated_explanations(shown, slide_sources.translations(
                            slide_sources.catalogue_of(language, f"chapters/{origin}")))
                    shown = slide_sources.plain_references(shown, slide_sources.deck_titles(text, language),
                                                           language).encode()
                else:
                    notebook = json.loads((slide_sources.EXECUTED / f"{origin}.ipynb").read_text())
                    png, alt = slide_sources.figure_png(notebook, name)
                    shown = png + alt.encode()
            except (OSError, ValueError, slide_sources.SlideSourceError) as error:
                shown = f"cannot include: {error}".encode()   # the deck's build reports it
            sha.update(f"{kind} {origin} {name}\n".encode() + shown)
    return sha.hexdigest()


def start_slides_build(srcdir: Path, outdir: Path, log: Path, language: str = "en",
                       title: str = "") -> subprocess.Popen:
    """Start building the deck into outdir/slides, in the edition's language (its title the edition's); its output
    goes to `log` (a file: a pipe could fill and stall it)."""
    doctrees = outdir.parent / ".doctrees-slides"
    translated = ["-D", f"language={language}", *(["-D", f"project={title}"] if title else [])]
    command = [sys.executable, "-m", "sphinx", "-b", "revealjs", "-W", "--keep-going", "-q", "-d", str(doctrees),
               *(translated if language != "en" else []), str(srcdir / SLIDES_DIR), str(outdir / SLIDES_DIR)]
    # The figures' slide renditions (larger type, _ext/slide_figures.py) are drawn first, in the same process chain.
    renditions = [sys.executable, str(HERE / "slide_figures.py"), str(srcdir), language]
    command = ["sh", "-c", '"$1" "$2" "$3" "$4" && shift 4 && exec "$@"', "sh", *renditions, *command]
    with open(log, "w") as output:
        return subprocess.Popen(command, cwd=srcdir, stdout=output, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def finish_slides_build(process: subprocess.Popen, log: Path) -> str:
    """Wait (a bounded time) for the deck's build; returns "" or its complaint."""
    try:
        code = process.wait(timeout=SLIDE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        return f"it ran longer than {SLIDE_SECONDS} s"
    return "" if code == 0 else log.read_text(errors="replace").strip()[-3000:]


async def print_slides(browser, index: Path, target: Path) -> int:
    """Print the deck with reveal.js's print view, one slide per 1280 × 720 page; returns the page count."""
    context = await book_pdf.offline_context(browser, viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    await page.goto(index.as_uri() + "?print-pdf", wait_until="load")
    await page.wait_for_selector(".reveal .pdf-page", state="attached", timeout=30_000)
    await page.evaluate("document.fonts.ready")
    data = await page.pdf(width="1280px", height="720px", print_background=True,
                          margin={"top": "0", "bottom": "0", "left": "0", "right": "0"})
    titles = await page.evaluate("[...document.querySelectorAll('.reveal .slides section')].map(s => "
                                 "s.querySelector(':scope > h1, :scope > h2')).filter(h => h)"
                                 ".map(h => h.textContent.trim())")
    # (without_dates drops an outline: the bookmarks go in after it)
    book_pdf.write_atomically(target, _with_bookmarks(book_pdf.without_dates(data), titles))
    count = await page.locator(".reveal .pdf-page").count()
    await context.close()
    return count


def _with_bookmarks(data: bytes, titles: list[str]) -> bytes:
    """The slides' PDF with one bookmark per slide (page), titled by the slide's heading."""
    import io

    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    for number, title in enumerate(titles[:len(writer.pages)]):
        writer.add_outline_item(title or f"Slide {number + 1}", number)
    writer.page_mode = "/UseOutlines"
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


HANDOUT_SCRIPT = """([sections, heading, footer]) => {
    const article = document.querySelector("article.bd-article");
    const kept = sections.map(id => document.getElementById(id));
    if (kept.some(s => !s)) return "missing section: " + sections.filter((id, i) => !kept[i]).join(", ");
    const title = document.createElement("h1");
    title.textContent = heading;
    const note = document.createElement("p");
    note.className = "handout-footer";
    note.textContent = footer;
    article.replaceChildren(title, ...kept, note);
    document.querySelectorAll("a[href]").forEach(a => a.removeAttribute("href"));
    document.documentElement.classList.add("book-handout");
    return "";
}"""
# Every glyph of the card at 12 CSS px or more, 9 pt on paper: text, tables and code at 12 px or more, and math at
# 12 / 0.7 px, so that its sub- and superscripts (KaTeX draws them at 0.7 of the formula's size) are 12 px too. The
# four results sit two to a row, and the spacing is tight, so that the card fits one page of A4 and of Letter.
HANDOUT_MIN_PX = 12
HANDOUT_STYLE = """
html.book-handout { font-size: 12.5px; }
html.book-handout .onlyprint, html.book-handout .eqno { display: none !important; }
html.book-handout .bd-article h1 { display: block !important; font-size: 1.6rem; margin: 0 0 0.3rem; }
html.book-handout .bd-article h2 { font-size: 1.2rem; margin: 0.5rem 0 0.2rem; }
html.book-handout .bd-article p, html.book-handout .bd-article li { margin: 0.15rem 0; }
html.book-handout .bd-article table { font-size: 12px; margin: 0.2rem 0; }
html.book-handout .bd-article table th, html.book-handout .bd-article table td { padding: 0.1rem 0.35rem; }
html.book-handout .bd-article pre, html.book-handout .bd-article pre * { font-size: 12px !important; }
html.book-handout .bd-article pre { padding: 0.3rem; margin: 0.2rem 0; line-height: 1.2; }
html.book-handout .bd-article code { font-size: 12px; }
html.book-handout .handout-footer { font-size: 12px; color: #444; margin-top: 0.4rem; }
html.book-handout .katex { font-size: 17.2px; }
html.book-handout .bd-article { line-height: 1.35; }
html.book-handout .derivation-why { font-size: 12px; line-height: 1.3; padding-left: 0.4em; }
html.book-handout .derivation-grid { padding-right: 0;
    grid-template-columns: max-content max-content 1fr max-content max-content 1fr; }
html.book-handout .derivation-step:nth-child(even) > .derivation-lhs { grid-column: 4; }
html.book-handout .derivation-step:nth-child(even) > .derivation-rhs { grid-column: 5; }
html.book-handout .derivation-step:nth-child(even) > .derivation-why { grid-column: 6; }
html.book-handout .derivation-lhs, html.book-handout .derivation-rhs { padding-top: 0.3em; padding-bottom: 0.3em; }
"""


# The smallest font size of any visible text of the card, and where it is (KaTeX's hidden MathML is not printed).
SMALLEST_TEXT_SCRIPT = """() => {
    let smallest = Infinity, where = "";
    const walker = document.createTreeWalker(document.querySelector("article.bd-article"), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode, element = text.parentElement;
        if (!text.textContent.replace(/[\\s\\u200b]/g, "") || element.closest(".katex-mathml")) continue;
        if (!element.getClientRects().length) continue;
        const size = parseFloat(getComputedStyle(element).fontSize);
        if (size < smallest) { smallest = size; where = text.textContent.trim().slice(0, 40); }
    }
    return [smallest, where];
}"""


async def print_handout(browser, page_file: Path, target: Path, paper: str, heading: str, footer: str) -> int:
    """Print the summary card on one page of this paper size; returns the pages the PDF has (1 unless it failed)."""
    import io

    import pypdf

    width_mm, height_mm = PAPER_MM[paper]
    width_px = (width_mm - 2 * MARGIN_MM) / 25.4 * 96
    height_px = (height_mm - 2 * MARGIN_MM) / 25.4 * 96
    context = await book_pdf.offline_context(browser, viewport={"width": round(width_px), "height": 1000},
                                             color_scheme="light")
    page = await context.new_page()
    await page.emulate_media(media="print", color_scheme="light")
    await page.goto(page_file.as_uri(), wait_until="load")
    await page.add_style_tag(content=HANDOUT_STYLE)
    problem = await page.evaluate(HANDOUT_SCRIPT, [list(HANDOUT_SECTIONS), heading, footer])
    if problem:
        raise RuntimeError(f"handout: {problem}")
    await page.evaluate("document.fonts.ready")
    smallest, where = await page.evaluate(SMALLEST_TEXT_SCRIPT)
    if smallest < HANDOUT_MIN_PX:
        raise RuntimeError(f"handout: text at {smallest:g} px ({where!r}) is below {HANDOUT_MIN_PX} px, 9 pt on paper")
    for scale in (1.15, 1.12, 1.09, 1.06, 1.03, 1.0):   # room to spare on the page: larger type, up to 15 %
        await page.set_viewport_size({"width": round(width_px / scale), "height": 1000})   # the width it prints at
        await page.evaluate("window.bookFitForPrint && window.bookFitForPrint()")
        height = await page.evaluate("document.querySelector('article.bd-article').getBoundingClientRect()"
                                     ".bottom + 8")
        if height * scale <= height_px:
            break
    else:   # never shrunk below 9 pt: the card must be shortened instead
        raise RuntimeError(f"handout: the card is {height:.0f} px tall at 9 pt, more than one {paper} page "
                           f"({height_px:.0f} px): shorten the summary's card")
    data = await page.pdf(format=paper, scale=scale, print_background=True,
                          margin={side: f"{MARGIN_MM}mm" for side in ("top", "bottom", "left", "right")})
    book_pdf.write_atomically(target, book_pdf.without_dates(data))
    await context.close()
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


# reveal.js's speaker view (the notes plugin, as vendored in the sphinx-revealjs wheel) fails axe: its layout <select>
# has no accessible name, its two slide previews (iframes) no title, the muted digits of its timer (opacity 0.3) are
# too faint to read, and its panel of notes scrolls but cannot be reached by keyboard. The deck's output holds the page
# up to three times: inlined as a JavaScript string in notes.js (what S opens), and in notes.esm.js and
# speaker-view.html if they are shipped. Each fix below must apply exactly once to each of these files that is there,
# or the build says which did not (a new reveal.js whose page changed: revisit them); a file already fixed is left be.
SPEAKER_VIEW_DIR = "_static/revealjs/plugin/notes"
SPEAKER_VIEW_FILES = ("speaker-view.html", "notes.js", "notes.esm.js")
SPEAKER_VIEW_FIXES = (
    ('<span class="speaker-layout-label"></span>',
     '<span class="speaker-layout-label" id="speaker-layout-label"></span>'),
    ('<select class="speaker-layout-dropdown"></select>',
     '<select class="speaker-layout-dropdown" aria-labelledby="speaker-layout-label"></select>'),
    (".speaker-controls-time span.mute {\n\t\t\t\t\topacity: 0.3;",
     ".speaker-controls-time span.mute {\n\t\t\t\t\topacity: 0.6;"),
    ("currentSlide.setAttribute( 'src', currentURL );",
     "currentSlide.setAttribute( 'title', 'Current slide' ); currentSlide.setAttribute( 'src', currentURL );"),
    ("upcomingSlide.setAttribute( 'src', upcomingURL );",
     "upcomingSlide.setAttribute( 'title', 'Upcoming slide' ); upcomingSlide.setAttribute( 'src', upcomingURL );"),
    ('<div id="speaker-controls">',   # it scrolls when the notes are long: reachable by keyboard, and named
     '<div id="speaker-controls" tabindex="0" role="region" aria-label="Timer and speaker notes">'),
)


def patch_speaker_view(deck: Path) -> str:
    """Apply SPEAKER_VIEW_FIXES to the deck's copies of the speaker view; returns "" or what did not apply."""
    problems, present = [], [name for name in SPEAKER_VIEW_FILES if (deck / SPEAKER_VIEW_DIR / name).is_file()]
    if "notes.js" not in present:
        return f"{SPEAKER_VIEW_DIR}/notes.js, the speaker view the deck opens, is missing"
    for name in present:
        path = deck / SPEAKER_VIEW_DIR / name
        text = original = path.read_text(encoding="utf-8")
        for old, new in SPEAKER_VIEW_FIXES:
            if name.endswith(".js"):   # inside a JavaScript string: quotes, tabs and newlines escaped
                old, new = json.dumps(old)[1:-1], json.dumps(new)[1:-1]
            if text.count(new) == 1:
                continue
            if text.count(old) != 1:
                problems.append(f"{name}: {old[:70]!r} is there {text.count(old)} times, not once")
                continue
            text = text.replace(old, new)
        if text != original:
            path.write_text(text, encoding="utf-8")
    return "; ".join(problems)


def _start_deck(app, env):
    """Build the deck in the background while Sphinx writes the pages (which keeps one core busy, not two); the
    chapters and executed notebooks the slides include are in place once every document is read."""
    app._book_deck = None
    if app.builder.format != "html" or not _has_teaching_material(app):
        return
    srcdir, outdir = Path(app.srcdir), Path(app.outdir)
    language = app.config.language or "en"
    digest = _slide_digest(srcdir, language)
    stamp = Path(app.doctreedir) / "slides.sha256"
    if stamp.exists() and stamp.read_text() == _deck_made_from(digest, outdir):
        return
    # A deck whose files were changed or deleted since it was built is built afresh (Sphinx would not restore them).
    shutil.rmtree(outdir / SLIDES_DIR, ignore_errors=True)
    log = Path(app.doctreedir) / "slides-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    title = app.config.html_title if language != "en" else ""   # the edition's title (editions.py)
    app._book_deck = (start_slides_build(srcdir, outdir, log, language, title), log, digest)


def _deck_made_from(digest: str, outdir: Path) -> str:
    """What the deck was built from, and its files as they were built (their sizes and times; not its PDF)."""
    deck = outdir / SLIDES_DIR
    files = sorted(path for path in deck.rglob("*") if path.is_file() and path != outdir / SLIDES_PDF)
    states = [f"{path.relative_to(deck)}:{path.stat().st_size}:{path.stat().st_mtime_ns}" for path in files]
    return digest + " " + hashlib.sha256("\n".join(states).encode()).hexdigest() if files else digest + " missing"


def _has_teaching_material(app) -> bool:
    # A book without the slides' project or the summary card (a scratch book in the tests) has none.
    return (Path(app.srcdir) / SLIDES_DIR / "conf.py").exists() and HANDOUT_PAGE in app.env.found_docs


def _build_teaching_material(app, exception):
    deck = getattr(app, "_book_deck", None)
    if exception is not None or app.builder.format != "html":
        if deck:
            deck[0].kill()
            deck[0].wait(timeout=10)
        return
    if not _has_teaching_material(app):
        return
    srcdir, outdir = Path(app.srcdir), Path(app.outdir)
    index = outdir / SLIDES_DIR / "index.html"
    if deck:
        process, log, digest = deck
        logger.info("slides: building the deck ...", nonl=True)
        problem = finish_slides_build(process, log)
        if problem:
            logger.warning(f"slides: the deck does not build cleanly:\n{problem}", type="slides")
            return
        if problem := patch_speaker_view(outdir / SLIDES_DIR):
            logger.warning(f"slides: the speaker view's accessibility fixes did not apply: {problem}", type="slides")
            return
        logger.info(" slides/index.html")
        (Path(app.doctreedir) / "slides.sha256").write_text(_deck_made_from(digest, outdir))
    if not app.config.book_pdf:   # no printer: book_pdf has said why
        return
    printing = {}   # what to print, side by side: the slides and each paper size of the handout
    slides_pdf = outdir / SLIDES_PDF
    stamp_pdf = Path(app.doctreedir) / "slides-pdf.sha256"
    pdf_digest = _digest([*(outdir / SLIDES_DIR).rglob("*.html"), *(outdir / SLIDES_DIR / "_static").rglob("*"),
                          *(outdir / SLIDES_DIR / "_images").glob("*"), Path(__file__)])
    if stamp_pdf.exists() and stamp_pdf.read_text() == book_pdf.made_from(pdf_digest, slides_pdf):
        logger.info(f"slides: {SLIDES_PDF} is up to date")
    else:
        printing[slides_pdf] = lambda browser: print_slides(browser, index, slides_pdf)
    page_file = outdir / app.builder.get_target_uri(HANDOUT_PAGE)
    stamp_handout = Path(app.doctreedir) / "handout.sha256"
    heading = _("{title}: the card").format(title=app.config.html_title)
    footer = _("{title}, {repository}. {author}; text and figures CC BY 4.0, code MIT.").format(
        title=app.config.html_title, repository=app.config.html_theme_options.get("repository_url", ""),
        author=app.config.author)
    # (with the heading's and footer's words, which are the edition's)
    handout_digest = hashlib.sha256((_digest([page_file, Path(__file__), *(outdir / name for name in book_pdf.LOOKS)])
                                     + heading + footer).encode()).hexdigest()
    targets = {outdir / name: paper for name, paper in HANDOUTS.items()}
    if stamp_handout.exists() and stamp_handout.read_text() == book_pdf.made_from(handout_digest, *targets):
        logger.info("handout: up to date")
    else:
        for target, paper in targets.items():
            printing[target] = lambda browser, target=target, paper=paper: print_handout(browser, page_file, target,
                                                                                         paper, heading, footer)
    if not printing:
        return
    try:
        pages = dict(zip(printing, book_pdf.print_all(list(printing.values()))))
    except Exception as error:   # Playwright's errors (a timeout, a crashed tab) say what went wrong
        logger.warning(f"slides and handout: printing failed: {error}", type="slides")
        return
    if slides_pdf in pages:
        stamp_pdf.write_text(book_pdf.made_from(pdf_digest, slides_pdf))
        logger.info(f"slides: printed {SLIDES_PDF}, {pages[slides_pdf]} slides, {slides_pdf.stat().st_size // 1024} kB")
    handouts = {target: count for target, count in pages.items() if target in targets}
    if handouts:
        for target, count in handouts.items():
            if count != 1:
                logger.warning(f"handout: {target.name} has {count} pages, not one", type="handout")
                return
        stamp_handout.write_text(book_pdf.made_from(handout_digest, *targets))
        logger.info("handout: printed " + ", ".join(f"{t.name} ({t.stat().st_size // 1024} kB)" for t in handouts))


def setup(app):
    app.connect("env-updated", _start_deck)
    # After the whole-book PDF (same event, default priority 500): the pages and executed notebooks are written.
    app.connect("build-finished", _build_teaching_material, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
