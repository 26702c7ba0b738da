"""The book in another language: its catalogues (gettext) and its pages, built from the same sources as the English.

    python _ext/editions.py catalogues         # _build/gettext/**/*.pot (and the slides' slides.pot), then
                                               # locales/<lang>/LC_MESSAGES/**/*.po,
                                               # then the translated notebooks, notebooks/<lang>/*.ipynb,
                                               # and the extensions' own words: _ext/locales/<lang>/LC_MESSAGES/book.po
    python _ext/editions.py html [--all]       # _build/html/<lang>/, from the English pages and the catalogues

Jupyter Book cannot pass a language to Sphinx (jupyter-book issue 1791), so this calls its Sphinx entry point with the
book's _config.yml and the language on top. The notebooks' outputs come from the English build's execution cache: a
notebook is executed once for both editions.
"""

import argparse
import os
from datetime import datetime, timezone
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
# Each edition: its folder in the site (the translations' pages go to _build/html/<language>/), and its switcher link.
EDITIONS = {
    "en": {"folder": "", "label": "English", "lang": "en", "title": "English edition: this page in English"},
    "zh_CN": {"folder": "zh_CN/", "label": "中文", "lang": "zh-CN", "title": "中文版：本页的中文版本"},
}
LANGUAGES = tuple(code for code in EDITIONS if code != "en")   # the translations
LOCALES = ROOT / "locales"
EXTENSIONS = ROOT / "_ext"   # the book's Sphinx extensions: their _("...") and N_("...") words are the book catalogue's


def built(root: Path = ROOT) -> list[str]:
    """The editions a build of the book in `root` makes: the English, and each translation that has catalogues there
    (a scratch book of the tests has none); with the setting BOOK_EDITIONS (e.g. `BOOK_EDITIONS=en`, to time the
    English alone), only those it names."""
    setting = os.environ.get("BOOK_EDITIONS", "").strip()
    named = [code.strip() for code in setting.split(",") if code.strip()] if setting else list(EDITIONS)
    unknown = [code for code in named if code not in EDITIONS]
    if unknown or "en" not in named:
        raise SystemExit(f"BOOK_EDITIONS={setting!r}: it names the editions to build, among {', '.join(EDITIONS)}, "
                         f"and always en{f' (unknown: {unknown})' if unknown else ''}")
    return ["en"] + [code for code in LANGUAGES if code in named and (root / "locales" / code / "LC_MESSAGES").is_dir()]


def remove_unbuilt(root: Path = ROOT) -> None:
    """An edition that this build does not make leaves no stale pages in the site."""
    for language in set(LANGUAGES) - set(built(root)):
        shutil.rmtree(root / "_build" / "html" / language, ignore_errors=True)


def _sphinx(builder: str, outdir: Path, doctrees: Path, overrides: dict, force_all: bool = False) -> int:
    from jupyter_book.sphinx import build_sphinx

    overrides = {"external_toc_path": "_toc.yml", "latex_individualpages": False, "nitpicky": True,
                 "nb_execution_cache_path": str(BUILD / ".jupyter_cache"), **overrides}
    result = build_sphinx(ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"), confoverrides=overrides,
                          doctreedir=doctrees, builder=builder, warningiserror=True, keep_going=True,
                          force_all=force_all)
    return result if isinstance(result, int) else 1


def catalogues() -> int:
    """Extract the English messages, then update each language's catalogues: a new message is added untranslated,
    a changed one keeps its old translation marked fuzzy (sphinx-intl), until a translator settles it. Then write
    the notebooks in each language from the catalogues (notebook_translations.py); one with prose not translated yet
    is left as it was, named, and the command fails until the translator is done and it is run again."""
    import notebook_translations

    pot = BUILD / "gettext"
    code = extract_messages(pot, BUILD / ".doctrees-gettext")
    if code != 0:
        return code
    for language in LANGUAGES:
        code = subprocess.run([Path(sys.executable).parent / "sphinx-intl", "update", "-p", pot, "-d", LOCALES,
                               "-l", language, "-w", "0"], cwd=ROOT, timeout=600).returncode
        if code != 0:
            return code
        update_book_catalogue(language)
    for language in LANGUAGES:
        written, problems = notebook_translations.write_notebooks(ROOT, language)
        for path in written:
            print(f"editions: wrote {path.relative_to(ROOT)}" if path.exists() else
                  f"editions: deleted {path.relative_to(ROOT)} (its English notebook is gone)")
        for problem in problems:
            print(f"editions: a notebook in {language} is not written until these are translated (then run "
                  f"python3 book.py translate again):\n{problem}", file=sys.stderr)
            code = 1
    return code


def extract_messages(pot: Path, doctrees: Path) -> int:
    """The English messages, as .pot templates in `pot`: the book's pages (one per page, as pages are named) and the
    lecture slides' own prose (slides.pot: slides/conf.py; what the slides include from the chapters is translated
    with the chapters)."""
    # myst-nb gives the gettext builder an output's text/plain, not its image: the figures' alt texts, which Sphinx
    # extracts and translates, would be missing from the catalogues
    code = _sphinx("gettext", pot, doctrees, {"nb_mime_priority_overrides": [("gettext", "image/png", 5)]})
    if code != 0 or not (ROOT / "slides" / "conf.py").exists():
        return code
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "gettext", "-W", "--keep-going", "-q",
                           "-d", doctrees / "slides", ROOT / "slides", pot], cwd=ROOT, timeout=600).returncode


def book_template():
    """The messages of the book's own extensions (babel's extraction of `_()` and `N_()` in _ext/*.py), in the
    order they appear, each with where it is used."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    template = Catalog(project="Gradients of one ReLU layer: the book's interface", fuzzy=False)
    for message in configured_words():
        template.add(message, None, [("_config.yml", 0)])
    for path in sorted(EXTENSIONS.glob("*.py")):
        for line, message, comments, _context in extract_from_file("python", path, keywords={"_": None, "N_": None},
                                                                     comment_tags=("Translators:",)):
            template.add(message, None, [(path.relative_to(ROOT).as_posix(), line)], auto_comments=comments)
    return template


# The settings of _config.yml that the theme shows as they are, as words of the interface ("By <author>").
CONFIGURED_WORDS = ("author",)


def configured_words(root: Path | None = None) -> list[str]:
    """The values of CONFIGURED_WORDS in _config.yml: messages of the book's catalogue (theme_words.py)."""
    import yaml

    config = (root or ROOT) / "_config.yml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8")) if config.exists() else {}
    return [settings[name] for name in CONFIGURED_WORDS if isinstance(settings.get(name), str) and settings[name]]


def update_book_catalogue(language: str) -> Path:
    """Merge the extensions' messages into the language's book.po: a new one is added untranslated, a changed one
    keeps its old translation marked fuzzy, a removed one is dropped."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    path = EXTENSIONS / "locales" / language / "LC_MESSAGES" / "book.po"
    if path.exists():
        with open(path, "rb") as handle:
            catalogue = read_po(handle, locale=language)
    else:
        catalogue = Catalog(locale=language, project="Gradients of one ReLU layer: the book's interface", fuzzy=False)
    catalogue.update(book_template())
    catalogue.header_comment = ("# The words of the book's own extensions (_ext/*.py, and what their scripts write), in "
                                f"{language}.\n# python3 book.py translate extracts them from _() and N_(); the build "
                                "compiles this file (book_messages.py).")
    catalogue.project, catalogue.version, catalogue.fuzzy = "Gradients of one ReLU layer", "", False
    fixed = datetime(2026, 1, 1, tzinfo=timezone.utc)   # no date in the header that changes at every run
    catalogue.creation_date = catalogue.revision_date = fixed
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        write_po(handle, catalogue, width=120, ignore_obsolete=True, include_lineno=False)
    return path


def html(language: str, force_all: bool = False) -> int:
    """Build the edition in _build/<language>/html (what Sphinx, myst-nb and the deck keep beside a site's folder
    stays in _build/<language>/), then make _build/html/<language>/ the same, file by file."""
    site = BUILD / language / "html"
    overrides = {"language": language, "html_search_language": language.split("_")[0]}
    title = translated_title(language)
    if title:
        overrides.update(html_title=title, project=title)
    code = _sphinx("html", site, BUILD / language / ".doctrees", overrides, force_all=force_all)
    if code == 0:
        mirror(site, BUILD / "html" / language)
    return code


def translated_title(language: str) -> str:
    """The book's title (_config.yml) as the edition's catalogues translate it: the root page has it as its title,
    so its catalogue alone is read."""
    import yaml
    from babel.messages.pofile import read_po

    title = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")).get("title", "")
    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    catalogue = LOCALES / language / "LC_MESSAGES" / f"{root}.po"
    if not catalogue.exists():
        return ""
    with open(catalogue, "rb") as handle:
        message = read_po(handle).get(title)
    return message.string if message is not None and message.string and not message.fuzzy else ""


def mirror(source: Path, target: Path) -> None:
    """Make `target` a copy of `source`, copying only the files that differ (size or modification time) and
    deleting those that `source` no longer has; a file is renamed into place, never seen half written."""
    wanted = {path.relative_to(source) for path in source.rglob("*") if path.is_file()}
    for path in sorted(target.rglob("*"), reverse=True) if target.exists() else []:
        relative = path.relative_to(target)
        if path.is_file() and relative not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for relative in sorted(wanted):
        old, new = source / relative, target / relative
        stat = old.stat()
        if new.exists() and new.stat().st_size == stat.st_size and new.stat().st_mtime_ns == stat.st_mtime_ns:
            continue
        new.parent.mkdir(parents=True, exist_ok=True)
        partial = new.with_name(new.name + ".partial")
        shutil.copy2(old, partial)
        os.replace(partial, new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["catalogues", "html"])
    parser.add_argument("--all", action="store_true", help="write every page again")
    args = parser.parse_args()
    if args.what == "catalogues":
        return catalogues()
    # (book.py removes the pages of an edition it does not build: it owns what the site holds)
    return max([html(language, args.all) for language in built()[1:]], default=0)


if __name__ == "__main__":
    sys.exit(main())
