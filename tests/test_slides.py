"""The lecture slides and the handout: built with the book, offline, every slide legible at projector sizes, with
speaker notes, made of the book's own equations and figures; their PDFs one slide per page and one card per page."""

import re
import shutil
import sys
from pathlib import Path

import pypdf
import pytest
from axe_playwright_python.sync_playwright import Axe

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
    sizes = printed_font_sizes(reader.pages[0])
    assert min(sizes) >= 9 - 0.01, f"{name}: text set in {min(sizes):.2f} pt: {sorted(sizes.items())[:5]}"


def printed_font_sizes(page) -> dict:
    """{size in pt: a piece of text set in it} for every visible piece of text of a PDF page (font size times the
    scale of the text and current transformation matrices, as a reader's eye sees it)."""
    sizes = {}

    def visit(text, current, matrix, font, size):
        if text.strip():
            scale = (matrix[0] ** 2 + matrix[1] ** 2) ** 0.5 * (current[0] ** 2 + current[1] ** 2) ** 0.5
            sizes.setdefault(round(size * scale, 2), text.strip()[:20])
    page.extract_text(visitor_text=visit)
    return sizes


def test_a_slide_that_includes_a_missing_equation_fails_the_build_and_is_named(html_root, tmp_path):
    """The deck is built beside the book's pages (in the background while they are written); its failure is still
    the build's failure, with the deck's own message. The slides are broken in a copy of the book (with this
    session's build, so that no notebook runs again): a test stopped half-way leaves this checkout's slides whole."""
    from scratch_book import build

    project = tmp_path / "book"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", ".pytest_cache",
                                                                 ".hypothesis", "screenshots", ".build-test.log"))
    source = project / "slides" / "index.md"
    broken = SLIDE_SOURCE.replace("{slide-equation} gradient_x eq-dX", "{slide-equation} gradient_x eq-dX-missing", 1)
    assert broken != SLIDE_SOURCE
    source.write_text(broken)
    code, log = build(project)
    assert code != 0, "a deck that cannot include its equation left the build successful"
    assert "the deck does not build cleanly" in log and "eq-dX-missing" in log, log[-3000:]
    source.write_text(SLIDE_SOURCE)
    code, log = build(project)
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


TEACHING = (ROOT / "chapters" / "teaching.md").read_text()
TIMING = re.compile(r"^Timing: (\d+) minutes? \(from (\d+):(\d\d) to (\d+):(\d\d)\)\.$")


def _slides_of(source: str) -> list[tuple[str, str]]:
    """(title, MyST source) of each slide of the deck."""
    parts = re.split(r"^(#{1,2} .*)$", source, flags=re.M)
    return [(parts[i].lstrip("# ").strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def test_every_slides_notes_give_its_timing_and_they_add_up_to_the_lecture():
    """The teaching page promises the timing of each slide in the speaker notes, for a lecture of stated length: every
    slide's notes open with its minutes and its place on the lecture's clock, and they add up to that length."""
    lecture = int(re.search(r"\*\*Lecture \(about (\d+) minutes\)", TEACHING).group(1))
    assert re.search(r"speaker notes[^.]{0,30} timing", TEACHING)   # the promise this test holds the deck to
    slides_ = _slides_of(SLIDE_SOURCE)
    assert len(slides_) == SLIDE_COUNT
    clock, problems = 0, []
    for number, (title, body) in enumerate(slides_, start=1):
        notes = re.findall(r"^```\{revealjs-notes\}\n(.*?)^```", body, flags=re.M | re.S)
        first = notes[0].splitlines()[0] if notes else ""
        timing = TIMING.match(first)
        if not timing:
            problems.append(f"slide {number} ({title}): its notes do not open with its timing: {first!r}")
            continue
        minutes, start, end = int(timing[1]), int(timing[2]) * 60 + int(timing[3]), int(timing[4]) * 60 + int(timing[5])
        if not (minutes >= 1 and start == clock and end == start + minutes):
            problems.append(f"slide {number} ({title}): {first!r} does not follow on from {clock} minutes")
        clock = start + minutes
    assert not problems, problems
    assert clock == lecture, f"the slides' timings add up to {clock} minutes; the teaching page says {lecture}"


DANGLING = re.compile(r"\b(of|by|in|from|with|to|see|as in|the|and)\s*$")


def test_included_explanations_name_the_equations_they_lean_on():
    """A cross-reference that a sentence needs ("the fourth line of (eq)") is named on the slide (the slide that
    shows the equation), never dropped mid-sentence; an aside in parentheses may go."""
    titles = slide_sources.deck_titles(SLIDE_SOURCE)
    problems = []
    for chapter, label in re.findall(r"\{slide-equation\} (\w+) (\S+)", SLIDE_SOURCE):
        shown = slide_sources.plain_references(
            slide_sources.find_equation((ROOT / "chapters" / f"{chapter}.md").read_text(), label), titles)
        assert "{eq}" not in shown and "{doc}" not in shown and "{cite" not in shown, shown
        for line in shown.splitlines():
            why = line.split("&&", 1)[1] if "&&" in line else line
            if DANGLING.search(why.strip()):
                problems.append(f"{label}: {why.strip()!r}")
    assert not problems, problems
    product_rule = slide_sources.plain_references(
        slide_sources.find_equation((ROOT / "chapters" / "gradient_w.md").read_text(), "eq-product-rule"), titles)
    route_2 = next(n for n, (title, _) in enumerate(_slides_of(SLIDE_SOURCE), start=1) if title.startswith("Route 2"))
    assert f"the fourth line of slide {route_2}, *Route 2: tangents*" in product_rule, product_rule


def test_the_built_decks_explanations_are_whole_sentences(html_root):
    page = (html_root / "slides" / "index.html").read_text()
    whys = [re.sub(r"<[^>]+>", "", why) for why in
            re.findall(r'<div class="derivation-why[^"]*">(.*?)</div>', page, flags=re.S)]
    assert len(whys) >= 20
    dangling = [why.strip() for why in whys if DANGLING.search(re.sub(r"\s+", " ", why).strip())]
    assert not dangling, dangling
    assert page.count("Timing: ") == SLIDE_COUNT


def test_the_speaker_view_patch_applies_once_and_says_when_it_cannot(tmp_path):
    """The speaker view's accessibility fixes are a build-time patch of the files the sphinx-revealjs wheel ships
    (slides.SPEAKER_VIEW_FIXES): each applies exactly once per file, a second run changes nothing, and a reveal.js
    whose page differs is reported rather than silently left unfixed."""
    import sphinx_revealjs

    shipped = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs" / "plugin" / "notes"
    folder = tmp_path / slides.SPEAKER_VIEW_DIR
    folder.mkdir(parents=True)
    for name in slides.SPEAKER_VIEW_FILES:
        (folder / name).write_bytes((shipped / name).read_bytes())
    assert slides.patch_speaker_view(tmp_path) == ""
    patched = {name: (folder / name).read_text() for name in slides.SPEAKER_VIEW_FILES}
    for name, text in patched.items():
        assert text != (shipped / name).read_text()
        assert "aria-labelledby" in text and "'title', 'Current slide'" in text and "'title', 'Upcoming slide'" in text
    assert slides.patch_speaker_view(tmp_path) == ""
    assert patched == {name: (folder / name).read_text() for name in slides.SPEAKER_VIEW_FILES}
    for name in slides.SPEAKER_VIEW_FILES:
        (folder / name).write_bytes((shipped / name).read_bytes().replace(b"speaker-layout-dropdown", b"layout-menu"))
    problem = slides.patch_speaker_view(tmp_path)
    assert all(name in problem for name in slides.SPEAKER_VIEW_FILES) and "not once" in problem, problem
    (folder / "notes.js").write_bytes((shipped / "notes.js").read_bytes())   # only what the deck loads is shipped
    for name in slides.SPEAKER_VIEW_FILES[:1] + slides.SPEAKER_VIEW_FILES[2:]:
        (folder / name).unlink()
    assert slides.patch_speaker_view(tmp_path) == "" and (folder / "notes.js").read_text() == patched["notes.js"]
    (folder / "notes.js").unlink()
    assert "notes.js" in slides.patch_speaker_view(tmp_path)


AXE_VIEWPORTS = [(390, 844), (800, 600), (1280, 720)]


def _serious(page) -> list:
    violations = Axe().run(page).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("viewport", AXE_VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_page_of_the_slides_passes_axe(deck, html_root, viewport, mode):
    """Every HTML file the deck's build writes (the deck, every slide of it, and reveal.js's speaker view), with
    axe-core: no critical or serious violation, in light and dark mode."""
    browser, base = deck
    pages = sorted(path.relative_to(html_root).as_posix() for path in (html_root / "slides").rglob("*.html"))
    assert "slides/index.html" in pages, pages   # and reveal.js's speaker-view.html, if the deck ships it
    problems = []
    for path in pages:
        page, context, record = visit(browser, base + path, origin=base, color_scheme=mode, viewport=viewport)
        try:
            assert not record.failed_requests and not record.foreign_requests, (path, record.failed_requests)
            if path == "slides/index.html":
                for index in range(page.evaluate("Reveal.getTotalSlides()")):
                    page.evaluate(f"Reveal.slide({index})")
                    page.wait_for_function(f"Reveal.getIndices().h === {index}")
                    if serious := _serious(page):
                        problems.append(f"{path} slide {index + 1}: {serious}")
            elif serious := _serious(page):
                problems.append(f"{path}: {serious}")
        finally:
            context.close()
    assert not problems, f"{viewport} {mode}: {problems}"


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_speaker_view_that_S_opens_passes_axe(deck, mode):
    """What a lecturer really sees: the speaker view that S opens from the deck (notes.js writes it into a new
    window, with the current and the next slide in frames), with its notes and timer, passes axe."""
    browser, base = deck
    page, context, record = visit(browser, base + "slides/index.html", origin=base, color_scheme=mode,
                                  viewport=(1280, 720))
    try:
        with context.expect_page(timeout=15_000) as opened:
            page.keyboard.press("s")
        speaker = opened.value
        speaker.wait_for_load_state("load", timeout=15_000)
        speaker.wait_for_function("document.querySelectorAll('iframe').length === 2 && "
                                  "document.querySelector('.speaker-controls-notes .value').textContent.length > 0",
                                  timeout=15_000)
        serious = _serious(speaker)
        assert not serious, f"speaker view ({mode}): {serious}"
        assert "Timing: 1 minute" in speaker.inner_text(".speaker-controls-notes")
        assert not record.console_errors, record.console_errors
    finally:
        context.close()


# --- Legible on a projector (issue 17): measured on every slide at 1024 × 768 (4:3) and 1280 × 720 (16:9). ---
BODY_PX, FIGURE_PX = 28, 18
# Every text of the current slide as drawn on the screen: the computed font size of the element that holds each text
# node, times reveal.js's scale (1 with this deck, measured anyway). Inside KaTeX the size of the formula's own box
# (.katex) is measured, not its sub- and superscripts, which are smaller by design in any formula. Each figure's
# smallest text is its rendition's smallest text in PNG pixels (slides/_figures/renditions.json, written by
# _ext/slide_figures.py from the fonts matplotlib drew) times the size the image is shown at over its natural size.
LEGIBILITY = """(renditions) => {
    const slide = Reveal.getCurrentSlide(), scale = Reveal.getScale();
    const box = document.querySelector(".reveal .slides").getBoundingClientRect();
    const texts = [], figures = [];
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        let el = node.parentElement;
        if (!node.textContent.trim() || el.closest("aside.notes, .katex-mathml")) continue;
        if (el.closest(".katex")) el = el.closest(".katex");
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
        texts.push({px: parseFloat(getComputedStyle(el).fontSize) * scale, text: node.textContent.trim().slice(0, 40)});
    }
    for (const img of slide.querySelectorAll("img")) {
        const r = img.getBoundingClientRect(), name = img.src.split("/").pop().replace(/\\.png$/, "");
        const known = renditions[name];
        // object-fit: contain: the picture is drawn at the smaller of the two ratios
        const shown = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
        figures.push({name, px: known ? known.min_text_px * shown : 0});
    }
    // What the slide's content covers vertically (every visible box), against the slide's own box.
    let top = Infinity, bottom = -Infinity;
    for (const el of slide.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || el.closest("aside.notes, .katex-mathml")) continue;
        top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom);
    }
    return {texts, figures, top: top - box.top, bottom: box.bottom - bottom, height: box.height,
            window: [innerWidth, innerHeight]};
}"""


def _legibility_problems(measure: dict, where: str) -> list[str]:
    problems = []
    small = [t for t in measure["texts"] if t["px"] < BODY_PX - 0.01]
    if small:
        problems.append(f"{where}: text below {BODY_PX} px: " + "; ".join(f"{t['px']:.1f} px {t['text']!r}"
                                                                         for t in small[:3]))
    problems += [f"{where}: figure {f['name']} has text of {f['px']:.1f} px, below {FIGURE_PX}"
                 for f in measure["figures"] if f["px"] < FIGURE_PX]
    top, bottom, height = measure["top"], measure["bottom"], measure["height"]
    used = (height - top - bottom) / height
    centred = abs(top - bottom) <= 0.06 * height
    if used < 0.8 and not centred:
        problems.append(f"{where}: content uses {used:.0%} of the slide's height and is not centred "
                        f"({top:.0f} px above, {bottom:.0f} px below)")
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_slide_is_legible_from_the_back_of_the_room(deck, viewport):
    """At 1024 × 768 and 1280 × 720: every text of every slide at least 28 px on the screen, every figure's smallest
    label at least 18 px, nothing outside the slide, and the content filling 80 % of the slide's height or centred in
    it (a 16:9 deck on a 4:3 projector was scaled to 0.77: 14 px explanations, 7 px figure labels, the top half used)."""
    import json

    browser, base = deck
    renditions = json.loads((ROOT / "slides" / "_figures" / "renditions.json").read_text())
    page, context, record = visit(browser, base + "slides/index.html", origin=base, viewport=viewport)
    try:
        problems, figures = [], 0
        for index in range(page.evaluate("Reveal.getTotalSlides()")):
            page.evaluate(f"Reveal.slide({index})")
            page.wait_for_function(f"Reveal.getIndices().h === {index}")
            page.evaluate("document.fonts.ready")
            where = f"slide {index + 1} at {viewport[0]}×{viewport[1]}"
            measure = page.evaluate(LEGIBILITY, renditions)
            assert measure["window"] == list(viewport) and measure["texts"], measure
            figures += len(measure["figures"])
            problems += _legibility_problems(measure, where)
            if overflow := page.evaluate(OVERFLOW):
                problems.append(f"{where}: outside the slide: {overflow}")
            if viewport == (1024, 768):
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOTS / f"slide-{index + 1:02d}-1024x768.png")
        assert figures >= 4
        assert not problems, problems
    finally:
        context.close()


def test_slides_pdf_has_a_bookmark_per_slide_named_by_its_heading(html_root):
    reader = pypdf.PdfReader(html_root / slides.SLIDES_PDF)
    titles = [title for title, _ in _slides_of(SLIDE_SOURCE)]
    outline = reader.outline
    assert all(not isinstance(item, list) for item in outline), "the slides' bookmarks are one flat list"
    assert [item.title for item in outline] == titles
    assert [reader.get_destination_page_number(item) for item in outline] == list(range(len(titles)))
