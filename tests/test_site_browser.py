"""Every page, opened in Debian's Chromium with every other host blocked, in light and dark mode, and from disk.

Full-page screenshots land in _build/screenshots/ for a person to look at.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe

from browser import EDITIONS, chromium, serve, site_pages, visit

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
MAX_BYTES, MAX_REQUESTS = 1_000_000, 25   # a first visit, uncompressed

RAW_TEX = r"""() => {
    const text = document.querySelector("main").innerText;
    return (text.match(/\$\$|\\frac|\\partial|\\begin\{|\\odot|\\top\b/g) || []);
}"""
MATH = """() => ({
    math: document.querySelectorAll("main .math").length,
    typeset: document.querySelectorAll("main .math .katex").length,
    errors: document.querySelectorAll(".katex-error, merror").length,
})"""
IMAGES = """() => [...document.querySelectorAll("main img")].map(img => ({
    src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0, alt: img.getAttribute("alt") || "",
}))"""


def expected_pages() -> list[str]:
    """The pages the site must have, from _toc.yml (known before the build, so no page can go untested)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    return sorted([f"{name}.html" for name in files] + ["genindex.html", "search.html"])


def _all_pages() -> list[str]:
    """Every page of every edition: each check holds in both."""
    return expected_pages() + [f"{edition}/{page}" for edition in EDITIONS for page in expected_pages()]


def pytest_generate_tests(metafunc):
    if "page_path" in metafunc.fixturenames:
        metafunc.parametrize("page_path", _all_pages(), ids=str)


@pytest.fixture(scope="module")
def site(html_root):
    """(browser, base URL); depends on html_root so that the site is built first."""
    with serve(html_root) as base, chromium() as browser:
        yield browser, base


def test_the_built_pages_are_those_of_the_table_of_contents(html_root):
    assert site_pages(html_root) == expected_pages()
    for edition in EDITIONS:
        assert site_pages(html_root, edition) == [f"{edition}/{page}" for page in expected_pages()]


def _check_images(page, where):
    images = page.evaluate(IMAGES)
    for image in images:
        assert image["loaded"], f"{where}: image {image['src']} did not load"
        alt = image["alt"].strip()
        # myst-nb's default alt text is the image's file path; real alt text is words
        assert alt and " " in alt and not alt.endswith((".png", ".svg")) and "_images/" not in alt, \
            f"{where}: {image['src']} has no real alt text: {alt!r}"
    return images


MODES = ("light", "dark")
WORKERS = 2   # browsers at once: a page's check waits on Chromium (its load, its quiet 0.5 s, axe), so two overlap


def check_page(browser, base: str, page_path: str, mode: str) -> None:
    """One page in one colour mode, on a first visit: no other host, no failed request, no console error, every
    formula typeset, no raw TeX, images loaded with alt text, within the weight budget, and no serious axe violation;
    a full-page screenshot for a person to look at."""
    page, context, record = visit(browser, base + page_path, origin=base, color_scheme=mode)
    try:
        where = f"{page_path} ({mode})"
        assert page.evaluate("document.documentElement.dataset.theme") == mode, where
        assert not record.foreign_requests, f"{where}: requests to other hosts: {record.foreign_requests}"
        assert not record.failed_requests, f"{where}: failed requests: {record.failed_requests}"
        assert not record.console_errors, f"{where}: console errors: {record.console_errors}"

        math = page.evaluate(MATH)
        assert math["typeset"] == math["math"] and math["errors"] == 0, f"{where}: {math}"
        assert not page.evaluate(RAW_TEX), f"{where}: raw TeX is visible"
        _check_images(page, where)

        if mode == "light":
            assert record.bytes <= MAX_BYTES, f"{where}: {record.bytes} bytes on a first visit"
            assert record.requests <= MAX_REQUESTS, f"{where}: {record.requests} requests on a first visit"

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{page_path.replace('/', '__')[:-5]}-{mode}.png", full_page=True)

        # After the checks above: axe itself fetches stylesheets to read them.
        violations = Axe().run(page).response["violations"]
        serious = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations
                   if v["impact"] in ("serious", "critical")]
        assert not serious, f"{where}: {serious}"
    finally:
        context.close()


@pytest.fixture(scope="module")
def page_checks(html_root) -> dict[tuple[str, str], str]:
    """Every page of every edition in both modes, checked by WORKERS browsers at once (each thread its own
    Playwright, as Playwright requires): (page, mode) -> what failed, "" when nothing did."""
    pages = [(page, mode) for page in _all_pages() for mode in MODES]
    results = {}

    def work(share):
        with chromium() as browser:
            for page, mode in share:
                try:
                    check_page(browser, base, page, mode)
                    results[page, mode] = ""
                except Exception as error:   # an assertion, or a page that never loaded: reported by its own test
                    results[page, mode] = f"{type(error).__name__}: {error}"

    with serve(html_root) as base, ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(work, [pages[i::WORKERS] for i in range(WORKERS)]))
    return results


@pytest.mark.parametrize("mode", MODES)
def test_page_in_the_browser(page_checks, page_path, mode):
    assert not page_checks[page_path, mode], page_checks[page_path, mode]


def test_chapters_have_math_and_notebooks_have_figures(site):
    browser, base = site
    for path, wants in (("chapters/gradient_w.html", "math"), ("notebooks/03_relu_mask.html", "images")):
        page, context, _ = visit(browser, base + path, origin=base)
        if wants == "math":
            assert page.evaluate(MATH)["typeset"] > 20
        else:
            assert len(page.evaluate(IMAGES)) >= 3
        context.close()


TOO_WIDE_FOR_A_PHONE = """() => {
    const box = document.querySelector('.bd-article .katex-display');
    if (!box) return false;
    const wide = box.cloneNode(true);
    const formula = wide.querySelector('.katex-html');
    const parts = [...box.querySelector('.katex-html').children];
    for (let i = 0; i < 6; i++) parts.forEach(part => formula.appendChild(part.cloneNode(true)));
    box.after(wide);
    window.dispatchEvent(new Event('resize'));
    return true;
}"""


def test_derivations_reflow_and_wide_equations_scroll_on_a_phone(site):
    """On a phone each derivation's explanation goes under its step, and whatever is still wider than the column
    scrolls inside it and takes keyboard focus."""
    browser, base = site
    scrolling = []
    for path in ("chapters/gradient_w.html", "chapters/notation.html"):
        page, context, _ = visit(browser, base + path, origin=base, viewport=(390, 844))
        try:
            steps = page.evaluate("""() => [...document.querySelectorAll('.derivation-step')].map(step => {
                const rhs = step.querySelector('.derivation-rhs').getBoundingClientRect();
                const why = step.querySelector('.derivation-why').getBoundingClientRect();
                return {below: why.height === 0 || why.top >= rhs.bottom - 1, within: why.right <= innerWidth};
            })""")
            assert steps and all(s["below"] and s["within"] for s in steps), (path, steps)
            # The book's displays all fit a phone now (issue 17); one made seven times as wide shows what a formula
            # that cannot fit does: it scrolls inside its box, which book.js makes reachable by keyboard.
            assert page.evaluate(TOO_WIDE_FOR_A_PHONE), path
            page.wait_for_timeout(100)
            scrolling += page.evaluate("""() => [...document.querySelectorAll('.katex-display, .derivation-rhs')]
                .filter(box => box.scrollWidth > box.clientWidth + 1)
                .map(box => ({focusable: box.tabIndex === 0,
                              inside: box.getBoundingClientRect().left >= 0 &&
                                      box.getBoundingClientRect().right <= document.documentElement.clientWidth}))""")
        finally:
            context.close()
    assert len(scrolling) >= 2, "the equations made too wide for a phone did not scroll"
    assert all(box["focusable"] and box["inside"] for box in scrolling), scrolling


SEARCHES = {"": ("mask", "ReLU at zero", "relu_at_zero"), "zh_CN": ("掩码", "零点处的 ReLU", "relu_at_zero")}


@pytest.mark.parametrize("edition", ["", *EDITIONS])
def test_site_works_from_disk(site, html_root, edition):
    """A lecturer copies _build/html to a USB stick and opens index.html: math, figures, links and search work, in
    each edition (its own index.html, sidebar and search)."""
    word, link_text, linked = SEARCHES[edition]
    html_root = html_root / edition
    browser, _ = site
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught exception: {error}"))   # not a console message
    foreign = []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                  else (foreign.append(route.request.url), route.abort()))
    page.goto((html_root / "index.html").as_uri())
    page.wait_for_url("**/chapters/index.html")
    for path in site_pages(html_root):
        page.goto((html_root / path).as_uri(), wait_until="load")
        if edition:
            assert page.evaluate("document.documentElement.lang") == "zh-CN", path
        math = page.evaluate(MATH)
        assert math["typeset"] == math["math"] and math["errors"] == 0, path
        assert page.evaluate("document.fonts.check('16px KaTeX_Main')") or math["math"] == 0, path
        _check_images(page, f"file://{path}")
    page.goto((html_root / "chapters" / "index.html").as_uri())
    page.click(f"nav.bd-docs-nav a:has-text('{link_text}')")
    page.wait_for_url(f"**/chapters/{linked}.html")
    page.goto((html_root / "search.html").as_uri() + f"?q={word}")
    page.wait_for_selector("#search-results li", timeout=10_000)
    assert page.locator("#search-results li").count() > 0
    assert not errors and not foreign, (errors, foreign)
    context.close()
