"""Chapter 7's checkers: the references pass (as classes too) and agree with the library, every catalogued
mistake gets its own hint, and learner-style bugs written independently of the catalogue are recognised."""
from __future__ import annotations

import numpy as np
import pytest

from tinynn import losses, optimizers
from tinynn.exercises import CheckResult, ch07, checkers
from tinynn.optimizers import Optimizer

ALL = list(checkers("ch07").items())
MISTAKES = [(name, chk, m) for name, chk in ALL for m in chk.mistakes]


def test_chapter_has_four_documented_checkers():
    assert [n for n, _ in ALL] == ["check_residual_backward", "check_momentum_get_updates", "check_huber",
                                   "check_clip_by_global_norm"]
    for name, chk in ALL:
        assert name == f"check_{chk.name}" and chk.__doc__ and len(chk.mistakes) >= 3


@pytest.mark.parametrize("name,chk", ALL, ids=[n for n, _ in ALL])
def test_reference_passes(name, chk, capsys):
    r = chk(chk.reference)
    assert isinstance(r, CheckResult) and r.passed and r.hint is None
    assert capsys.readouterr().out.startswith(f"✓ {chk.name} passes {chk.n_tests} random tests")


@pytest.mark.parametrize("name,chk", [(n, c) for n, c in ALL if isinstance(c, ch07.ClassChecker)],
                         ids=[n for n, c in ALL if isinstance(c, ch07.ClassChecker)])
def test_class_checkers_accept_the_reference_class(name, chk):
    assert chk(chk.reference_class, verbose=False).passed


@pytest.mark.parametrize("name,chk,mistake", MISTAKES, ids=[f"{n}-{m.key}" for n, _, m in MISTAKES])
def test_each_catalogued_mistake_gets_its_hint(name, chk, mistake, capsys):
    r = chk(mistake.fn)
    assert not r.passed and r.mistake == mistake.key and r.hint == mistake.hint
    assert capsys.readouterr().out.startswith(f"✗ {chk.name} fails test")


# --- the references are the library's formulas ---------------------------------------------------------
def test_momentum_reference_matches_keras_sgd_with_momentum():
    rng = np.random.default_rng(0)
    for i in range(5):
        case = ch07.check_momentum_get_updates.make_case(rng, i)
        mine = ch07.check_momentum_get_updates.reference(*case.values())
        builtin = ch07.check_momentum_get_updates.wrap(optimizers.SGD)(*case.values())
        for a, b in zip(mine, builtin):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_clip_reference_matches_the_optimizers_global_clipnorm():
    rng = np.random.default_rng(1)
    chk = ch07.check_clip_by_global_norm
    for i in range(6):
        case = chk.make_case(rng, i)
        lib = Optimizer(global_clipnorm=case["clipnorm"])._clip_gradients(case["grads"])
        for a, b in zip(chk.reference(**case), lib):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_huber_reference_matches_the_library_and_finite_differences():
    rng = np.random.default_rng(2)
    case = ch07.check_huber.make_case(rng, 0)
    y_true, y_pred, delta = case.values()
    loss, grad = ch07.check_huber.reference(y_true, y_pred, delta)
    lib = losses.Huber(delta=delta)
    np.testing.assert_allclose(loss, lib.call(y_true, y_pred), rtol=1e-12)
    np.testing.assert_allclose(grad, lib.gradient(y_true, y_pred), rtol=1e-12)
    h, numeric = 1e-6, np.zeros_like(y_pred)
    for idx in np.ndindex(y_pred.shape):
        p, m = y_pred.copy(), y_pred.copy()
        p[idx] += h
        m[idx] -= h
        numeric[idx] = (ch07.check_huber.reference(y_true, p, delta)[0].sum()
                        - ch07.check_huber.reference(y_true, m, delta)[0].sum()) / (2 * h)
    np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_residual_reference_is_the_gradient_of_the_layer():
    from tinynn.testing import gradcheck
    from tinynn.layers import Layer

    class Residual(Layer):
        def build(self, input_shape):
            d = input_shape[-1]
            self.kernel = self.add_weight(shape=(d, d), initializer="glorot_uniform", name="kernel")
            self.bias = self.add_weight(shape=(d,), initializer="uniform", name="bias")

        def call(self, x, training=False):
            self._x = x
            return x + np.maximum(x @ self.kernel.value + self.bias.value, 0)

        def backward(self, dy):
            dx, dW, db = ch07.check_residual_backward.reference(self._x, self.kernel.value, self.bias.value, dy)
            self.kernel.grad[...], self.bias.grad[...] = dW, db
            return dx

    result = gradcheck(Residual(), np.random.default_rng(3).normal(size=(5, 4)))
    assert result.ok, result


# --- learner-style bugs, written independently of the catalogue -------------------------------------------
def test_residual_backward_modifying_dy_in_place_is_caught():
    def residual_backward(x, W, b, dy):
        dx = dy.copy()
        dy[x @ W + b <= 0] = 0                   # masks the caller's dy
        return dx + dy @ W.T, x.T @ dy, dy.sum(axis=0)

    r = ch07.check_residual_backward(residual_backward, verbose=False)
    assert r.mistake == "in_place" and "`dy` in place" in r.hint


def test_residual_backward_copied_from_the_plain_layer_names_the_skip():
    def residual_backward(x, W, b, dy):          # HandLayer's backward, unchanged
        dz = dy * (x @ W + b > 0)
        return dz @ W.T, x.T @ dz, dz.sum(axis=0)

    r = ch07.check_residual_backward(residual_backward, verbose=False)
    assert r.mistake == "no_skip" and "dx = dy + dz Wᵀ" in r.hint


def test_residual_backward_by_hand_passes():
    def residual_backward(x, W, b, dy):
        z = x @ W + b
        dz = np.where(z > 0, dy, 0.0)
        return dy + dz @ W.T, x.T @ dz, dz.sum(0)

    assert ch07.check_residual_backward(residual_backward, verbose=False).passed


def test_clip_in_place_is_caught_with_the_buffers_hint():
    def clip_by_global_norm(grads, clipnorm):
        norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        for g in grads:
            g *= clipnorm / max(norm, clipnorm)
        return grads

    r = ch07.check_clip_by_global_norm(clip_by_global_norm, verbose=False)
    assert r.mistake == "in_place" and ".grad buffers" in r.hint


def test_clip_returning_one_flat_array_names_the_container():
    def clip_by_global_norm(grads, clipnorm):
        flat = np.concatenate([g.ravel() for g in grads])
        return flat * clipnorm / max(np.linalg.norm(flat), clipnorm)

    r = ch07.check_clip_by_global_norm(clip_by_global_norm, verbose=False)
    assert not r.passed and "must return a list with one array per gradient" in r.hint


def test_clip_with_np_linalg_norm_per_array_is_per_tensor():
    r = ch07.check_clip_by_global_norm(
        lambda grads, c: [g * min(1.0, c / np.linalg.norm(g)) for g in grads], verbose=False)
    assert r.mistake == "per_tensor"


def test_clip_by_hand_passes():
    def clip_by_global_norm(grads, clipnorm):
        norm = np.sqrt(sum((g ** 2).sum() for g in grads))
        return [g * clipnorm / norm if norm > clipnorm else g.copy() for g in grads]

    assert ch07.check_clip_by_global_norm(clip_by_global_norm, verbose=False).passed


def test_momentum_with_velocity_in_a_local_variable_is_not_stored():
    class MomentumSGD(Optimizer):
        def __init__(self, learning_rate=0.01, momentum=0.9):
            super().__init__(learning_rate=learning_rate)
            self.momentum = momentum

        def get_updates(self, loss, params):
            out = []
            for param in params:
                velocity = np.zeros_like(param.value)       # recreated at every call
                velocity = self.momentum * velocity - self.learning_rate * param.grad
                out.append((param, param + velocity))
            return out

    r = ch07.check_momentum_get_updates(MomentumSGD, verbose=False)
    assert r.mistake == "not_stored" and "not stored" in r.hint


def test_momentum_written_with_add_variable_from_reference_passes():
    class MomentumSGD(Optimizer):
        def __init__(self, learning_rate=0.01, momentum=0.9):
            super().__init__(learning_rate=learning_rate)
            self.momentum = momentum
            self.slots = {}

        def get_updates(self, loss, params):
            updates = []
            for p in params:
                if p.name not in self.slots:
                    self.slots[p.name] = self.add_variable_from_reference(p, "velocity")
                v = self.slots[p.name]
                v.assign(self.momentum * v - self.learning_rate * p.grad)
                updates.append((p, p + v))
            return updates

    assert ch07.check_momentum_get_updates(MomentumSGD, verbose=False).passed


def test_momentum_shared_velocity_raises_and_the_hint_says_why():
    class MomentumSGD(Optimizer):
        def __init__(self, learning_rate=0.01, momentum=0.9):
            super().__init__(learning_rate=learning_rate)
            self.momentum, self.v = momentum, 0.0

        def get_updates(self, loss, params):
            updates = []
            for p in params:
                self.v = self.momentum * self.v - self.learning_rate * p.grad
                updates.append((p, p + self.v))
            return updates

    r = ch07.check_momentum_get_updates(MomentumSGD, verbose=False)
    assert r.mistake == "exception" and "its own" in r.hint


def test_huber_written_with_where_on_the_gradient_passes_and_missing_D_is_named():
    class Huber(losses.Loss):
        def __init__(self, delta=1.0):
            super().__init__()
            self.delta = delta

        def call(self, y_true, y_pred):
            e = y_pred - y_true
            quad = np.minimum(np.abs(e), self.delta)
            return (0.5 * quad**2 + self.delta * (np.abs(e) - quad)).mean(axis=-1)

        def gradient(self, y_true, y_pred):
            e = y_pred - y_true
            return np.where(np.abs(e) <= self.delta, e, self.delta * np.sign(e)) / e.shape[-1]

    assert ch07.check_huber(Huber, verbose=False).passed

    class HuberNoD(Huber):
        def gradient(self, y_true, y_pred):
            e = y_pred - y_true
            return np.where(np.abs(e) <= self.delta, e, self.delta * np.sign(e))

    r = ch07.check_huber(HuberNoD, verbose=False)
    assert r.mistake == "no_mean" and "1/D" in r.hint and "1/N" in r.hint
