"""Sphinx extension: each line of a code block (and of a notebook's output) in its own element.

A code line longer than the column wraps (book.css: nothing scrolls sideways on a phone), and a wrapped line must
read as one line: its continuation is indented past the line's own indentation (a hanging indent), so that an
end-of-line comment does not read as the next statement, on screen and on paper. For that each line of a `<pre>` is
wrapped, when the page is written, in `<span class="code-line" style="--indent: N">` (N: the line's leading spaces).
The newlines stay outside the spans and nothing is added to the text, so the copy button (which copies the block's
text) copies the code exactly as written.
"""

import re

PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.S)
TOKEN = re.compile(r"<[^>]*>|[^<]+")
TAG_NAME = re.compile(r"</?([a-zA-Z0-9]+)")


def _indent(text: str) -> int:
    """The width of a line's leading white space, in characters (a tab counts as the next multiple of 4)."""
    width = 0
    for char in text:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def split_lines(inner: str) -> str:
    """The HTML inside a <pre>, each line wrapped in a span; tags open across a newline are closed before it and
    opened again after it, so that the markup stays balanced and the text (newlines included) is unchanged."""
    lines, current, open_tags = [], [], []
    for token in TOKEN.findall(inner):
        if token.startswith("<"):
            current.append(token)
            name = TAG_NAME.match(token)
            if token.startswith("</"):
                if open_tags:
                    open_tags.pop()
            elif name and not token.endswith("/>") and name.group(1).lower() not in ("br", "img", "wbr"):
                open_tags.append(token)
            continue
        parts = token.split("\n")
        for index, part in enumerate(parts):
            if index:
                current.extend(f"</{TAG_NAME.match(t).group(1)}>" for t in reversed(open_tags))
                lines.append("".join(current))
                current = list(open_tags)
            current.append(part)
    lines.append("".join(current))
    out = []
    for index, line in enumerate(lines):
        text = re.sub(r"<[^>]*>", "", line)
        if index == len(lines) - 1 and not text:
            out.append(line)          # after the block's last newline: nothing to wrap
            continue
        indent = _indent(text)
        if indent and line.startswith((" ", "\t")):   # the indentation outside any highlighting span
            lead = len(line) - len(line.lstrip(" \t"))
            out.append(f'<span class="code-line code-indented" style="--indent: {indent}">'
                       f'<span class="code-indent">{line[:lead]}</span>{line[lead:]}</span>')
        else:
            out.append(f'<span class="code-line" style="--indent: {indent}">{line}</span>')
    return "\n".join(out)


def wrap_code_lines(body: str) -> str:
    if "<pre" not in body:
        return body
    return PRE.sub(lambda m: m.group(1) + split_lines(m.group(2)) + m.group(3)
                   if 'class="code-line"' not in m.group(2) else m.group(0), body)


def _page_context(app, pagename, templatename, context, doctree):
    if isinstance(context.get("body"), str):
        context["body"] = wrap_code_lines(context["body"])


def setup(app):
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
