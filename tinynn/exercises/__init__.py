"""Self-checking exercises for the book: one module per chapter (``ch01`` ... ), one ``check_*`` per exercise.

>>> from tinynn.exercises import ch03                      # doctest: +SKIP
>>> ch03.check_dense_backward(dense_backward)              # doctest: +SKIP
✓ dense_backward passes 20 random tests

Each checker runs your function on random cases against a reference and, when it fails, tells you *which*
typical mistake it recognised (a transposed ``dW``, a missing ``1/N``, a wrong axis, ``dy`` modified in
place, ...). It returns a :class:`~tinynn.exercises._checker.CheckResult` with ``.passed`` and ``.hint``.
Writing the checkers of a new chapter: see :mod:`tinynn.exercises._checker` and ``ch01.py`` as an example.
"""
from tinynn.exercises._checker import Checker, CheckResult, Mistake, collect

__all__ = ["Checker", "CheckResult", "Mistake", "collect", "checkers"]


def checkers(chapter):
    """The checkers of a chapter, ``{'check_...': Checker}``; ``chapter`` is ``'ch03'`` or ``3``."""
    import importlib  # noqa: PLC0415

    name = chapter if isinstance(chapter, str) else f"ch{int(chapter):02d}"
    return collect(vars(importlib.import_module(f"tinynn.exercises.{name}")))
