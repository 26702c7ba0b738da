"""Nothing sideways on a phone: at 390 px (a phone) and 800 px (a tablet), with every solution and dropdown open,
no display equation and no code block scrolls sideways or runs out of its column, no equation number sits on its
formula, a code line too long for the column wraps with its continuation indented (visibly not a new line), and
the copy button still copies the code exactly as written; and every figure of a notebook is shown large enough
that its smallest text is at least 12 px on a 390-px phone, and opens full size with one tap.

Run alone on a built site (no rebuild): `python tests/test_phone_layout.py _build/html`.
"""

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import chromium, serve, settle, track_requests  # noqa: E402

PHONE, TABLET, DESKTOP = (390, 844), (800, 1000), (1280, 900)
VIEWPORTS = {"phone": PHONE, "tablet": TABLET}

# Open every solution (togglebutton), every dropdown (<details>) and every toggled cell: what a reader can open must
# fit too.
OPEN_ALL = """() => {
    const hidden = [...document.querySelectorAll('button.toggle-button.toggle-button-hidden')];
    hidden.forEach(button => button.click());
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    return hidden.length;
}"""

# Every display equation (and each step of a derivation) that scrolls or runs out of the article's column, every
# equation number whose box meets the drawn formula's, and every code block that scrolls or runs out.
MEASURE = r"""() => {
    const article = document.querySelector('.bd-article') || document.body;
    const column = article.getBoundingClientRect();
    const visible = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true}) &&
                          el.getBoundingClientRect().width > 0;
    const name = el => {
        const owner = el.closest('[id]');
        const text = (el.querySelector('annotation') || el).textContent.replace(/\s+/g, ' ').trim();
        return (owner ? '#' + owner.id + ' ' : '') + [...text].slice(0, 70).join('');
    };
    const out = {displays: [], numbers: [], code: [], counted: {displays: 0, code: 0}};
    for (const box of document.querySelectorAll('.bd-article .katex-display, .bd-article .derivation-rhs')) {
        if (!visible(box)) continue;
        out.counted.displays++;
        const r = box.getBoundingClientRect();
        const over = box.scrollWidth - box.clientWidth;
        if (over > 1 || r.right > column.right + 1 || r.left < column.left - 1)
            out.displays.push(`${name(box)} (${over} px too wide)`);
    }
    // An equation number against the glyphs of its formula (KaTeX's .base boxes, or a derivation's cells).
    for (const eqno of document.querySelectorAll('.bd-article .eqno')) {
        if (!visible(eqno)) continue;
        const owner = eqno.parentElement;
        const n = eqno.getBoundingClientRect();
        const parts = owner.querySelectorAll('.katex-display .base, .derivation-lhs .base, .derivation-rhs .base');
        for (const part of parts) {
            const p = part.getBoundingClientRect();
            if (p.width === 0) continue;
            const clip = part.closest('.katex-display, .derivation-rhs, .derivation-lhs').getBoundingClientRect();
            const left = Math.max(p.left, clip.left), right = Math.min(p.right, clip.right);
            if (right - left > 0.5 && Math.min(right, n.right) - Math.max(left, n.left) > 0.5 &&
                Math.min(p.bottom, n.bottom) - Math.max(p.top, n.top) > 0.5) {
                out.numbers.push(`${eqno.textContent.replace('#', '').trim()} ${name(owner)}`);
                break;
            }
        }
    }
    for (const pre of document.querySelectorAll('.bd-article pre')) {
        if (!visible(pre)) continue;
        out.counted.code++;
        const r = pre.getBoundingClientRect();
        const over = pre.scrollWidth - pre.clientWidth;
        if (over > 1 || r.right > column.right + 1)
            out.code.push(`${name(pre)} (${over} px too wide)`);
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
        out.code.push('the page itself scrolls sideways');
    return out;
}"""

# Each wrapped code line: the left edge of its first line and of its continuation lines.
# Make one top-level and one indented code line of the page far longer than any column (a comment added at its end).
LENGTHEN = r"""() => {
    const lines = [...document.querySelectorAll('.bd-article pre .code-line')];
    const chosen = [lines.find(l => !l.classList.contains('code-indented') && l.textContent.trim()),
                    lines.find(l => l.classList.contains('code-indented'))].filter(l => l);
    for (const line of chosen) {
        const comment = document.createElement('span');
        comment.className = 'c1';
        comment.textContent = '   # ' + 'a long end-of-line comment that runs on '.repeat(8);
        line.appendChild(comment);
    }
    return chosen.length;
}"""

WRAPPED = r"""() => {
    const found = [];
    for (const line of document.querySelectorAll('.bd-article pre .code-line')) {
        // A line is one inline-block box however many visual lines it takes: its characters say where it wraps.
        if (line.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(line).lineHeight || 0)) continue;
        // The start of the first visual line: a range over the line's first character.
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        let first = null, firstLeft = null, contLeft = Infinity;
        for (let node; (node = walker.nextNode());) {
            for (let i = 0; i < node.length; i++) {
                if (/\s/.test(node.data[i])) continue;
                const range = document.createRange();
                range.setStart(node, i); range.setEnd(node, i + 1);
                const r = range.getBoundingClientRect();
                if (r.width === 0) continue;
                if (first === null) { first = r.top; firstLeft = r.left; }
                else if (r.top > first + 2) contLeft = Math.min(contLeft, r.left);
            }
        }
        if (first !== null && contLeft !== Infinity)
            found.push({text: line.textContent.slice(0, 60), first: firstLeft, continuation: contLeft});
    }
    return found;
}"""


# Each figure of a notebook page: its file, how wide it is drawn and how wide the PNG is, and where a tap takes you.
FIGURES = """() => [...document.querySelectorAll('.bd-article .cell_output img')].map(img => ({
    src: img.currentSrc, path: new URL(img.currentSrc).pathname, loaded: img.complete && img.naturalWidth > 0,
    shown: img.getBoundingClientRect().width, natural: img.naturalWidth,
    column: img.closest('.cell_output').getBoundingClientRect().width,
    link: img.closest('a') ? img.closest('a').href : null,
}))"""
PHONE_FIGURE_TEXT_PX = 12   # the smallest text of a figure, in CSS px, on a 390-px phone


def png_dpi(path: Path) -> float:
    """The dots per inch a PNG was saved at (matplotlib writes its pHYs chunk, in dots per metre)."""
    data = path.read_bytes()
    at = data.index(b"pHYs")
    return struct.unpack(">I", data[at + 4:at + 8])[0] * 0.0254


def figure_text(browser, base: str, html_root: Path, paths: list[str], viewport=PHONE, mode: str = "light"):
    """Every figure of the notebook pages: (page, file, smallest text in CSS px as shown, what a tap opens, ...).

    The smallest text a figure may use is relugrad.plotting.MIN_TEXT_PT (tests/test_figures.py checks that no
    notebook draws smaller): pt × dpi / 72 is its height in the PNG, and the page shows the PNG at shown/natural.
    """
    from relugrad.plotting import MIN_TEXT_PT

    found = []
    for path, page in visited(browser, base, paths, viewport, mode, is_mobile=True, has_touch=True):
        for figure in page.evaluate(FIGURES):
            assert figure["loaded"], f"{path}: {figure['src']} did not load"
            dpi = png_dpi(html_root / figure["path"].lstrip("/"))
            text_px = figure["shown"] / figure["natural"] * MIN_TEXT_PT * dpi / 72
            found.append({"page": path, **figure, "dpi": dpi, "text_px": round(text_px, 2)})
    return found


def visited(browser, base: str, paths: list[str], viewport, mode: str = "light", **options):
    """Each page in turn, in one tab at this viewport and colour scheme, loaded and settled: (path, page)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=mode,
                                  **options)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        in_flight = track_requests(page)
        for path in paths:
            response = page.goto(base + path, wait_until="load")
            assert response is not None and response.ok, f"{path} did not load"
            settle(page, in_flight, quiet_ms=200)
            yield path, page
    finally:
        context.close()


def pages(html_root: Path) -> list[str]:
    """The book's pages (chapters and notebooks), as a reader meets them."""
    found = []
    for path in sorted(html_root.rglob("*.html")):
        relative = path.relative_to(html_root).as_posix()
        if relative.startswith(("_static/", "_sources/", "_images/", "slides/", "reports/", "zh_CN/")) or relative in (
                "index.html", "genindex.html", "search.html"):
            continue
        found.append(relative)
    return found


def measure(browser, base: str, paths: list[str], viewport, mode: str = "light") -> dict:
    """What scrolls or overlaps on each page at this viewport, every solution and dropdown open."""
    found = {"displays": [], "numbers": [], "code": [], "counted": {"displays": 0, "code": 0}}
    for path, page in visited(browser, base, paths, viewport, mode):
        if page.evaluate(OPEN_ALL):
            page.wait_for_timeout(400)   # togglebutton's opening transition
        # book.js fits the formulas on load and on resize; fonts may have arrived since.
        page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(r)))")
        page.evaluate("window.dispatchEvent(new Event('resize'))")
        page.wait_for_timeout(100)
        result = page.evaluate(MEASURE)
        for key in ("displays", "numbers", "code"):
            found[key] += [f"{path}: {item}" for item in result[key]]
        for key in ("displays", "code"):
            found["counted"][key] += result["counted"][key]
    return found


@pytest.fixture(scope="module")
def site(html_root):
    with serve(html_root) as base, chromium() as browser:
        yield browser, base, pages(html_root)


@pytest.fixture(scope="module")
def measured(site):
    browser, base, paths = site
    return {size: measure(browser, base, paths, viewport) for size, viewport in VIEWPORTS.items()}


def displays_in(html_root: Path) -> int:
    """Display equations and derivation steps in the pages' HTML: each must be found, and visible, once opened."""
    return sum(text.count('class="katex-display') + text.count('class="derivation-rhs')
               for text in ((html_root / path).read_text() for path in pages(html_root)))


def test_figure_text_is_at_least_12_px_on_a_phone(site, html_root):
    """At 390 px (a phone), every figure of every notebook page is drawn so that its smallest text (MIN_TEXT_PT in
    the PNG) is at least 12 CSS px: a figure much wider than the column is shrunk, labels and all (a 5.6-in figure
    put its 11-pt labels at 9.2 px). It fits the column, and one tap on it opens the full-size image."""
    browser, base, paths = site
    figures = figure_text(browser, base, html_root, [p for p in paths if p.startswith("notebooks/")])
    assert len(figures) >= 15, f"only {len(figures)} figures found on the notebook pages"
    small = [f"{f['page']}: {f['src'].rsplit('/', 1)[-1]} {f['natural']} px drawn at {f['shown']:.0f} px: "
             f"text {f['text_px']:.1f} px" for f in figures if f["text_px"] < PHONE_FIGURE_TEXT_PX]
    assert not small, f"figure text below {PHONE_FIGURE_TEXT_PX} px at {PHONE}:\n" + "\n".join(small)
    wide = [f"{f['page']}: {f['src']}" for f in figures if f["shown"] > f["column"] + 1]
    assert not wide, "figures wider than the column:\n" + "\n".join(wide)
    unlinked = [f"{f['page']}: {f['src']}" for f in figures if f["link"] != f["src"]]
    assert not unlinked, "figures that do not open full size:\n" + "\n".join(unlinked)


@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_no_display_equation_scrolls(measured, size, html_root):
    found = measured[size]
    assert found["counted"]["displays"] == displays_in(html_root) > 200, "not every display was found visible"
    assert not found["displays"], (f"{len(found['displays'])} of {found['counted']['displays']} displays scroll "
                                   f"sideways at {VIEWPORTS[size]}:\n" + "\n".join(found["displays"]))


@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_no_equation_number_sits_on_its_formula(measured, size):
    found = measured[size]
    assert not found["numbers"], (f"{len(found['numbers'])} equation numbers overlap their formula at "
                                  f"{VIEWPORTS[size]}:\n" + "\n".join(found["numbers"]))


@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_no_code_block_scrolls(measured, size):
    found = measured[size]
    assert found["counted"]["code"] > 100, "the code blocks were not found"
    assert not found["code"], (f"{len(found['code'])} of {found['counted']['code']} code blocks scroll sideways "
                               f"at {VIEWPORTS[size]}:\n" + "\n".join(found["code"]))


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "tablet", "desktop"])
def test_dark_and_desktop_nothing_scrolls(site, size, mode):
    """One chapter and one notebook in both colour schemes and at desktop width as well."""
    browser, base, _ = site
    viewport = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}[size]
    found = measure(browser, base, ["chapters/gradient_x.html", "notebooks/02_verification_ladder.html"],
                    viewport, mode)
    problems = found["displays"] + found["numbers"] + found["code"]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_wrapped_code_line_is_visibly_a_continuation(site, size):
    """A code line longer than the column wraps, and its continuation starts to the right of where the line
    started (a hanging indent): an end-of-line comment does not read as the next statement."""
    browser, base, _ = site
    viewport = {"phone": PHONE, "desktop": DESKTOP}[size]
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page = context.new_page()
        response = page.goto(base + "notebooks/02_verification_ladder.html", wait_until="load")
        assert response is not None and response.ok
        page.evaluate("document.fonts.ready")
        # The book's code now fits these widths; a line made too long for any column, top-level and indented,
        # shows how one that does not fit would wrap.
        made = page.evaluate(LENGTHEN)
        assert made == 2, "the page's code lines are not marked up one element per line (code_lines.py)"
        wrapped = page.evaluate(WRAPPED)
    finally:
        context.close()
    assert len(wrapped) >= 2, "a line longer than the column did not wrap"
    flush = [w for w in wrapped if w["continuation"] <= w["first"] + 8]
    assert not flush, f"{len(flush)} wrapped lines continue at or left of their start: {flush[:5]}"


@pytest.mark.parametrize("path", ["notebooks/02_verification_ladder.html", "chapters/verification.html"])
def test_the_copy_button_copies_the_code_exactly(site, html_root, path):
    """Each code block's copy button puts on the clipboard exactly the code's text: no line markers, no doubled
    or lost newlines from the per-line markup."""
    browser, base, _ = site
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]},
                                  permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(base + path, wait_until="load")
        page.wait_for_function("document.querySelectorAll('button.copybtn').length > 0", timeout=15_000)
        blocks = page.evaluate("""() => [...document.querySelectorAll('div.highlight')]
            .filter(d => d.querySelector('button.copybtn')).map(d => d.querySelector('pre').id)""")
        assert blocks
        # The source of each block, as written: the page's own pre, read without the per-line markup.
        expected = page.evaluate("""() => [...document.querySelectorAll('div.highlight')]
            .filter(d => d.querySelector('button.copybtn')).map(d => {
                const pre = d.querySelector('pre').cloneNode(true);
                pre.querySelectorAll('.linenos, .gp, .go').forEach(n => n.remove());
                return pre.textContent; })""")
        for index in range(min(len(blocks), 6)):
            page.evaluate("(i) => navigator.clipboard.writeText('')", index)
            button = page.locator("div.highlight button.copybtn").nth(index)
            button.evaluate("b => b.click()")
            page.wait_for_timeout(150)
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.rstrip("\n") == expected[index].rstrip("\n"), (index, copied[:200], expected[index][:200])
            assert "\u21aa" not in copied
    finally:
        context.close()


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html").resolve()
    only = sys.argv[2:] or None
    with serve(root) as base, chromium() as browser:
        figures = figure_text(browser, base, root, [p for p in (only or pages(root)) if p.startswith("notebooks/")])
        for page_path in sorted({f["page"] for f in figures}):
            mine = [f for f in figures if f["page"] == page_path]
            print(f"== figures {page_path}: {len(mine)}, smallest text {min(f['text_px'] for f in mine):.1f} px "
                  f"(drawn {min(f['shown'] for f in mine):.0f} of {max(f['natural'] for f in mine)} px, column "
                  f"{mine[0]['column']:.0f} px)")
        for size, viewport in VIEWPORTS.items():
            found = measure(browser, base, only or pages(root), viewport)
            print(f"== {size} {viewport}: {len(found['displays'])} of {found['counted']['displays']} displays scroll, "
                  f"{len(found['numbers'])} numbers overlap, {len(found['code'])} of {found['counted']['code']} "
                  f"code blocks scroll")
            for key in ("displays", "numbers", "code"):
                for item in found[key]:
                    print(f"  {key}: {item}")
