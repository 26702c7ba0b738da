"""Readable on any screen: at phone, tablet and desktop sizes, in light and dark mode, nothing in the article is cut
or spills past its column, the navigation opens and closes by mouse, touch and keyboard, every control shows where
the keyboard focus is, figures are legible on a phone, and search snippets are plain text."""

import re
import struct
from pathlib import Path

import pytest
import yaml

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser import chromium, serve, settle, track_requests, visit

ROOT = Path(__file__).resolve().parent.parent
PHONE, TABLET, DESKTOP = (390, 844), (800, 1000), (1280, 900)
VIEWPORTS = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}
WIDE = 992   # from this width on the primary sidebar sits beside the article (the theme's breakpoint)
CHAPTER = "chapters/gradient_w.html"


def book_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [f"{name}.html" for name in [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]]


@pytest.fixture(scope="module")
def site(html_root):
    with serve(html_root) as base, chromium() as browser:
        yield browser, base


# Every box of the article (and of the buttons above it) whose content is wider or taller than the box:
#   - cut: the box hides what does not fit (overflow hidden or clip), so part of it can never be seen;
#   - scrolls: the box scrolls; acceptable below desktop width if it shows a cue (a gradient shadow painted at its
#     edges) and takes keyboard focus, so that a reader sees there is more and can reach it;
#   - spills: the content runs out of a box that lets it overflow, past the article's column.
# Screen-reader-only text (KaTeX's MathML: a 1 px box that clips) is meant to be unseen and is skipped.
OVERFLOW = r"""() => {
    const article = document.querySelector("article.bd-article");
    const column = article.getBoundingClientRect();
    const describe = el => {
        const text = (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 70);
        const id = el.closest("[id]") ? "#" + el.closest("[id]").id + " " : "";
        return `${id}${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${text}"`;
    };
    const scrollsOrClips = el => {
        const s = getComputedStyle(el);
        return s.overflowX !== "visible" || s.overflowY !== "visible";
    };
    const found = [];
    const boxes = [article, ...article.querySelectorAll("*"), ...document.querySelectorAll(".bd-header-article *")];
    for (const el of boxes) {
        if (!el.getClientRects().length) continue;
        const s = getComputedStyle(el);
        if (s.visibility === "hidden") continue;
        const rect = el.getBoundingClientRect();
        if (rect.width <= 1 || rect.height <= 1) continue;   // screen-reader-only text
        const overX = el.scrollWidth - el.clientWidth, overY = el.scrollHeight - el.clientHeight;
        if (s.overflowX === "visible" && s.overflowY === "visible") {
            // Only the outermost box that spills counts, and only past the column or the window.
            let inside = false;
            for (let up = el.parentElement; up && up !== article.parentElement; up = up.parentElement) {
                if (scrollsOrClips(up)) { inside = true; break; }
            }
            const right = rect.left + el.scrollWidth;
            if (!inside && overX > 1 && (right > column.right + 1 || right > document.documentElement.clientWidth))
                found.push({kind: "spills", what: describe(el), by: Math.round(right - column.right)});
            continue;
        }
        const clipsX = ["hidden", "clip"].includes(s.overflowX), clipsY = ["hidden", "clip"].includes(s.overflowY);
        if ((clipsX && overX > 1) || (clipsY && overY > 1)) {
            found.push({kind: "cut", what: describe(el), by: Math.round(Math.max(clipsX ? overX : 0, clipsY ? overY : 0))});
        } else if (overX > 1 || overY > 1) {
            found.push({kind: "scrolls", what: describe(el), by: Math.round(Math.max(overX, overY)),
                        focusable: el.tabIndex >= 0, cue: /gradient/.test(s.backgroundImage)});
        }
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
        found.push({kind: "spills", what: "the page scrolls sideways",
                    by: document.documentElement.scrollWidth - document.documentElement.clientWidth});
    return found;
}"""


# The Chinese edition has the same boxes in another language (its lines break elsewhere); each page is checked in
# light and in dark mode.
LANG = {"en": "en", "zh_CN": "zh-CN"}
MODES = ("light", "dark")


@pytest.mark.parametrize("edition", LANG)
@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_nothing_in_the_article_is_cut_or_spills(site, size, edition):
    """Every page of each edition, in light and dark mode: no content hidden in a clipping box or spilling out of the
    column; a box that scrolls shows a cue and takes keyboard focus, and none scrolls at desktop width."""
    browser, base = site
    viewport = VIEWPORTS[size]
    problems = []
    # One tab reads every page in turn, as a reader does (a fresh context per page took four times as long), in
    # light mode and then, switched as a reader's system switches it, in dark mode.
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme="light")
    try:
        page = context.new_page()
        in_flight = track_requests(page)
        for path in book_pages():
            path = path if edition == "en" else f"{edition}/{path}"
            page.emulate_media(color_scheme="light")
            page.goto(base + path, wait_until="load")
            assert page.evaluate("document.documentElement.lang") == LANG[edition], path
            settle(page, in_flight, quiet_ms=200)
            # Every solution opened (collapsed, it hides its content on purpose): what a reader can open must fit too.
            opened = page.evaluate("""() => {
                const hidden = [...document.querySelectorAll('button.toggle-button.toggle-button-hidden')];
                hidden.forEach(button => button.click());
                return hidden.length; }""")
            if opened:
                page.wait_for_timeout(400)   # togglebutton's opening transition
            for mode in MODES:
                page.emulate_media(color_scheme=mode)
                # the theme follows the system's mode as the change is reported (a media query listener)
                page.wait_for_function(f"document.documentElement.dataset.theme === '{mode}'", timeout=5_000)
                page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(r)))")
                for box in page.evaluate(OVERFLOW):
                    acceptable = (box["kind"] == "scrolls" and viewport[0] < DESKTOP[0]
                                  and box["focusable"] and box["cue"])
                    if not acceptable:
                        problems.append(f"{path} ({mode}): {box}")
    finally:
        context.close()
    assert not problems, f"{len(problems)} boxes at {viewport}:\n" + "\n".join(problems)


# --- navigation ---------------------------------------------------------------------------------------------

NAV_LINK = ("nav.bd-docs-nav a", "ReLU at zero")         # a link of the book's table of contents (the menu)
TOC_LINK = ("#pst-page-toc-nav a", "Route 2")            # a link of the page's contents
USABLE = """([selector, text]) => {
    // Visible, on screen, and what a tap at its centre would hit (not behind a dialog's backdrop, not hidden).
    const target = [...document.querySelectorAll(selector)].find(a => a.textContent.includes(text));
    if (!target || !target.checkVisibility({visibilityProperty: true, opacityProperty: true})) return false;
    const r = target.getBoundingClientRect();
    if (r.width === 0 || r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) return false;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === target || target.contains(hit));
}"""


def _css(link):
    selector, text = link
    return f"{selector}:has-text('{text}')"


def _open_page(browser, base, viewport, mode, touch=False):
    if not touch:
        page, context, record = visit(browser, base + CHAPTER, origin=base, color_scheme=mode, viewport=viewport)
        return page, context, record
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=mode,
                                  has_touch=True, is_mobile=viewport[0] < WIDE)
    page = context.new_page()
    in_flight = track_requests(page)
    page.goto(base + CHAPTER, wait_until="load")
    settle(page, in_flight)
    return page, context, None


def _usable(page, link, expected=True):
    """Whether the link is usable, once the sidebar has had time to slide to `expected` (it animates)."""
    try:
        page.wait_for_function(f"args => ({USABLE})(args) === {str(expected).lower()}", arg=list(link), timeout=2000)
    except PlaywrightTimeout:
        pass
    return page.evaluate(USABLE, list(link))


def _outside(page, viewport):
    """A point on the backdrop beside an open sidebar dialog."""
    box = page.evaluate("""() => { const d = document.querySelector('dialog[open]');
        const r = d.getBoundingClientRect(); return {left: r.left, right: r.right}; }""")
    x = box["right"] + 10 if box["right"] + 10 < viewport[0] else box["left"] - 10
    return x, viewport[1] // 2


def _tab_to(page, selector, limit=60):
    """Press Tab until the focus is on `selector`; returns how many presses it took (fails if never)."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} is not reached by Tab")


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
@pytest.mark.parametrize("how", ["mouse", "touch", "keyboard"])
def test_menu_opens_and_closes(site, size, mode, how):
    """The menu button shows the book's table of contents, whose links then work, and hides it again."""
    browser, base = site
    viewport = VIEWPORTS[size]
    toggle = ".bd-header-article .primary-toggle"
    page, context, record = _open_page(browser, base, viewport, mode, touch=how == "touch")
    try:
        narrow = viewport[0] < WIDE
        # Closed to start with on a phone or a tablet; beside the article on a desktop.
        assert _usable(page, NAV_LINK, not narrow) is not narrow
        press = {"mouse": lambda s: page.click(s), "touch": lambda s: page.tap(s),
                 "keyboard": lambda s: page.keyboard.press("Enter")}[how]
        if how == "keyboard":
            _tab_to(page, toggle)
        press(toggle)
        if narrow:
            assert _usable(page, NAV_LINK), "the menu did not open"
            if how == "keyboard":
                _tab_to(page, "nav.bd-docs-nav a")   # the focus is in the menu, and Tab walks its links
                page.keyboard.press("Escape")
            else:
                x, y = _outside(page, viewport)
                page.mouse.click(x, y) if how == "mouse" else page.touchscreen.tap(x, y)
            assert not _usable(page, NAV_LINK, False), "the menu did not close"
            if how == "keyboard":   # back on the button that opened it
                assert page.evaluate("s => document.activeElement.matches(s)", toggle)
            press(toggle)
        else:
            assert not _usable(page, NAV_LINK, False), "the sidebar did not hide"
            press(toggle)
        # Tabbing to the button walked the focus through the whole table of contents, which scrolled the sidebar
        # to its last entries: bring the link back into view the way a reader would (it is still hidden if the
        # sidebar is).
        page.evaluate("""([selector, text]) => [...document.querySelectorAll(selector)]
            .find(a => a.textContent.includes(text)).scrollIntoView({block: "nearest"})""", list(NAV_LINK))
        assert _usable(page, NAV_LINK), "the menu did not open again"
        if how == "keyboard":
            page.focus(_css(NAV_LINK))
            page.keyboard.press("Enter")
        else:
            press(_css(NAV_LINK))
        page.wait_for_url("**/chapters/relu_at_zero.html")
        if record is not None:
            assert not record.console_errors, record.console_errors
    finally:
        context.close()


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
@pytest.mark.parametrize("how", ["mouse", "touch", "keyboard"])
def test_contents_open_and_close(site, size, mode, how):
    """The page's own contents: beside the article on a desktop, behind the contents button below that."""
    browser, base = site
    viewport = VIEWPORTS[size]
    toggle = ".bd-header-article .secondary-toggle"
    page, context, _ = _open_page(browser, base, viewport, mode, touch=how == "touch")
    try:
        if viewport[0] >= 1200:   # the theme shows the contents beside the article, and no button
            assert _usable(page, TOC_LINK)
            assert not page.locator(toggle).is_visible()
            return
        assert not _usable(page, TOC_LINK, False)
        if how == "keyboard":
            _tab_to(page, toggle)
            page.keyboard.press("Enter")
        else:
            page.click(toggle) if how == "mouse" else page.tap(toggle)
        assert _usable(page, TOC_LINK), "the contents did not open"
        if how == "keyboard":
            page.keyboard.press("Escape")
        else:
            x, y = _outside(page, viewport)
            page.mouse.click(x, y) if how == "mouse" else page.touchscreen.tap(x, y)
        assert not _usable(page, TOC_LINK, False), "the contents did not close"
    finally:
        context.close()


# --- keyboard focus -----------------------------------------------------------------------------------------

FOCUS_RING = r"""() => {
    // What marks the focused element: an outline, or a box shadow (the theme draws both kinds of ring).
    const el = document.activeElement, s = getComputedStyle(el);
    const opaque = c => !/rgba\([^)]*,\s*0\)|transparent/.test(c);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 && opaque(s.outlineColor);
    const shadow = s.boxShadow !== "none" && s.boxShadow.split(/,(?![^(]*\))/).some(layer =>
        opaque(layer) && (layer.match(/-?[\d.]+px/g) || []).map(parseFloat).some(v => Math.abs(v) >= 2));
    const r = el.getBoundingClientRect();
    return {what: `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} ${el.getAttribute("aria-label") ||
                   el.title || (el.innerText || "").trim().slice(0, 30)}`,
            ring: outline || shadow, shown: r.width > 0 && r.height > 0};
}"""
CONTROLS = {   # every control above the article that must be reached and show its focus
    "menu": ".bd-header-article .primary-toggle",
    "repository": ".btn-source-repository-button",
    "download": ".dropdown-download-buttons > button",
    "colour mode": ".theme-switch-button",
}
SEARCH_BUTTONS = """() => [...document.querySelectorAll('.search-button__button, .search-button-field')]
    .filter(b => b.getClientRects().length && getComputedStyle(b).visibility !== 'hidden' && !b.closest('[inert]'))
    .length"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_every_control_shows_keyboard_focus(site, size, mode):
    """Tab through the page's controls: each one, and the items of the download menu, shows a focus ring; exactly
    one search button is on the way."""
    browser, base = site
    page, context, _ = visit(browser, base + CHAPTER, origin=base, color_scheme=mode, viewport=VIEWPORTS[size])
    try:
        assert page.evaluate(SEARCH_BUTTONS) == 1
        seen, missing = set(), []
        for _ in range(45):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement === document.body"):
                continue   # past the last stop the focus leaves the page, then starts again at the top
            focus = page.evaluate(FOCUS_RING)
            if not focus["ring"] or not focus["shown"]:
                missing.append(focus["what"])
            for name, selector in CONTROLS.items():
                if page.evaluate("s => document.activeElement.matches(s)", selector):
                    seen.add(name)
            page.evaluate("document.activeElement.dataset.tabbed = 'yes'")
        assert seen == set(CONTROLS), f"not reached by Tab: {set(CONTROLS) - seen}"
        searches = page.evaluate("document.querySelectorAll('[data-tabbed].search-button__button').length")
        assert searches == 1, f"{searches} search buttons in the tab order"
        page.focus(CONTROLS["download"])
        page.keyboard.press("Enter")
        page.keyboard.press("ArrowDown")
        focus = page.evaluate(FOCUS_RING)
        assert "dropdown-item" in focus["what"], focus
        if not focus["ring"]:
            missing.append(focus["what"])
        assert not missing, f"no visible focus on: {missing}"
    finally:
        context.close()


# --- figures --------------------------------------------------------------------------------------------------

FIGURES = """() => [...document.querySelectorAll("main .cell_output img")].map(img => ({
    src: img.currentSrc, link: img.closest("a") ? img.closest("a").href : null,
    shown: img.getBoundingClientRect().width, natural: img.naturalWidth,
    column: img.closest(".cell_output").getBoundingClientRect().width,
}))"""


def _png_dpi(path: Path) -> float:
    """The dots per inch a PNG was saved at (matplotlib writes its pHYs chunk)."""
    data = path.read_bytes()
    at = data.index(b"pHYs")
    per_metre = struct.unpack(">I", data[at + 4:at + 8])[0]
    return per_metre * 0.0254


def test_figures_are_legible_on_a_phone_and_open_full_size(site, html_root):
    """On a phone every figure fits the column, its smallest text is at least 9 px tall, and a tap opens the
    full-size image."""
    import matplotlib.pyplot as plt
    from relugrad.plotting import use_book_style

    use_book_style()
    from matplotlib.font_manager import FontProperties
    smallest_pt = min(FontProperties(size=plt.rcParams[key]).get_size_in_points()
                      for key in ("font.size", "xtick.labelsize", "ytick.labelsize", "axes.labelsize",
                                  "axes.titlesize", "legend.fontsize"))
    browser, base = site
    checked = 0
    for path in [p for p in book_pages() if p.startswith("notebooks/")]:
        context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, has_touch=True,
                                      is_mobile=True)
        page = context.new_page()
        try:
            in_flight = track_requests(page)
            page.goto(base + path, wait_until="load")
            settle(page, in_flight)
            for figure in page.evaluate(FIGURES):
                checked += 1
                assert figure["shown"] <= figure["column"] + 1, (path, figure)
                inches = figure["natural"] / _png_dpi(html_root / figure["src"][len(base):])
                text_px = smallest_pt / 72 * figure["shown"] / inches
                assert text_px >= 9, f"{path}: {figure['src']} is {inches:.1f} in wide: its text is {text_px:.1f} px"
                assert figure["link"] == figure["src"], f"{path}: {figure['src']} does not open full size"
            if path.endswith("03_relu_mask.html"):
                page.locator("main .cell_output img").first.tap()
                page.wait_for_url(re.compile(r".*/_images/.*\.png$"))
        finally:
            context.close()
    assert checked >= 5


# --- search ---------------------------------------------------------------------------------------------------

def test_search_snippets_are_plain_text(site):
    """Each formula once, as text (∂f/∂W), never as TeX, and only the article's own text."""
    browser, base = site
    snippets = {}
    for query in ("heart", "mask", "gradient"):
        page, context, record = visit(browser, base + f"search.html?q={query}", origin=base)
        try:
            page.wait_for_selector("#search-results p.context", timeout=10_000)
            settle(page, record.in_flight)
            snippets[query] = page.locator("#search-results p.context").all_inner_texts()
            assert not record.console_errors, record.console_errors
        finally:
            context.close()
    everything = [text for texts in snippets.values() for text in texts]
    assert len(everything) >= 5
    tex = [text for text in everything if re.search(r"\\[a-zA-Z]+|[_^]\{|\$", text)]
    assert not tex, tex
    assert any("∂f/∂W by three routes that must agree" in text for text in snippets["heart"]), snippets["heart"]
