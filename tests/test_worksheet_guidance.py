"""The worksheet's guidance points at what a student can open, and its deliberate demonstration reads as one.

The checker's hints name the book's pages by the titles its table of contents shows, and their sections by their
headings, never a source file (`chapters/gradient_w.md` is nothing a student on the site, on Colab or with a download
can open); and Part 3, a backward that is wrong on purpose, ends by saying the checks caught it, never "Not done yet:
fix the first ✗", in the solution version and in the students' version alike.
"""

import re
from pathlib import Path

import yaml

from relugrad import BUGS, worksheet
from test_worksheet import SOURCE, STUDENT, _run_alone

ROOT = Path(__file__).resolve().parent.parent
NAMED = re.compile(r"the book's page “([^”]+)”(?:, section “([^”]+)”)?")


def _plain(heading: str) -> str:
    return re.sub(r"[$`*]", "", heading).strip()


def book_pages() -> dict[str, list[str]]:
    """{title of each chapter page as a reader sees it: its section headings}, for the pages in _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    pages = {}
    for name in files:
        path = ROOT / f"{name}.md"
        if path.exists():
            headings = re.findall(r"^#{1,3} (.+)$", path.read_text(), flags=re.M)
            pages[_plain(headings[0])] = [_plain(heading) for heading in headings[1:]]
    return pages


def test_the_checkers_hints_name_pages_a_student_can_open():
    source = Path(worksheet.__file__).read_text()
    assert not re.findall(r"[\w/]+\.(?:md|ipynb)\b", source), "a hint names a source file, not a page of the book"
    pages = book_pages()
    guidance = [*worksheet.HINTS.values(), worksheet.BRANCHES, worksheet.UNKNOWN]
    problems = []
    for text in guidance:
        named = NAMED.findall(text)
        if not named:
            problems.append(f"names no page of the book: {text}")
        for title, section in named:
            if title not in pages:
                problems.append(f"no page is titled “{title}”: {text}")
            elif section and section not in pages[title]:
                problems.append(f"“{title}” has no section “{section}”: {text}")
    assert not problems, problems
    assert set(worksheet.HINTS) == {bug.name for bug in BUGS}


def test_a_demonstration_says_it_was_caught_and_is_not_counted(capsys):
    worksheet._REPORTS.clear()
    for bug in BUGS:
        report = worksheet.check_backward(bug.gradients, title=f"demonstration: {bug.name}", demonstration=True)
        text = str(report)
        assert not report.passed and "Not done yet" not in text and "Caught" in text, text
    assert not worksheet._REPORTS, "a demonstration counted towards the student's progress"
    mine = worksheet.check_backward(BUGS[0].gradients, keep=False)   # the student's own wrong answer: fix it
    assert "Not done yet: fix the first ✗" in str(mine)


def test_part_3_of_both_worksheets_ends_caught_not_unfinished(tmp_path):
    for version in (SOURCE, STUDENT):
        folder = tmp_path / version.parent.name
        folder.mkdir()
        text = _run_alone(version, folder)
        part_3 = text.split("Part 3: the forgotten mask, checked", 1)[1].split("parts done.", 1)[0]
        assert "✗ FAIL" in part_3 and "“missing mask”" in part_3, part_3
        assert "Not done yet" not in part_3 and "Caught, as it should be" in part_3, (version.name, part_3)
