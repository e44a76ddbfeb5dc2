r"""Docstrings as Markdown with math: what ``tinynn.book.show_source`` puts above the code it shows.

The library writes its formulas in reStructuredText (raw docstrings, single backslashes):
``:math:`dz = dy \odot f'(z)``` inline and ``.. math::`` blocks. A notebook renders Markdown with
``$...$`` and ``$$...$$``, so:

* ``:math:`x``` becomes ``$x$``;
* a ``.. math::`` block (on the same line or indented below it) becomes a ``$$...$$`` paragraph of its own;
  lines ending in ``\\`` are wrapped in ``aligned`` (when they use ``&``) or ``gathered``;
* ``code`` in double backquotes and ``:class:`~a.b.C``` roles become Markdown code (``C``).

>>> print(docstring_markdown("Backprop: :math:`z = xW`.\n\n.. math:: dW = x^T dz\n\nShapes: x (N, D)."))
Backprop: $z = xW$.
<BLANKLINE>
$$dW = x^T dz$$
<BLANKLINE>
Shapes: x (N, D).
"""
from __future__ import annotations

import inspect
import re

__all__ = ["docstring_markdown"]

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
_MATH = re.compile(r":math:`([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def _inline(text):
    text = _MATH.sub(lambda m: f"${m.group(1).strip()}$", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1]}`", text)
    return _LITERAL.sub(lambda m: f"`{m.group(1)}`", text)


def _display(lines):
    body = "\n".join(line.strip() for line in lines if line.strip())
    if "\\\\" in body:
        env = "aligned" if "&" in body else "gathered"
        body = f"\\begin{{{env}}}\n{body}\n\\end{{{env}}}"
    return ["", f"$${body}$$", ""]


def docstring_markdown(doc):
    """The docstring ``doc`` as Markdown: ``$...$`` inline math, ``$$...$$`` display math in its own paragraph."""
    lines = inspect.cleandoc(doc or "").splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)\.\. math::\s*(.*)$", line)
        if not m:
            out.append(_inline(line))
            i += 1
            continue
        indent, block = len(m.group(1)), [m.group(2)] if m.group(2).strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            if not lines[i].strip() and block:  # a blank line ends a block that has started
                break
            block.append(lines[i])
            i += 1
        out.extend(_display(block))
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
