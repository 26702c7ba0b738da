"""Tapped, clicked and keyed as a reader does: a solution opens and closes from anywhere on its heading (and from the
keyboard), every control of the header is a tap target of at least 44 x 44 CSS pixels with nothing else moved, and
the notebook download saves the file, from disk (file://) and over http."""

import re

import pytest

from browser import chromium, serve, settle, track_requests, visit

PHONE, TABLET, DESKTOP = (390, 844), (800, 1000), (1280, 900)
VIEWPORTS = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}
CHAPTER = "chapters/gradient_w.html"
NOTEBOOK = "notebooks/03_relu_mask.html"
TARGET = 44   # CSS px: WCAG 2.5.5 (target size, enhanced)


@pytest.fixture(scope="module")
def site(html_root):
    with serve(html_root) as base, chromium() as browser:
        yield browser, base


# --- solutions ------------------------------------------------------------------------------------------------

SOLUTION = "div.solution"
# Points on the heading's words (one per line of it, the first and the last word included, where sphinx-exercise's
# link back to the exercise was), and near its left and right edges: where a reader taps.
HEADING_POINTS = r"""(index) => {
    const solution = document.querySelectorAll("div.solution")[index];
    const title = solution.querySelector(":scope > .admonition-title");
    const button = title.querySelector("button.toggle-button");
    const points = [];
    const walker = document.createTreeWalker(title, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
        if (button && button.contains(node)) continue;
        for (const word of node.textContent.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            for (const r of range.getClientRects())
                points.push({x: r.left + r.width / 2, y: r.top + r.height / 2, what: word[0]});
        }
    }
    const words = points.filter((p, i) => i === 0 || i === points.length - 1 ||
                                           Math.abs(p.y - points[i - 1].y) > 4);   // the first word of each line
    const box = title.getBoundingClientRect();
    return [...words,
            {x: box.left + 6, y: box.top + box.height / 2, what: "left edge"},
            {x: box.right - 6, y: box.top + box.height / 2, what: "right edge"}];
}"""
STATE = """(index) => {
    const solution = document.querySelectorAll("div.solution")[index];
    const button = solution.querySelector(".admonition-title button.toggle-button");
    return {hidden: solution.classList.contains("toggle-hidden"),
            expanded: button ? button.getAttribute("aria-expanded") : null,
            scroll: window.scrollY, url: location.href};
}"""


def _solutions_page(browser, base, viewport, mode="light", touch=False):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=mode,
                                  has_touch=touch, is_mobile=touch)
    page = context.new_page()
    in_flight = track_requests(page)
    page.goto(base + CHAPTER, wait_until="load")
    settle(page, in_flight)
    page.evaluate("document.fonts.ready")
    return context, page


def _settled_state(page, index):
    page.wait_for_timeout(350)   # togglebutton's transition; a jump to an anchor would be done by then
    return page.evaluate(STATE, index)


@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_a_solution_opens_and_closes_from_anywhere_on_its_heading(site, size):
    """Every word of each solution's heading, and its edges: a click (a tap on the phone) opens the solution, a
    second one closes it, and the page neither scrolls away nor follows a link."""
    browser, base = site
    context, page = _solutions_page(browser, base, VIEWPORTS[size], touch=size == "phone")
    try:
        count = page.locator(SOLUTION).count()
        assert count >= 4
        failures = []
        for index in range(count):
            page.locator(SOLUTION).nth(index).scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -innerHeight / 3)")   # the heading mid-screen: room to scroll both ways
            page.wait_for_timeout(50)
            points = page.evaluate(HEADING_POINTS, index)
            assert len(points) >= 4, points
            for point in points:
                before = page.evaluate(STATE, index)
                assert before["hidden"] and before["expanded"] == "false", (index, before)
                for want_hidden in (False, True):
                    if size == "phone":
                        page.touchscreen.tap(point["x"], point["y"])
                    else:
                        page.mouse.click(point["x"], point["y"])
                    after = _settled_state(page, index)
                    if after["url"] != before["url"] or abs(after["scroll"] - before["scroll"]) > 1:
                        failures.append(f"solution {index + 1}, {point['what']!r}: the page went from "
                                        f"{before['url']} at {before['scroll']} to {after['url']} at {after['scroll']}")
                        page.goto(before["url"])
                        page.evaluate(f"window.scrollTo(0, {before['scroll']})")
                        break
                    if after["hidden"] != want_hidden or after["expanded"] != str(not want_hidden).lower():
                        failures.append(f"solution {index + 1}, {point['what']!r}: "
                                        f"{'did not open' if not want_hidden else 'did not close'} ({after})")
                        break
                if failures:
                    break
            if failures:
                break
        assert not failures, "\n".join(failures)
    finally:
        context.close()


def test_a_solution_heading_is_one_named_button_for_the_keyboard(site, html_root):
    """Each solution's heading is one button named by the heading ("Solution to Exercise 9 (Practice: find the
    bug)"); Enter opens it and Space closes it, with aria-expanded saying which; the link back to the exercise is
    inside the opened solution and leads to the exercise."""
    browser, base = site
    context, page = _solutions_page(browser, base, DESKTOP)
    try:
        count = page.locator(SOLUTION).count()
        named = page.get_by_role("button", name=re.compile(r"^Solution to Exercise \d+ \(.+\)$"))
        assert named.count() == count, page.locator(f"{SOLUTION} button.toggle-button").evaluate_all(
            "buttons => buttons.map(b => b.getAttribute('aria-label') || b.getAttribute('aria-labelledby'))")
        button = named.nth(1)
        button.focus()
        scroll = page.evaluate("window.scrollY")
        page.keyboard.press("Enter")
        assert _settled_state(page, 1)["expanded"] == "true"
        assert not page.evaluate(STATE, 1)["hidden"]
        back = page.locator(SOLUTION).nth(1).locator("a", has_text=re.compile(r"^Back to Exercise \d+$"))
        assert back.count() == 1 and back.is_visible()
        target = back.get_attribute("href")
        assert target.startswith("#") and page.locator(f"div.exercise[id='{target[1:]}'], "
                                                       f"div.exercise:has([id='{target[1:]}'])").count() == 1
        page.keyboard.press("Space")
        state = _settled_state(page, 1)
        assert state["expanded"] == "false" and state["hidden"] and abs(state["scroll"] - scroll) <= 1
        assert not back.is_visible()   # hidden with the solution: the keyboard skips it
        # Exactly one stop per heading: the old heading's link was a second one, away from the toggle.
        heading = page.locator(SOLUTION).nth(1).locator(":scope > .admonition-title")
        assert heading.locator("a, [tabindex]:not([tabindex='-1']), button").count() == 1
    finally:
        context.close()


# --- the header ---------------------------------------------------------------------------------------------------

HEADER_CONTROLS = """() => [...document.querySelectorAll(
        '.bd-header-article a, .bd-header-article button, .bd-header-article [tabindex]:not([tabindex="-1"])')]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => {
        const r = el.getBoundingClientRect();
        const bar = document.querySelector('.bd-header-article').getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        const menu = !!el.closest('.dropdown-menu');
        return {what: (el.getAttribute('aria-label') || el.title || el.textContent.trim() || el.className).slice(0, 40),
                menu, width: r.width, height: r.height, hit: !!hit && (hit === el || el.contains(hit)),
                inside: menu || (r.top >= bar.top - 0.5 && r.bottom <= bar.bottom + 0.5 &&
                                 r.left >= bar.left - 0.5 && r.right <= bar.right + 0.5)};
    })"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_every_header_control_is_a_44_pixel_target(site, size, mode):
    """Each control of the header (the menu, language switcher, launch, repository, download, full screen, colour
    mode, search and contents buttons), in each edition, and each item of its menus is at least 44 x 44 CSS px, and a tap at its centre reaches it; the
    buttons stay inside the header's bar (which is as tall as before: see the next test), over nothing of the page."""
    browser, base = site
    small = []
    # both editions: the Chinese header's switcher reads "English", its menus' entries are Chinese
    for path in (CHAPTER, NOTEBOOK, f"zh_CN/{CHAPTER}", f"zh_CN/{NOTEBOOK}"):
        page, context, _ = visit(browser, base + path, origin=base, color_scheme=mode, viewport=VIEWPORTS[size])
        try:
            controls = page.evaluate(HEADER_CONTROLS)
            assert len(controls) >= 5, controls
            for menu in page.locator(".bd-header-article .dropdown-toggle").all():
                menu.click()
                page.wait_for_timeout(100)
                controls += [c for c in page.evaluate(HEADER_CONTROLS) if c["menu"]]
                page.keyboard.press("Escape")
            assert any(c["menu"] for c in controls)
            small += [f"{path}: {c}" for c in controls if c["width"] < TARGET - 0.01 or
                      c["height"] < TARGET - 0.01 or not c["hit"] or not c["inside"]]
        finally:
            context.close()
    assert not small, f"{len(small)} header controls under {TARGET} x {TARGET} px at {size}:\n" + "\n".join(small)


# Where everything outside the header is: the header box itself, the sidebars, the article and all they hold.
POSITIONS = """() => [...document.querySelectorAll('body *')]
    .filter(el => !el.closest('.bd-header-article') || el.matches('.bd-header-article'))
    .filter(el => el.getClientRects().length)
    .map(el => { const r = el.getBoundingClientRect();
                 return [r.left, r.top + scrollY, r.width, r.height].map(v => Math.round(v * 2) / 2).join(","); })"""
# The book's own rules that size the header's controls (book.css), taken out: the theme's layout, for comparison.
WITHOUT_TARGET_RULES = """() => {
    let removed = 0;
    for (const sheet of document.styleSheets) {
        let rules;
        try { rules = sheet.cssRules; } catch (e) { continue; }
        for (let i = rules.length - 1; i >= 0; i--) {
            const rule = rules[i];
            if (rule.selectorText && rule.selectorText.includes('.bd-header-article') &&
                    (rule.style.minHeight === '44px' || rule.style.minWidth === '44px')) {
                sheet.deleteRule(i);
                removed++;
            }
        }
    }
    return removed;
}"""


@pytest.mark.parametrize("size", VIEWPORTS, ids=str)
def test_bigger_header_targets_move_nothing_else(site, size):
    """The header's bigger targets move nothing outside it: every element of the page (the header's own box
    included) is where the theme alone puts it."""
    browser, base = site
    for path in (CHAPTER, NOTEBOOK):
        page, context, _ = visit(browser, base + path, origin=base, viewport=VIEWPORTS[size])
        try:
            after = page.evaluate(POSITIONS)
            assert page.evaluate(WITHOUT_TARGET_RULES) >= 1, "no rule of the book sizes the header's controls"
            page.wait_for_timeout(100)
            before = page.evaluate(POSITIONS)
            assert len(before) == len(after) > 100
            moved = [(i, b, a) for i, (b, a) in enumerate(zip(before, after)) if b != a]
            assert not moved, f"{path} at {size}: {len(moved)} elements moved, e.g. {moved[:5]}"
        finally:
            context.close()


# --- the notebook download --------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["file", "http"])
def test_the_notebook_download_saves_the_file(site, html_root, where):
    """The download menu's .ipynb saves the executed notebook under its name, byte for byte, from disk and over http:
    no tab of raw JSON, no page left."""
    browser, base = site
    url = (html_root / NOTEBOOK).as_uri() if where == "file" else base + NOTEBOOK
    expected = (html_root / "_sources" / "notebooks" / "03_relu_mask.ipynb").read_bytes()
    context = browser.new_context(accept_downloads=True, viewport={"width": PHONE[0], "height": PHONE[1]})
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url, wait_until="load")
        tabs = []
        context.on("page", lambda tab: tabs.append(tab.url))
        page.click(".dropdown-download-buttons > button")
        with page.expect_download(timeout=15_000) as download:
            page.click("a.btn-download-source-button")
        saved = download.value
        assert saved.suggested_filename == "03_relu_mask.ipynb"
        assert open(saved.path(), "rb").read() == expected
        page.wait_for_timeout(500)
        assert page.url == url and not tabs and not errors, (page.url, tabs, errors)
    finally:
        context.close()
