"""Every image links to its full-size file: on a phone a figure fits the column, and a tap opens it to zoom into."""

import posixpath
from urllib.parse import quote

from docutils import nodes
from sphinx.locale import get_translation
from sphinx.util.osutil import relative_uri

_ = get_translation("book")   # the words a reader sees, in the edition's language (book_messages.py)


def _link_images(app, doctree, docname):
    if app.builder.format != "html":
        return
    # Where this page's images are copied (the HTML builder's own rule, see StandaloneHTMLBuilder.write_doc).
    image_dir = relative_uri(app.builder.get_target_uri(docname), app.builder.imagedir)
    for image in list(doctree.findall(nodes.image)):
        files = [uri for uri in [image["uri"], *image.get("candidates", {}).values()] if uri in app.env.images]
        if isinstance(image.parent, nodes.reference) or not files:
            continue   # already a link, or not a local file (a remote image is not copied)
        target = posixpath.join(image_dir, quote(app.env.images[files[0]][1]))
        link = nodes.reference("", "", refuri=target, internal=True, classes=["book-figure-link"],
                               reftitle=_("Open the full-size image"))
        image.replace_self(link)
        link.append(image)


def setup(app):
    app.connect("doctree-resolved", _link_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
