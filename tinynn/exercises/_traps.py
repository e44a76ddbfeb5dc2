"""The traps every checker names on its own, and the "smallest failing case" shown under a failed check.

These are mistakes that do not belong to one exercise: a learner can fall into them anywhere.

* **order** — the right outputs in another order than asked, e.g. ``(dW, db, dx)`` (the order the text derives
  them in) where the exercise asks for ``(dx, dW, db)``;
* **container** — a list where a tuple is asked (``return [dx, dW, db]``);
* **overflow** — ``nan`` or ``inf`` where the expected values are finite: an intermediate result overflowed
  (``exp(1000) = inf``, ``inf / inf = nan``) when the input has large entries, else a division by zero;
* **n_dims** — code that only works for one number of dimensions: a loop over rows (``x[i]`` is a row of a
  2-D array) or two nested loops over ``x.shape[0]`` and ``x.shape[1]``, recognised when every case of one
  number of dimensions passes and every case of another fails;
* **alias** — ``x2 = x`` gives the same array a second name, it does not copy it; writing into ``x2`` then
  changes the caller's ``x``: every "changed its argument in place" message says so (:data:`ALIAS_NOTE`).

>>> import numpy as np
>>> order_trap((np.ones(2), np.zeros(3)), (np.zeros(3), np.ones(2)), ("dx", "db"), lambda a, b: np.allclose(a, b))
'you returned the right values in the wrong order, (db, dx); return them in the order asked: (dx, db).'
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp

__all__ = ["order_trap", "wrong_container", "overflow_trap", "ndim_trap", "ALIAS_NOTE",
           "case_size", "format_example"]

ALIAS_NOTE = ("(`x2 = x` does not copy an array, it gives it a second name: writing into `x2` writes into the "
              "caller's `x`. Make a copy with `x.copy()`, or build a new array with `x + ...`.)")


def _is_array(v):
    return hasattr(v, "shape") and hasattr(v, "dtype")


def order_trap(got, expected, names, close):
    """A hint when ``got`` holds exactly the expected outputs, but in another order; else None."""
    if not isinstance(expected, tuple) or not isinstance(got, (tuple, list)) or len(got) != len(expected):
        return None
    perm, used = [], set()
    for g in got:
        for k, e in enumerate(expected):
            if k not in used and getattr(g, "shape", ()) == getattr(e, "shape", ()) and close(g, e):
                perm.append(k)
                used.add(k)
                break
        else:
            return None
    if perm == list(range(len(expected))):
        return None
    return (f"you returned the right values in the wrong order, ({', '.join(names[k] for k in perm)}); "
            f"return them in the order asked: ({', '.join(names)}).")


def wrong_container(got, expected):
    """A hint when a tuple is asked for and ``got`` is a list (``return [a, b]``); else None."""
    if isinstance(expected, tuple) and isinstance(got, list):
        return ("you returned a list; the exercise asks for a tuple: `return a, b` (or `return (a, b)`), "
                "not `return [a, b]`. Keras and tinynn return tuples for several results.")
    return None


def _finite(a):
    return bool(xp.isfinite(a).all())


def overflow_trap(got, expected, case, names):
    """A hint when ``got`` holds nan/inf where ``expected`` is finite (an overflow); else None."""
    g_all = got if isinstance(expected, tuple) and isinstance(got, (tuple, list)) else (got,)
    e_all = expected if isinstance(expected, tuple) else (expected,)
    for name, g, e in zip(names, g_all, e_all):
        if not (_is_array(g) and _is_array(e)) or g.dtype.kind not in "fc" or g.shape != e.shape:
            continue
        if _finite(e) and not _finite(g):
            big = max((float(abs(backend.to_cpu(v)).max()) for v in case.values()
                       if _is_array(v) and v.size and v.dtype.kind in "fc"), default=0.0)
            if big < 50:  # exp of numbers this small cannot overflow: a zero went where it must not
                return (f"`{name}` contains nan or inf where the expected values are finite, and the input's entries "
                        f"are at most {big:.3g}: look for a division by zero (x/0 = inf, 0/0 = nan) or the log of 0, "
                        f"e.g. a step counter that starts at 0 where the formula starts at 1.")
            return (f"`{name}` contains nan or inf where the expected values are finite. The input has entries as "
                    f"large as {big:.3g}: an intermediate result overflowed (exp(1000) = inf in floating point, "
                    f"and inf/inf = nan). Rewrite the formula so that nothing huge is computed — for softmax, "
                    f"subtract each row's maximum before exp: the result is the same, e^(z − max) ≤ 1.")
    return None


def ndim_trap(cases, fails):
    """A hint when the failures depend only on how many dimensions an argument has; else None."""
    for name in cases[0]:
        if not all(_is_array(c.get(name)) for c in cases):
            continue
        ok = {c[name].ndim for c, f in zip(cases, fails) if not f}
        bad = {c[name].ndim for c, f in zip(cases, fails) if f}
        if ok and bad and not ok & bad:
            example = next(c[name].shape for c, f in zip(cases, fails) if f)
            return (f"`{name}` can have any number of dimensions: your function is right when `{name}` has "
                    f"{_dims(ok)} but not when it has {_dims(bad)} (e.g. shape {tuple(example)}). A loop over rows "
                    f"(`for i in range(len({name}))`, `{name}[i]` is a whole row of a 2-D array) or two nested loops "
                    f"over `{name}.shape[0]` and `{name}.shape[1]` reach every entry for one number of dimensions "
                    f"only; loop over all `{name}.size` entries with `{name}.flat[i]` (or `np.ndindex({name}.shape)`).")
    return None


def _dims(ndims):
    words = [f"{d} dimension{'s' if d != 1 else ''}" for d in sorted(ndims)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def case_size(case):
    """How big a case is (the number of array entries in its arguments): the example shown is the smallest."""
    return sum(int(v.size) for v in case.values() if _is_array(v))


def _fmt(v, indent=0):
    v = getattr(v, "value", v)
    if _is_array(v):
        import numpy as np  # noqa: PLC0415 - formatting only, on a CPU copy

        a = np.asarray(backend.to_cpu(v))
        text = np.array2string(a, precision=4, suppress_small=True, max_line_width=88, threshold=40)
        return text.replace("\n", "\n" + " " * indent)
    if isinstance(v, (tuple, list)):
        inner = ", ".join(_fmt(u) for u in v)
        return f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
    if callable(v) and not isinstance(v, type):
        return repr(v) if type(v).__repr__ is not object.__repr__ else getattr(v, "__name__", "a function")
    return repr(v)


def _close(a, b):
    import numpy as np  # noqa: PLC0415 - comparison for display only, on CPU copies

    try:
        a, b = np.asarray(backend.to_cpu(getattr(a, "value", a))), np.asarray(backend.to_cpu(getattr(b, "value", b)))
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True))
    except (TypeError, ValueError):
        return False


def format_example(index, case, expected, got, names, raised=None):
    """The text under a failed check: the failing input, what was expected and what came back."""
    lines = [f"  a small failing input (test {index}):"]

    def add(prefix, value):
        lines.append(prefix + _fmt(value, len(prefix)))

    for name, value in case.items():
        add(f"    {name} = ", value)
    if raised is not None:
        add("  expected: ", expected)
        lines.append(f"  received: it raised {raised}")
        return "\n".join(lines)
    multi = isinstance(expected, tuple) and isinstance(got, (tuple, list)) and len(got) == len(expected)
    if multi:
        differ = [not _close(e, g) for e, g in zip(expected, got)]
        for name, e, g, d in zip(names, expected, got, differ):
            if d or not any(differ):  # only the wrong outputs (all of them if only the container is wrong)
                add(f"  expected {name} = ", e)
                add(f"  received {name} = ", g)
    else:
        add("  expected: ", expected)
        add("  received: ", got)
    return "\n".join(lines)
