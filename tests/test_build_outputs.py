"""What a build leaves behind can be trusted after a fault: a PDF cache cut short heals by itself, a failed print is a
warning that leaves no broken link, a deleted word leaves the search index, a page's printed output does not depend
on how the kernel split it, and a notebook that never ends is run once and named."""

import os
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import pypdf
import pytest
import yaml
from nbformat import NotebookNode
from sphinx.search import js_index

from scratch_book import ROOT, build, make_book, notebook

sys.path.insert(0, str(ROOT / "_ext"))
import book_pdf  # noqa: E402
import notebook_execution  # noqa: E402

TWO_PAGES = {"index.md": "# Start\n\nThe opening page.\n", "second.md": "# Second\n\nThe second page.\n"}


def _pages_linking_the_pdf(html: Path) -> list[str]:
    return sorted(page.name for page in html.glob("*.html") if 'href="book.pdf"' in page.read_text())


def _pdf_text(pdf: Path) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)


# ------------------------------------------------------------------------------------------------ whole-book PDF
def test_a_cached_page_cut_short_is_printed_again(tmp_path):
    """A build killed while it wrote a page's print used to leave a PDF cut short in the cache, and every later
    build failed with a pypdf traceback until the cache was deleted by hand."""
    book = make_book(tmp_path / "book", TWO_PAGES)
    assert build(book)[0] == 0
    cached = sorted((book / "_build" / ".doctrees" / "book-pdf").glob("*.pdf"))
    assert len(cached) == 2
    for pdf in cached:
        pdf.write_bytes(pdf.read_bytes()[: pdf.stat().st_size // 2])
    (book / "_build" / "html" / "book.pdf").unlink()
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and "cannot be read; printing again" in log, log[-3000:]
    text = _pdf_text(book / "_build" / "html" / "book.pdf")
    assert "The opening page." in text and "The second page." in text


def test_a_failed_print_keeps_the_last_pdf_or_links_to_none(tmp_path):
    """A print that fails is a warning (the build fails), not a traceback; the pages never link to a PDF that is not
    there: the last whole PDF is kept, and without one no page links to it; the next good build heals both."""
    book = make_book(tmp_path / "book", TWO_PAGES)
    html = book / "_build" / "html"
    assert build(book)[0] == 0
    made = (html / "book.pdf").read_bytes()
    (book / "second.md").write_text("# Second\n\nThe changed page.\n")
    broken_printer = {"BOOK_CHROMIUM": "/bin/false"}   # exists, but is no browser: Playwright cannot start it
    code, log = build(book, env=broken_printer)
    assert code != 0 and "Traceback" not in log, log[-3000:]
    assert "whole-book PDF: printing failed" in log and "still the one the last build made" in log, log[-3000:]
    assert (html / "book.pdf").read_bytes() == made
    assert _pages_linking_the_pdf(html) == ["index.html", "second.html"]

    (html / "book.pdf").unlink()
    code, log = build(book, env=broken_printer)
    assert code != 0 and "Traceback" not in log, log[-3000:]
    assert "there is no book.pdf, and no page links to one" in log, log[-3000:]
    assert not (html / "book.pdf").exists() and _pages_linking_the_pdf(html) == []

    code, log = build(book)
    assert code == 0, log[-3000:]
    assert "The changed page." in _pdf_text(html / "book.pdf")
    assert _pages_linking_the_pdf(html) == ["index.html", "second.html"]


def test_a_file_written_atomically_is_old_or_new_never_cut_short(tmp_path, monkeypatch):
    target = tmp_path / "book.pdf"
    target.write_bytes(b"old and whole")
    (tmp_path / ".book.pdf.999.tmp").write_bytes(b"left by a build killed while writing")

    def killed(*_):
        raise KeyboardInterrupt   # the build stopped between writing the new file and putting it in place

    monkeypatch.setattr(book_pdf.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        book_pdf.write_atomically(target, b"new")
    assert target.read_bytes() == b"old and whole"
    assert [path.name for path in tmp_path.iterdir()] == ["book.pdf"], "temporary files were left behind"
    monkeypatch.undo()
    book_pdf.write_atomically(target, b"new")
    assert target.read_bytes() == b"new" and [path.name for path in tmp_path.iterdir()] == ["book.pdf"]


# -------------------------------------------------------------------------------------------------- search index
def _search_index(book: Path) -> dict:
    return js_index.loads((book / "_build" / "html" / "searchindex.js").read_text())


def test_a_word_deleted_from_a_page_leaves_the_search_index(tmp_path):
    """A name or a secret typed into a chapter and deleted must not ship in searchindex.js; the index of an
    incremental build is the index of a clean one."""
    secret = "ZqxSecretWordZqx"
    pages = {"index.md": "# Home\n\nSee {doc}`other`.\n", "other.md": "# Other\n\nA plain page.\n"}
    book = make_book(tmp_path / "book", {**pages, "other.md": f"# Other {secret}\n\nA plain page {secret}.\n"})
    assert build(book)[0] == 0
    assert secret.lower() in _search_index(book)["terms"] and secret.lower() in _search_index(book)["titleterms"]
    (book / "other.md").write_text(pages["other.md"])
    code, log = build(book)
    assert code == 0, log[-3000:]
    assert secret.lower() not in (book / "_build" / "html" / "searchindex.js").read_text().lower()
    clean = make_book(tmp_path / "clean", pages)
    assert build(clean)[0] == 0
    assert _search_index(book) == _search_index(clean)


# ------------------------------------------------------------------------------------------- notebook outputs
def _stream(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name=name, text=text)


def _figure() -> NotebookNode:
    return NotebookNode(output_type="display_data", data={"text/plain": "<Figure>"}, metadata={})


def test_streams_are_merged_the_same_however_the_kernel_split_them():
    as_one = [_stream("stdout", "Total: 12 apples  \nnext line   \n"), _stream("stderr", "a warning  \n"),
              _figure(), _stream("stdout", "after the figure \n")]
    in_pieces = [_stream("stdout", "Total: "), _stream("stdout", "12 apples  "), _stream("stderr", "a warn"),
                 _stream("stdout", "\nnext"), _stream("stderr", "ing  \n"), _stream("stdout", " line   \n"),
                 _figure(), _stream("stdout", "after "), _stream("stdout", "the figure \n")]
    stderr_first = [_stream("stderr", "a warning  \n"), _stream("stdout", "Total: 12 apples  \n"),
                    _stream("stdout", "next line   \n"), _figure(), _stream("stdout", "after the figure \n")]
    merge = notebook_execution.merged_streams
    assert merge(in_pieces) == merge(stderr_first) == merge(as_one) == as_one


def _printed_outputs(page_html: str) -> list[str]:
    """The text of each printed output, as a reader sees it (the per-line spans of _ext/code_lines.py removed)."""
    blocks = re.findall(r'<div class="output stream[^"]*"><div class="highlight"><pre>(.*?)</pre>', page_html, flags=re.S)
    return [unescape(re.sub(r"<[^>]*>", "", block)) for block in blocks]


def test_printing_in_pieces_gives_the_page_of_one_print(tmp_path):
    """The kernel sends what a cell prints in as many messages as timing makes; the page must not depend on it
    (myst-nb strips the trailing blanks of each message, and a message ending mid-line used to break the line)."""
    pieces = ["Total: ", "12 ", "apples  ", "\n", "next", " line   ", "\n", "end  "]
    in_pieces = (f"import time\nfor piece in {pieces!r}:\n    print(piece, end='', flush=True)\n"
                 f"    time.sleep(0.3)")
    as_one = f"print({''.join(pieces)!r}, end='')"
    book = make_book(tmp_path / "book", {"index.md": "# Home\n\nText.\n"},
                     {"pieces.ipynb": notebook(in_pieces), "whole.ipynb": notebook(as_one)})
    code, log = build(book)
    assert code == 0, log[-3000:]
    html = book / "_build" / "html"
    printed = _printed_outputs((html / "pieces.html").read_text())
    assert printed == _printed_outputs((html / "whole.html").read_text())
    assert printed == ["Total: 12 apples  \nnext line   \nend\n"]


# ------------------------------------------------------------------------------------------ a notebook that hangs
def _kernels_in(folder: Path) -> list[str]:
    found = []
    for pid in subprocess.run(["pgrep", "-f", "ipykernel"], capture_output=True, text=True).stdout.split():
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(pid)
        except OSError:
            pass   # it ended meanwhile
    return found


def test_a_notebook_that_never_ends_is_run_once_and_named(tmp_path):
    """It used to be executed twice (ahead, then again by myst-nb): twice the time limit, 20 minutes at the default
    600 s. Now: one run, one message naming the notebook and the cell, and no kernel left running."""
    limit = 5
    book = make_book(tmp_path / "book", {"index.md": "# Home\n\nText.\n"},
                     {"loops.ipynb": notebook("print('before the loop')",
                                              "open('runs.txt', 'a').write('run\\n')\nwhile True:\n    pass",
                                              "print('never reached')")})
    config = yaml.safe_load((book / "_config.yml").read_text())
    config["execute"]["timeout"] = limit
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    started = time.monotonic()
    code, log = build(book)
    seconds = time.monotonic() - started
    assert code != 0, log[-3000:]
    assert (book / "runs.txt").read_text() == "run\n", "the looping cell was executed more than once"
    message = f"loops.ipynb: cell 3 of 4 (`open('runs.txt', 'a').write('run\\n')`) ran longer than the per-cell " \
              f"time limit of {limit} s"
    assert log.count(message) == 1, log[-3000:]
    assert "Traceback" not in log.split("reading sources")[-1], log[-3000:]   # the kernel's own noise comes before
    assert seconds < 90, f"the failing build took {seconds:.0f} s"
    assert not _kernels_in(book), "a notebook kernel outlived the build"
