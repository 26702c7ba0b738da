"""The book's own interface in the Chinese edition: every word that the book's extensions (_ext/*.py) and their scripts
put on a page (buttons, labels, tooltips, aria-labels, the explorer's controls) comes from the catalogue
_ext/locales/zh_CN/LC_MESSAGES/book.po, which holds every one of them, translated; the English pages keep the English.

The list of words is the catalogue itself: a message is found on the English pages, and its Chinese edition must show
the translation instead.
"""

import html as html_lib
import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

import translations
from browser import chromium, serve, site_pages, visit
from site_checks import all_pages

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import book_messages  # noqa: E402
import editions  # noqa: E402
import explorer  # noqa: E402
import theme_fixes  # noqa: E402

EDITION = "zh_CN"
CATALOGUE = book_messages.catalogue_path(EDITION)
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")   # str.format's, and the theme's %-style
CJK = re.compile(r"[\u4e00-\u9fff]")
# The scripts' words, each passed through tr() (explorer.js) or bookText() (scrollable.js, book.js): string literals,
# possibly joined with +.
SCRIPT_CALL = re.compile(r'\b(?:tr|bookText)\(\s*((?:"(?:[^"\\]|\\.)*"\s*\+?\s*)+)')
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
SCRIPTS = {"explorer": (["explorer_assets/explorer.js"], explorer.SCRIPT_MESSAGES),
           "theme_fixes": (["offline_book_assets/scrollable.js", "offline_book_assets/book.js"],
                           theme_fixes.SCRIPT_MESSAGES)}


def _catalogue():
    with open(CATALOGUE, "rb") as handle:
        return {message.id: message for message in read_po(handle, locale=EDITION) if message.id}


def _script_words(path: Path) -> set[str]:
    return {"".join(json.loads(literal) for literal in STRING.findall(call.group(1)))
            for call in SCRIPT_CALL.finditer(path.read_text(encoding="utf-8"))}


# --- the catalogue ----------------------------------------------------------------------------------------------

def test_every_interface_message_is_translated_and_consistent():
    """Every message has a translation, settled (not fuzzy), with the same {placeholders}, the formulas, code and
    links kept, and the glossary's terms (the checks of the pages' catalogues, tests/translations.py)."""
    catalogue = _catalogue()
    assert len(catalogue) > 20, f"{CATALOGUE} has lost its messages"
    problems = [f"untranslated: {msgid!r}" for msgid, message in catalogue.items() if not message.string]
    problems += [f"fuzzy: {msgid!r}" for msgid, message in catalogue.items() if message.fuzzy]
    problems += [f"placeholders differ: {msgid!r}" for msgid, message in catalogue.items()
                 if message.string and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(message.string))]
    problems += translations.problems(CATALOGUE)
    assert not problems, "\n".join(problems)


def test_the_catalogue_holds_exactly_the_extensions_words():
    """Every _() and N_() string of _ext/*.py is a message of book.po, and every message of book.po is one of them:
    after editing an extension, python3 book.py translate brings the catalogue up to date. And every word the
    scripts write (tr(...), bookText(...)) is one the Python side translates for them."""
    extracted = {message.id for message in editions.book_template() if message.id}
    held = set(_catalogue())
    assert not extracted - held, f"run python3 book.py translate: not in {CATALOGUE.name}: {sorted(extracted - held)}"
    assert not held - extracted, f"run python3 book.py translate: no longer used: {sorted(held - extracted)}"
    for module, (scripts, messages) in SCRIPTS.items():
        words = set().union(*(_script_words(ROOT / "_ext" / script) for script in scripts))
        assert words, f"no tr()/bookText() found in {scripts}: has the script's lookup been renamed?"
        assert words == set(messages), (f"{scripts} and {module}.SCRIPT_MESSAGES differ: only in the scripts "
                                        f"{sorted(words - set(messages))}, only in Python {sorted(set(messages) - words)}")


def test_the_extraction_finds_a_new_string(tmp_path, monkeypatch):
    """The extraction is able to fail: a new _() string in an extension is a message the catalogue lacks."""
    (tmp_path / "made_up.py").write_text('from sphinx.locale import get_translation\n_ = get_translation("book")\n'
                                         'LABEL = _("A button nobody has translated")\n')
    monkeypatch.setattr(editions, "EXTENSIONS", tmp_path)
    monkeypatch.setattr(editions, "ROOT", tmp_path)
    assert {message.id for message in editions.book_template() if message.id} == {"A button nobody has translated"}


# --- the pages --------------------------------------------------------------------------------------------------

def _shown(page: Path) -> str:
    """What a page shows or reads out: its HTML without scripts and styles, with entities decoded (text and the
    attributes aria-label, title, alt, placeholder are all in it)."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", text, flags=re.S)
    return html_lib.unescape(text)


def _pieces(text: str) -> list[str]:
    """A message's fixed parts: what lies between its placeholders and HTML tags, with words in it."""
    parts = re.split(r"\{\w+\}|<[^>]*>", text)
    return [part.strip() for part in parts if re.search(r"[A-Za-z]{3,}|[\u4e00-\u9fff]", part)]


def _english_pieces(msgid: str, msgstr: str) -> list[str]:
    """The parts of the English that the translation does not keep (it keeps "CC BY 4.0", "LICENSE", "relugrad")."""
    return [piece for piece in _pieces(msgid) if piece not in msgstr]


def _as_shown(message: str) -> re.Pattern:
    """A message as a page shows it: a whole text (between tags) or a whole attribute value, each {placeholder}
    filled with something that is not only letters (a number, a file name, a URL: "Back to {name}" is "Back to
    Exercise 7", never the theme's "Back to top")."""
    filled = '[^<>"]*?[^\\sA-Za-z<>"][^<>"]*?'
    parts = re.split(f"({PLACEHOLDER.pattern})", message)
    body = "".join(filled if PLACEHOLDER.fullmatch(part) else re.escape(part) for part in parts)
    return re.compile(r'(?<=[>"])\s*' + body + r'\s*(?=[<"])')


# The messages printed on paper alone, never on a page of the site: the PDF's title page, and the handout's heading
# and footer (tests/test_slides.py finds them in each edition's handout).
ON_PAPER = {"Contents", "The code: {name} (the file LICENSE).", "Version {version}", "from commit {commit} of {date}",
            "{title}: the card", "{title}, {repository}. {author}; text and figures CC BY 4.0, code MIT."}
# The theme's words that it joins to others in one text (theme_words.py): "Binder logo", "By <author>", "Launch on
# Binder" (its placeholder filled with letters alone). The browser test below finds each of them in Chinese.
JOINED_BY_THE_THEME = {"logo", "The authors of this book", "Launch on {name}"}


def test_chinese_pages_show_the_translations_where_english_pages_show_the_english(html_root):
    """For each message of book.po that an English page shows, its Chinese page shows the translation and not the
    English; the English page gets no translations (no window.BOOK_TEXT), so it shows the English."""
    catalogue = _catalogue()
    script_only = set(explorer.SCRIPT_MESSAGES) | set(theme_fixes.SCRIPT_MESSAGES)
    shown = {msgid: (_as_shown(msgid), _as_shown(message.string)) for msgid, message in catalogue.items()
             if msgid not in script_only | ON_PAPER | JOINED_BY_THE_THEME}
    found, problems = set(), []
    for name in site_pages(html_root):
        english_page, chinese_page = html_root / name, html_root / EDITION / name
        assert "window.BOOK_TEXT = " not in english_page.read_text(encoding="utf-8"), f"{name}: translations in English"
        english = _shown(english_page)
        chinese = _shown(chinese_page) if chinese_page.exists() else ""
        for msgid, (in_english, in_chinese) in shown.items():
            if not in_english.search(english):
                continue
            found.add(msgid)
            if in_english.search(chinese):
                problems.append(f"{EDITION}/{name}: English {in_english.search(chinese).group(0).strip()!r}")
            if not in_chinese.search(chinese):
                problems.append(f"{EDITION}/{name}: no translation of {msgid!r}")
    assert not problems, "\n".join(problems[:30])
    # Each message is checked somewhere (but "Back to the exercise": every exercise of the book has its number).
    assert set(shown) - {"Back to the exercise"} <= found, f"never on an English page: {sorted(set(shown) - found)}"


def test_the_scripts_get_their_words_translated(html_root):
    """Each Chinese page that runs a script with words gets all of them translated (window.BOOK_TEXT); the words the
    script writes are checked in the browser below."""
    catalogue = _catalogue()
    for name, messages in (("chapters/explorer.html", explorer.SCRIPT_MESSAGES),
                           ("chapters/gradient_w.html", theme_fixes.SCRIPT_MESSAGES)):
        page = (html_root / EDITION / name).read_text(encoding="utf-8")
        objects = re.findall(r"window\.BOOK_TEXT = Object\.assign\(window\.BOOK_TEXT \|\| \{\}, (\{.*?\})\);", page)
        text = {}
        for found in objects:
            text.update(json.loads(found.replace("<\\/", "</")))
        missing = [m for m in messages if text.get(m) != catalogue[m].string and catalogue[m].string != m]
        assert not missing, f"{EDITION}/{name}: not translated for its script: {missing}"


EXPLORE = """async () => {
    const root = document.querySelector('.relu-explorer');
    const seen = [];
    const look = () => {
        seen.push(root.innerText);
        root.querySelectorAll('[aria-label],[title],[placeholder],[alt]').forEach(el => {
            for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
                if (el.getAttribute(name)) seen.push(el.getAttribute(name));
            }
        });
        root.querySelectorAll('option').forEach(option => seen.push(option.textContent));
    };
    const preset = root.querySelector('select');
    for (const value of ['small', 'zeros', 'dying', 'homework']) {
        preset.value = value;
        preset.dispatchEvent(new Event('change'));
        look();
        for (const button of root.querySelectorAll('button')) {
            button.click();
            look();
        }
    }
    const one = root.querySelector('input[type=radio][value="1"]');
    one.click();
    look();
    return seen.join('\\n');
}"""


def test_the_explorer_and_the_page_scripts_speak_the_pages_language(html_root):
    """In Chromium: the explorer of the Chinese edition, driven through its examples and buttons (steps taken, units
    dying, exact zeros), shows and reads out no English message of its script, and the English one no Chinese;
    the page script's own words too (a wide equation on a phone, the PDF's solutions heading)."""
    catalogue = _catalogue()
    with serve(html_root) as base, chromium() as browser:
        seen = {}
        for edition in ("", f"{EDITION}/"):
            page, context, _record = visit(browser, base + edition + "chapters/explorer.html", origin=base)
            page.wait_for_selector(".relu-explorer table[data-matrix='G']")
            seen[edition] = page.evaluate(EXPLORE)
            context.close()
        english, chinese = seen[""], seen[f"{EDITION}/"]
        assert not CJK.search(english), "Chinese in the English explorer"
        leftovers = [(piece, msgid) for msgid in explorer.SCRIPT_MESSAGES
                     for piece in _english_pieces(msgid, catalogue[msgid].string) if piece in chinese]
        assert not leftovers, f"English in the Chinese explorer: {leftovers[:10]}"
        shown = [msgid for msgid in explorer.SCRIPT_MESSAGES if all(p in english for p in _pieces(msgid))]
        assert len(shown) >= len(explorer.SCRIPT_MESSAGES) - 3, "the walk through the explorer shows too little"

        for edition, label, heading in (("", "Scrollable equation", "Solutions to the exercises"),
                                        (f"{EDITION}/", catalogue["Scrollable equation"].string,
                                         catalogue["Solutions to the exercises"].string)):
            page, context, _record = visit(browser, base + edition + "chapters/gradient_w.html", origin=base,
                                           viewport=(320, 700))
            labels = page.evaluate("""() => [...document.querySelectorAll('[role=group][tabindex="0"]')]
                                            .map(el => el.getAttribute('aria-label')).filter(Boolean)""")
            assert labels and set(labels) == {label}, (edition, sorted(set(labels))[:5])
            assert page.evaluate("() => window.bookSolutionsToEnd()") > 0
            assert page.locator(".book-print-solutions h2").inner_text() == heading
            context.close()


# --- every interface word, whoever writes it ----------------------------------------------------------------------
#
# The messages above are the book's own. The themes (pydata-sphinx-theme, sphinx-book-theme), Sphinx, sphinx-exercise,
# sphinx-togglebutton and the rest write words of their own, in their templates and their scripts: on a Chinese page
# all of them must be Chinese too. So the browser reads, once every script has run, everything a reader sees or a
# screen reader reads that is not the page's own content (see INTERFACE), and requires it to hold no Latin word but
# those below. A word a theme adds tomorrow is caught the same way.

# Latin words an interface may show in Chinese: names, written so in Chinese too.
LATIN_NAMES = {
    "PDF",                 # the file format (and the book's "全书 .pdf")
    "Binder", "Colab",     # the services the launch buttons open
    "CC", "BY", "MIT",     # the licences' names in the footer ("CC BY 4.0", "MIT")
    "relugrad",            # the book's helper package, named in its download's tooltip
}
LATIN_WORD = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z'’-]+")   # one letter alone is a symbol (X, W)
# A token with a dot before letters is a file or module name (relugrad-1.0.0-py3-none-any.whl, .ipynb, torch.func).
FILE_OR_MODULE = re.compile(r"[\w.+-]*\.[A-Za-z]\w*")
ENDS = " \t\n()（）:：,，。;；、"   # not ".": ".pdf" is a file name


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(ENDS)


def _content_pieces() -> set[str]:
    """The pages' translated prose, in the pieces a page shows between its formulas, code and markup: what a sidebar,
    a breadcrumb or a previous/next link repeats of a page (its title, its headings) is content, not interface."""
    pieces = set()
    for path in translations.catalogues(EDITION):
        if path.parent == translations.LOCALES / EDITION / "LC_MESSAGES":
            continue   # sphinx.po: the words of the book's templates, interface
        for message in translations.messages(path):
            for piece in re.split(translations.KEPT.pattern + r"|\]\([^)]*\)|\*\*|[*\[\]]", message.string or ""):
                if _normal(piece):
                    pieces.add(_normal(piece))
    return pieces


def english_words(seen: list[dict], content: set[str]) -> list[str]:
    """Each interface text that shows a Latin word that is no name, with where it was found."""
    found = []
    for item in seen:
        text = _normal(item["text"])
        if text in content:
            continue
        words = [word for word in LATIN_WORD.findall(FILE_OR_MODULE.sub(" ", text)) if word not in LATIN_NAMES]
        if words:
            found.append(f"{item['where']}: {item['text']!r}")
    return found


def test_the_check_of_the_interface_finds_english(html_root):
    """The check of the pages below is able to fail: English words in a tooltip, a placeholder, a hint drawn by CSS
    and a sidebar's landmark are found; names, file names, code, keys, the content's titles are not."""
    content = {_normal("单个 ReLU 层的梯度")}
    seen = [{"where": "input[placeholder]", "text": "Search this book..."},
            {"where": "button[title]", "text": "Toggle primary sidebar"},
            {"where": "button::after", "text": "Click to show"},
            {"where": "nav[aria-label]", "text": "Main"},
            {"where": "a[title]", "text": "在 Binder 上运行"},
            {"where": "span", "text": "全书 .pdf"},
            {"where": "a[title]", "text": "relugrad，把 relugrad-1.0.0-py3-none-any.whl 保存在笔记本旁边"},
            {"where": "a", "text": "单个 ReLU 层的梯度"}]
    assert [line.split(": ")[0] for line in english_words(seen, content)] == [
        "input[placeholder]", "button[title]", "button::after", "nav[aria-label]"]


def test_chinese_pages_show_no_english_interface_and_english_pages_no_chinese(every_page):
    """On every Chinese page, in Chromium after its scripts have run (the tooltips' copies, the toggles' hints): no
    interface word (text outside the article, its controls, every tooltip, label, placeholder and description, and
    what CSS draws) is English, but names; and each solution's heading repeats its exercise's title as the exercise
    shows it, translated. On every English page the same interface has no Chinese."""
    content = _content_pieces()
    problems = []
    failures, interfaces = every_page   # read in the same visit as the page's other checks (tests/site_checks.py)
    unread = sorted(set(all_pages()) - set(interfaces))
    assert not unread, f"checks failed before the interface was read: {[(p, failures[p, 'light']) for p in unread]}"
    chinese_pages = {name: shown for name, shown in interfaces.items() if name.startswith(f"{EDITION}/")}
    assert len(chinese_pages) > 30, "the Chinese edition has lost its pages"
    checked_solutions = sum(len(solutions) for _seen, solutions in chinese_pages.values())
    assert checked_solutions > 10, "the solutions' headings were not found"
    for name, (seen, solutions) in interfaces.items():
        if name in chinese_pages:
            assert seen, f"{name}: no interface text found: has the theme's layout changed?"
            problems += [f"{name}: {problem}" for problem in english_words(seen, content)]
        else:
            problems += [f"{name}: Chinese {item['where']}: {item['text']!r}"
                         for item in seen if CJK.search(item["text"])]
        problems += [f"{name}: the solution {item['solution']!r} is not of the exercise {item['exercise']!r}"
                     for item in solutions if not item["exercise"] or not item["solution"].endswith(item["exercise"])]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(set(problems))[:60])
