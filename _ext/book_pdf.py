"""The whole book as one PDF, printed offline from the built site by Chromium and linked from every page.

Each page of the table of contents is printed by Debian's Chromium (through Playwright) with the site's own print
style, and the pages are joined, with one bookmark per chapter, by pypdf. No LaTeX and no network: a page that asks
for another host is refused. A page is printed again only when it, or what its print reads, has changed. Where
Chromium (or Playwright, or pypdf) is missing, the build says so, and no page links to a PDF that does not exist.
"""

import hashlib
import importlib.util
import io
import os
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

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


def printer_missing() -> str:
    """Why the PDF cannot be printed on this machine ("" if it can)."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (install it: apt-get install chromium, or set BOOK_CHROMIUM)"
    for module in ("playwright", "pypdf"):   # looked up, not imported: importing Playwright costs a no-op build 0.3 s
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -r requirements.txt)"
    return ""


def _decide(app, config):
    # A config value (rebuild "html"): when it changes, every page is written again, with or without the link.
    reason = printer_missing()
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
                "text": "book .pdf",
                "tooltip": "Download the whole book as one PDF",
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
               Path(__file__), HERE / "offline_book_assets" / "book.js"]
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
    sources give the same file (what a PDF's content depends on is the sources, not the clock)."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = pypdf.PdfWriter(clone_from=reader)
    info = {key: value for key, value in (reader.metadata or {}).items() if key not in ("/CreationDate", "/ModDate")}
    writer.metadata = None
    writer.add_metadata(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PREPARE_FOR_PRINT = """async () => {
    await document.fonts.ready;
    // Links into the site would point at this machine's files: keep their text, drop the link.
    document.querySelectorAll("a[href]").forEach(a => {
        if (a.protocol === "file:") a.removeAttribute("href");
    });
    if (window.bookSolutionsToEnd) window.bookSolutionsToEnd();
    if (window.bookFitForPrint) window.bookFitForPrint();
}"""
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


def print_pages(urls: list[str], tabs: int = TABS) -> list[bytes]:
    """Print each page (a file:// URL) with the site's print style; every request to another host is refused."""
    import asyncio

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
                await page.evaluate(PREPARE_FOR_PRINT)
                printed[index] = await page.pdf(**PAPER, print_background=True, prefer_css_page_size=False)

        await asyncio.gather(*(tab() for _ in range(max(1, min(tabs, len(urls))))))
        return printed

    return print_all([print_book])[0]


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
    digest = hashlib.sha256("".join(keys).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == made_from(digest, target):
        logger.info(f"whole-book PDF: {target.name} is up to date")
        return
    import pypdf

    # Each page's print is kept, under its key, from one build to the next: a change to one chapter reprints that
    # chapter only (printing all of them took about 20 s).
    cache = Path(app.doctreedir) / "book-pdf"
    cache.mkdir(exist_ok=True)
    missing = [(page, key) for page, key in zip(pages, keys) if not (cache / f"{key}.pdf").is_file()]
    if missing:
        logger.info(f"whole-book PDF: printing {len(missing)} of {len(pages)} pages with {CHROMIUM} ...", nonl=True)
        try:
            printed = print_pages([page.as_uri() for page, _ in missing])
        except Exception as error:   # Playwright's errors (a timeout, a crashed tab) say what went wrong
            logger.warning(f"whole-book PDF: printing failed: {error}", type="book_pdf")
            return
        for (_, key), pdf in zip(missing, printed):
            (cache / f"{key}.pdf").write_bytes(pdf)
    for old in cache.glob("*.pdf"):
        if old.stem not in keys:
            old.unlink()
    writer = pypdf.PdfWriter()
    for docname, key in zip(docnames, keys):
        writer.append(pypdf.PdfReader(cache / f"{key}.pdf"), outline_item=app.env.titles[docname].astext())
    writer.add_metadata({"/Title": app.config.html_title or app.config.project, "/Author": app.config.author})
    with open(target, "wb") as file:
        writer.write(file)
    stamp.write_text(made_from(digest, target))
    logger.info(f" {target.name}, {len(writer.pages)} pages, {target.stat().st_size // 1024} kB")


def setup(app):
    app.add_config_value("book_pdf", "", "html", [str])
    app.connect("config-inited", _decide)
    # After sphinx-book-theme has made the page's header buttons (priority 501).
    app.connect("html-page-context", _link_from_page, priority=510)
    app.connect("build-finished", _print_book)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
