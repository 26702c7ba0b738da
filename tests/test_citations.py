"""Citations in one style: every in-text citation reads exactly as the label of its entry in the reference list
(author and year, "Parr and Howard, 2018", not "[PH18]" in the list), and every entry has a year or, for a web page
without one, the date it was consulted."""

import html
import re
import sys
from pathlib import Path

import yaml
from pybtex.database import parse_file
from pybtex.plugin import find_plugin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import citation_style  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
BIBLIOGRAPHY = parse_file(ROOT / CONFIG["bibtex_bibfiles"][0])


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_every_entry_has_a_year_or_an_access_date():
    undated = [key for key, entry in BIBLIOGRAPHY.entries.items()
               if not re.fullmatch(r"\d{4}", entry.fields.get("year", "").strip())
               and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.fields.get("urldate", "").strip())]
    assert not undated, f"entries with neither a year nor an access date (urldate = {{YYYY-MM-DD}}): {undated}"
    for key, entry in BIBLIOGRAPHY.entries.items():
        if "urldate" in entry.fields:
            assert "url" in entry.fields, f"{key}: an access date without the address it was consulted at"


def test_the_list_is_labelled_author_year_as_the_text_cites():
    config = CONFIG["sphinx"]["config"]
    assert config["bibtex_reference_style"] == "author_year"
    assert config["bibtex_default_style"] == citation_style.NAME
    assert "citation_style" in CONFIG["sphinx"]["extra_extensions"]
    citation_style.setup(None)
    style = find_plugin("pybtex.style.formatting", citation_style.NAME)()
    labels = [entry.label for entry in style.format_entries(BIBLIOGRAPHY.entries.values())]
    assert len(set(labels)) == len(labels), f"two entries with one label: {labels}"
    assert "Parr and Howard, 2018" in labels and "Bright et al., 2025" in labels, labels


def test_every_citation_in_the_text_reads_as_its_label_in_the_list(html_root):
    references = (html_root / "chapters" / "references.html").read_text()
    labels = {identifier: _text(label) for identifier, label in re.findall(
        r'<div class="citation" id="([^"]+)" role="doc-biblioentry">\s*<span class="label">'
        r'<span class="fn-bracket">\[</span>(.*?)<span class="fn-bracket">\]</span></span>', references, flags=re.S)}
    assert len(labels) == len(BIBLIOGRAPHY.entries), f"{len(labels)} entries listed, {len(BIBLIOGRAPHY.entries)} in the .bib"
    cited, problems = 0, []
    for page in sorted(html_root.rglob("*.html")):
        relative = page.relative_to(html_root).as_posix()
        if relative.startswith(("_static/", "slides/", "zh_CN/")):   # the English pages: the reference list is one
            continue
        for span in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>', page.read_text(), flags=re.S):
            for identifier, text in re.findall(r'<a class="reference internal" href="(?:[^"#]*references\.html)?#'
                                               r'([^"]+)"[^>]*>(.*?)</a>', span, flags=re.S):
                cited += 1
                if identifier not in labels:
                    problems.append(f"{relative}: {_text(text)!r} links to no entry of the list ({identifier})")
                elif _text(text) != labels[identifier]:
                    problems.append(f"{relative}: cited as {_text(text)!r}, listed as [{labels[identifier]}]")
    assert cited >= 30, f"only {cited} citations found: has the markup changed?"
    assert not problems, problems
