"""The lecture slides and the handout: built with the book, offline, every slide legible at projector sizes, with
speaker notes, made of the book's own equations and figures; their PDFs one slide per page and one card per page.
Each edition has its own: the English in _build/html/, the Chinese in _build/html/zh_CN/ (its prose from
locales/zh_CN/LC_MESSAGES/slides.po and the chapters' catalogues, its equations the English deck's)."""

import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe

from browser import chromium, serve, visit
from test_book_pdf import _Explanations, _Prose, derivation_explanations, prose_runs, squeeze
from test_chinese_edition import CJK, _tex

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import editions  # noqa: E402
import slide_sources  # noqa: E402
import slides  # noqa: E402

# Each edition's folder in the site: its deck is <folder>slides/index.html, its handouts <folder>handout-*.pdf.
EDITIONS = {code: edition["folder"] for code, edition in editions.EDITIONS.items()}
TIMING_WORD = {"en": "Timing: ", "zh_CN": "时长："}   # how each edition's notes open (its catalogue's translation)
SCREENSHOTS = ROOT / "_build" / "screenshots" / "slides"
VIEWPORTS = [(1280, 720), (1024, 768)]
SLIDE_SOURCE = (ROOT / "slides" / "index.md").read_text()
SLIDE_COUNT = len(re.findall(r"^#{1,2} ", SLIDE_SOURCE, flags=re.M))


def _shots(edition: str) -> Path:
    return SCREENSHOTS if edition == "en" else SCREENSHOTS.with_name(f"slides-{edition}")


def _deck_words(edition: str) -> dict[str, str]:
    """The deck's own prose in the edition's language: {English: translation} from its catalogue ({} in English)."""
    if edition == "en":
        return {}
    return slide_sources.translations(slide_sources.catalogue_of(edition, slide_sources.DECK_DOMAIN))


def _sections(deck_html: str) -> list[str]:
    return re.findall(r"<section[^>]*>(.*?)</section>", deck_html, flags=re.S)
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


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_slide_opens_offline_and_fits(deck, viewport, edition):
    browser, base = deck
    page, context, record = visit(browser, base + EDITIONS[edition] + "slides/index.html", origin=base,
                                  viewport=viewport)
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
                _shots(edition).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=_shots(edition) / f"slide-{index + 1:02d}.png")
        assert not record.foreign_requests, record.foreign_requests
        assert not record.failed_requests, record.failed_requests
        assert not record.console_errors, record.console_errors
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_slide_has_speaker_notes(html_root, edition):
    page = (html_root / EDITIONS[edition] / "slides" / "index.html").read_text()
    sections = _sections(page)
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


@pytest.mark.parametrize("edition", EDITIONS)
def test_slides_pdf_has_one_page_per_slide(html_root, edition):
    reader = pypdf.PdfReader(html_root / EDITIONS[edition] / slides.SLIDES_PDF)
    assert len(reader.pages) == SLIDE_COUNT
    box = reader.pages[0].mediabox
    assert abs(float(box.width) / float(box.height) - 16 / 9) < 0.01


class _ChineseProse(_Prose):
    """The card's runs of Chinese text between formulas, of at least eight characters."""

    def _flush(self):
        text = " ".join("".join(self.run).split())
        if len(CJK.findall(text)) >= 8:
            self.runs.append(text)
        self.run = []


def _card_runs(card: str, edition: str) -> list[str]:
    """The card's prose and its derivations' explanations, as each edition writes them."""
    if edition == "en":
        return prose_runs(f'<article class="bd-article">{card}</article>') + derivation_explanations(card)
    prose, explanations = _ChineseProse(), _Explanations()
    prose.feed(f'<article class="bd-article">{card}</article>')
    explanations.feed(card)
    return prose.runs + [run.strip() for text in explanations.texts for run in "".join(text).split("\n")
                         if len(CJK.findall(run)) >= 4]


def _printed(text: str) -> str:
    """A pattern for `text` as read back from Chromium's PDF: its CJK font maps a glyph shared by an ideograph and a
    radical to the radical's code point (见 comes back as ⻅, U+2EC5), which NFKC does not undo for every radical."""
    return "".join(f"[{re.escape(c)}\u2e80-\u2eff]" if CJK.match(c) else re.escape(c) for c in text)


def _book_words(edition: str) -> dict[str, str]:
    """The book's interface words in the edition's language ({} in English), from _ext/locales/.../book.po."""
    path = ROOT / "_ext" / "locales" / edition / "LC_MESSAGES" / "book.po"
    return slide_sources.translations(path) if edition != "en" else {}


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("name,paper", slides.HANDOUTS.items())
def test_handout_is_one_page_with_the_whole_card(html_root, name, paper, edition):
    """Each edition's handout is the card of its own summary chapter, whole, on one page, at 9 pt or more."""
    site = html_root / EDITIONS[edition]
    reader = pypdf.PdfReader(site / name)
    assert len(reader.pages) == 1
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in (reader.pages[0].mediabox.width, reader.pages[0].mediabox.height))
    assert (round(width_mm), round(height_mm)) == tuple(round(v) for v in slides.PAPER_MM[paper])
    text = squeeze(reader.pages[0].extract_text()) + squeeze(reader.pages[0].extract_text(extraction_mode="layout"))
    summary = (site / "chapters" / "summary.html").read_text()
    card = "".join(re.search(rf'<section id="{section}">.*?</section>', summary, flags=re.S).group(0)
                   for section in slides.HANDOUT_SECTIONS)
    wanted = _card_runs(card, edition)
    assert len(wanted) >= 15
    missing = [run for run in wanted if not re.search(_printed(squeeze(run)), text)]
    assert not missing, missing
    summary_words = slide_sources.translations(slide_sources.catalogue_of(edition, "chapters/summary")) \
        if edition != "en" else {}
    title = editions.translated_title(edition) if edition != "en" else "Gradients of one ReLU layer"
    heading = (_book_words(edition)["{title}: the card"] if edition != "en" else "{title}: the card").format(title=title)
    footer = "{title}, {repository}. {author}; text and figures CC BY 4.0, code MIT."
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    book_words = _book_words(edition)   # the author too is written in the edition's language (_ext/theme_words.py)
    footer = book_words.get(footer, footer).format(title=title, repository=config["repository"]["url"],
                                                   author=book_words.get(config["author"], config["author"]))
    for words in ("missing mask", "wrong transpose", "mean instead of sum", "caught by"):
        assert re.search(_printed(squeeze(summary_words.get(words, words))), text), words
    for words in (heading, footer):
        assert re.search(_printed(squeeze(words)), text), words
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
    taken to be up to date (the deck would no longer run; the handout would no longer open), in each edition."""
    from conftest import build_book

    damaged = {}
    for folder in EDITIONS.values():
        script = html_root / folder / "slides" / "_static" / "revealjs" / "dist" / "reveal.js"
        handout = html_root / folder / "handout-a4.pdf"
        assert script.exists() and handout.exists()
        damaged[script, handout] = pypdf.PdfReader(handout).pages[0].extract_text()
        script.unlink()
        handout.write_bytes(handout.read_bytes()[:1000])
    code, log = build_book()
    assert code == 0, log[-3000:]
    for (script, handout), text in damaged.items():
        assert script.exists(), f"the deck was left without reveal.js: {script}"
        reader = pypdf.PdfReader(handout)
        assert len(reader.pages) == 1 and reader.pages[0].extract_text() == text, handout


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


# A Chinese explanation whose equation was dropped where the sentence needs it: it starts with the particle that tied
# the equation to its noun ("的第四行"), or ends with a word that wants one after it (a final 的 is a whole "是……的").
DANGLING_ZH = re.compile(r"^\s*的|(由|见|从|与|和|及|在|对)\s*$")


def test_included_chinese_explanations_are_the_chapters_and_name_the_equations_they_lean_on():
    """In the Chinese deck an included derivation explains each step with the chapter's own translation (settled in
    its catalogue), keeps every formula, and names a slide it leans on by its Chinese title."""
    titles = slide_sources.deck_titles(SLIDE_SOURCE, "zh_CN")
    problems = []
    for chapter, label in re.findall(r"\{slide-equation\} (\w+) (\S+)", SLIDE_SOURCE):
        english = slide_sources.find_equation((ROOT / "chapters" / f"{chapter}.md").read_text(), label)
        catalogue = slide_sources.translations(slide_sources.catalogue_of("zh_CN", f"chapters/{chapter}"))
        shown = slide_sources.plain_references(slide_sources.translated_explanations(english, catalogue), titles,
                                               "zh_CN")
        assert "{eq}" not in shown and "{doc}" not in shown and "{cite" not in shown, shown
        if "{derivation}" not in english:
            assert shown == slide_sources.plain_references(english), label   # a formula alone: nothing to translate
            continue
        from derivation import parse_steps
        steps_en = parse_steps("\n".join(l for l in english.splitlines()[1:-1] if not l.startswith(":")))
        steps_zh = parse_steps("\n".join(l for l in shown.splitlines()[1:-1] if not l.startswith(":")))
        assert [(s["lhs"], s["rhs"]) for s in steps_zh] == [(s["lhs"], s["rhs"]) for s in steps_en], label
        for english_step, step in zip(steps_en, steps_zh):
            if english_step["why"] and not CJK.search(step["why"]):
                problems.append(f"{label}: not translated: {step['why']!r}")
            if DANGLING_ZH.search(step["why"]):
                problems.append(f"{label}: {step['why']!r}")
    assert not problems, problems
    product_rule = slide_sources.plain_references(slide_sources.translated_explanations(
        slide_sources.find_equation((ROOT / "chapters" / "gradient_w.md").read_text(), "eq-product-rule"),
        slide_sources.translations(slide_sources.catalogue_of("zh_CN", "chapters/gradient_w"))), titles, "zh_CN")
    route_2 = next(n for n, (title, _) in enumerate(_slides_of(SLIDE_SOURCE), start=1) if title.startswith("Route 2"))
    title = _deck_words("zh_CN")["Route 2: tangents"]
    assert f"第 {route_2} 张幻灯片“{title}”的第四行" in product_rule, product_rule


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_built_decks_explanations_are_whole_sentences(html_root, edition):
    page = (html_root / EDITIONS[edition] / "slides" / "index.html").read_text()
    whys = [re.sub(r"<[^>]+>", "", why) for why in
            re.findall(r'<div class="derivation-why[^"]*">(.*?)</div>', page, flags=re.S)]
    assert len(whys) >= 20
    dangling_words = DANGLING if edition == "en" else DANGLING_ZH
    dangling = [why.strip() for why in whys if dangling_words.search(re.sub(r"\s+", " ", why).strip())]
    assert not dangling, dangling
    assert page.count(TIMING_WORD[edition]) == SLIDE_COUNT


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


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("viewport", AXE_VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_page_of_the_slides_passes_axe(deck, html_root, viewport, mode, edition):
    """Every HTML file the deck's build writes (the deck, every slide of it, and reveal.js's speaker view), with
    axe-core: no critical or serious violation, in light and dark mode, in each edition."""
    browser, base = deck
    folder = EDITIONS[edition]
    pages = sorted(path.relative_to(html_root).as_posix() for path in (html_root / folder / "slides").rglob("*.html"))
    assert f"{folder}slides/index.html" in pages, pages   # and reveal.js's speaker-view.html, if the deck ships it
    problems = []
    for path in pages:
        page, context, record = visit(browser, base + path, origin=base, color_scheme=mode, viewport=viewport)
        try:
            assert not record.failed_requests and not record.foreign_requests, (path, record.failed_requests)
            if path == f"{folder}slides/index.html":
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


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_speaker_view_that_S_opens_passes_axe(deck, mode, edition):
    """What a lecturer really sees: the speaker view that S opens from the deck (notes.js writes it into a new
    window, with the current and the next slide in frames), with its notes and timer, passes axe; in the Chinese
    deck the notes are Chinese."""
    browser, base = deck
    page, context, record = visit(browser, base + EDITIONS[edition] + "slides/index.html", origin=base,
                                  color_scheme=mode, viewport=(1280, 720))
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
        first_timing = re.search(r"^Timing: .*$", SLIDE_SOURCE, flags=re.M).group(0)
        assert _deck_words(edition).get(first_timing, first_timing) in speaker.inner_text(".speaker-controls-notes")
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


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_slide_is_legible_from_the_back_of_the_room(deck, viewport, edition):
    """At 1024 × 768 and 1280 × 720: every text of every slide at least 28 px on the screen, every figure's smallest
    label at least 18 px, nothing outside the slide, and the content filling 80 % of the slide's height or centred in
    it (a 16:9 deck on a 4:3 projector was scaled to 0.77: 14 px explanations, 7 px figure labels, the top half used)."""
    import json

    browser, base = deck
    renditions = json.loads((ROOT / "slides" / "_figures" / "renditions.json").read_text())
    page, context, record = visit(browser, base + EDITIONS[edition] + "slides/index.html", origin=base,
                                  viewport=viewport)
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
                _shots(edition).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=_shots(edition) / f"slide-{index + 1:02d}-1024x768.png")
        assert figures >= 4
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_slides_pdf_has_a_bookmark_per_slide_named_by_its_heading(html_root, edition):
    reader = pypdf.PdfReader(html_root / EDITIONS[edition] / slides.SLIDES_PDF)
    titles = [_deck_words(edition).get(title, title) for title, _ in _slides_of(SLIDE_SOURCE)]
    outline = reader.outline
    assert all(not isinstance(item, list) for item in outline), "the slides' bookmarks are one flat list"
    assert [item.title for item in outline] == titles
    assert [reader.get_destination_page_number(item) for item in outline] == list(range(len(titles)))


# --- The Chinese deck: its own prose in Chinese, the English deck's equations, a Chinese font. ---
# What may stay in Latin letters on a Chinese slide or in its notes, outside formulas and code: names (of people,
# libraries, functions, licences) and the notes' formulas in plain text ("df/dZ = G", "X^T G", "torch.rand").
LATIN_ALLOWED = {"ReLU", "PyTorch", "MSELoss", "autograd", "gradcheck", "Parr", "Howard", "CS231n", "Bolte", "Pauwels",
                 "Hadamard", "Frobenius", "Binder", "Colab", "dtype", "CC", "BY", "MIT", "df", "dZ", "dW", "dY", "mn",
                 "ab", "max", "torch", "rand"}


class _Words(HTMLParser):
    """The text of a slide, leaving out every formula (KaTeX) and code."""

    VOID = ("br", "img", "input", "meta", "link", "hr", "col")

    def __init__(self):
        super().__init__()
        self.depth, self.skipping, self.texts = 0, None, []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.depth += 1
        if self.skipping is None and ("katex" in (dict(attrs).get("class") or "").split() or tag in ("code", "pre")):
            self.skipping = self.depth

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.skipping == self.depth:
            self.skipping = None
        self.depth -= 1

    def handle_data(self, data):
        if self.skipping is None:
            self.texts.append(data)


def _slide_text(section: str) -> str:
    """A slide's words (title, text, notes), without its formulas and code."""
    parser = _Words()
    parser.feed(section)
    return " ".join(" ".join(parser.texts).split())


def test_the_chinese_deck_is_in_chinese_with_the_english_decks_equations(html_root):
    """Every slide of the Chinese deck, with its notes: Chinese words, no English prose left (only the names and
    plain-text formulas of LATIN_ALLOWED), and exactly the formulas of the same slide of the English deck, which
    are written once (slides.po translates the prose; the chapters' catalogues the included explanations)."""
    english = _sections((html_root / "slides" / "index.html").read_text())
    chinese = _sections((html_root / "zh_CN" / "slides" / "index.html").read_text())
    assert len(chinese) == len(english) == SLIDE_COUNT
    problems = []
    for number, (en, zh) in enumerate(zip(english, chinese), start=1):
        words = _slide_text(zh)
        latin = set(re.findall(r"[A-Za-z][A-Za-z0-9]+", words)) - LATIN_ALLOWED
        if latin or len(CJK.findall(words)) < 20:
            problems.append(f"slide {number}: English words {sorted(latin)[:8]} in {words[:120]!r}")
        if sorted(_tex(zh)) != sorted(_tex(en)):
            problems.append(f"slide {number}: formulas differ from the English slide's")
    assert not problems, "\n".join(problems)


def test_the_chinese_decks_timings_are_the_english_decks():
    """The Chinese notes give each slide's minutes and its place on the lecture's clock as the English notes do (a
    translation that changed a number would send the lecturer off the clock)."""
    words = _deck_words("zh_CN")
    timings = re.findall(r"^Timing: .*$", SLIDE_SOURCE, flags=re.M)
    assert len(timings) == SLIDE_COUNT
    for timing in timings:
        assert timing in words, f"untranslated: {timing!r}"
        assert re.findall(r"\d+", words[timing]) == re.findall(r"\d+", timing), (timing, words[timing])


def test_the_chinese_deck_is_drawn_and_printed_in_a_chinese_font(html_root, deck):
    """No boxes: Chromium draws a Chinese slide's title and text with a font that has the characters (Noto CJK here),
    and the Chinese slides' PDF and handouts carry Chinese text in an embedded CJK font."""
    browser, base = deck
    page, context, record = visit(browser, base + "zh_CN/slides/index.html#/1", origin=base, viewport=(1280, 720))
    try:
        page.evaluate("document.fonts.ready")
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        for selector in ("section.present h2", "section.present .derivation-why p"):
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            chinese = len(CJK.findall(page.inner_text(f".reveal {selector}")))
            drawn = sum(font["glyphCount"] for font in fonts if "CJK" in font["familyName"])
            assert chinese >= 2 and drawn >= chinese, (selector, chinese, fonts)
    finally:
        context.close()
    for name in (slides.SLIDES_PDF, *slides.HANDOUTS):
        reader = pypdf.PdfReader(html_root / "zh_CN" / name)
        text = "".join(page.extract_text() for page in reader.pages)
        assert len(CJK.findall(text)) > 300, (name, text[:300])
        fonts = set()   # Chromium embeds a Chinese font as Type 3: its name is in the descriptor's /FontFamily
        for pdf_page in reader.pages:
            for font in (pdf_page.get("/Resources", {}).get("/Font", {}) or {}).values():
                font = font.get_object()
                descriptor = font.get("/FontDescriptor")
                fonts.add(str(font.get("/BaseFont") or (descriptor.get_object().get("/FontFamily") if descriptor
                                                        else "")))
        assert any("CJK" in font for font in fonts), (name, fonts)


def test_a_no_op_rebuild_builds_neither_deck_nor_handout_again(html_root):
    """Sphinx run again on an unchanged book, in each edition (Jupyter Book for the English, editions.py for the
    Chinese): neither deck is built again nor its PDF or handout printed again."""
    import subprocess

    decks = {folder: html_root / folder / "slides" / "index.html" for folder in EDITIONS.values()}
    before = {folder: path.stat().st_mtime_ns for folder, path in decks.items()}
    python = ROOT / ".venv" / "bin" / "python"
    for command in ([ROOT / ".venv" / "bin" / "jupyter-book", "build", ROOT, "--warningiserror", "--nitpick",
                     "--keep-going"], [python, ROOT / "_ext" / "editions.py", "html"]):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        assert "slides: building the deck" not in log and "handout: up to date" in log, log[-2000:]
        assert f"slides: {slides.SLIDES_PDF} is up to date" in log, log[-2000:]
    assert before == {folder: path.stat().st_mtime_ns for folder, path in decks.items()}
