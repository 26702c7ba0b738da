"""Open the built site in Debian's Chromium, as a reader would, and record what each page does.

Shared by the browser tests and the benchmark. Every request to a host other than the site's own is blocked
and recorded, so a page that needs the network shows up as a failure, not as a slow page.
"""

import contextlib
import functools
import http.server
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# The time until every formula is typeset: with prerendered KaTeX it is there at first paint; with MathJax it
# is there once MathJax has finished its first typesetting pass.
MATH_READY = """() => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        return MathJax.startup.promise.then(() => performance.now());
    }
    return performance.now();
}"""


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))
from editions import LANGUAGES as EDITIONS  # noqa: E402  (the other editions' folders in the site, each a site of its own)


def site_pages(html_root: Path, edition: str = "") -> list[str]:
    """Every HTML page of the English site (or, with `edition`, of that edition's folder), relative to html_root,
    except Jupyter Book's index.html redirect and the slides (a reveal.js deck, tested by tests/test_slides.py)."""
    pages, prefix = [], f"{edition}/" if edition else ""
    for path in sorted((html_root / edition).rglob("*.html")):
        relative = path.relative_to(html_root / edition).as_posix()
        if relative.startswith(("_static/", "_sources/", "_images/", "slides/", *(f"{e}/" for e in EDITIONS))) \
                or relative == "index.html":
            continue
        pages.append(prefix + relative)
    return pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(html_root: Path):
    """Serve html_root on 127.0.0.1 (a free port) for the duration of the block; yields the base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html_root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def track_requests(page) -> set:
    """The requests of `page` in flight, kept up to date as Playwright reports them."""
    pending = set()
    page.on("request", lambda request: pending.add(request))
    page.on("requestfinished", lambda request: pending.discard(request))
    page.on("requestfailed", lambda request: pending.discard(request))
    return pending


def settle(page, pending: set, quiet_ms: int = 500, timeout_s: float = 30) -> None:
    """Wait until no request has been in flight for quiet_ms: Playwright's "networkidle", counted here, because
    Chromium's own idle signal was now and then never given on a loaded machine and the wait ran out."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        if pending:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_ms / 1000:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"requests still in flight after {timeout_s} s: " + ", ".join(r.url for r in pending))


@dataclass
class PageVisit:
    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: int = 0
    bytes: int = 0
    math_ready_ms: float = 0.0
    in_flight: set = field(default_factory=set)     # requests not yet finished (see settle)


def visit(browser, url: str, origin: str, color_scheme: str = "light", viewport=(1280, 900)):
    """Open url in a fresh context (a first visit: empty cache); returns (page, context, PageVisit).

    Only URLs under `origin` are let through; anything else is aborted and recorded as foreign.
    """
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=color_scheme)
    page = context.new_page()
    record = PageVisit(url=url)
    page.on("console", lambda message: record.console_errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: record.console_errors.append(str(error)))
    page.on("requestfailed", lambda request: record.failed_requests.append(
        f"{request.url} ({request.failure})"))

    def on_finished(request):
        sizes = request.sizes()
        record.requests += 1
        record.bytes += sizes["responseBodySize"]

    page.on("requestfinished", on_finished)
    page.on("response", lambda response: record.failed_requests.append(f"{response.url} (HTTP {response.status})")
            if response.status >= 400 else None)

    def gate(route):
        if route.request.url.startswith(origin) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            record.foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    record.in_flight = track_requests(page)
    page.goto(url, wait_until="load")
    record.math_ready_ms = page.evaluate(MATH_READY) - page.evaluate(
        "performance.getEntriesByType('navigation')[0].loadEventEnd")
    settle(page, record.in_flight)
    return page, context, record

