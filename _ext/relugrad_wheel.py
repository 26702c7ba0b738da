"""The helper package `relugrad` as a wheel on the site, so that a notebook downloaded from the book runs with no
network: each notebook page's download menu offers the wheel beside the notebook, and the notebook's set-up cell
(colab_setup.py) installs a wheel saved beside it before it tries the repository.

The wheel is built from this checkout by setuptools (in the book's environment, no build isolation, no index) in a
scratch copy of the package, with a fixed SOURCE_DATE_EPOCH: two builds of the same sources give the same bytes.
It is built again only when the package or pyproject.toml changed.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sphinx.locale import get_translation
from sphinx.util import logging

from book_pdf import made_from, write_atomically
from colab_setup import PACKAGE, package_version, wheel_name

TIMEOUT_S = 180            # setuptools builds this wheel in seconds; a hung build must not hang the book
ZIP_EPOCH = "315532800"    # 1980-01-01, the earliest time a zip file records
BUTTON_LABEL = "download-relugrad-button"

logger = logging.getLogger(__name__)
_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)


def _sources(root: Path) -> list[Path]:
    package = [path for path in sorted((root / PACKAGE).rglob("*"))
               if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc")]
    return [root / "pyproject.toml", root / "LICENSE", *package]


def _digest(root: Path) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in _sources(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_wheel(root: Path, target: Path) -> None:
    """Build the package at `root` into the wheel file `target` (atomically: a kill leaves no half wheel)."""
    with tempfile.TemporaryDirectory(prefix="relugrad-wheel-") as scratch:
        source, out = Path(scratch) / "source", Path(scratch) / "out"
        for path in _sources(root):
            copy = source / path.relative_to(root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)   # contents only: file modes and times of the checkout do not leak in
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
             "--wheel-dir", str(out), str(source)],
            capture_output=True, text=True, timeout=TIMEOUT_S,
            env={**os.environ, "SOURCE_DATE_EPOCH": ZIP_EPOCH, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        built = out / target.name
        if result.returncode != 0 or not built.exists():
            raise RuntimeError(f"pip wheel failed (exit {result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-2000:]}")
        write_atomically(target, built.read_bytes())


def _offer_on_notebook_pages(app, pagename, templatename, context, doctree):
    """A notebook page's download menu gets the wheel, after the notebook itself."""
    if context.get("page_source_suffix") != ".ipynb" or not (Path(app.srcdir) / "pyproject.toml").exists():
        return
    name = wheel_name(package_version(Path(app.srcdir)))
    for group in context.get("header_buttons", []):
        buttons = group.get("buttons", [])
        if any(button.get("label") == "download-source-button" for button in buttons) and \
                not any(button.get("label") == BUTTON_LABEL for button in buttons):
            buttons.append({
                "type": "link", "url": context["pathto"](name, 1), "text": ".whl", "icon": "fas fa-box",
                "label": BUTTON_LABEL,
                "tooltip": _("relugrad, the helper package these notebooks import: save {wheel} beside the "
                             "downloaded notebook and its first cell installs it with no network").format(wheel=name),
            })


def _write_wheel(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    if not (root / "pyproject.toml").exists():
        return
    target = Path(app.outdir) / wheel_name(package_version(root))
    stamp = Path(app.doctreedir) / "relugrad-wheel.sha256"
    digest = _digest(root)
    if stamp.exists() and stamp.read_text() == made_from(digest, target):
        return
    for old in Path(app.outdir).glob(f"{PACKAGE}-*.whl"):   # another version's wheel is no longer offered
        old.unlink()
    try:
        build_wheel(root, target)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        logger.warning(f"relugrad_wheel: could not build {target.name}: {error}", type="relugrad_wheel")
        return
    stamp.write_text(made_from(digest, target))
    logger.info(f"relugrad_wheel: wrote {target.name} ({target.stat().st_size // 1024} kB)")


def setup(app):
    app.connect("html-page-context", _offer_on_notebook_pages, priority=601)   # after notebook_downloads (600)
    app.connect("build-finished", _write_wheel)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
