"""What a lecturer relies on: every chapter opens with its objectives, ends with a recap and has exercises, each
with a hidden solution; the teaching material is linked from the site; the licences are in files, in the README and
in every page's footer; and the citation names the repository that _config.yml names."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = [c["file"].removeprefix("chapters/") for part in TOC["parts"] for c in part["chapters"]
            if c["file"].startswith("chapters/") and c["file"] not in ("chapters/references", "chapters/teaching")]


def test_the_chapters_are_those_of_the_issue():
    assert CHAPTERS == ["notation", "gradient_y", "gradient_w", "gradient_x", "worked_example", "relu_at_zero", "explorer",
                        "verification", "summary",
                        "beyond/bias", "beyond/activations", "beyond/two_layers", "beyond/two_layers_example",
                        "beyond/any_depth", "beyond/kronecker", "beyond/hessian", "beyond/newton", "beyond/torch_func", "beyond/cost", "homework"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_with_objectives_ends_with_a_recap_and_has_exercises(chapter):
    text = (ROOT / "chapters" / f"{chapter}.md").read_text()
    first_block = text.split("\n\n")[1]
    assert first_block.startswith(":::{admonition}") and ":class: objectives" in first_block, chapter
    last_block = text.rstrip().split("\n\n")[-1]
    assert ":class: recap" in text.rstrip().split(":::{admonition}")[-1] and last_block.endswith(":::"), chapter
    exercises = re.findall(r"^`{3,4}\{exercise\} (Warm-up|Practice|Challenge): .+\n:label: (\S+)", text, flags=re.M)
    assert len(exercises) >= 2, chapter
    solutions = re.findall(r"^```\{solution-start\} (\S+)\n:class: dropdown\n```", text, flags=re.M)
    assert [label for _, label in exercises] == solutions, f"{chapter}: each exercise needs its hidden solution"
    assert text.count("{solution-end}") == len(solutions)


def test_exercises_go_from_warm_up_to_challenge():
    levels = [level for chapter in CHAPTERS for level in
              re.findall(r"\{exercise\} (Warm-up|Practice|Challenge):", (ROOT / "chapters" / f"{chapter}.md").read_text())]
    assert {"Warm-up", "Practice", "Challenge"} == set(levels) and levels.count("Challenge") >= 6


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapters_exercises_climb_in_difficulty(chapter):
    order = ["Warm-up", "Practice", "Challenge"]
    levels = re.findall(r"\{exercise\} (Warm-up|Practice|Challenge):", (ROOT / "chapters" / f"{chapter}.md").read_text())
    assert levels == sorted(levels, key=order.index), f"{chapter}: {levels}"


def test_solutions_are_hidden_on_the_page(html_root):
    page = (html_root / "chapters" / "gradient_w.html").read_text()
    solutions = (ROOT / "chapters" / "gradient_w.md").read_text().count("{solution-start}")
    assert solutions >= 4 and page.count('class="solution dropdown admonition"') == solutions
    assert "togglebutton.js" in page and 'id="exercise-content"' not in page


@pytest.mark.parametrize("folder", ["", "zh_CN/"], ids=["en", "zh_CN"])
def test_teaching_material_is_linked_from_the_site(html_root, folder):
    """Each edition's teaching page links its own edition's slides, slides' PDF and handouts (the Chinese page the
    Chinese deck and card), and they exist."""
    import pypdf

    site = html_root / folder
    teaching = site / "chapters" / "teaching.html"
    page = teaching.read_text()
    for target in ("../slides/index.html", "../slides/slides.pdf", "../handout-a4.pdf", "../handout-letter.pdf",
                   "06_worksheet.html"):
        assert f'href="{target}' in page or f'href="../notebooks/{target}' in page, target
        if target.startswith("../"):
            linked = (teaching.parent / target).resolve()
            assert linked.is_file() and linked.parent.resolve() in (site.resolve(), (site / "slides").resolve()), \
                (target, linked)
            if folder:   # the Chinese edition's own material: a Chinese deck, Chinese PDFs
                text = linked.read_text() if linked.suffix == ".html" else \
                    "".join(p.extract_text() for p in pypdf.PdfReader(linked).pages)
                assert ('<html lang="zh-CN"' in text if linked.suffix == ".html" else
                        len(re.findall(r"[\u4e00-\u9fff]", text)) > 300), target
    assert 'href="chapters/teaching.html"' in (html_root / "chapters" / "index.html").read_text().replace("../", "") \
        or 'href="teaching.html"' in (html_root / "chapters" / "index.html").read_text()


def test_licences_are_in_files_and_the_readme():
    assert "Attribution 4.0 International Public License" in (ROOT / "LICENSE-TEXT").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    readme = (ROOT / "README.md").read_text()
    assert "CC BY 4.0" in readme and "MIT" in readme and "LICENSE-TEXT" in readme and "CITATION.cff" in readme


def test_every_page_shows_the_licences(html_root):
    # every edition's pages, not the theme's templates under _static/ nor the slides
    pages = [p for p in html_root.rglob("*.html")
             if not any(part.startswith("_") or part == "slides" for part in p.relative_to(html_root).parts)
             and (p.name != "index.html" or p.parent.name == "chapters")]
    assert len([p for p in pages if "zh_CN" in p.relative_to(html_root).parts]) >= 18
    assert len(pages) >= 36
    for page in pages:
        footer = page.read_text()
        assert "creativecommons.org/licenses/by/4.0/" in footer and "/LICENSE-TEXT" in footer and "/LICENSE\"" in footer, page


def test_citation_names_the_configured_repository():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation["repository-code"] == config["repository"]["url"], \
        "a fork names its repository in _config.yml and in CITATION.cff"
    assert citation["authors"] == [{"name": config["author"]}]
    assert set(citation["license"]) == {"CC-BY-4.0", "MIT"}


def test_the_plan_assigns_every_exercise_once():
    """The teaching page's plan names every exercise of the book once, and only exercises that exist."""
    exercises = [label for path in sorted((ROOT / "chapters").rglob("*.md"))
                 for label in re.findall(r"^`{3,4}\{exercise\}[^\n]*\n:label: (\S+)", path.read_text(), flags=re.M)]
    plan = (ROOT / "chapters" / "teaching.md").read_text()
    table = [line for line in plan.splitlines() if line.startswith("| {doc}")]
    named = re.findall(r"\{ref\}`(ex-[^`]+)`", "\n".join(table))
    assert len(exercises) == len(set(exercises)) >= 40
    assert sorted(named) == sorted(exercises), (f"missing from the plan: {set(exercises) - set(named)}; "
                                                f"not an exercise: {set(named) - set(exercises)}; "
                                                f"named twice: {[x for x in named if named.count(x) > 1]}")


def test_the_plan_puts_each_level_in_its_column():
    """Warm-ups in class, practice as homework, challenges optional, as the teaching page says."""
    level = {label: lvl for path in (ROOT / "chapters").rglob("*.md")
             for lvl, label in re.findall(r"^`{3,4}\{exercise\} (Warm-up|Practice|Challenge):[^\n]*\n:label: (\S+)",
                                          path.read_text(), flags=re.M)}
    rows = [line for line in (ROOT / "chapters" / "teaching.md").read_text().splitlines() if line.startswith("| {doc}")]
    assert len(rows) >= 15
    for row in rows:
        for cell, expected in zip(row.strip("|").split("|")[1:], ("Warm-up", "Practice", "Challenge")):
            for label in re.findall(r"\{ref\}`(ex-[^`]+)`", cell):
                assert level[label] == expected, (label, level[label], expected)
