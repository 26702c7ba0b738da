"""The in-page explorer (chapters/explorer): its numbers are relugrad's, it is clean for axe in light and dark, it is
usable by keyboard alone and by touch, it fits 390, 800 and 1280 px, and it works offline over http and from disk.

The numbers are checked by driving the page as a reader does (its size menus, then its entry fields), on random
cases with exact zeros of Z among them, and comparing every matrix the page shows with relugrad in float64. Mutants
of the page's script (a mask with >=, a missing transpose, a flipped sign) must each fail that comparison.

Run alone on a built site (no rebuild): `python tests/test_explorer.py _build/html`.
"""

import os
import random
import re
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import chromium, serve, visit  # noqa: E402

from relugrad import hand_gradients, intermediates  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGE = "chapters/explorer.html"
SCRIPT_LIMIT = 40_000            # bytes of the explorer's own script (its data aside)
MAX_BYTES, MAX_REQUESTS = 1_000_000, 25
PHONE, TABLET, DESKTOP, PROJECTOR = (390, 844), (800, 1000), (1280, 900), (1024, 768)
# Float64 unit roundoff. The page and torch compute the same formulas in float64, but a matmul may sum in another
# order: each entry of a length-L dot product then differs by at most about 2 L u times the sum of the magnitudes of
# its terms. With L <= 10 and the two chained products of dW and dX, the differences stay below 100 u times those
# magnitudes; RELATIVE allows 45 times more, and a real slip (a dropped mask, transpose or sign) changes entries by
# their own size, 1e12 times more.
U = 2.0 ** -53
RELATIVE = 1e-12
CASES = 20

READ = """() => {
    const out = {};
    for (const table of document.querySelectorAll('.relu-explorer table[data-matrix]')) {
        out[table.dataset.matrix] = [...table.querySelectorAll('tbody tr')].map(tr =>
            [...tr.querySelectorAll('td.rx-cell')].map(td => {
                const input = td.querySelector('input');
                return {v: (input || td).getAttribute('data-v'),
                        text: input ? input.value : td.querySelector('.rx-v').textContent};
            }));
    }
    const f = document.querySelector('.relu-explorer output.rx-f');
    out.f = {v: f.getAttribute('data-v'), text: f.textContent};
    return out;
}"""

# Type a value into each entry field, as a reader does (an input event per field); fields are found by their labels.
TYPE_ALL = """(values) => {
    for (const [name, rows] of Object.entries(values)) {
        rows.forEach((row, i) => row.forEach((text, j) => {
            const input = document.querySelector(`.relu-explorer input[aria-label="${name} row ${i + 1}, column ${j + 1}"]`);
            input.focus();
            input.value = text;
            input.dispatchEvent(new Event('input', {bubbles: true}));
        }));
    }
    document.activeElement.blur();
}"""


@pytest.fixture(scope="module")
def site_root(request) -> Path:
    """The built site: the session's clean build, or, to run this file alone, the folder named by EXPLORER_SITE."""
    if os.environ.get("EXPLORER_SITE"):
        return Path(os.environ["EXPLORER_SITE"]).resolve()
    return request.getfixturevalue("html_root")


@pytest.fixture(scope="module")
def site(site_root):
    with serve(site_root) as base, chromium() as browser:
        yield browser, base


def open_explorer(browser, base, viewport=DESKTOP, mode="light", **context_options):
    page, context, record = visit(browser, base + PAGE, origin=base, color_scheme=mode, viewport=viewport)
    page.wait_for_selector(".relu-explorer table[data-matrix='G']")
    return page, context, record


def random_case(rng: random.Random, index: int):
    """Sizes and entries: every third case of small integers (Z exact, with zeros), the others floats with all their
    digits; the sizes include k = n and m = k."""
    m, k, n = rng.randint(1, 10), rng.randint(1, 6), rng.randint(1, 6)
    if index % 5 == 1:
        k = n
    if index % 3 == 0:
        X = [[rng.randint(-2, 2) for _ in range(k)] for _ in range(m)]
        W = [[rng.randint(-2, 2) for _ in range(n)] for _ in range(k)]
        if index % 2 == 0:    # an exact zero guaranteed: a column of W set to 0
            for row in W:
                row[0] = 0
    else:
        X = [[rng.gauss(0, 1) for _ in range(k)] for _ in range(m)]
        W = [[rng.gauss(0, 1) for _ in range(n)] for _ in range(k)]
    Y = [[rng.gauss(0, 1) for _ in range(n)] for _ in range(m)]
    return X, W, Y


def enter_case(page, X, W, Y):
    for name, size in (("m", len(X)), ("k", len(W)), ("n", len(W[0]))):
        page.select_option(f"#relu-explorer-size-{name}", str(size))
    page.evaluate(TYPE_ALL, {name: [[repr(float(v)) for v in row] for row in A] for name, A in
                             (("X", X), ("W", W), ("Y", Y))})


def reference(X, W, Y, slope_at_zero=0):
    """relugrad's intermediates and hand gradients in float64 (slope 1 at 0: the same formulas with M = 1[Z >= 0])."""
    X, W, Y = (torch.tensor(A, dtype=torch.float64) for A in (X, W, Y))
    r = intermediates(X, W, Y)
    g = hand_gradients(X, W, Y)
    out = {"Z": r.Z, "M": r.M, "E": r.E, "G": r.G, "dW": g.dW, "dX": g.dX, "dY": g.dY, "f": r.f}
    if slope_at_zero == 1:
        M = (r.Z >= 0).double()
        G = 2 * r.E * M
        out.update(M=M, G=G, dW=X.T @ G, dX=G @ W.T)
    # The magnitudes each entry is made of (see RELATIVE): what a change of summation order can move it by.
    mag_z = X.abs() @ W.abs()
    mag_e = mag_z + Y.abs()
    out["scale"] = {"Z": mag_z, "E": mag_e, "G": 2 * mag_e, "dY": 2 * mag_e, "dW": X.abs().T @ (2 * mag_e),
                    "dX": (2 * mag_e) @ W.abs().T, "M": torch.zeros_like(mag_z)}
    return out


def compare(shown, X, W, Y, slope_at_zero=0, where=""):
    """Every matrix the page shows against relugrad; the text of each cell against its value. Returns problems."""
    ref = reference(X, W, Y, slope_at_zero)
    problems = []
    for name, A in (("X", X), ("W", W), ("Y", Y)):
        values = [[float(c["v"]) for c in row] for row in shown[name]]
        if values != [[float(v) for v in row] for row in A]:
            problems.append(f"{where}{name}: the page holds other entries than those typed")
    for name in ("Z", "M", "E", "G", "dW", "dX", "dY"):
        want = ref[name]
        cells = shown.get(name)
        if cells is None or [len(cells), len(cells[0]) if cells else 0] != list(want.shape):
            problems.append(f"{where}{name}: shape {None if cells is None else (len(cells), len(cells[0]))}, "
                            f"expected {tuple(want.shape)}")
            continue
        got = torch.tensor([[float(c["v"]) for c in row] for row in cells], dtype=torch.float64)
        tolerance = RELATIVE * (want.abs() + ref["scale"][name])
        if name == "M":
            bad = got != want
            # An entry of Z that rounding may put on either side of 0 (never one that is exactly 0 in both).
            bad &= ~((ref["Z"].abs() <= RELATIVE * ref["scale"]["Z"]) & (ref["Z"] != 0))
        else:
            bad = (got - want).abs() > tolerance
        if bad.any():
            i, j = map(int, bad.nonzero()[0])
            problems.append(f"{where}{name}[{i + 1},{j + 1}] = {got[i, j].item()!r}, relugrad {want[i, j].item()!r} "
                            f"({int(bad.sum())} entries differ)")
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                text, value = cell["text"].replace("\u2212", "-"), float(cell["v"])
                if name == "M":
                    ok = text == str(int(value))
                elif text == "0":
                    ok = value == 0
                else:
                    ok = value != 0 and abs(float(text) - value) <= 0.005 * (1 + 1e-9)
                if not ok:
                    problems.append(f"{where}{name}[{i + 1},{j + 1}] shows {cell['text']!r} for {value!r}")
                    break
    f = float(shown["f"]["v"])
    if abs(f - ref["f"].item()) > RELATIVE * (ref["f"].item() + 1e-300):
        problems.append(f"{where}f = {f!r}, relugrad {ref['f'].item()!r}")
    return problems


def check_cases(page, cases: int, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    problems, zeros = [], 0
    for index in range(cases):
        X, W, Y = random_case(rng, index)
        enter_case(page, X, W, Y)
        shown = page.evaluate(READ)
        problems += compare(shown, X, W, Y, 0, f"case {index}: ")
        Z = torch.tensor(X, dtype=torch.float64) @ torch.tensor(W, dtype=torch.float64)
        if (Z == 0).any():
            zeros += 1
            page.check("#relu-explorer-slope-1")
            problems += compare(page.evaluate(READ), X, W, Y, 1, f"case {index}, slope 1 at 0: ")
            page.check("#relu-explorer-slope-0")
    assert zeros >= cases // 4, f"only {zeros} cases had exact zeros in Z"
    return problems


def test_every_matrix_shown_is_relugrads(site):
    browser, base = site
    page, context, _ = open_explorer(browser, base)
    try:
        problems = check_cases(page, CASES)
        assert not problems, "\n".join(problems[:20])
        # The presets: the homework's numbers are PyTorch's own draws, embedded at build time.
        page.select_option("#relu-explorer-preset", "homework")
        shown = page.evaluate(READ)
        from relugrad import homework_inputs
        X, W, Y = (t.detach().double().tolist() for t in homework_inputs())
        assert not compare(shown, X, W, Y, 0, "homework: ")
    finally:
        context.close()


MUTANTS = {
    "mask with >=": ("z > 0 ? 1 : (z === 0 ? slopeAtZero : 0)", "z >= 0 ? 1 : (z === 0 ? slopeAtZero : 0)"),
    "dX without the transpose": ("dX: matmul(G, transpose(W))", "dX: matmul(G, W.length === W[0].length ? W : transpose(W))"),
    "dY with the wrong sign": ("return -2 * e;", "return 2 * e;"),
    "dW without the mask": ("dW: matmul(transpose(X), G)", "dW: matmul(transpose(X), map2(E, function (e) { return 2 * e; }))"),
}


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_a_broken_explorer_fails_the_comparison(site, mutant):
    """The comparison above is able to fail: the page with one slip in its script is caught on the same cases."""
    browser, base = site
    before, after = MUTANTS[mutant]
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})

    found = []

    def broken(route):
        html = route.fetch().text()
        found.append(html.count(before))
        route.fulfill(body=html.replace(before, after), content_type="text/html")

    context.route(base + PAGE, broken)
    page = context.new_page()
    try:
        page.goto(base + PAGE)
        page.wait_for_selector(".relu-explorer table[data-matrix='G']")
        assert found == [1], f"the script no longer holds {before!r}"
        assert check_cases(page, 3), f"{mutant} went unnoticed"
    finally:
        context.close()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_explorer_is_clean_for_axe_within_budget_and_loaded_only_here(site, site_root, mode):
    from axe_playwright_python.sync_playwright import Axe
    browser, base = site
    page, context, record = open_explorer(browser, base, mode=mode)
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == mode
        assert not record.foreign_requests and not record.failed_requests and not record.console_errors, record
        assert record.bytes <= MAX_BYTES and record.requests <= MAX_REQUESTS, (record.bytes, record.requests)
        script = page.evaluate("""() => [...document.scripts].filter(s => s.text.includes('ReluExplorer'))
                                   .map(s => new TextEncoder().encode(s.text).length)""")
        assert len(script) == 1 and script[0] <= SCRIPT_LIMIT, script
        page.select_option("#relu-explorer-preset", "zeros")    # exact zeros, "or" notes and markers on show
        page.locator("input[aria-label='W row 1, column 1']").press("ArrowUp")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"explorer-1280-{mode}.png", full_page=True)
        violations = Axe().run(page, context=".relu-explorer").response["violations"]
        assert not [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations], violations
    finally:
        context.close()
    others = [p for p in site_root.rglob("*.html") if p.relative_to(site_root).as_posix() not in (PAGE, f"zh_CN/{PAGE}")]
    assert not [p for p in others if "ReluExplorer" in p.read_text()], "the explorer's script is on other pages"


def test_keyboard_alone(site):
    """Tab reaches every control; arrows, typing and Enter/Space change the layer as the reader asks."""
    browser, base = site
    page, context, _ = open_explorer(browser, base)
    try:
        page.focus("#relu-explorer-preset")
        reached = set()
        for _ in range(200):
            reached.add(page.evaluate("document.activeElement.id || document.activeElement.getAttribute('aria-label')"))
            page.keyboard.press("Tab")
            if not page.evaluate("!!document.activeElement.closest('.relu-explorer')"):
                break
        controls = page.evaluate("""() => [...document.querySelectorAll(
            '.relu-explorer input, .relu-explorer select, .relu-explorer button')].filter(c => !(c.type === 'radio' && !c.checked))
            .map(c => c.id || c.getAttribute('aria-label'))""")
        assert set(controls) <= reached, set(controls) - reached
        # Arrow keys on W (0.1, and 1 with Shift), then typing: Z follows.
        field = "input[aria-label='W row 2, column 1']"
        page.focus(field)
        w = float(page.get_attribute(field, "data-v"))
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Shift+ArrowDown")
        assert float(page.get_attribute(field, "data-v")) == pytest.approx(w + 0.1 - 1, abs=0.0051)
        page.keyboard.press("Control+A")
        page.keyboard.type("-1.25")
        page.keyboard.press("Tab")
        assert float(page.get_attribute(field, "data-v")) == -1.25
        shown = page.evaluate(READ)
        X, W, Y = ([[float(c["v"]) for c in row] for row in shown[name]] for name in "XWY")
        assert not compare(shown, X, W, Y)
        # The slope at 0 by arrow keys; a gradient step by Enter and by Space: f falls.
        page.focus("#relu-explorer-slope-0")
        page.keyboard.press("ArrowRight")
        assert page.is_checked("#relu-explorer-slope-1")
        page.keyboard.press("ArrowLeft")
        f0 = float(page.get_attribute("#relu-explorer-f", "data-v"))
        page.focus("#relu-explorer-step")
        page.keyboard.press("Enter")
        page.keyboard.press("Space")
        f2 = float(page.get_attribute("#relu-explorer-f", "data-v"))
        assert f2 < f0 and "2 gradient steps" in page.text_content("#relu-explorer-history")
        # A focused control is visibly outlined.
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), outline
    finally:
        context.close()


def test_touch_on_a_phone(site):
    """Tapped and swiped on a phone: every control a 44 px target, a sideways swipe on an entry changes it, a tap on
    the step button steps; units die under many steps with a large learning rate."""
    browser, base = site
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(base + PAGE)
        page.wait_for_selector(".relu-explorer table[data-matrix='G']")
        small = page.evaluate("""() => [...document.querySelectorAll(
            '.relu-explorer input:not([type=radio]), .relu-explorer select, .relu-explorer button, .relu-explorer .rx-radio')]
            .map(c => [c.id || c.getAttribute('aria-label') || c.textContent, c.getBoundingClientRect()])
            .filter(([, r]) => r.width < 44 || r.height < 44).map(([name]) => name)""")
        assert not small, small
        field = page.locator("input[aria-label='W row 1, column 2']")
        field.scroll_into_view_if_needed()
        before = float(field.get_attribute("data-v"))
        box = field.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for dx in range(4, 44, 4):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + dx, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        after = float(field.get_attribute("data-v"))
        assert 0.2 <= after - before <= 0.45, (before, after)
        shown = page.evaluate(READ)
        X, W, Y = ([[float(c["v"]) for c in row] for row in shown[name]] for name in "XWY")
        assert not compare(shown, X, W, Y)
        page.wait_for_timeout(400)     # the swipe's gesture is over
        f0 = float(page.get_attribute("#relu-explorer-f", "data-v"))
        page.tap("#relu-explorer-step")
        assert float(page.get_attribute("#relu-explorer-f", "data-v")) < f0
        page.select_option("#relu-explorer-preset", "dying")
        page.fill("#relu-explorer-lr", "0.01")
        page.tap("#relu-explorer-step10")
        news = page.text_content("#relu-explorer-news")
        assert re.search(r"Unit \d died at step \d+", news), news
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "explorer-390-touch.png", full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, TABLET, DESKTOP, PROJECTOR], ids=lambda v: f"{v[0]}px")
def test_layout_fits_and_matrices_stack_on_a_phone(site, viewport):
    browser, base = site
    page, context, _ = open_explorer(browser, base, viewport=viewport)
    try:
        for preset in ("small", "homework", "zeros"):
            page.select_option("#relu-explorer-preset", preset)
            layout = page.evaluate("""() => ({
                page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                scrolling: [...document.querySelectorAll('.rx-scroll')].filter(s => s.scrollWidth > s.clientWidth + 1)
                           .map(s => s.querySelector('table').dataset.matrix),
                lefts: [...document.querySelectorAll('.rx-panel')].map(p => Math.round(p.getBoundingClientRect().left)),
                font: Math.min(...[...document.querySelectorAll('.rx-cell, .rx-in')].map(c => parseFloat(getComputedStyle(c).fontSize))),
            })""")
            assert layout["page"] <= 1, f"{viewport} {preset}: the page scrolls sideways"
            assert not layout["scrolling"], f"{viewport} {preset}: {layout['scrolling']} scroll sideways"
            assert layout["font"] >= 14, layout["font"]
            if viewport == PHONE:
                assert len(set(layout["lefts"])) == 1, f"the matrices do not stack: {layout['lefts']}"
            elif viewport[0] >= 1024:
                assert len(set(layout["lefts"])) > 2, "the matrices stack on a wide screen"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.select_option("#relu-explorer-preset", "small")
        page.screenshot(path=SCREENSHOTS / f"explorer-{viewport[0]}.png", full_page=viewport != PROJECTOR)
    finally:
        context.close()


def test_explorer_works_from_disk(site, site_root):
    """Opened from a USB stick: no request leaves file://, no error, and the numbers are still relugrad's."""
    browser, _ = site
    context = browser.new_context()
    page = context.new_page()
    errors, foreign = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                  else (foreign.append(route.request.url), route.abort()))
    try:
        page.goto((site_root / PAGE).as_uri(), wait_until="load")
        page.wait_for_selector(".relu-explorer table[data-matrix='G']")
        assert not check_cases(page, 3, seed=7)
        assert not errors and not foreign, (errors, foreign)
    finally:
        context.close()


# Colour-blind simulation (Machado, Oliveira & Fernandes 2009, severity 1), applied in linear RGB.
MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(linear_rgb):
    r, g, b = linear_rgb
    x, y, z = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_colours_stay_apart_for_colour_blind_readers():
    """The two ends of the signed scale, and active against inactive in the mask, as the page draws them in light and
    dark, stay far apart (CIELAB distance over 20; 2 is just noticeable) for protan, deutan and tritan vision."""
    script = (ROOT / "_ext" / "explorer_assets" / "explorer.js").read_text()

    def colour(name):
        return [int(v) for v in re.search(name + r" = \[(\d+), (\d+), (\d+)\]", script).groups()]

    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    def seen(rgb, matrix):
        rgb = [linear(c) for c in rgb]
        return _lab([min(1, max(0, sum(matrix[i][j] * rgb[j] for j in range(3)))) for i in range(3)])

    strength = {"signed": float(re.search(r"NEG : POS, ([\d.]+) \*", script).group(1)),
                "mask": float(re.search(r"ACTIVE : INACTIVE, ([\d.]+)\)", script).group(1))}
    backgrounds = [int(v) for v in re.search(r"dark \? \[(\d+), (\d+), (\d+)\] : \[(\d+), (\d+), (\d+)\]",
                                              script).groups()]
    for base in (backgrounds[:3], backgrounds[3:]):   # the page's dark and light backgrounds (colours() in the script)
        for kind, (a, b) in {"signed": ("NEG", "POS"), "mask": ("ACTIVE", "INACTIVE")}.items():
            ends = [[round(x + (y - x) * strength[kind]) for x, y in zip(base, colour(name))] for name in (a, b)]
            for vision, matrix in MACHADO.items():
                distance = sum((p - q) ** 2 for p, q in zip(seen(ends[0], matrix), seen(ends[1], matrix))) ** 0.5
                assert distance > 20, (kind, base, vision, distance)


if __name__ == "__main__":
    os.environ["EXPLORER_SITE"] = sys.argv[1] if len(sys.argv) > 1 else "_build/html"
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider", *sys.argv[2:]]))
