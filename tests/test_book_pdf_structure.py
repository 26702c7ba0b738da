"""The whole-book PDF as a printed book: a title page (title, licences, version, read from the sources), a contents
page with the page each chapter starts on, every later page numbered (printed at its foot and as a page label) and
headed by its chapter's title, links between pages that land on the right page, nested bookmarks (part, chapter,
section) in the order of _toc.yml, and no equation number alone at the top of a page."""

import re
import tomllib
import unicodedata
from pathlib import Path

import pypdf
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MARGIN = 16 / 25.4 * 72   # the paper's top and bottom margin (_ext/book_pdf.py), in PDF points


def squeeze(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(str.maketrans("‘’“”", "''\"\""))
    return re.sub(r"\s+", "", text)


def toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def h1(html_root: Path, doc: str) -> str:
    """A page's title as the site shows it (its text, without the math's TeX source)."""
    page = (html_root / f"{doc}.html").read_text()
    article = page[page.index('<article class="bd-article"'):]
    found = re.search(r"<h1[^>]*>(.*?)<a class=\"headerlink\"", article, flags=re.S)
    return " ".join(re.sub(r"<math.*?</math>|<[^>]+>", "", found.group(1), flags=re.S).split())


def margin_text(page, top: bool) -> str:
    """The text a page has in its top (running head) or bottom (page number) margin."""
    height = float(page.mediabox.height)
    found = []

    def visit(text, cm, tm, font, size):
        y = pypdf.mult(tm, cm)[5]
        if (y > height - MARGIN) if top else (0 < y < MARGIN):
            found.append(text)

    page.extract_text(visitor_text=visit)
    return "".join(found).strip()


@pytest.fixture(scope="module")
def book(html_root) -> dict:
    reader = pypdf.PdfReader(html_root / "book.pdf")
    pages = [page.extract_text() for page in reader.pages]
    heads = [margin_text(page, top=True) for page in reader.pages]
    feet = [margin_text(page, top=False) for page in reader.pages]
    chapters = [toc()["root"]] + [chapter["file"] for part in toc()["parts"] for chapter in part["chapters"]]
    titles = {doc: h1(html_root, doc) for doc in chapters}
    # Where each chapter really starts: the first page headed by its title that shows its title in the text.
    starts = {}
    for doc in chapters:
        starts[doc] = next((i for i in range(1, len(pages)) if squeeze(heads[i]) == squeeze(titles[doc])
                            and squeeze(titles[doc]) in squeeze(pages[i]).replace(squeeze(heads[i]), "", 1)), None)
    return {"reader": reader, "pages": pages, "heads": heads, "feet": feet, "chapters": chapters, "titles": titles,
            "starts": starts}


def test_page_one_is_a_title_page_with_title_licence_and_version(book):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    licence = (ROOT / "LICENSE-TEXT").read_text().split("\n\n")[0]
    first = squeeze(book["pages"][0])
    assert squeeze(config["title"]) in first and squeeze(config["author"]) in first, book["pages"][0]
    assert "CC BY 4.0" in book["pages"][0] and squeeze(licence) in first, book["pages"][0]
    assert "MIT License" in book["pages"][0], book["pages"][0]
    assert f"version{version}" in first.lower(), book["pages"][0]
    # A title page, not the first page of a chapter: no running head, no chapter text.
    assert not book["heads"][0] and len(book["pages"][0]) < 1500, book["pages"][0]


def test_the_contents_give_the_page_each_chapter_starts_on(book):
    contents = [i for i in range(1, 6) if "Contents" in book["pages"][i]]
    assert contents, "no contents page among pages 2 to 6"
    listed = {}
    for i in contents:
        for line in book["reader"].pages[i].extract_text(extraction_mode="layout").splitlines():
            found = re.match(r"\s*(.*?\S)\s+(\d+)\s*$", line)
            if found:
                listed[squeeze(found.group(1))] = int(found.group(2))
    for caption in (part["caption"] for part in toc()["parts"]):
        assert any(caption in book["pages"][i] for i in contents), caption
    wrong = []
    for doc in book["chapters"]:
        start = book["starts"][doc]
        assert start is not None, f"no page starts {doc} ({book['titles'][doc]})"
        if listed.get(squeeze(book["titles"][doc])) != start + 1:
            wrong.append((doc, listed.get(squeeze(book["titles"][doc])), start + 1))
    assert not wrong, f"(chapter, page in the contents, page it starts on): {wrong}"


def test_every_page_after_the_title_has_its_number_and_its_chapter(book):
    reader = book["reader"]
    labels = list(reader.page_labels)
    assert labels == [str(i + 1) for i in range(len(reader.pages))], labels[:10]
    wrong = [(i + 1, foot) for i, foot in enumerate(book["feet"]) if i and foot != str(i + 1)]
    assert not wrong, f"(page, number printed at its foot): {wrong[:10]}"
    # The running head names the chapter the page belongs to.
    order = sorted((start, doc) for doc, start in book["starts"].items())
    for (start, doc), (end, _) in zip(order, order[1:] + [(len(reader.pages), None)]):
        heads = {squeeze(head) for head in book["heads"][start:end]}
        assert heads == {squeeze(book["titles"][doc])}, (doc, heads)


def _links(reader, pages: range) -> list[int]:
    """The pages that the links on the given pages lead to, inside the PDF."""
    number = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}
    found = []
    for i in pages:
        for annotation in reader.pages[i].get("/Annots") or []:
            link = annotation.get_object()
            action = link.get("/A")
            goal = link.get("/Dest") if action is None else action.get_object().get("/D")
            if isinstance(goal, pypdf.generic.ArrayObject) and goal:
                found.append(number.get(goal[0].idnum))
    return found


@pytest.mark.parametrize("doc", ["chapters/gradient_w", "chapters/summary", "chapters/beyond/bias"])
def test_equation_and_chapter_references_are_links_to_their_page(book, html_root, doc):
    reader, starts = book["reader"], book["starts"]
    assert None not in starts.values(), f"chapters whose first page was not found: {starts}"
    order = sorted(starts.values())
    span = lambda d: range(starts[d], next((s for s in order if s > starts[d]), len(reader.pages)))   # noqa: E731
    links = _links(reader, span(doc))
    page_html = (html_root / f"{doc}.html").read_text()
    article = page_html[page_html.index('<article class="bd-article"'):page_html.index("</article>")]
    checked, wrong = 0, []
    for href in sorted(set(re.findall(r'<a class="reference internal" href="([^"]*)"', article))):
        path, _, anchor = href.partition("#")
        target = str((html_root / doc).parent.joinpath(path or Path(doc).name + ".html").resolve()
                     .relative_to(html_root.resolve()))[:-len(".html")]
        if target not in starts:
            continue
        if not anchor:   # {doc}: the chapter's first page
            expected = {starts[target]}
        elif anchor.startswith("equation-"):   # {eq}: the page that shows the equation's number
            html = (html_root / f"{target}.html").read_text()
            number = re.search(rf'id="{re.escape(anchor)}"[^>]*>.*?class="eqno">(\(\d+\))', html, flags=re.S)
            expected = {i for i in span(target) if number.group(1) in book["pages"][i]}
        else:
            continue
        checked += 1
        if not expected & set(links):
            wrong.append((href, sorted(expected)))
    assert checked >= 3, checked
    assert not wrong, f"references with no link to their page (href, the right pages): {wrong}"


def _outline(reader, items) -> list:
    """The bookmarks as (title, page, children)."""
    tree = []
    for item in items:
        if isinstance(item, list):
            tree[-1] = (tree[-1][0], tree[-1][1], _outline(reader, item))
        else:
            tree.append((item.title, reader.get_destination_page_number(item), []))
    return tree


def _depth(tree) -> int:
    return 1 + max((_depth(children) for _, _, children in tree), default=0) if tree else 0


def test_bookmarks_nest_parts_chapters_and_sections_in_toc_order(book):
    tree = _outline(book["reader"], book["reader"].outline)
    parts = toc()["parts"]
    assert [title for title, _, _ in tree] == [book["titles"][toc()["root"]]] + [part["caption"] for part in parts]
    assert _depth(tree) >= 3, "bookmarks: part, chapter, section"
    for (caption, page, chapters), part in zip(tree[1:], parts):
        docs = [chapter["file"] for chapter in part["chapters"]]
        assert [squeeze(title) for title, _, _ in chapters] == [squeeze(book["titles"][doc]) for doc in docs], caption
        assert [start for _, start, _ in chapters] == [book["starts"][doc] for doc in docs], caption
        assert page == book["starts"][docs[0]], caption
    sections = [section for _, _, chapters in tree[1:] for _, _, section in chapters]
    assert sum(bool(section) for section in sections) >= 20, "most chapters list their sections"
    for _, _, chapters in tree[1:]:
        for title, start, children in chapters:
            assert all(start <= page for _, page, _ in children), title


def test_no_equation_number_alone_at_the_top_of_a_page(book):
    alone = []
    for i, page in enumerate(book["reader"].pages[1:], start=1):
        lines = [line.strip() for line in page.extract_text(extraction_mode="layout").splitlines() if line.strip()]
        body = lines[1:] if book["heads"][i] else lines
        if body and re.fullmatch(r"\(\d+\)", body[0]):
            alone.append((i + 1, body[:2]))
    assert not alone, alone
