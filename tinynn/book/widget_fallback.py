"""A Sphinx extension for the HTML book: a widget's text stand-in never reaches the page.

A notebook stores an interactive widget (``interact``, a dashboard) as its ``text/plain`` repr, e.g.
``interactive(children=(FloatSlider(value=1.0, ...`` , which means nothing on a static page. This removes such
outputs; a figure the cell also stored (``image/png``) stays, and is preferred over the widget's view by the
book's ``nb_mime_priority_overrides``.
"""
from __future__ import annotations

import re

from docutils import nodes

WIDGET_REPR = re.compile(r"^\s*[A-Za-z_]\w*\((children|value|layout|outputs)=")


def is_widget_repr(text: str) -> bool:
    """True for an ipywidgets ``repr`` (``VBox(children=(...``, ``interactive(children=...``, ...)."""
    return bool(WIDGET_REPR.match(text))


def _strip(app, doctree, docname):
    for block in list(doctree.findall(nodes.literal_block)):
        parent = block.parent
        if "text_plain" in block.get("classes", []) and parent is not None \
                and "cell_output" in parent.get("classes", []) and is_widget_repr(block.astext()):
            parent.remove(block)
            if not parent.children:
                parent.parent.remove(parent)


def setup(app):
    app.connect("doctree-resolved", _strip)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
