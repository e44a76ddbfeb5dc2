"""Issue group 0: a gradient checker that cannot be fooled, and a custom optimizer that forgets super().build.

Each wrong gradient below is planted on purpose; the checker must report it (ok=False) and name it.
"""
import numpy as np
import pytest

from tinynn import layers
from tinynn.layers import Layer
from tinynn.models import Sequential
from tinynn.optimizers import Optimizer
from tinynn.testing import gradcheck

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))


class Affine(Layer):
    """y = x W + b with two weights created without name= (both called '.../variable'); ``mistake``
    plants one wrong gradient in the hand-written backward."""

    def __init__(self, units=2, mistake=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.mistake = units, mistake

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, x, training=False):
        self.x = x
        return x @ self.w.value + self.b.value

    def backward(self, dy):
        dw, db, dx = self.x.T @ dy, dy.sum(axis=0), dy @ self.w.value.T
        if self.mistake == "kernel_scaled":
            dw = 1.5 * dw
        elif self.mistake == "kernel_missing_x":
            dw = np.ones_like(self.x).T @ dy
        elif self.mistake == "bias_mean":
            db = dy.mean(axis=0)
        elif self.mistake == "dx_transposed_kernel":
            dx = dy @ np.ones_like(self.w.value).T
        if self.mistake == "accumulates":
            self.w.grad += dw
        elif self.mistake != "forgets_kernel":
            self.w.grad[...] = dw
        self.b.grad[...] = db
        return dx


def test_unnamed_weights_share_a_name_and_are_both_checked():
    layer = Affine()
    r = gradcheck(layer, X)
    assert layer.w.name == layer.b.name  # the situation of the issue: two weights called '.../variable'
    assert r.ok and len(r.errors) == 3, repr(r)
    assert any("[weight 0]" in k for k in r.errors) and any("[weight 1]" in k for k in r.errors)


@pytest.mark.parametrize("mistake,wrong", [
    ("kernel_scaled", "[weight 0]"),
    ("kernel_missing_x", "[weight 0]"),
    ("bias_mean", "[weight 1]"),
    ("dx_transposed_kernel", "dx"),
    ("forgets_kernel", "[weight 0]"),
    ("accumulates", "[weight 0]"),
])
def test_a_planted_wrong_gradient_gives_ok_false_and_is_named(mistake, wrong):
    r = gradcheck(Affine(mistake=mistake), X)
    assert not r.ok, repr(r)
    bad = [k for k, e in r.errors.items() if e >= r.tol]
    assert len(bad) == 1 and wrong in bad[0], repr(r)
    assert "WRONG" in repr(r) and wrong in repr(r)


def test_a_backward_that_adds_to_grad_is_named_as_such():
    r = gradcheck(Affine(mistake="accumulates"), X)
    assert "instead of overwriting" in repr(r) and any("[weight 0]" in k for k in r.hints)


def test_raise_on_failure_names_the_wrong_weight():
    with pytest.raises(AssertionError, match=r"variable \[weight 0\].*WRONG"):
        gradcheck(Affine(mistake="kernel_scaled"), X, raise_on_failure=True)


def test_two_weights_given_the_same_explicit_name_are_both_checked():
    class Twin(Affine):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="w")

    r = gradcheck(Twin(mistake="bias_mean"), X)
    assert len(r.errors) == 3 and not r.ok
    assert [k for k, e in r.errors.items() if e >= r.tol] == [f"{r.worst}"] and "[weight 1]" in r.worst


def test_a_weight_listed_twice_is_checked_once():
    class Shared(Affine):
        @property
        def trainable_weights(self):
            return [self.w, self.b, self.w]

    r = gradcheck(Shared(), X)
    assert r.ok and len(r.errors) == 3


def test_a_wrong_gradient_in_a_function_backward_is_caught():
    r = gradcheck(lambda a: a * a, X, backward=lambda g, a: (g * a,))  # should be 2 a g
    assert not r.ok and r.worst == "dx"


def test_backward_that_modifies_dy_is_named():
    class Inplace(Affine):
        def backward(self, dy):
            dx = super().backward(dy)
            dy *= 2
            return dx

    with pytest.raises(AssertionError, match=r"Layer 'inplace.*modified its argument dy"):
        gradcheck(Inplace(name="inplace"), X)


def test_nothing_to_compare_is_an_error_naming_the_layer():
    class Ids(Layer):
        def call(self, x, training=False):
            return x * 2

        def backward(self, dy):
            return None

    with pytest.raises(ValueError, match=r"nothing to compare.*layer 'ids_only' has no trainable weights"):
        gradcheck(Ids(name="ids_only"), np.array([[1, 2]]))


def test_a_correct_builtin_dense_still_passes_with_stale_grads_planted():
    r = gradcheck(layers.Dense(3, activation="tanh"), X)
    assert r.ok and not r.hints and len(r.errors) == 3


# --- a custom optimizer that forgets super().build(variables) ----------------------------------------------
class Forgetful(Optimizer):
    def build(self, variables):  # no super().build(variables)
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign(0.9 * v.value - learning_rate * gradient)
        variable.assign_add(v)


def test_forgotten_super_build_is_named_not_a_keyerror_of_an_id():
    from tinynn.variables import Variable

    w = Variable(np.ones(3), name="dense/kernel")
    w.grad[...] = 1.0
    with pytest.raises(RuntimeError) as info:
        Forgetful(learning_rate=0.1).step([w])
    msg = str(info.value)
    assert "super().build(variables)" in msg and "Forgetful" in msg and "'dense/kernel'" in msg
    assert not any(ch.isdigit() for ch in msg.split("'dense/kernel'")[0][-20:])  # no bare id number


def test_forgotten_super_build_in_fit_is_named():
    model = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer=Forgetful(learning_rate=0.1), loss="mse")
    with pytest.raises(RuntimeError, match=r"Forgetful.*super\(\)\.build\(variables\)"):
        model.fit(X, np.zeros((4, 2)), epochs=1, verbose=0)


def test_get_variable_index_of_an_unknown_weight_names_it():
    from tinynn.variables import Variable

    class Good(Optimizer):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign_sub(learning_rate * gradient)

    opt = Good()
    opt.build([Variable(np.ones(2), name="a")])
    with pytest.raises(KeyError) as info:
        opt._get_variable_index(Variable(np.ones(2), name="stranger"))
    assert "'stranger'" in str(info.value) and "super().build(variables)" in str(info.value)
    assert not str(info.value).startswith("'")  # printed as a sentence, not as a quoted key


def test_a_custom_optimizer_that_calls_super_build_still_works():
    class Momentum(Optimizer):
        def build(self, variables):
            super().build(variables)
            self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

        update_step = Forgetful.update_step

    model = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer=Momentum(learning_rate=0.05), loss="mse")
    h = model.fit(X, X[:, :2], epochs=5, verbose=0, batch_size=4)
    assert h.history["loss"][-1] < h.history["loss"][0]
