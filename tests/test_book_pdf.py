"""The whole-book PDF: printed offline from the site at every build, linked from every page, nothing lost on paper
(every explanation of every derivation step, every sentence of every chapter), not reprinted when nothing changed, and a
build without Chromium that says so and links to no PDF."""

import html
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import book_pdf  # noqa: E402  (the book's extension modules live in _ext/)

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
PDF = "book.pdf"


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


# Chromium's PDF names some Chinese characters by radicals: NFKC turns the Kangxi radicals back into characters, and
# the book's own table (_ext/book_pdf.py, which mends the book's PDF) the simplified radicals.
SIMPLIFIED_RADICALS = book_pdf.SIMPLIFIED_RADICALS


def squeeze(text: str) -> str:
    """Text compared without its spacing: a PDF's text has line breaks where the page had spaces."""
    text = unicodedata.normalize("NFKC", text.translate(SIMPLIFIED_RADICALS))
    text = text.translate(str.maketrans("‘’“”", "''\"\""))   # TeX's ' prints as ’
    text = "".join(c for c in text if unicodedata.category(c) != "Co")   # icon glyphs (the theme's GitHub mark)
    return re.sub(r"\s+", "", text)


def part_captions(root: Path) -> set[str]:
    """The parts' captions in an edition's language, as its pages' sidebar shows them."""
    sidebar = (root / "chapters" / "gradient_w.html").read_text(encoding="utf-8")
    return {html.unescape(caption) for caption in re.findall(r'<span class="caption-text">([^<]*)</span>', sidebar)}


def chapter_bookmarks(reader, captions: set[str] | None = None) -> list:
    """The bookmarks of the pages of the table of contents: the top level's, and those under a part's bookmark
    (the outline nests part, chapter, section: tests/test_book_pdf_structure.py); `captions`, the parts' (English
    by default)."""
    if captions is None:
        captions = {part["caption"] for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]}
    found, items = [], list(reader.outline)
    for item, after in zip(items, items[1:] + [None]):
        if isinstance(item, list):
            continue
        if item.title in captions and isinstance(after, list):
            found += [child for child in after if not isinstance(child, list)]
        else:
            found.append(item)
    return found


@pytest.fixture(scope="module", params=["en", "zh_CN"])
def pdf_text(html_root, request) -> dict:
    """Each edition's PDF's text per chapter (found by the PDF's bookmarks), read twice: in the order it was drawn,
    and line by line as laid out on the page. The first can move inline formulas away from their sentence, the
    second interleaves the columns of a table whose cells wrap; a sentence cut on paper is in neither. With the
    edition's pages ("root"), which the tests compare it with."""
    root = html_root / ("" if request.param == "en" else request.param)
    reader = pypdf.PdfReader(root / PDF)
    chapters = chapter_bookmarks(reader, part_captions(root))
    starts = [reader.get_destination_page_number(item) for item in chapters]
    heads = {page: squeeze(item.title) for item, page in zip(chapters, starts)}

    def body(i, text):
        """A page's text without its running head (its chapter's title) and its page number, which would split a
        sentence that runs on to the next page."""
        text = squeeze(text)
        text = text[:-len(str(i + 1))] if text.endswith(str(i + 1)) else text
        head = heads[max((s for s in starts if s <= i), default=starts[0])]
        return text.replace(head, "", 1)

    drawn = [body(i, page.extract_text()) for i, page in enumerate(reader.pages)]
    laid_out = [body(i, without_stray_scripts(page.extract_text(extraction_mode="layout")))
                for i, page in enumerate(reader.pages)]
    spans = list(zip(starts, starts[1:] + [len(reader.pages)]))
    return {"reader": reader, "root": root, "edition": request.param,
            "chapters": ["".join(drawn[a:b]) + "\n" + "".join(laid_out[a:b]) for a, b in spans]}


def without_stray_scripts(text: str) -> str:
    """Laid-out text without the lines that hold only a formula's sub- or superscript (one or two characters): set
    below its line, a subscript such as the ℓ of G_ℓ on a page's last line would join the next page's first words."""
    return "\n".join(line for line in text.splitlines() if len(line.strip()) > 2)


class _Explanations(HTMLParser):
    """The text of each derivation step's explanation (_ext/derivation.py), without its formulas."""

    def __init__(self):
        super().__init__()
        self.depth, self.inside, self.math, self.texts = 0, None, None, []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self.depth += 1
        classes = (dict(attrs).get("class") or "").split()
        if "derivation-why" in classes:
            self.inside = self.depth
            self.texts.append([])
        elif self.inside and self.math is None and "katex" in classes:
            self.math = self.depth
            self.texts[-1].append("\n")   # a formula splits the explanation into runs of words

    def handle_endtag(self, tag):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        if self.math == self.depth:
            self.math = None
        if self.inside == self.depth:
            self.inside = None
        self.depth -= 1

    def handle_data(self, data):
        if self.inside and self.math is None:
            self.texts[-1].append(data)


def word_count(text: str) -> int:
    """Words of English, and of Chinese, which has no spaces: about one word per two characters."""
    return len(re.findall(r"[A-Za-z]{2,}", text)) + len(re.findall(r"[\u4e00-\u9fff]", text)) // 2


def derivation_explanations(page_html: str) -> list[str]:
    """The explanations beside derivation steps, as runs of at least two words between their formulas."""
    parser = _Explanations()
    parser.feed(page_html)
    return [run.strip() for text in parser.texts for run in "".join(text).split("\n")
            if word_count(run) >= 2]


class _Prose(HTMLParser):
    """Runs of the article's own text between formulas, of at least four words (a sentence's worth)."""

    SKIP = ("katex", "headerlink", "onlyprint", "copybtn")

    def __init__(self):
        super().__init__()
        self.depth, self.article, self.skipping, self.run, self.runs = 0, None, None, [], []

    def _flush(self):
        text = " ".join("".join(self.run).split())
        if word_count(text) >= 4:
            self.runs.append(text)
        self.run = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self.depth += 1
        classes = (dict(attrs).get("class") or "").split()
        if tag == "article" and "bd-article" in classes:
            self.article = self.depth
        if self.article and self.skipping is None and (any(c in self.SKIP for c in classes) or tag in ("script", "style", "pre")):
            self._flush()
            self.skipping = self.depth
        if tag in ("p", "li", "td", "th", "dd", "dt", "div", "h1", "h2", "h3", "figcaption") and self.skipping is None:
            self._flush()

    def handle_endtag(self, tag):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        if self.skipping == self.depth:
            self.skipping = None
        if self.article == self.depth:
            self._flush()
            self.article = None
        self.depth -= 1

    def handle_data(self, data):
        if self.article and self.skipping is None:
            self.run.append(data)


def prose_runs(page_html: str) -> list[str]:
    parser = _Prose()
    parser.feed(page_html)
    return parser.runs


def test_pdf_follows_the_table_of_contents(pdf_text):
    """One bookmark per page of the table of contents, in its order, each at that page's title."""
    reader = pdf_text["reader"]
    titles = [item.title for item in chapter_bookmarks(reader, part_captions(pdf_text["root"]))]
    assert len(titles) == len(toc_pages())
    for title, doc in zip(titles, toc_pages()):
        h1 = re.search(r"<h1>(.*?)<a class=\"headerlink\"", (pdf_text["root"] / f"{doc}.html").read_text(), flags=re.S)
        assert h1 and squeeze(title)[:12] in squeeze(re.sub(r"<annotation.*?</annotation>|<[^>]+>", "", h1.group(1))), \
            (title, doc)
    # the book's title in the edition's language, as each page's <title> ends
    page_title = re.search(r"<title>(.*?)</title>", (pdf_text["root"] / "chapters/gradient_w.html").read_text())
    assert reader.metadata.title == html.unescape(page_title.group(1)).split(" — ")[-1].strip()
    assert pdf_text["edition"] != "en" or reader.metadata.title == "Gradients of one ReLU layer"


def test_pdf_keeps_every_derivation_annotation(pdf_text):
    """Every explanation written beside a derivation step is in the PDF, whole, in its own chapter."""
    checked, missing = 0, []
    for doc, text in zip(toc_pages(), pdf_text["chapters"]):
        for phrase in derivation_explanations((pdf_text["root"] / f"{doc}.html").read_text()):
            checked += 1
            if squeeze(phrase) not in text:
                missing.append(f"{doc}: {phrase}")
    assert checked >= 20, checked
    assert not missing, missing


def on_paper(run: str, text: str) -> bool:
    """Whether a squeezed run of prose is in a chapter's text: whole, or in two pieces where a page break splits it
    and the PDF draws the page's other boxes (an admonition's title, the page number) between them. A line cut on
    paper loses characters, so neither reading has both pieces."""
    if run in text:
        return True
    return any(run[:k] in text and run[k:] in text for k in range(6, len(run) - 5))


def test_pdf_keeps_every_sentence(pdf_text):
    """Nothing of the text is cut on paper: every run of prose between formulas of every page is in the PDF."""
    checked, missing = 0, []
    for doc, text in zip(toc_pages(), pdf_text["chapters"]):
        for run in prose_runs((pdf_text["root"] / f"{doc}.html").read_text()):
            checked += 1
            if not on_paper(squeeze(run), text):
                missing.append(f"{doc}: {run}")
    assert checked >= 200, checked
    assert not missing, f"{len(missing)} of {checked}: {missing[:10]}"


def code_lines(page_html: str) -> list[str]:
    """Every line of the article's code and text output (notebook cells, code blocks) with some substance."""
    article = page_html[page_html.index('<article class="bd-article"'):page_html.index("</article>")]
    lines = []
    for block in re.findall(r"<pre[^>]*>(.*?)</pre>", article, flags=re.S):
        text = html.unescape(re.sub(r"<[^>]+>", "", block))
        lines += [line for line in text.splitlines() if len(squeeze(line)) >= 8]
    return lines


def test_pdf_keeps_every_line_of_code(pdf_text):
    """Long code lines wrap on paper: every line, to its last character, is in the PDF."""
    checked, missing = 0, []
    for doc, text in zip(toc_pages(), pdf_text["chapters"]):
        for line in code_lines((pdf_text["root"] / f"{doc}.html").read_text()):
            checked += 1
            if squeeze(line) not in text:
                missing.append(f"{doc}: {line}")
    assert checked >= 300, checked
    assert not missing, f"{len(missing)} of {checked}: {missing[:10]}"


def test_every_page_links_to_the_pdf(html_root):
    for doc in toc_pages():
        page = (html_root / f"{doc}.html").read_text()
        links = re.findall(r'href="([^"]*book\.pdf)"', page)
        assert links, f"{doc} has no link to the PDF"
        assert all((html_root / doc).parent.joinpath(link).resolve() == (html_root / PDF).resolve() for link in links)


def _build(project: Path, env=None) -> str:
    result = subprocess.run([JUPYTER_BOOK, "build", project, "--warningiserror", "--nitpick", "--keep-going"],
                            cwd=project, capture_output=True, text=True, env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return log


def test_a_no_op_rebuild_does_not_reprint(html_root):
    pdf = html_root / PDF
    before = pdf.stat().st_mtime_ns
    log = _build(ROOT)
    assert "whole-book PDF: book.pdf is up to date" in log, log[-2000:]
    assert pdf.stat().st_mtime_ns == before


def test_a_build_without_chromium_says_so_and_links_no_pdf(html_root, tmp_path):
    """A laptop without Chromium: the build succeeds, says why there is no PDF, and no page links to one."""
    project = tmp_path / "book"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "*.egg-info",
                                                                 ".pytest_cache", ".hypothesis"))
    # The executed notebooks of this session's build: the copy reads them from the cache instead of running them.
    shutil.copytree(ROOT / "_build" / ".jupyter_cache", project / "_build" / ".jupyter_cache")
    log = _build(project, env={**os.environ, "BOOK_CHROMIUM": str(tmp_path / "no-chromium")})
    assert f"whole-book PDF: not made, no Chromium at {tmp_path / 'no-chromium'}" in log, log[-2000:]
    built = project / "_build" / "html"
    assert not (built / PDF).exists()
    linking = [p.name for p in built.rglob("*.html") if "book.pdf" in p.read_text()]
    assert not linking, linking


def test_a_changed_chapter_is_reprinted_alone(tmp_path):
    """Pages are printed once and kept: after a change to one chapter, only that chapter is printed again, and the
    PDF says what the chapter now says."""
    from pypdf import PdfReader
    from scratch_book import build, make_book

    book = make_book(tmp_path / "book", {"index.md": "# Start\n\nThe opening page.\n",
                                         "second.md": "# Second\n\nThe old sentence.\n"})
    code, log = build(book)
    assert code == 0 and "printing 2 of 2 pages" in log, log[-3000:]
    (book / "second.md").write_text("# Second\n\nThe new sentence.\n")
    code, log = build(book)
    assert code == 0 and "printing 1 of 2 pages" in log, log[-3000:]
    text = " ".join(page.extract_text() for page in PdfReader(book / "_build" / "html" / PDF).pages)
    assert "The new sentence." in text and "The old sentence." not in text and "The opening page." in text


def test_a_pdf_changed_by_hand_is_printed_again(tmp_path):
    """The PDF counts as up to date only as it was made: one changed (or truncated) since is made again."""
    from pypdf import PdfReader
    from scratch_book import build, make_book

    book = make_book(tmp_path / "book", {"index.md": "# Start\n\nThe opening page.\n", "second.md": "# Second\n"})
    assert build(book)[0] == 0
    target = book / "_build" / "html" / PDF
    made = target.read_bytes()
    target.write_bytes(made[: len(made) // 2])
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert target.read_bytes() == made, "a half-written book.pdf was taken to be up to date"
    assert "The opening page." in " ".join(page.extract_text() for page in PdfReader(target).pages)
