"""The lecture slides and the handout: built with the book, offline, every slide legible at projector sizes, with
speaker notes, made of the book's own equations and figures; their PDFs one slide per page and one card per page."""

import re
import sys
from pathlib import Path

import pypdf
import pytest

from browser import chromium, serve, visit
from test_book_pdf import derivation_explanations, prose_runs, squeeze

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import slide_sources  # noqa: E402
import slides  # noqa: E402

SCREENSHOTS = ROOT / "_build" / "screenshots" / "slides"
VIEWPORTS = [(1280, 720), (1024, 768)]
SLIDE_SOURCE = (ROOT / "slides" / "index.md").read_text()
SLIDE_COUNT = len(re.findall(r"^#{1,2} ", SLIDE_SOURCE, flags=re.M))
# Every box of the current slide must lie inside the slide (reveal.js scales the 1280 × 720 slide to the window).
OVERFLOW = """() => {
    const slide = Reveal.getCurrentSlide(), box = document.querySelector(".reveal .slides").getBoundingClientRect();
    const out = [];
    for (const el of slide.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || el.closest("aside.notes, .katex-mathml")) continue;   // notes; MathML for readers
        if (r.bottom > box.bottom + 1 || r.right > box.right + 1 || r.left < box.left - 1 || r.top < box.top - 1)
            out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} by ${Math.round(Math.max(
                r.bottom - box.bottom, r.right - box.right))} px`);
    }
    return out.slice(0, 5);
}"""


def test_the_deck_has_a_lecture_worth_of_slides():
    assert 15 <= SLIDE_COUNT <= 30, SLIDE_COUNT   # about 2 to 3 minutes a slide for 45 to 60 minutes
    for topic in ("setting", "Route 1", "Route 2", "Route 3", "mask", "ReLU at zero", "ladder", "catalogue", "card"):
        assert re.search(rf"^#{{1,2}} .*{topic}", SLIDE_SOURCE, flags=re.M | re.I), topic


@pytest.fixture(scope="module")
def deck(html_root):
    with serve(html_root) as base, chromium() as browser:
        yield browser, base


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_slide_opens_offline_and_fits(deck, viewport):
    browser, base = deck
    page, context, record = visit(browser, base + "slides/index.html", origin=base, viewport=viewport)
    try:
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total == SLIDE_COUNT
        problems = []
        for index in range(total):
            page.evaluate(f"Reveal.slide({index})")
            page.wait_for_function(f"Reveal.getIndices().h === {index}")
            page.evaluate("document.fonts.ready")
            where = f"slide {index + 1} at {viewport}"
            if overflow := page.evaluate(OVERFLOW):
                problems.append(f"{where}: {overflow}")
            math = page.evaluate("""() => ({errors: document.querySelectorAll('.katex-error').length,
                raw: /\\$\\$|\\\\frac|\\\\partial/.test(Reveal.getCurrentSlide().innerText)})""")
            if math["errors"] or math["raw"]:
                problems.append(f"{where}: math not rendered {math}")
            images = page.evaluate("[...Reveal.getCurrentSlide().querySelectorAll('img')].map(i => "
                                   "({ok: i.complete && i.naturalWidth > 0, alt: i.alt}))")
            problems += [f"{where}: image without real alt text or not loaded" for i in images
                         if not i["ok"] or len(i["alt"]) < 40]
            if viewport == VIEWPORTS[0]:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOTS / f"slide-{index + 1:02d}.png")
        assert not record.foreign_requests, record.foreign_requests
        assert not record.failed_requests, record.failed_requests
        assert not record.console_errors, record.console_errors
        assert not problems, problems
    finally:
        context.close()


def test_every_slide_has_speaker_notes(html_root):
    page = (html_root / "slides" / "index.html").read_text()
    sections = re.findall(r"<section[^>]*>(.*?)</section>", page, flags=re.S)
    assert len(sections) == SLIDE_COUNT
    assert all('<aside class="notes">' in section for section in sections)
    assert "notes.js" in page and not re.search(r'(src|href)="(https?:)?//', page)


def test_slides_include_the_books_equations_rather_than_copy_them():
    """No display math is typed into the slides' source: each comes from its chapter by label."""
    assert not re.search(r"^\$\$|\{derivation\}", SLIDE_SOURCE, flags=re.M)
    included = re.findall(r"\{slide-equation\} (\w+) (\S+)", SLIDE_SOURCE)
    assert len(included) >= 12
    for chapter, label in included:
        slide_sources.find_equation((ROOT / "chapters" / f"{chapter}.md").read_text(), label)
    with pytest.raises(slide_sources.SlideSourceError):
        slide_sources.find_equation((ROOT / "chapters" / "gradient_w.md").read_text(), "eq-no-such-label")
    assert len(re.findall(r"\{slide-figure\} \w+ \S+", SLIDE_SOURCE)) >= 4


def test_slides_pdf_has_one_page_per_slide(html_root):
    reader = pypdf.PdfReader(html_root / slides.SLIDES_PDF)
    assert len(reader.pages) == SLIDE_COUNT
    box = reader.pages[0].mediabox
    assert abs(float(box.width) / float(box.height) - 16 / 9) < 0.01


@pytest.mark.parametrize("name,paper", slides.HANDOUTS.items())
def test_handout_is_one_page_with_the_whole_card(html_root, name, paper):
    reader = pypdf.PdfReader(html_root / name)
    assert len(reader.pages) == 1
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in (reader.pages[0].mediabox.width, reader.pages[0].mediabox.height))
    assert (round(width_mm), round(height_mm)) == tuple(round(v) for v in slides.PAPER_MM[paper])
    text = squeeze(reader.pages[0].extract_text()) + squeeze(reader.pages[0].extract_text(extraction_mode="layout"))
    summary = (html_root / "chapters" / "summary.html").read_text()
    card = "".join(re.search(rf'<section id="{section}">.*?</section>', summary, flags=re.S).group(0)
                   for section in slides.HANDOUT_SECTIONS)
    wanted = prose_runs(f'<article class="bd-article">{card}</article>') + derivation_explanations(card)
    assert len(wanted) >= 15
    missing = [run for run in wanted if squeeze(run) not in text]
    assert not missing, missing
    for mistake in ("missing mask", "wrong transpose", "mean instead of sum", "caught by", "CC BY 4.0"):
        assert squeeze(mistake) in text, mistake


def test_a_slide_that_includes_a_missing_equation_fails_the_build_and_is_named(html_root):
    """The deck is built beside the book's pages (in the background while they are written); its failure is still
    the build's failure, with the deck's own message."""
    from conftest import build_book

    source = ROOT / "slides" / "index.md"
    broken = SLIDE_SOURCE.replace("{slide-equation} gradient_x eq-dX", "{slide-equation} gradient_x eq-dX-missing", 1)
    assert broken != SLIDE_SOURCE
    try:
        source.write_text(broken)
        code, log = build_book()
        assert code != 0, "a deck that cannot include its equation left the build successful"
        assert "the deck does not build cleanly" in log and "eq-dX-missing" in log, log[-3000:]
    finally:
        source.write_text(SLIDE_SOURCE)
    code, log = build_book()
    assert code == 0, log[-3000:]


def test_the_deck_and_handout_changed_by_hand_are_made_again(html_root):
    """A deck file deleted and a handout cut short after the build are made again by the next `book.py build`, not
    taken to be up to date (the deck would no longer run; the handout would no longer open)."""
    from conftest import build_book

    script = html_root / "slides" / "_static" / "revealjs" / "dist" / "reveal.js"
    handout = html_root / "handout-a4.pdf"
    assert script.exists() and handout.exists()
    text = pypdf.PdfReader(handout).pages[0].extract_text()
    script.unlink()
    handout.write_bytes(handout.read_bytes()[:1000])
    code, log = build_book()
    assert code == 0, log[-3000:]
    assert script.exists(), "the deck was left without reveal.js"
    reader = pypdf.PdfReader(handout)
    assert len(reader.pages) == 1 and reader.pages[0].extract_text() == text
