"""Student copies of the chapters: reference solutions removed, everything else kept, and Run All works.

Works from the chapters as they are written, recognising

* an **exercise cell** by its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers: each block becomes
  ``raise NotImplementedError()``, the cell's outputs are cleared (they came from the solution), and the
  statements after its check (``ex1 = ch01.check_...(...)``) run only once the check passes;
* the **key-numbers cell** by its ``nbval-check-output`` tag: it reports which exercises pass, and runs the
  chapter's key numbers (which use the learner's functions) once all of them do;
* a **cell that uses an exercise's function** (directly or through a name computed from it): it runs once
  that exercise passes and prints what to solve first otherwise; its outputs are cleared.

Every other cell keeps its stored outputs (figures included). Nothing maintainers use (test tags) stays.
"""
from __future__ import annotations

import ast
import copy
import os
import re
import textwrap
from pathlib import Path

from tinynn.book import SOLUTION_BEGIN, strip_solutions

__all__ = ["student_notebook", "write_student_copy", "student_copies", "exercise_report", "KEY_TAG"]

KEY_TAG = "nbval-check-output"
_MAINTAINER_TAG = re.compile(r"^(nbval|raises-exception$|skip-execution$)")
_CHECK_MODULE = re.compile(r"^ch\d\d$")


def exercise_report(*results) -> bool:
    """Print which exercises pass (``✓``/``✗`` and the checker's hint) and return True when all do."""
    solved = sum(bool(r) for r in results)
    print(f"exercises solved: {solved} of {len(results)}")
    for r in results:
        name = getattr(r, "name", "exercise")
        hint = getattr(r, "hint", None)
        print(f"  ✓ {name}" if r else f"  ✗ {name}: {hint or 'not solved yet'}")
    if solved < len(results):
        print("This chapter's key numbers use your functions: they appear here once every exercise passes.")
    return solved == len(results)


def _check_call(node):
    """``chNN.check_x(...)`` → ('chNN', 'check_x'), else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and isinstance(node.func.value, ast.Name) and _CHECK_MODULE.match(node.func.value.id) \
            and node.func.attr.startswith("check_"):
        return node.func.value.id, node.func.attr
    return None


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:  # IPython magics or a learner's half-written code: leave the cell as it is
        return None


def _assigned(tree):
    """Names a cell defines at its top level (functions, classes, assignment and loop targets, imports)."""
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        else:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
    return names


def _loaded(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _indent(source):
    return textwrap.indent(source.rstrip("\n"), "    ") + "\n"


def _guarded(source, results, names):
    """``source`` run only when every result in ``results`` passes; otherwise one line saying why not."""
    todo = ", ".join(f"`{n}`" for n in names)
    cond = " and ".join(results)
    return (f"if {cond}:  # runs once {todo} {'passes its check' if len(names) == 1 else 'pass their checks'}\n"
            f"{_indent(source)}else:\n    print(\"This cell uses your {todo}: it runs once the exercise above "
            f"{'passes' if len(names) == 1 else 'pass'}.\")\n")


def _tolerant(source):
    """Fallback when no check result is named: an unsolved exercise stops this cell only."""
    return (f"try:\n{_indent(source)}except NotImplementedError:\n"
            f"    print(\"This cell uses an exercise you have not solved yet.\")\n")


def _exercise_cell(source, dependent, results, labels):
    """Strip the solutions; statements after the check run once the check passes."""
    tree = _parse(source)
    stripped = strip_solutions(source)
    if tree is None:
        return stripped
    var, label, check_at = None, None, None
    for i, stmt in enumerate(tree.body):
        call = getattr(stmt, "value", None)
        found = _check_call(call) if isinstance(stmt, (ast.Assign, ast.Expr)) else None
        if found:
            check_at, label = i, found[1].removeprefix("check_")
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                var = stmt.targets[0].id
    if var:
        results.append(var)
        labels[var] = label
        for name in _assigned(tree) - {var}:
            dependent[name] = {var}
    if check_at is None or check_at == len(tree.body) - 1:
        return stripped
    # the trailing statements, found in the stripped text by their (unchanged) first line
    tail_start = tree.body[check_at + 1].lineno - 1
    old_lines = source.splitlines(keepends=True)
    tail = "".join(old_lines[tail_start:])
    if SOLUTION_BEGIN in tail:  # a solution block after the check: keep the cell as stripped
        return stripped
    head = stripped[: len(stripped) - len(tail)] if stripped.endswith(tail) else None
    if head is None:
        return stripped
    return head + (_guarded(tail, [var], [label]) if var else _tolerant(tail))


def _key_cell(source, results, labels):
    if not results:
        return _tolerant(source)
    return ("# Your progress: which exercises pass, then this chapter's key numbers (they use your functions).\n"
            "from tinynn.book import exercise_report\n\n"
            f"if exercise_report({', '.join(results)}):\n{_indent(source)}")


def student_notebook(nb):
    """The student version of the notebook ``nb`` (an ``nbformat`` node; ``nb`` itself is not changed)."""
    nb = copy.deepcopy(nb)
    dependent, results, labels = {}, [], {}
    for cell in nb.cells:
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if not _MAINTAINER_TAG.match(t)]
        is_key = KEY_TAG in cell.get("metadata", {}).get("tags", [])
        if "tags" in cell.get("metadata", {}):
            cell.metadata["tags"] = tags
            if not tags:
                del cell.metadata["tags"]
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type != "code":
            continue
        if SOLUTION_BEGIN in cell.source:
            cell.source = _exercise_cell(cell.source, dependent, results, labels)
            cell.outputs, cell.execution_count = [], None
        elif is_key:
            cell.source = _key_cell(cell.source, list(results), labels)
            cell.outputs, cell.execution_count = [], None
        else:
            tree = _parse(cell.source)
            if tree is None:
                continue
            needs = set().union(*(dependent[n] for n in _loaded(tree) if n in dependent))
            if needs:
                order = [r for r in results if r in needs]
                cell.source = _guarded(cell.source, order, [labels[r] for r in order])
                cell.outputs, cell.execution_count = [], None
                for name in _assigned(tree):
                    dependent[name] = needs
    nb.metadata.pop("widgets", None)
    return nb


def write_student_copy(path_in, path_out):
    """Write the student version of the chapter ``path_in`` to ``path_out`` (its folder is created)."""
    import nbformat  # noqa: PLC0415

    nb = nbformat.read(os.fspath(path_in), as_version=4)
    out = student_notebook(nb)
    out.metadata["tinynn"] = {"student_copy_of": Path(path_in).stem}
    path_out = Path(path_out)
    path_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = path_out.with_name(path_out.name + ".tmp")
    nbformat.write(out, os.fspath(tmp))
    os.replace(tmp, path_out)
    return path_out


def student_copies(dest, names=None, root=None):
    """Student copies of all chapters of ``book.yml`` (or of the ``names`` given) in the folder ``dest``."""
    from tinynn.book import project  # noqa: PLC0415

    todo = [project.resolve(n, root) for n in names] if names else project.chapters(root)
    return [write_student_copy(chapter, Path(dest) / chapter.name) for chapter in todo]
