"""The student-copy transform on hand-made notebooks (fast; the real chapters are in test_book_cli.py), and
the checker's "not solved yet" for the exercise stub."""
from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")

from tinynn.book import exercise_report  # noqa: E402
from tinynn.book.student import student_notebook  # noqa: E402
from tinynn.exercises import ch02  # noqa: E402
from tinynn.exercises._checker import NOT_SOLVED  # noqa: E402


def _nb(*cells, key=None):
    nb = nbformat.v4.new_notebook()
    for source in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored\n")]
        nb.cells.append(cell)
    if key is not None:
        nb.cells[key].metadata["tags"] = ["nbval-check-output", "keep-me"]
    return nb


def _run(nb):
    """Run the cells' code in one namespace, as Run All does, and return it."""
    ns = {}
    for cell in nb.cells:
        exec(compile(cell.source, "<cell>", "exec"), ns)  # noqa: S102
    return ns


EXERCISE = ("import numpy as np\nfrom tinynn.exercises import ch02\n\ndef relu_backward(x, dy):\n"
            "    ### BEGIN SOLUTION\n    return dy * (x > 0)\n    ### END SOLUTION\n\n"
            "ex1 = ch02.check_relu_backward(relu_backward)\nprint('after the check', relu_backward(np.ones(2), np.ones(2)))\n")


def test_run_all_works_while_unsolved(capsys):
    nb = _nb("x = 1", EXERCISE, "y = relu_backward(np.ones(3), np.ones(3))", "z = y.sum()",
             "print('KEYNUM', z)\nassert ex1.passed", key=4)
    out = student_notebook(nb)
    assert out.cells[0].outputs and not out.cells[1].outputs and not out.cells[2].outputs
    assert not out.cells[3].outputs, "a cell using a name computed from the exercise waits too"
    assert out.cells[4].metadata["tags"] == ["keep-me"]
    ns = _run(out)
    printed = capsys.readouterr().out
    assert "✗ relu_backward: not solved yet" in printed and "after the check" not in printed
    assert "exercises solved: 0 of 1" in printed and "KEYNUM" not in printed
    assert "y" not in ns and not ns["ex1"].passed
    assert nb.cells[1].outputs, "the original notebook is not changed"


def test_solved_copy_runs_everything(capsys):
    out = student_notebook(_nb(EXERCISE, "print('uses', relu_backward(np.ones(1), np.ones(1)))",
                               "print('key')\nassert ex1.passed", key=2))
    out.cells[0].source = out.cells[0].source.replace("raise NotImplementedError()", "return dy * (x > 0)")
    _run(out)
    printed = capsys.readouterr().out
    assert "after the check" in printed and "uses [1.]" in printed and "exercises solved: 1 of 1" in printed
    assert "key" in printed


def test_a_check_without_a_result_name_falls_back_to_tolerance(capsys):
    source = EXERCISE.replace("ex1 = ch02", "ch02")
    out = student_notebook(_nb(source, "print(relu_backward(1, 1))", key=1))
    _run(out)
    assert "not solved yet" in capsys.readouterr().out


def test_cells_that_do_not_parse_are_left_alone():
    nb = _nb("%matplotlib inline\nx = 1")
    assert student_notebook(nb).cells[0].source == nb.cells[0].source


def test_checker_says_not_solved_for_the_stub():
    def relu_backward(x, dy):
        raise NotImplementedError()

    r = ch02.check_relu_backward(relu_backward, verbose=False)
    assert not r.passed and r.hint == NOT_SOLVED and r.mistake == "not_solved"
    assert r.message.startswith("✗ relu_backward: not solved yet")


def test_exercise_report(capsys):
    good = ch02.check_relu_backward(lambda x, dy: dy * (x > 0), verbose=False)
    bad = ch02.check_relu_backward(lambda x, dy: dy, verbose=False)
    assert exercise_report(good) is True and exercise_report(good, bad) is False
    out = capsys.readouterr().out
    assert "exercises solved: 1 of 2" in out and "✗ relu_backward:" in out
