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
