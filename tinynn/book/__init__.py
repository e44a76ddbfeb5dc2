"""Helpers the book's chapters share: the size switch, seeding and plotting set-up, source display.

The chapters run at two sizes, chosen by the environment variable ``TINYNN_BOOK_SIZE``:

* ``full`` (the default): what a learner gets, real data sizes and epochs; the stored outputs come from it;
* ``ci``: small data and few epochs, so the test suite validates every chapter in minutes.

A chapter asks for a size-dependent number with :func:`pick`, e.g. ``epochs = book.pick(full=10, ci=1)``,
and asserts size-dependent targets in its key-numbers cell while *printing* only size-independent facts
(the printed text is compared with the stored full-size output).

>>> pick(full=60000, ci=2000) in (60000, 2000)
True
"""
from __future__ import annotations

import inspect
import os
import re

__all__ = ["SIZES", "size", "is_ci", "pick", "setup", "show_source", "strip_solutions", "student_version",
           "SOLUTION_BEGIN", "SOLUTION_END", "exercise_report"]

SIZES = ("full", "ci")
ENV = "TINYNN_BOOK_SIZE"
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"


def size() -> str:
    """The current book size, ``'full'`` (default) or ``'ci'``, from ``TINYNN_BOOK_SIZE``."""
    value = os.environ.get(ENV, "full").strip().lower() or "full"
    if value not in SIZES:
        raise ValueError(f"{ENV}={value!r}: expected one of {SIZES}.")
    return value


def is_ci() -> bool:
    """True when the chapters run at the small CI size."""
    return size() == "ci"


def pick(full, ci):
    """``full`` or ``ci``, whichever matches the current book size."""
    return ci if is_ci() else full


def setup(seed: int = 0, dpi: int = 72):
    """Start a chapter: fix every random seed, make figures small PNGs, return the book size.

    The inline backend stays the default one; only figure size and resolution are set (stored outputs stay
    small).
    """
    from tinynn.utils import set_random_seed  # noqa: PLC0415

    set_random_seed(seed)
    try:
        import matplotlib as mpl  # noqa: PLC0415

        mpl.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi, "figure.figsize": (6.0, 3.6),
                             "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
                             "axes.spines.right": False})
    except ImportError:  # matplotlib is a notebook extra; the helpers work without it
        pass
    return size()


def show_source(obj):
    """Display the source of a library function, method or class (``inspect.getsource``), highlighted.

    In a notebook the docstring's formulas come first, rendered as math (``:math:`...``` and ``.. math::``
    become ``$...$`` and ``$$...$$``), then the code as a Python code block; elsewhere it prints the source.
    The code is always the code that runs, never a pasted copy.
    """
    src = inspect.getsource(obj)
    try:
        from IPython import get_ipython  # noqa: PLC0415
        from IPython.display import Markdown, display  # noqa: PLC0415

        if get_ipython() is not None:
            from tinynn._docmath import docstring_markdown  # noqa: PLC0415

            doc = docstring_markdown(obj.__doc__) if getattr(obj, "__doc__", None) else ""
            name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
            head = f"**`{name}`**\n\n{doc}\n\n" if doc else ""
            display(Markdown(f"{head}```python\n{src}```"))
            return None
    except ImportError:
        pass
    print(src)
    return None


_SOLUTION_RE = re.compile(
    r"^([ \t]*)" + re.escape(SOLUTION_BEGIN) + r"[^\n]*\n.*?^[ \t]*" + re.escape(SOLUTION_END) + r"[^\n]*$",
    re.M | re.S,
)


def strip_solutions(source: str) -> str:
    r"""Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block by a ``NotImplementedError``
    (the nbgrader convention), keeping the indentation.

    >>> print(strip_solutions("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"))
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError()
    <BLANKLINE>
    """
    return _SOLUTION_RE.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()",
                            source)


def student_version(path_in, path_out):
    """Write a student copy of a chapter (its folder is created): solutions removed, the outputs of every
    cell that does not depend on an exercise kept, and Run All works while the exercises are unsolved.
    See :mod:`tinynn.book.student`; from a terminal: ``tinynn-book student DEST``."""
    from tinynn.book.student import write_student_copy  # noqa: PLC0415

    return write_student_copy(path_in, path_out)


from tinynn.book.student import exercise_report  # noqa: E402  (student.py uses the names above)
