"""The exercise checkers: the references pass, every catalogued mistake gets its own hint, and hand-written
learner-style bugs (in-place writes, exceptions, a missing return, wrong shapes) get targeted hints."""
from __future__ import annotations

import numpy as np
import pytest

from tinynn.exercises import Checker, CheckResult, Mistake, checkers

CHAPTERS = ("ch01", "ch02", "ch03", "ch04")
ALL = [(ch, name, chk) for ch in CHAPTERS for name, chk in checkers(ch).items()]
IDS = [f"{ch}.{name}" for ch, name, _ in ALL]
MISTAKES = [(ch, name, chk, m) for ch, name, chk in ALL for m in chk.mistakes]


@pytest.mark.parametrize("ch,name,chk", ALL, ids=IDS)
def test_reference_passes(ch, name, chk, capsys):
    r = chk(chk.reference)
    assert isinstance(r, CheckResult) and r.passed and r.hint is None and bool(r)
    assert capsys.readouterr().out.startswith(f"✓ {chk.name} passes {chk.n_tests} random tests")


@pytest.mark.parametrize("ch,name,chk", ALL, ids=IDS)
def test_each_chapter_has_documented_checkers(ch, name, chk):
    assert name == f"check_{chk.name}" and chk.__doc__ and len(chk.mistakes) >= 2


@pytest.mark.parametrize("ch,name,chk,mistake", MISTAKES, ids=[f"{c}.{n}-{m.key}" for c, n, _, m in MISTAKES])
def test_each_catalogued_mistake_gets_its_hint(ch, name, chk, mistake, capsys):
    r = chk(mistake.fn)
    assert not r.passed and r.mistake == mistake.key and r.hint == mistake.hint
    assert capsys.readouterr().out.startswith(f"✗ {chk.name} fails test")


def test_raise_on_failure():
    from tinynn.exercises import ch02

    with pytest.raises(AssertionError, match="relu_backward"):
        ch02.check_relu_backward(lambda x, dy: dy, verbose=False, raise_on_failure=True)


# --- learner-style bugs written independently of the catalogue -------------------------------------------
def test_in_place_dy_is_caught():
    from tinynn.exercises import ch02

    def relu_backward(x, dy):
        dy[x <= 0] = 0          # the DLFS bug: modifies the caller's dy
        return dy

    r = ch02.check_relu_backward(relu_backward, verbose=False)
    assert r.mistake == "in_place" and "`dy` in place" in r.hint


def test_missing_return():
    from tinynn.exercises import ch02

    def sigmoid_backward(x, dy):
        s = 1 / (1 + np.exp(-x))
        dy * s * (1 - s)

    r = ch02.check_sigmoid_backward(sigmoid_backward, verbose=False)
    assert not r.passed and "return" in r.hint


def test_transposed_dW_by_hand():
    from tinynn.exercises import ch03

    def dense_backward(x, W, dy):
        dW = np.dot(dy.T, x)
        return np.dot(dy, W.T), dW, np.sum(dy, axis=0)

    r = ch03.check_dense_backward(dense_backward, verbose=False)
    assert r.mistake == "dW_transposed" and "transposed" in r.hint


def test_missing_one_over_n_by_hand():
    from tinynn.exercises import ch04

    def grad(logits, y_true):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True) - y_true

    r = ch04.check_softmax_cross_entropy_grad(grad, verbose=False)
    assert r.mistake == "no_mean" and "1/N" in r.hint


def test_wrong_axis_softmax_by_hand():
    from tinynn.exercises import ch02

    def softmax(x):
        z = x - np.max(x, axis=0)
        return np.exp(z) / np.sum(np.exp(z), axis=0)

    r = ch02.check_softmax(softmax, verbose=False)
    assert r.mistake == "axis0" and "axis" in r.hint


def test_numerical_gradient_not_restoring_x():
    from tinynn.exercises import ch03

    def numerical_gradient(f, x, h):
        g = np.zeros_like(x)
        for i in range(x.size):
            x.flat[i] += h
            plus = f(x)
            x.flat[i] -= 2 * h
            g.flat[i] = (plus - f(x)) / (2 * h)     # forgot to put x back
        return g

    r = ch03.check_numerical_gradient(numerical_gradient, verbose=False)
    assert r.mistake == "in_place" and "back" in r.hint


def test_exception_names_the_shapes():
    from tinynn.exercises import ch01

    r = ch01.check_dense_forward(lambda X, W, b, f: f(X @ W.T + b), verbose=False)
    assert r.mistake == "exception" and "shape" in r.hint and "D_in" in r.hint


def test_adam_without_bias_correction_by_hand():
    from tinynn.exercises import ch04

    def adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v

    assert ch04.check_adam_step(adam_step, verbose=False).mistake == "no_bias_correction"


def test_two_bugs_at_once_get_a_generic_but_precise_message():
    from tinynn.exercises import ch03

    r = ch03.check_dense_backward(lambda x, W, dy: (dy @ W.T, 2 * x.T @ dy, dy.mean(axis=0)), verbose=False)
    assert r.mistake == "values" and "`dW`" in r.hint and "`db`" in r.hint and "`dx` is right" in r.hint


def test_not_a_function():
    from tinynn.exercises import ch01

    assert not ch01.check_perceptron_predict(None, verbose=False).passed


def test_checker_detects_a_mistake_that_differs_only_on_some_cases():
    chk = Checker("f", lambda x: abs(x), lambda rng, i: {"x": rng.normal(size=3)},
                  mistakes=[Mistake("identity", lambda x: x, "abs, not identity")])
    r = chk(lambda x: x, verbose=False)
    assert r.mistake == "identity"


# --- the traps every checker names, and the failing example it shows -------------------------------------
def test_failure_shows_a_small_input_the_expected_and_the_received_value():
    from tinynn.exercises import ch02

    r = ch02.check_relu_backward(lambda x, dy: dy * (x > 0) + 1.0, verbose=False)
    assert r.mistake == "values" and r.example is not None
    assert "a small failing input" in r.example and "expected" in r.example and "received" in r.example
    assert r.example in r.message and "x = " in r.example and "dy = " in r.example
    # the example is the smallest failing case: no case has fewer entries
    sizes = [x.size for x in (ch02.check_relu_backward.make_case(np.random.default_rng(0), i)["x"] for i in range(1))]
    assert sizes  # (the cases are drawn from the checker's own seeded generator)


def test_example_is_the_smallest_failing_case():
    chk = Checker("f", lambda x: 2 * x, lambda rng, i: {"x": np.arange(float(10 - i % 5))},
                  mistakes=[Mistake("square", lambda x: x * x, "2x, not x²")])
    r = chk(lambda x: 2 * x + 1, verbose=False)
    assert "x = [0. 1. 2. 3. 4. 5.]" in r.example  # 6 entries: the smallest of the cases 10, 9, 8, 7, 6
    assert "expected: [ 0.  2.  4.  6.  8. 10.]" in r.example and "received: [ 1.  3.  5.  7.  9. 11.]" in r.example


def test_outputs_in_the_text_order_instead_of_the_asked_order():
    from tinynn.exercises import ch03

    r = ch03.check_dense_backward(lambda x, W, dy: (x.T @ dy, dy.sum(axis=0), dy @ W.T), verbose=False)
    assert r.mistake == "order" and "(dW, db, dx)" in r.hint and "(dx, dW, db)" in r.hint


def test_a_list_where_a_tuple_is_asked():
    from tinynn.exercises import ch03

    r = ch03.check_dense_backward(lambda x, W, dy: [dy @ W.T, x.T @ dy, dy.sum(axis=0)], verbose=False)
    assert not r.passed and r.mistake == "container" and "tuple" in r.hint


def test_overflow_is_named():
    chk = Checker("logsumexp", lambda x: x.max() + np.log(np.exp(x - x.max()).sum()),
                  lambda rng, i: {"x": rng.normal(size=4) * (1 if i < 2 else 1000)})
    r = chk(lambda x: np.log(np.exp(x).sum()), verbose=False)
    assert r.mistake == "overflow" and "nan or inf" in r.hint and "maximum" in r.hint


def test_naive_softmax_in_the_cross_entropy_gradient_is_caught():
    from tinynn.exercises import ch04

    def grad(logits, y_true):
        e = np.exp(logits)
        return (e / e.sum(axis=1, keepdims=True) - y_true) / len(logits)

    r = ch04.check_softmax_cross_entropy_grad(grad, verbose=False)
    assert not r.passed and r.mistake == "naive_softmax" and "maximum" in r.hint
    assert "nan" in r.example  # the example shows the overflowing case: logits in the hundreds, nan received


def test_row_loop_over_an_n_d_array_is_named():
    from tinynn.exercises import ch03

    def numerical_gradient(f, x, h):          # a row loop: right for 1-D x only
        g = np.zeros_like(x)
        for i in range(len(x)):
            x_plus, x_minus = x.copy(), x.copy()
            x_plus[i] += h
            x_minus[i] -= h
            g[i] = (f(x_plus) - f(x_minus)) / (2 * h)
        return g

    r = ch03.check_numerical_gradient(numerical_gradient, verbose=False)
    assert r.mistake == "n_dims" and "any number of dimensions" in r.hint and ".flat" in r.hint


def test_two_nested_loops_for_2_d_only_are_named():
    from tinynn.exercises import ch03

    def numerical_gradient(f, x, h):          # right for 2-D x only; raises for 1-D and 3-D
        g = np.zeros_like(x)
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                x_plus, x_minus = x.copy(), x.copy()
                x_plus[i, j] += h
                x_minus[i, j] -= h
                g[i, j] = (f(x_plus) - f(x_minus)) / (2 * h)
        return g

    r = ch03.check_numerical_gradient(numerical_gradient, verbose=False)
    assert r.mistake == "n_dims" and "2 dimensions" in r.hint and "raised" in r.hint


def test_alias_instead_of_a_copy():
    from tinynn.exercises import ch01, ch03

    def numerical_gradient(f, x, h):
        g = np.zeros_like(x)
        for i in range(x.size):
            x_plus, x_minus = x, x                 # not copies: one array, three names
            old = x.flat[i]
            x_plus.flat[i] = old + h
            x_minus.flat[i] = old - h
            g.flat[i] = (f(x_plus) - f(x_minus)) / (2 * h)
            x.flat[i] = old
        return g

    r = ch03.check_numerical_gradient(numerical_gradient, verbose=False)
    assert r.mistake == "alias" and "copy" in r.hint

    def perceptron_update(w, b, x, y, lr):
        w_new = w                                  # an alias: += below writes into the caller's w
        w_new += lr * (y - float(x @ w + b > 0)) * x
        return w_new, b + lr * (y - float(x @ w + b > 0))

    r = ch01.check_perceptron_update(perceptron_update, verbose=False)
    assert r.mistake == "in_place" and "`x2 = x` does not copy" in r.hint


def test_expression_backward_reference_agrees_with_the_value_engine():
    from tinynn.autograd import Value
    from tinynn.exercises import ch03

    rng = np.random.default_rng(3)
    for _ in range(10):
        a0, b0, g0 = rng.normal(), rng.uniform(0.5, 2) * rng.choice([-1, 1]), rng.normal()
        a, b = Value(a0), Value(b0)
        L = ((a * b + a) / b).tanh()
        L.backward()
        da, db = ch03.check_expression_backward.reference(np.array(a0), np.array(b0), np.array(g0))
        assert np.allclose([da, db], [g0 * a.grad, g0 * b.grad], rtol=1e-12, atol=1e-12)


def test_bias_corrected_average_of_a_constant_gradient_is_that_gradient():
    from tinynn.exercises import ch04

    g = np.full((5, 3), 0.7)
    assert np.allclose(ch04.check_bias_corrected_average.reference(g, 0.9), 0.7)


def test_nan_from_a_division_by_zero_is_not_called_an_overflow():
    chk = Checker("mean", lambda x: x.sum() / len(x), lambda rng, i: {"x": rng.normal(size=4)})
    r = chk(lambda x: x.sum() / (len(x) - 4), verbose=False)
    assert r.mistake == "overflow" and "division by zero" in r.hint and "exp(1000)" not in r.hint


def test_doctests_of_the_checker_modules():
    import doctest

    from tinynn.exercises import _checker, _traps

    for module in (_checker, _traps):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0, module.__name__


def test_example_names_every_output_of_an_unnamed_tuple():
    chk = Checker("pair", lambda x: (x, 2 * x), lambda rng, i: {"x": np.ones(2)})
    r = chk(lambda x: (x, 3 * x), verbose=False)
    assert "expected output 1 = [2. 2.]" in r.example and "received output 1 = [3. 3.]" in r.example
    assert "output 0" not in r.example  # the right output is not repeated
