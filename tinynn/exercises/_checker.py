"""The checker behind every exercise: random tests against a reference, and targeted hints.

A :class:`Checker` knows

* ``reference`` — a correct implementation (kept here, so the learner's notebook can hide its own);
* ``make_case(rng, i)`` — the arguments of random test ``i``, as a dict ``{name: value}`` (names are used in
  messages; the learner's function is called positionally, so its parameter names are free);
* ``mistakes`` — typical wrong implementations (:class:`Mistake`), each with the hint it deserves.

Checking a function runs it on ``n_tests`` cases and stops at the first failure, in this order:

1. it raised → the exception, with the shapes of the arguments;
2. it changed an argument in place → which one (backward passes must never modify ``dy``);
3. it returned the wrong number of outputs, ``None`` or a wrong shape (a transposed shape is named);
4. wrong values → if the output equals one of the known mistakes, that mistake's hint; otherwise which
   output is wrong and by how much.

Whatever the failure, the message then shows the smallest failing case: its input, the expected and the
received value (:attr:`CheckResult.example`). Traps every checker names on its own (see :mod:`._traps`):
the outputs in another order than asked (``(dW, db, dx)`` for ``(dx, dW, db)``), a list where a tuple is
asked, ``nan``/``inf`` from an overflow (``exp`` of large logits), code that only works for one number of
dimensions (a loop over rows, two nested loops), and a ``w_new = w`` alias that is not a copy.

>>> from tinynn.backend import xp
>>> double = Checker("double", reference=lambda x: 2 * x,
...                  make_case=lambda rng, i: {"x": rng.normal(size=(3,))},
...                  mistakes=[Mistake("square", lambda x: x * x, "double means 2x, not x²")])
>>> double(lambda x: x + x, verbose=False).passed
True
>>> r = double(lambda x: x * x, verbose=False); (r.passed, r.mistake, r.hint)
(False, 'square', 'double means 2x, not x²')
"""
from __future__ import annotations

import contextlib
import copy
import traceback

from tinynn import backend
from tinynn.backend import xp
from tinynn.exercises import _traps

__all__ = ["Checker", "Mistake", "CheckResult", "collect", "NOT_SOLVED"]

NOT_SOLVED = "not solved yet: replace `raise NotImplementedError()` by your code, then run the cell again."


class Mistake:
    """A typical wrong implementation ``fn`` and the ``hint`` shown when a learner's output equals it."""

    def __init__(self, key, fn, hint):
        self.key, self.fn, self.hint = key, fn, hint

    def __repr__(self):
        return f"<Mistake {self.key!r}>"


class CheckResult:
    """The outcome of a check: ``passed``, ``hint`` (None when passed), ``mistake`` (the key of the known
    mistake recognised, if any), ``n_tests`` (cases run) and ``case`` (the failing case's index)."""

    def __init__(self, name, passed, n_tests, hint=None, mistake=None, case=None, example=None):
        self.name, self.passed, self.n_tests = name, passed, n_tests
        self.hint, self.mistake, self.case = hint, mistake, case
        self.example = example  # the smallest failing case: input, expected and received value (text)

    def __bool__(self):
        return self.passed

    @property
    def message(self):
        if self.passed:
            return f"✓ {self.name} passes {self.n_tests} random tests"
        if self.mistake == "not_solved":
            return f"✗ {self.name}: {self.hint}"
        text = f"✗ {self.name} fails test {self.case}: {self.hint}"
        return f"{text}\n{self.example}" if self.example else text

    def __repr__(self):
        return self.message


class Checker:
    """Check a learner's function against ``reference`` on random cases; see the module docstring.

    Args:
        name: the function's name in messages (``'dense_backward'``).
        reference: the correct function.
        make_case: ``make_case(rng, i) -> dict`` of the arguments of case ``i`` (``rng`` is a seeded
            ``default_rng``).
        mistakes: :class:`Mistake` s, checked in order.
        outputs: names of the outputs (for a function returning a tuple), e.g. ``('dx', 'dW', 'db')``.
        n_tests, rtol, atol: number of cases and the tolerance of the comparison.
        doc: what the learner must write (shown by ``help``).
        exception_hint: a sentence added when the learner's function raises (e.g. the expected shapes).
        in_place_hint: replaces the generic message when an argument was modified in place.
    """

    def __init__(self, name, reference, make_case, mistakes=(), outputs=None, n_tests=20, rtol=1e-5, atol=1e-8,
                 doc=None, exception_hint=None, in_place_hint=None):
        self.name, self.reference, self.make_case = name, reference, make_case
        self.exception_hint, self.in_place_hint = exception_hint, in_place_hint
        self.mistakes = list(mistakes)
        self.outputs = tuple(outputs) if outputs else None
        self.n_tests, self.rtol, self.atol = n_tests, rtol, atol
        self.__doc__ = doc or f"Check your ``{name}`` on {n_tests} random cases; returns a CheckResult."
        self.__name__ = f"check_{name}"

    # --- the check ---------------------------------------------------------------------------
    def __call__(self, fn, n_tests=None, seed=0, verbose=True, raise_on_failure=False):
        """Run the check; prints ✓ or ✗ with a hint (``verbose``) and returns a :class:`CheckResult`."""
        result = self._run(fn, self.n_tests if n_tests is None else n_tests, seed)
        if verbose:
            print(result.message)
        if raise_on_failure and not result.passed:
            raise AssertionError(result.message)
        return result

    def _run(self, fn, n_tests, seed):
        if not callable(fn):
            return CheckResult(self.name, False, 0, f"expected a function, got {type(fn).__name__}.", case=0)
        rng = xp.random.default_rng(seed)
        cases = [self.make_case(rng, i) for i in range(n_tests)]
        for i, case in enumerate(cases):
            hint, key = self._check_case(fn, case, cases[i + 1:])
            if hint is not None:
                hint, key, example = self._explain(fn, cases, i, hint, key)
                return CheckResult(self.name, False, i + 1, hint, key, case=i, example=example)
        return CheckResult(self.name, True, n_tests)

    def _explain(self, fn, cases, first, hint, key):
        """After the first failure: name the n-D trap if the failures follow the number of dimensions, and
        show the smallest failing case with its expected and received value."""
        fails = [k == first or (k > first and self._check_case(fn, c)[0] is not None)  # earlier cases passed
                 for k, c in enumerate(cases)]
        if key in ("values", "exception"):
            trap = _traps.ndim_trap(cases, fails)
            if trap is not None:
                hint, key = trap + (f" (Your code {hint})" if key == "exception" else ""), "n_dims"
        small = min((k for k, f in enumerate(fails) if f), key=lambda k: (_traps.case_size(cases[k]), k))
        return hint, key, self._example(fn, cases[small], small)

    def _example(self, fn, case, index):
        with _quiet():
            expected = self.reference(*copy.deepcopy(case).values())
            names = self._names(expected)
            try:
                got = fn(*copy.deepcopy(case).values())
            except Exception as err:  # noqa: BLE001 - the learner's code
                line = traceback.format_exception_only(type(err), err)[-1].strip()
                return _traps.format_example(index, case, expected, None, names, raised=line)
        return _traps.format_example(index, case, expected, got, names)

    def _names(self, expected):
        if self.outputs:
            return self.outputs
        n = len(expected) if isinstance(expected, tuple) else 1
        return tuple(f"output {k}" for k in range(n))

    def _same_as(self, fn, other, case):
        """Whether ``fn`` and ``other`` give the same outputs on ``case`` (False if either raises)."""
        try:
            with _quiet():
                a = fn(*copy.deepcopy(case).values())
                b = other(*copy.deepcopy(case).values())
        except Exception:  # noqa: BLE001 - either function may be broken on this case
            return False
        return self._compare(a, b, equal_nan=True) is None

    def _check_case(self, fn, case, later=()):
        pristine = copy.deepcopy(case)
        args = copy.deepcopy(case)
        try:
            with _quiet():
                got = fn(*args.values())
        except NotImplementedError:  # the exercise's stub (`raise NotImplementedError()`) is still there
            return NOT_SOLVED, "not_solved"
        except Exception as err:  # the learner's code: any error becomes a hint
            line = traceback.format_exception_only(type(err), err)[-1].strip()
            extra = f" {self.exception_hint}" if self.exception_hint else ""
            return (f"{self.name}({', '.join(args)}) raised {line} with arguments {_shapes(pristine)}.{extra}"), \
                "exception"
        for name, value in args.items():
            if not _same(value, pristine[name], 0, 0):
                if self.in_place_hint:
                    return f"{self.in_place_hint.format(name=name)} {_traps.ALIAS_NOTE}", "in_place"
                return (f"{self.name} changed its argument `{name}` in place. Never modify an input: build a new "
                        f"array (`{name} * mask`, `{name} + delta`, or start from `{name}.copy()`) instead of "
                        f"writing into it (`{name}[...] = ...`, `{name} += ...`). {_traps.ALIAS_NOTE}"), "in_place"
        with _quiet():
            expected = self.reference(*copy.deepcopy(case).values())
        hint = self._compare(got, expected)
        if hint is None:
            trap = _traps.wrong_container(got, expected)
            return (None, None) if trap is None else (trap, "container")
        matching = []
        for mistake in self.mistakes:
            try:
                with _quiet():
                    wrong = mistake.fn(*copy.deepcopy(case).values())
            except Exception:  # noqa: BLE001 - a mistake that cannot run here cannot be the explanation
                continue
            if self._compare(got, wrong, equal_nan=True) is None:
                matching.append(mistake)
        # several mistakes can agree on one case: keep the one that explains the later cases too
        for mistake in matching:
            if all(self._same_as(fn, mistake.fn, c) for c in later[:10]):
                return mistake.hint, mistake.key
        if matching:
            return matching[0].hint, matching[0].key
        trap = _traps.order_trap(got, expected, self._names(expected),
                                 lambda a, b: _same(a, b, self.rtol, self.atol))
        if trap is not None:
            return trap, "order"
        trap = _traps.overflow_trap(got, expected, case, self._names(expected))
        if trap is not None:
            return trap, "overflow"
        return hint, "values"

    def _compare(self, got, expected, equal_nan=False):
        """None when ``got`` matches ``expected``, else a message saying what differs."""
        multi = isinstance(expected, tuple)
        exp = expected if multi else (expected,)
        names = self.outputs or tuple(f"output {k}" for k in range(len(exp)))
        if got is None:
            return f"{self.name} returned None: did you forget the `return` statement?"
        if multi:
            if not isinstance(got, (tuple, list)) or len(got) != len(exp):
                n = len(got) if isinstance(got, (tuple, list)) else 1
                return (f"{self.name} must return {len(exp)} values ({', '.join(names)}), "
                        f"it returned {n}.")
        g_all = tuple(got) if multi else (got,)
        wrong = []
        for name, g, e in zip(names, g_all, exp):
            if g is None:
                return f"{self.name} returned None for `{name}`."
            g_arr, e_arr = _array(g), _array(e)
            if g_arr.shape != e_arr.shape:
                msg = f"`{name}` has shape {tuple(g_arr.shape)}, expected {tuple(e_arr.shape)}"
                if g_arr.ndim == 2 and g_arr.shape == e_arr.shape[::-1]:
                    msg += " — it looks transposed"
                return msg + "."
            if not _same(g_arr, e_arr, self.rtol, self.atol, equal_nan=equal_nan):
                with _quiet():  # nan/inf in a learner's output is reported, not warned about
                    err = float(abs(backend.to_cpu(g_arr).astype("float64") - backend.to_cpu(e_arr).astype("float64")).max()) \
                        if g_arr.size else 0.0
                wrong.append((name, err))
        if not wrong:
            return None
        if len(exp) == 1:
            return f"wrong values (largest difference {wrong[0][1]:.3g})."
        right = [n for n in names if n not in dict(wrong)]
        return ("wrong values in " + ", ".join(f"`{n}` (largest difference {e:.3g})" for n, e in wrong)
                + (f"; {', '.join(f'`{n}`' for n in right)} {'is' if len(right) == 1 else 'are'} right." if right else "."))

    # --- introspection, for tests and for the book --------------------------------------------
    def planted(self):
        """The known mistakes, as ``{key: fn}`` (each must be recognised with its own hint)."""
        return {m.key: m.fn for m in self.mistakes}

    def __repr__(self):
        return f"<Checker check_{self.name}: {self.n_tests} random tests, {len(self.mistakes)} known mistakes>"


def collect(namespace):
    """The checkers of a chapter module: every ``check_*`` :class:`Checker` in ``namespace``, in order."""
    return {k: v for k, v in namespace.items() if k.startswith("check_") and isinstance(v, Checker)}


# --- helpers ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet():
    errstate = getattr(xp, "errstate", None)
    with errstate(all="ignore") if errstate is not None else contextlib.nullcontext():
        yield


def _array(a):
    a = getattr(a, "value", a)
    if isinstance(a, (int, float)):
        return xp.asarray(float(a))
    return a if hasattr(a, "shape") and hasattr(a, "dtype") else xp.asarray(a)


def _same(a, b, rtol, atol, equal_nan=False):
    if isinstance(a, (int, float, bool)) or isinstance(b, (int, float, bool)) or a is None or b is None:
        if a is None or b is None:
            return a is b
        return _same(_array(a), _array(b), rtol, atol, equal_nan)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(
            _same(u, v, rtol, atol, equal_nan) for u, v in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _same(a[k], b[k], rtol, atol, equal_nan) for k in a)
    a, b = _array(a), _array(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
        return bool((a == b).all())
    return bool(xp.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _shapes(case):
    parts = []
    for name, v in case.items():
        shape = getattr(v, "shape", None)
        if shape is not None:
            parts.append(f"{name}: shape {tuple(shape)}")
        elif callable(v):
            parts.append(f"{name}: {getattr(v, '__name__', 'a function')}")
        else:
            parts.append(f"{name}: {v!r}")
    return "{" + ", ".join(parts) + "}"
