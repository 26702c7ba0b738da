"""Every page of every edition, opened once in each colour mode in Debian's Chromium with every other host blocked:
the checks of tests/test_site_browser.py (requests, console, formulas, images, weight, axe-core) and what the
interface shows (tests/test_chinese_interface.py), gathered in one visit a page, since loading a page and running
axe on it is most of the suite's time. Full-page screenshots land in _build/screenshots/ for a person to look at."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from axe_playwright_python.sync_playwright import Axe

from browser import EDITIONS, chromium, serve, visit

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
MAX_BYTES, MAX_REQUESTS = 1_000_000, 25   # a first visit, uncompressed


def expected_pages() -> list[str]:
    """The pages the site must have, from _toc.yml (known before the build, so no page can go untested)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    return sorted([f"{name}.html" for name in files] + ["genindex.html", "search.html"])


def all_pages() -> list[str]:
    """Every page of every edition: each check holds in both."""
    return expected_pages() + [f"{edition}/{page}" for edition in EDITIONS for page in expected_pages()]


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


# The attributes whose values are read out or shown (a tooltip, a placeholder, a hint drawn by CSS).
TEXT_ATTRIBUTES = ["aria-label", "aria-description", "aria-roledescription", "aria-valuetext", "title", "placeholder",
                   "alt", "label", "data-bs-title", "data-bs-original-title", "data-tooltip", "data-toggle-hint"]
INTERFACE = """(attributes) => {
    // Not interface: mathematics, code and keys (written as on the keyboard), and what is marked as written in another
    // language (the switcher's link to the English edition).
    const quoted = el => el.closest('.katex, code, pre, kbd, .highlight, script, style, noscript, template')
        || el.closest('[lang]:not([lang="' + document.documentElement.lang + '"])');
    const article = document.querySelector('article.bd-article');
    const inArticle = el => article && article.contains(el);
    // A link whose text is its file's name ("LICENSE", "CITATION.cff") names the file.
    const fileName = el => {
        const link = el.closest('a[href]');
        return link && link.getAttribute('href').split(/[/#?]/).filter(Boolean).pop() === link.textContent.trim();
    };
    // Inside the article only the interface's elements speak for the interface: the article's text, its figures'
    // descriptions and its links' titles (the heading or the reference they lead to) are the page's content.
    const control = 'button, summary, input, select, [role=button], a.headerlink, .toggle-button';
    const seen = [];
    const add = (el, where, text) => { if (/[A-Za-z]/.test(text)) seen.push({where, text: text.trim()}); };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
        const el = node.parentElement;
        if (!el || quoted(el) || fileName(el) || (inArticle(el) && !el.closest(control))) continue;
        add(el, el.tagName.toLowerCase() + (inArticle(el) ? ' in the article' : ''), node.textContent);
    }
    for (const el of document.body.querySelectorAll('*')) {
        if (quoted(el)) continue;
        for (const name of attributes) {
            const value = el.getAttribute(name);
            if (!value) continue;
            if (inArticle(el) && ((name === 'title' && el.matches('a.reference')) || (name === 'alt' && !el.closest(control)))) continue;
            add(el, `${el.tagName.toLowerCase()}[${name}]`, value);
        }
        for (const pseudo of ['::before', '::after']) {
            const content = getComputedStyle(el, pseudo).content;
            if (content && content.startsWith('"')) add(el, `${el.tagName.toLowerCase()}${pseudo}`, JSON.parse(content));
        }
    }
    return seen;
}"""
# What the solution headings say of their exercise: the exercise's title, as the exercise shows it.
SOLUTION_TITLES = """() => [...document.querySelectorAll('.solution')].map(solution => {
    const back = solution.querySelector('.book-solution-back a[href^="#"]');
    const exercise = back && document.getElementById(decodeURIComponent(back.getAttribute('href').slice(1)));
    const title = exercise && exercise.querySelector('.admonition-title').cloneNode(true);
    if (title) title.querySelectorAll('.caption-number').forEach(number => number.remove());
    return {solution: solution.querySelector('.admonition-title').textContent.trim(),
            exercise: title ? title.textContent.trim() : null};
})"""


def check_images(page, where):
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


def check_page(browser, base: str, page_path: str, mode: str, interfaces: dict[str, tuple]) -> None:
    """One page in one colour mode, on a first visit: no other host, no failed request, no console error, every
    formula typeset, no raw TeX, images loaded with alt text, within the weight budget, and no serious axe violation;
    a full-page screenshot for a person to look at. In light mode, what its interface shows goes into `interfaces`
    as soon as it is read: (its texts and attributes outside the content, its solutions' headings beside their
    exercises' titles)."""
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
        check_images(page, where)

        if mode == "light":
            interfaces[page_path] = page.evaluate(INTERFACE, TEXT_ATTRIBUTES), page.evaluate(SOLUTION_TITLES)
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


def check_every_page(html_root: Path, pages: list[str]) -> tuple[dict[tuple[str, str], str], dict[str, tuple]]:
    """Each page in both modes, checked by WORKERS browsers at once (each thread its own Playwright, as Playwright
    requires): {(page, mode): what failed, "" when nothing did}, and {page: what its interface shows}."""
    pages = [(page, mode) for page in pages for mode in MODES]
    results, interfaces = {}, {}

    def work(share):
        with chromium() as browser:
            for page, mode in share:
                try:
                    check_page(browser, base, page, mode, interfaces)
                    results[page, mode] = ""
                except Exception as error:   # an assertion, or a page that never loaded: reported by its own test
                    results[page, mode] = f"{type(error).__name__}: {error}"

    with serve(html_root) as base, ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(work, [pages[i::WORKERS] for i in range(WORKERS)]))
    return results, interfaces
