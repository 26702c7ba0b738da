"""A figure in the page's language. A notebook draws each figure once per language (relugrad.figures.in_each_language):
the English one is the cell's output, each other one is glued, hidden, as `<figure name>_<language>`. In another
edition's build, myst-nb's image of a named figure's cell is that glued image; a named figure with no glued image in
the edition's language is a warning (the build fails) that names it. The downloaded notebook gets the same swap
(notebook_downloads.py), so its figures speak the reader's language too."""

import dataclasses

from myst_nb.core.render import NbElementRenderer
from sphinx.util import logging

logger = logging.getLogger(__name__)
PNG = "image/png"


def figure_name(cell_metadata: dict) -> str | None:
    """The name a cell's figure is labelled by (`mystnb: figure: name`), or None for a cell without one."""
    return ((cell_metadata or {}).get("mystnb") or {}).get("figure", {}).get("name")


def glued_png(outputs: list[dict], key: str) -> str | None:
    """The base64 PNG that a cell's outputs glue as `key` (myst-nb's glue, shown or hidden), or None."""
    for output in outputs:
        if (output.get("metadata") or {}).get("scrapbook", {}).get("name") == key:
            for mime, value in (output.get("data") or {}).items():
                if mime.endswith(PNG):   # hidden glue prefixes the mime type (application/papermill.record/)
                    return value
    return None


class MissingFigure(Exception):
    """A named figure has no image in the edition's language."""


def notebook_in_language(notebook: dict, language: str) -> dict:
    """The executed notebook with each named figure's shown image replaced by its image in `language`."""
    cells = []
    for cell in notebook["cells"]:
        name = figure_name(cell.get("metadata")) if cell["cell_type"] == "code" else None
        if name is not None:
            translated = glued_png(cell.get("outputs", []), f"{name}_{language}")
            if translated is None:
                raise MissingFigure(f"the figure {name!r} has no image in {language} (glued {name}_{language})")
            outputs = [{**output, "data": {**output["data"], PNG: translated}}
                       if PNG in (output.get("data") or {}) and "scrapbook" not in (output.get("metadata") or {})
                       else output for output in cell.get("outputs", [])]
            cell = {**cell, "outputs": outputs}
        cells.append(cell)
    return {**notebook, "cells": cells}


def _edition_language(renderer: NbElementRenderer) -> str | None:
    env = renderer.renderer.sphinx_env
    language = env.config.language if env is not None else None
    return None if not language or language == "en" else language


_render_image = NbElementRenderer.render_image


def render_image(self: NbElementRenderer, data):
    """myst-nb's image of an output, in the edition's language where the cell draws a named figure."""
    language, name = _edition_language(self), figure_name(data.cell_metadata)
    if language is not None and name is not None and data.mime_type == PNG:
        glued = self.renderer.nb_client.glue_data.get(f"{name}_{language}")
        if glued is None or PNG not in glued.get("data", {}):
            logger.warning(f"translated_figures: the figure {name!r} has no image in {language}: draw it with "
                           f"relugrad.figures.in_each_language (and install the font it names)",
                           location=self.renderer.document.get("source"))
        else:
            data = dataclasses.replace(data, content=glued["data"][PNG])
    return _render_image(self, data)


def setup(app):
    NbElementRenderer.render_image = render_image   # myst-nb has no hook for an output's data before it is written
    return {"parallel_read_safe": True, "parallel_write_safe": True}
