"""Two clean builds of the same sources give byte-identical pages (a rebuild shows a reader nothing new), and PDFs
with the same text on every page."""

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

from scratch_book import ROOT, build

pytestmark = pytest.mark.slow


def same_pdf_text(a: Path, b: Path) -> bool:
    from pypdf import PdfReader
    pages_a, pages_b = PdfReader(a).pages, PdfReader(b).pages
    return len(pages_a) == len(pages_b) and all(p.extract_text() == q.extract_text() for p, q in zip(pages_a, pages_b))


def test_a_second_clean_build_is_byte_identical(html_root, tmp_path):
    copy = tmp_path / "book"
    # A clone at the same commit (the PDF's title page names it), with the working tree's files copied over it.
    subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(copy)], check=True,
                   capture_output=True, timeout=120)
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    code, log = build(copy, editions=True)
    assert code == 0, log[-3000:]
    first, second = html_root, copy / "_build" / "html"
    differing = []

    def compare(comparison: filecmp.dircmp, prefix: str = ""):
        differing.extend(f"{prefix}{name}" for name in comparison.left_only + comparison.right_only)
        _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files,
                                               shallow=False)
        differing.extend(f"{prefix}{name}" for name in errors)
        # A PDF printed by Chromium may place a glyph a fraction of a pixel differently from one run to the next
        # (0.2 px, measured on one math glyph of 212 pages): PDFs must match page for page in their text.
        differing.extend(f"{prefix}{name}" for name in mismatch
                         if not (name.endswith(".pdf") and same_pdf_text(Path(comparison.left, name),
                                                                           Path(comparison.right, name))))
        for name, sub in comparison.subdirs.items():
            compare(sub, f"{prefix}{name}/")

    # .buildinfo holds a hash of the configuration, which includes the folder the book was built in.
    compare(filecmp.dircmp(first, second, ignore=[".buildinfo"]))
    assert not differing, f"files that differ between two clean builds: {differing[:20]}"
