"""Grade submitted notebooks: each runs top to bottom in its own fresh kernel, then every exercise is checked.

For a notebook, the exercises are the checkers of each chapter it uses (``from tinynn.exercises import ch03``
and ``ch03.check_dense_backward(dense_backward)``): one row per checker of that chapter. After the learner's
cells ran (errors and time-outs do not stop the run), one extra cell per exercise calls the checker on the
learner's function, in the learner's kernel, and prints its verdict. A notebook that cannot be read, a kernel
that dies or a function that never returns becomes a row with a message, never a traceback or a hang.
"""
from __future__ import annotations

import ast
import csv
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Row", "find_notebooks", "exercises_of", "grade_notebook", "grade", "write_csv", "summary",
           "check_in_kernel"]

NOTEBOOK = "(notebook)"
_IMPORT = re.compile(r"\bfrom\s+tinynn\.exercises\s+import\s+([\w\s,()]+)")
_CALL = re.compile(r"\b(ch\d\d)\.(check_\w+)\(\s*([A-Za-z_][\w.]*)")


@dataclass
class Row:
    """One result: ``notebook``, ``exercise`` (the function the learner writes), ``passed``, ``message``
    (the checker's hint, or what went wrong)."""

    notebook: str
    exercise: str
    passed: bool
    message: str = ""


def find_notebooks(paths) -> list[Path]:
    """The notebooks named by ``paths`` (files, or folders searched recursively, checkpoints skipped)."""
    from tinynn.book.project import BookError  # noqa: PLC0415

    found = []
    for p in map(Path, paths):
        if p.is_dir():
            hits = sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
            if not hits:
                raise BookError(f"{p}: no notebooks (*.ipynb) in this folder.")
            found += hits
        elif p.is_file():
            found.append(p)
        else:
            raise BookError(f"{p}: no such file or folder.")
    return found


def _calls(source):
    """``[(module, check, expression)]`` of every ``chNN.check_x(expression, ...)`` in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [m.groups() for m in _CALL.finditer(source)]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args \
                and isinstance(node.func.value, ast.Name) and re.fullmatch(r"ch\d\d", node.func.value.id) \
                and node.func.attr.startswith("check_"):
            out.append((node.func.value.id, node.func.attr, ast.unparse(node.args[0])))
    return out


def _shipped_calls(module):
    """The check calls of the shipped chapter that uses ``module`` (when the book is at hand)."""
    try:
        from tinynn.book import project  # noqa: PLC0415

        for path in project.chapters():
            source = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                               for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
            calls = [c for c in _calls(source) if c[0] == module]
            if calls:
                return calls
    except Exception:  # noqa: BLE001 - no book around: the submission's own calls are all there is
        pass
    return []


def exercises_of(nb):
    """``[(module, check, name, expression or None)]``: every checker of every chapter ``nb`` uses, with the
    expression the notebook checks (None when no cell checks it)."""
    from tinynn.exercises import checkers  # noqa: PLC0415

    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    calls = _calls(source)
    modules = [m for m, _, _ in calls]
    for match in _IMPORT.finditer(source):
        modules += re.findall(r"\bch\d\d\b", match.group(1))
    out = []
    for module in dict.fromkeys(modules):
        try:
            chapter = checkers(module)
        except ImportError:
            continue
        exprs = {c: e for m, c, e in _shipped_calls(module)}
        exprs.update({c: e for m, c, e in calls if m == module})
        out += [(module, check, chk.name, exprs.get(check)) for check, chk in chapter.items()]
    return out


def check_in_kernel(marker, module, check, get):
    """Run inside the learner's kernel: check ``get()`` with ``module.check`` and print the verdict as JSON."""
    from tinynn.exercises import checkers  # noqa: PLC0415

    try:
        fn = get()
    except NameError as err:
        verdict = {"passed": False, "message": f"{err}: its cell was deleted, renamed or failed."}
    except Exception as err:  # noqa: BLE001 - the learner's notebook state: report, never raise
        verdict = {"passed": False, "message": f"{type(err).__name__}: {err}"}
    else:
        r = checkers(module)[check](fn, verbose=False)
        verdict = {"passed": bool(r.passed), "message": "" if r.passed else str(r.hint)}
    print(marker + json.dumps(verdict))


def _cell_label(nb, index):
    first = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    return f"cell {index + 1} (`{first.strip()[:40]}`)"


def grade_notebook(path, timeout=300.0, size="ci", name=None):
    """Rows for one notebook, and the outcomes of its cells (for callers that want the details)."""
    import nbformat  # noqa: PLC0415

    from tinynn.book.execute import Session  # noqa: PLC0415

    path, name = Path(path), name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            return [Row(name, NOTEBOOK, False, "not a notebook: the file is empty")], []
        nb = nbformat.reads(text, as_version=4)
        exercises = exercises_of(nb)
    except Exception as err:  # noqa: BLE001 - any unreadable file is a row
        line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return [Row(name, NOTEBOOK, False, f"not a notebook ({type(err).__name__}): {line[:200]}")], []
    if not exercises:
        return [Row(name, NOTEBOOK, False, "no exercises found (no `chNN.check_...` call and no "
                                           "`from tinynn.exercises import chNN`)")], []
    rows, outcomes, marker = [], [], f"@@tinynn-grade-{secrets.token_hex(8)}@@"
    try:
        with Session(nb, cwd=path.resolve().parent, size=size, timeout=timeout) as session:
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    outcomes.append(session.run(i))
                    if outcomes[-1].status == "dead":
                        break
            dead = None
            if not session.alive:  # the cell that killed the kernel, or that it could not be stopped from
                cause = next(o for o in outcomes if o.status in ("dead", "timeout") and not o.error.startswith("not run"))
                dead = f"{cause.error} ({_cell_label(nb, cause.index)})"
            for module, check, label, expr in exercises:
                if dead:
                    rows.append(Row(name, label, False, f"not checked: {dead}"))
                    continue
                if expr is None:
                    rows.append(Row(name, label, False, f"no cell calls {module}.{check}(...)"))
                    continue
                out = session.run_extra(f"from tinynn.book.grade import check_in_kernel\n"
                                        f"check_in_kernel({marker!r}, {module!r}, {check!r}, lambda: ({expr}))")
                rows.append(_row(name, label, out, marker, timeout))
                if not session.alive:
                    dead = out.error or "the kernel stopped"
                    if out.status == "timeout":
                        dead = f"the kernel stopped after checking {label} ran longer than {timeout:g} s"
    except Exception as err:  # noqa: BLE001 - the kernel could not start, or died in an unexpected way
        done = {r.exercise for r in rows}
        rows += [Row(name, label, False, f"not checked: {type(err).__name__}: {err}")
                 for _, _, label, _ in exercises if label not in done]
    return rows, outcomes


def _row(name, label, out, marker, timeout):
    if out.status == "timeout":
        return Row(name, label, False, f"timed out: checking it took longer than {timeout:g} s (an endless loop?)")
    if out.status == "dead":
        return Row(name, label, False, f"not checked: {out.error}")
    for line in out.text.splitlines():
        if line.startswith(marker):
            verdict = json.loads(line[len(marker):])
            return Row(name, label, verdict["passed"], verdict["message"])
    return Row(name, label, False, f"not checked: {out.error or 'the check printed no verdict'}")


def _timed(path, timeout, size):
    start = time.monotonic()
    rows, outcomes = grade_notebook(path, timeout=timeout, size=size)
    return rows, outcomes, time.monotonic() - start


def grade(paths, timeout=300.0, size="ci", log=None, jobs=1):
    """Rows for every notebook under ``paths`` (see :func:`find_notebooks`), in that order; ``jobs``
    notebooks are graded at the same time (each in its own process and kernel)."""
    notebooks = find_notebooks(paths)
    if jobs > 1 and len(notebooks) > 1:
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        with ProcessPoolExecutor(max_workers=min(jobs, len(notebooks))) as pool:
            results = pool.map(_timed, notebooks, [timeout] * len(notebooks), [size] * len(notebooks))
            return _collect(notebooks, results, log)
    return _collect(notebooks, (_timed(p, timeout, size) for p in notebooks), log)


def _collect(notebooks, results, log):
    rows = []
    for path, (got, outcomes, seconds) in zip(notebooks, results):
        rows += got
        if log:
            log(f"graded {path}: {sum(r.passed for r in got)} of {len(got)} passed ({seconds:.0f} s)")
            for o in outcomes:
                if o.status != "ok":
                    log(f"  cell {o.index + 1}: {o.status}: {o.error}")
    return rows


def write_csv(rows, file):
    """CSV with the columns ``notebook,exercise,passed,message`` (``passed`` is ``true``/``false``)."""
    with open(file, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["notebook", "exercise", "passed", "message"])
        for r in rows:
            w.writerow([r.notebook, r.exercise, "true" if r.passed else "false", r.message])


def summary(rows, width=70) -> str:
    """A readable table: one line per notebook and exercise, then the totals."""
    heads = ("notebook", "exercise", "", "message")
    table = [(r.notebook, r.exercise, "✓" if r.passed else "✗",
              (r.message if len(r.message) <= width else r.message[:width - 1] + "…")) for r in rows]
    widths = [max(len(h), *(len(t[k]) for t in table)) if table else len(h) for k, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip() for t in table]
    books = len({r.notebook for r in rows})
    lines.append(f"{books} notebook{'s' * (books != 1)}: {sum(r.passed for r in rows)} of {len(rows)} "
                 f"exercises passed")
    return "\n".join(lines)
