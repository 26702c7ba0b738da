"""Teaching material built with the book: the lecture slides (slides/, a reveal.js deck), their PDF, and the one-page
handout of the summary card as A4 and Letter PDFs, all offline and all rebuilt only when what they show changed.

The slides are a Sphinx project of their own (slides/conf.py), built by sphinx-revealjs in a separate process once
the book's documents are read, because they include the chapters' equations and the executed notebooks' figures
(_ext/slide_sources.py); it runs while the book's pages are written. A warning there is a warning of the book's build.
The PDFs are printed by Chromium, as the whole-book PDF is (book_pdf.py), side by side in one browser: the slides one
slide per page at 1280 × 720, the handout from the summary chapter's page, reduced to the card (its results, the
mistakes and what catches each, the checks) and scaled to one page.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sphinx.util import logging

import book_pdf
import slide_sources

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
SLIDES_DIR = "slides"                 # the deck, in the site: slides/index.html
SLIDES_PDF = "slides/slides.pdf"
HANDOUTS = {"handout-a4.pdf": "A4", "handout-letter.pdf": "Letter"}
HANDOUT_PAGE = "chapters/summary"
# The card's sections of the summary chapter (ids from its headings): what the handout keeps.
HANDOUT_SECTIONS = ("the-results-on-one-card", "the-common-mistakes-and-what-catches-each", "where-each-check-belongs")
PAPER_MM = {"A4": (210, 297), "Letter": (215.9, 279.4)}
MARGIN_MM = 12
SLIDE_SECONDS = 300


def _digest(paths) -> str:
    sha = hashlib.sha256()
    for path in sorted(set(paths)):
        if path.is_file():
            sha.update(str(path).encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


INCLUSION = re.compile(r"^(?:`{3,}|:{3,})\{slide-(equation|figure)\}[ \t]+(\S+)[ \t]+(\S+)", re.M)


def _slide_digest(srcdir: Path) -> str:
    """What the deck shows: its own files, the extensions that build it, and the one equation or figure each slide
    includes (not the whole chapter or notebook it comes from: an edit elsewhere in a chapter leaves the deck be)."""
    deck = [path for path in (srcdir / SLIDES_DIR).rglob("*") if "_figures" not in path.parts]
    sha = hashlib.sha256(_digest([*deck, *HERE.glob("*.py"), *(HERE / "offline_book_assets").glob("*")]).encode())
    for source in sorted((srcdir / SLIDES_DIR).glob("*.md")):
        for kind, origin, name in INCLUSION.findall(source.read_text()):
            try:
                if kind == "equation":
                    chapter = (slide_sources.CHAPTERS / f"{origin}.md").read_text()
                    shown = slide_sources.plain_references(slide_sources.find_equation(chapter, name)).encode()
                else:
                    notebook = json.loads((slide_sources.EXECUTED / f"{origin}.ipynb").read_text())
                    png, alt = slide_sources.figure_png(notebook, name)
                    shown = png + alt.encode()
            except (OSError, ValueError, slide_sources.SlideSourceError) as error:
                shown = f"cannot include: {error}".encode()   # the deck's build reports it
            sha.update(f"{kind} {origin} {name}\n".encode() + shown)
    return sha.hexdigest()


def start_slides_build(srcdir: Path, outdir: Path, log: Path) -> subprocess.Popen:
    """Start building the deck into outdir/slides; its output goes to `log` (a file: a pipe could fill and stall it)."""
    doctrees = outdir.parent / ".doctrees-slides"
    command = [sys.executable, "-m", "sphinx", "-b", "revealjs", "-W", "--keep-going", "-q", "-d", str(doctrees),
               str(srcdir / SLIDES_DIR), str(outdir / SLIDES_DIR)]
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
    target.write_bytes(book_pdf.without_dates(data))
    count = await page.locator(".reveal .pdf-page").count()
    await context.close()
    return count


HANDOUT_SCRIPT = """([sections, footer]) => {
    const article = document.querySelector("article.bd-article");
    const kept = sections.map(id => document.getElementById(id));
    if (kept.some(s => !s)) return "missing section: " + sections.filter((id, i) => !kept[i]).join(", ");
    const title = document.createElement("h1");
    title.textContent = "Gradients of one ReLU layer: the card";
    const note = document.createElement("p");
    note.className = "handout-footer";
    note.textContent = footer;
    article.replaceChildren(title, ...kept, note);
    document.querySelectorAll("a[href]").forEach(a => a.removeAttribute("href"));
    document.documentElement.classList.add("book-handout");
    return "";
}"""
HANDOUT_STYLE = """
html.book-handout { font-size: 13px; }
html.book-handout .onlyprint, html.book-handout .eqno { display: none !important; }
html.book-handout .bd-article h1 { font-size: 1.7rem; margin: 0 0 0.4rem; }
html.book-handout .bd-article h2 { font-size: 1.2rem; margin: 0.7rem 0 0.3rem; }
html.book-handout .bd-article p, html.book-handout .bd-article li { margin: 0.2rem 0; }
html.book-handout .bd-article table { font-size: 0.85rem; margin: 0.3rem 0; }
html.book-handout .bd-article pre { font-size: 0.8rem; padding: 0.4rem; margin: 0.3rem 0; }
html.book-handout .handout-footer { font-size: 0.75rem; color: #555; margin-top: 0.6rem; }
"""


async def print_handout(browser, page_file: Path, target: Path, paper: str, footer: str) -> int:
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
    problem = await page.evaluate(HANDOUT_SCRIPT, [list(HANDOUT_SECTIONS), footer])
    if problem:
        raise RuntimeError(f"handout: {problem}")
    await page.evaluate("document.fonts.ready")
    scale = 1.0
    for _ in range(12):   # lay the card out at the width it will print at; shrink until it fits
        await page.set_viewport_size({"width": round(width_px / scale), "height": 1000})
        await page.evaluate("window.bookFitForPrint && window.bookFitForPrint()")
        height = await page.evaluate("document.querySelector('article.bd-article').getBoundingClientRect()"
                                     ".bottom + 8")
        if height * scale <= height_px:
            break
        scale = max(0.1, min(scale - 0.02, height_px / height))
    data = await page.pdf(format=paper, scale=scale, print_background=True,
                          margin={side: f"{MARGIN_MM}mm" for side in ("top", "bottom", "left", "right")})
    target.write_bytes(book_pdf.without_dates(data))
    await context.close()
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def _start_deck(app, env):
    """Build the deck in the background while Sphinx writes the pages (which keeps one core busy, not two); the
    chapters and executed notebooks the slides include are in place once every document is read."""
    app._book_deck = None
    if app.builder.format != "html" or not _has_teaching_material(app):
        return
    srcdir, outdir = Path(app.srcdir), Path(app.outdir)
    digest = _slide_digest(srcdir)
    stamp = Path(app.doctreedir) / "slides.sha256"
    if stamp.exists() and stamp.read_text() == _deck_made_from(digest, outdir):
        return
    # A deck whose files were changed or deleted since it was built is built afresh (Sphinx would not restore them).
    shutil.rmtree(outdir / SLIDES_DIR, ignore_errors=True)
    log = Path(app.doctreedir) / "slides-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    app._book_deck = (start_slides_build(srcdir, outdir, log), log, digest)


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
    handout_digest = _digest([page_file, Path(__file__), *(outdir / name for name in book_pdf.LOOKS)])
    targets = {outdir / name: paper for name, paper in HANDOUTS.items()}
    if stamp_handout.exists() and stamp_handout.read_text() == book_pdf.made_from(handout_digest, *targets):
        logger.info("handout: up to date")
    else:
        footer = (f"{app.config.html_title}, {app.config.html_theme_options.get('repository_url', '')}. "
                  f"{app.config.author}; text and figures CC BY 4.0, code MIT.")
        for target, paper in targets.items():
            printing[target] = lambda browser, target=target, paper=paper: print_handout(browser, page_file, target,
                                                                                         paper, footer)
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
