"""What a complete, consistent translation is: read by tests/test_chinese_edition.py, and by translators at work
(`python tests/translations.py` lists every problem of every catalogue).

A message must be translated (not empty, not fuzzy) when its English has words outside formulas, code and
references; its translation keeps every formula, code span, reference and glued number exactly (a glued phrase may be
its own language's: `key_zh_CN` for `key`); and it uses the glossary's term wherever the English uses the glossary's
word.
"""

import re
import sys
from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGE = "zh_CN"
GLOSSARY = LOCALES / LANGUAGE / "glossary.md"

# What is written once and kept verbatim: display and inline math, roles with their targets, code spans, links,
# footnote references.
KEPT = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\{[\w:.-]+\}`[^`]*`|``[^`]+``|`[^`]+`|https?://[^\s)>\]]+|\[\^[\w-]+\]", re.S)


def catalogues(language: str = LANGUAGE) -> list[Path]:
    return sorted((LOCALES / language / "LC_MESSAGES").rglob("*.po"))


def messages(path: Path):
    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    return [message for message in catalogue if message.id]


def prose(text: str) -> str:
    """The words of a message: what is left once formulas, code, references and links are taken out."""
    return KEPT.sub(" ", text)


def needs_translation(msgid: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2,}", prose(msgid)))


ROLE_WITH_TITLE = re.compile(r"(\{[\w:.-]+\})`[^`<]*<([^`>]+)>`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def kept_spans(text: str) -> Counter:
    """Formulas, code, references and link targets, each as written (a translation keeps them all, and adds none).
    A reference's own title ({doc}`title <target>`) and a link's text are prose: only their targets count."""
    spans = Counter()
    for match in KEPT.finditer(text):
        titled = ROLE_WITH_TITLE.fullmatch(match.group(0))
        spans[f"{titled.group(1)}`<{titled.group(2)}>`" if titled else match.group(0)] += 1
    spans.update(f"({target})" for target in LINK.findall(text))
    return spans


# A glued phrase has words, and each edition pastes its own (relugrad.notebook.glue_words): the translation may
# paste `key_zh_CN` where the English pastes `key`.
GLUED_WORDS = re.compile(r"(\{glue(?::\w+)?\}`[^`]*?)_" + LANGUAGE + r"(?=[:`])")


def as_written_once(translation: str) -> str:
    """A translation's spans as the English writes them: its own glued phrases back to the English keys."""
    return GLUED_WORDS.sub(r"\1", translation)


def glossary(path: Path = GLOSSARY) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and cells[0] not in ("English", "") and not set(cells[0]) <= {"-"}:
            rows.append((cells[0], cells[1]))
    return rows


def _term_pattern(english: str) -> re.Pattern:
    words = [re.escape(word) for word in re.split(r"[\s\-–]+", english)]
    # A term written with a capital (a name, a title's first word) is matched as written; others in any case.
    flags = 0 if english != english.lower() else re.I
    return re.compile(r"(?<![\w-])" + r"[\s\-–]+".join(words) + r"(e?s)?(?![\w-])", flags)


def problems(path: Path, terms=None) -> list[str]:
    """Every problem of one catalogue, each naming the message."""
    terms = glossary() if terms is None else terms
    patterns = [(english, chinese, _term_pattern(english)) for english, chinese in terms]
    found = []
    for message in messages(path):
        msgid, msgstr = message.id, message.string
        short = msgid[:70].replace("\n", " ")
        if not needs_translation(msgid):
            if msgstr and kept_spans(as_written_once(msgstr)) != kept_spans(msgid):
                found.append(f"{short!r}: the translation changes what is written once")
            continue
        if not msgstr:
            found.append(f"{short!r}: untranslated")
            continue
        if message.fuzzy:
            found.append(f"{short!r}: fuzzy (the English changed; update the translation, then remove the flag)")
        kept = kept_spans(as_written_once(msgstr))
        if kept != kept_spans(msgid):
            missing, extra = kept_spans(msgid) - kept, kept - kept_spans(msgid)
            found.append(f"{short!r}: formulas, code or references differ (missing {sorted(missing)[:3]}, "
                         f"added {sorted(extra)[:3]})")
        if re.search(r"[A-Za-z]{4,}", prose(msgstr)) and not re.search(r"[\u4e00-\u9fff]", msgstr):
            found.append(f"{short!r}: the translation has no Chinese")
        words = prose(msgid)
        for english, chinese, pattern in patterns:
            if pattern.search(words) and chinese not in msgstr:
                found.append(f"{short!r}: {english!r} is {chinese!r} (glossary)")
    return found


def main(paths) -> int:
    paths = [Path(p).resolve() for p in paths] or catalogues()
    total = 0
    for path in paths:
        for problem in problems(path):
            print(f"{path.relative_to(ROOT)}: {problem}")
            total += 1
    print(f"{total} problems in {len(paths)} catalogues")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
