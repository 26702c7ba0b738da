"""The Chinese edition (_build/html/zh_CN/): the same book, translated from catalogues that never drift from the English.

The browser checks of every page (offline, light and dark, axe, from disk, search) run on both editions in
tests/test_site_browser.py; here: the catalogues, the checker that guards them, and what the two editions share.
"""

import html as html_lib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

import translations
from browser import chromium, site_pages

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))
import editions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EDITION = "zh_CN"
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the catalogues ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def english_messages(tmp_path_factory):
    """The messages of the English pages and slides as they are now (a gettext build of this checkout, apart from
    _build)."""
    folder = tmp_path_factory.mktemp("gettext")
    code = subprocess.run([sys.executable, "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]); import editions; from pathlib import Path; "
        "sys.exit(editions.extract_messages(Path(sys.argv[2]), Path(sys.argv[3])))"),
        str(ROOT / "_ext"), str(folder / "pot"), str(folder / "doctrees")], cwd=ROOT, capture_output=True, text=True,
        timeout=900)
    assert code.returncode == 0, (code.stdout + code.stderr)[-3000:]
    return folder / "pot"


def _ids(path: Path) -> set[str]:
    with open(path, "rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_the_catalogues_hold_exactly_the_english_pages_messages(english_messages):
    """After an edit of the English, the catalogues are out of date until `python3 book.py translate` is run (and
    then the new and changed messages are untranslated or fuzzy: the next test fails until they are settled)."""
    pots = {path.relative_to(english_messages).with_suffix("").as_posix(): path
            for path in english_messages.rglob("*.pot")}
    pos = {path.relative_to(translations.LOCALES / EDITION / "LC_MESSAGES").with_suffix("").as_posix(): path
           for path in translations.catalogues(EDITION)}
    assert sorted(pos) == sorted(pots), "run python3 book.py translate: pages were added or removed"
    stale = {name: sorted(_ids(pots[name]) - _ids(pos[name]))[:3] for name in pots if _ids(pots[name]) - _ids(pos[name])}
    assert not stale, f"run python3 book.py translate, then translate what it marks: English not in the catalogues: {stale}"


def test_every_message_is_translated_settled_and_consistent():
    """No message untranslated or fuzzy; every formula, code span, reference and glued number kept; the glossary's
    terms used (tests/translations.py; the same check a translator runs)."""
    found = [f"{path.relative_to(ROOT)}: {problem}" for path in translations.catalogues(EDITION)
             for problem in translations.problems(path)]
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:40])


def _translated(path: Path):
    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    return catalogue, [m for m in catalogue if m.id and m.string and translations.needs_translation(m.id)]


def _problems_after(tmp_path, catalogue) -> list[str]:
    broken = tmp_path / "broken.po"
    with open(broken, "wb") as handle:
        write_po(handle, catalogue)
    return translations.problems(broken)


def test_the_checker_catches_each_kind_of_slip(tmp_path):
    """Each slip made once on purpose in a translated catalogue: the check names it."""
    source = translations.LOCALES / EDITION / "LC_MESSAGES" / "chapters" / "gradient_w.po"
    catalogue, done = _translated(source)
    assert done, "gradient_w is not translated yet"
    assert not _problems_after(tmp_path, catalogue)
    slips = {
        "untranslated": lambda m: setattr(m, "string", ""),
        "fuzzy": lambda m: m.flags.add("fuzzy"),
        "formulas, code or references differ": lambda m: setattr(m, "string", m.string.replace("$X^\\top G$",
                                                                                                  "$G^\\top X$")),
        "(glossary)": lambda m: setattr(m, "string", m.string.replace("梯度", "斜率")),
    }
    targets = {
        "untranslated": done[0], "fuzzy": done[0],
        "formulas, code or references differ": next(m for m in done if "$X^\\top G$" in m.string),
        "(glossary)": next(m for m in done if "梯度" in m.string and re.search(r"\bgradient", m.id)),
    }
    for name, slip in slips.items():
        catalogue, _ = _translated(source)
        target = next(m for m in catalogue if m.id == targets[name].id)
        slip(target)
        found = _problems_after(tmp_path, catalogue)
        assert any(name in problem for problem in found), (name, found)


def test_a_translation_may_paste_its_own_glued_words_and_nothing_else():
    """A glued phrase has words: the translation pastes `key_zh_CN` (relugrad.notebook.glue_words) where the English
    pastes `key`; any other key, or a glued number swapped, is a changed reference."""
    english = "agree {glue:text}`/notebooks/07_bias.ipynb::db_agreement:s` at {glue:text}`size:d`"
    same = ["一致（{glue:text}`/notebooks/07_bias.ipynb::db_agreement_zh_CN:s`），规模 {glue:text}`size:d`",
            "一致（{glue:text}`/notebooks/07_bias.ipynb::db_agreement:s`），规模 {glue:text}`size:d`"]
    changed = ["一致（{glue:text}`/notebooks/07_bias.ipynb::ce_agreement_zh_CN:s`），规模 {glue:text}`size:d`",
               "一致（{glue:text}`/notebooks/07_bias.ipynb::db_agreement_zh_TW:s`），规模 {glue:text}`size:d`",
               "一致，规模 {glue:text}`size:d`"]
    for translation in same:
        assert translations.kept_spans(translations.as_written_once(translation)) == translations.kept_spans(english)
    for translation in changed:
        assert translations.kept_spans(translations.as_written_once(translation)) != translations.kept_spans(english)


def test_the_editions_a_build_makes(tmp_path, monkeypatch):
    """Every translation with catalogues, beside the English; BOOK_EDITIONS=en builds the English alone (the benchmark
    times both); a book without catalogues has no other edition; a setting that names no edition is an error."""
    monkeypatch.delenv("BOOK_EDITIONS", raising=False)
    assert editions.built(ROOT) == ["en", EDITION]
    assert editions.built(tmp_path) == ["en"]
    monkeypatch.setenv("BOOK_EDITIONS", "en")
    assert editions.built(ROOT) == ["en"]
    monkeypatch.setenv("BOOK_EDITIONS", f"en, {EDITION}")
    assert editions.built(ROOT) == ["en", EDITION]
    for wrong in ("fr", EDITION, "en,fr"):
        monkeypatch.setenv("BOOK_EDITIONS", wrong)
        with pytest.raises(SystemExit, match="BOOK_EDITIONS"):
            editions.built(ROOT)


def test_an_edited_english_paragraph_leaves_its_translation_fuzzy(tmp_path, english_messages):
    """The author's one command after an edit (book.py translate runs sphinx-intl update): the changed paragraph's
    old translation is kept for the translator but marked fuzzy, so the checks fail until it is settled."""
    pot_folder = tmp_path / "pot"
    shutil.copytree(english_messages, pot_folder)
    locales = tmp_path / "locales"
    shutil.copytree(translations.LOCALES, locales, ignore=shutil.ignore_patterns("*.mo"))
    pot = pot_folder / "chapters" / "gradient_y.pot"
    with open(pot, "rb") as handle:
        template = read_po(handle)
    message = next(m for m in template if m.id and len(m.id) > 80 and translations.needs_translation(m.id))
    edited = message.id.replace(" the ", " this ", 1)
    assert edited != message.id
    template.delete(message.id)
    template.add(edited, locations=message.locations)
    with open(pot, "wb") as handle:
        write_po(handle, template)
    subprocess.run([Path(sys.executable).parent / "sphinx-intl", "update", "-p", pot_folder, "-d", locales,
                    "-l", EDITION, "-w", "0"], check=True, capture_output=True, timeout=300)
    updated = locales / EDITION / "LC_MESSAGES" / "chapters" / "gradient_y.po"
    assert any("fuzzy" in problem for problem in translations.problems(updated)), translations.problems(updated)


def test_the_glossary_is_the_one_the_translations_use():
    terms = dict(translations.glossary())
    for english, chinese in (("gradient", "梯度"), ("Jacobian", "雅可比"), ("chain rule", "链式法则"), ("mask", "掩码"),
                             ("backpropagation", "反向传播"), ("finite difference", "有限差分")):
        assert terms.get(english) == chinese, english


# --- the built edition --------------------------------------------------------------------------------------------

def _main_text(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    main = re.search(r"<main[^>]*>(.*)</main>", text, re.S)
    return main.group(1) if main else text


def _tex(html: str) -> list[str]:
    return [" ".join(html_lib.unescape(t).split())   # (a translation may join a formula's lines)
            for t in re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', html, re.S)]


def _code(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", block) for block in re.findall(r"<pre[^>]*>(.*?)</pre>", html, re.S)]


def test_every_page_is_in_chinese_with_the_same_mathematics_and_code(html_root):
    """Each Chinese page is in Chinese (its lang too), and shows exactly the English page's formulas and the same
    code: they are written once."""
    english = [page for page in site_pages(html_root) if page not in ("genindex.html", "search.html")]
    assert len(english) >= 30
    problems = []
    for page in english:
        zh_page = html_root / EDITION / page
        zh = zh_page.read_text(encoding="utf-8")
        assert '<html lang="zh-CN"' in zh, page
        en_main, zh_main = _main_text(html_root / page), _main_text(zh_page)
        prose = re.sub(r'<div class="citation" .*?</div>', " ", zh_main, flags=re.S)   # (the references are as published)
        words = re.sub(r"<[^>]+>|\$[^$]*\$", " ", re.sub(r"<(script|style|math|pre)\b.*?</\1>", " ", prose, flags=re.S))
        chinese, latin = len(CJK.findall(words)), len(re.findall(r"[A-Za-z]{3,}", words))
        if chinese < 2 * latin:
            problems.append(f"{page}: {chinese} Chinese characters against {latin} English words")
        if sorted(_tex(zh_main)) != sorted(_tex(en_main)):   # (Chinese may order a sentence's formulas otherwise)
            problems.append(f"{page}: formulas differ from the English page's")
        if _code(zh_main) != _code(en_main):
            problems.append(f"{page}: code differs from the English page's")
    assert not problems, "\n".join(problems)


def _switcher(page: Path) -> list[tuple[str, str]]:
    return re.findall(r'<a class="btn btn-sm book-edition" href="([^"]+)" hreflang="([^"]+)"', page.read_text())


def test_glued_words_are_in_chinese_on_chinese_pages(html_root):
    """A glued phrase (relugrad.notebook.glue_words: "bit for bit", "slower than autograd at ...", the machine's
    threads) reads in the page's language; glued numbers, versions and a processor's name have no words to translate."""
    english_words = re.compile(r"(?<![\w+.(-])[a-z]{2,}(?![\w)])")   # "thread", "to"; not "2.13.0+cpu" nor "(R)"
    pasted = {page: re.findall(r'<span class="pasted-text">(.*?)</span>', (html_root / EDITION / page).read_text())
              for page in site_pages(html_root)}
    assert sum(map(len, pasted.values())) >= 100, "the Chinese pages paste the notebooks' numbers"
    names = {"autograd"}   # a library's name stays in Latin script
    english = {page: [t for t in texts if set(english_words.findall(t)) - names] for page, texts in pasted.items()}
    english = {page: texts for page, texts in english.items() if texts}
    assert not english, english
    words = [t for texts in pasted.values() for t in texts if CJK.search(t)]
    assert len(words) >= 10, words   # the phrases are there, in Chinese


def test_the_switcher_opens_the_same_page_in_the_other_edition(html_root):
    """On every page, in both editions: one link, to the same page in the other language, by a relative path (so it
    works from disk), which exists."""
    for page in site_pages(html_root):
        for here, there, lang in ((html_root / page, html_root / EDITION / page, "zh-CN"),
                                  (html_root / EDITION / page, html_root / page, "en")):
            links = _switcher(here)
            assert len(links) == 1 and links[0][1] == lang, (here, links)
            target = (here.parent / links[0][0]).resolve()
            assert target == there.resolve() and target.exists(), (here, links, target)


def test_the_switcher_works_by_keyboard_from_disk(html_root):
    """From file://, a keyboard user reaches the switcher by Tab, hears its name, and Enter opens the same page in
    the other language; and back."""
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto((html_root / "chapters" / "gradient_w.html").as_uri())
        for expected in (f"/{EDITION}/chapters/gradient_w.html", "/html/chapters/gradient_w.html"):
            for _ in range(60):
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.classList.contains('book-edition')"):
                    break
            else:
                pytest.fail(f"Tab never reached the language switcher on {page.url}")
            name = page.evaluate("document.activeElement.getAttribute('aria-label')")
            assert name and ("中文" in name or "English" in name), name
            page.keyboard.press("Enter")
            page.wait_for_url(f"**{expected}")
        context.close()


def test_chinese_words_are_searchable(html_root):
    """Sphinx splits the Chinese text into words (jieba), so that a search for a word, not a character, finds it."""
    import json

    text = (html_root / EDITION / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(text[text.index("(") + 1:text.rindex(")")])["terms"]
    for word in ("梯度", "掩码", "链式法则"):
        assert word in terms, word
    words = [term for term in terms if len(term) > 1 and all(CJK.match(c) for c in term)]
    assert len(words) > 300, f"{len(words)} Chinese words: the index is split into characters, not words"


def test_chinese_text_is_drawn_in_a_chinese_font(html_root):
    """No boxes: Chromium draws the Chinese of a page with a font that has the characters (the reader's system font;
    here Debian's Noto CJK), as it reports for the glyphs of a paragraph."""
    with chromium() as browser:
        page = browser.new_page()
        page.goto((html_root / EDITION / "chapters" / "gradient_w.html").as_uri())
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "main section > p"})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        text = page.inner_text("main section > p")
    chinese = len(CJK.findall(text))
    drawn = sum(font["glyphCount"] for font in fonts if "CJK" in font["familyName"])
    assert chinese > 20 and drawn >= chinese, (chinese, fonts)


def test_the_chinese_pdf_prints_chinese_in_a_chinese_font(html_root):
    """The Chinese edition's whole-book PDF: Chinese text (not boxes) in an embedded CJK font, whose text a reader
    copies or searches as written."""
    import pypdf

    reader = pypdf.PdfReader(html_root / EDITION / "book.pdf")
    assert len(reader.pages) > 100
    text = "".join(reader.pages[index].extract_text() for index in range(5, 25))
    assert len(CJK.findall(text)) > 2000, text[:500]
    fonts = set()   # Chromium embeds a Chinese font as Type 3: its name is in the descriptor's /FontFamily
    for page in reader.pages[5:25]:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            fonts.add(str(font.get("/BaseFont") or (descriptor.get_object().get("/FontFamily") if descriptor else "")))
    assert any("CJK" in font for font in fonts), fonts
    # what a reader copies or searches: the characters, not the radicals whose glyphs the font shares with them
    # (Chromium names 用 by ⽤ U+2F64; book_pdf.characters_not_radicals mends each font's map)
    whole = "".join(page.extract_text() for page in reader.pages)
    radicals = sorted(set(re.findall(r"[\u2e80-\u2fdf]", whole)))
    assert not radicals, f"the PDF's text has radicals for characters: {radicals}"
    assert "用" in whole and "页" in whole


PERSONAL = re.compile(r"学号|姓名|student (?:number|id)\b|matriculation", re.I)


def test_no_personal_data_of_the_homework_in_either_edition(html_root):
    """The homework the book began as had its author's name and student number on it: neither edition, nor any
    catalogue, carries a field for them."""
    sources = [*translations.catalogues(EDITION), *(ROOT / "chapters").rglob("*.md"), *(ROOT / "notebooks").glob("*.ipynb")]
    pages = [*(html_root).rglob("*.html")]
    found = [str(path) for path in sources + pages if PERSONAL.search(path.read_text(encoding="utf-8"))]
    assert not found, found
