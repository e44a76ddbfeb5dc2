"""Custom layers, losses and optimizers: the seeds' three examples, call-only layers vs the built-ins'
hand-written backward, the errors a learner meets, and training on real MNIST."""
import os

import numpy as np
import pytest

from tinynn import activations, autograd, backend, layers, losses, ops
from tinynn.autograd import AutogradError
from tinynn.layers import Layer
from tinynn.testing import gradcheck, rel_error

DATA = os.environ.get("TINYNN_DATA", "/work/shared/data")
MNIST = os.path.join(DATA, "mnist")


# --- the seeds' three examples, ported word for word (keras -> tinynn, tf. -> ops.) -----------------------
class CustomLayer(Layer):
    def __init__(self, units):
        super(CustomLayer, self).__init__()
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer='uniform', name='kernel')
        self.bias = self.add_weight(shape=(self.units,), initializer='zeros', name='bias')

    def call(self, inputs):
        return ops.nn.relu(ops.matmul(inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


class CustomLoss(losses.Loss):
    def __call__(self, y_true, y_pred):
        return ops.reduce_mean(ops.square(y_true - y_pred))


def _custom_optimizer_class():
    from tinynn.optimizers import Optimizer

    class CustomOptimizer(Optimizer):
        def __init__(self, learning_rate):
            super(CustomOptimizer, self).__init__()
            self.learning_rate = learning_rate

        def get_updates(self, loss, params):
            return [(param, param - self.learning_rate * param.grad) for param in params]

    return CustomOptimizer


# --- call-only re-implementations of the core layers ------------------------------------------------------
def _elu(z):
    return ops.where(z > 0, z, ops.exp(ops.minimum(z, 0.0)) - 1.0)


CALL_ACTIVATIONS = {
    None: lambda z: z, "linear": lambda z: z, "relu": ops.relu, "sigmoid": ops.sigmoid, "tanh": ops.tanh,
    "softmax": ops.softmax, "elu": _elu, "softplus": lambda z: ops.log(1.0 + ops.exp(z)),
    "softsign": lambda z: z / (1.0 + ops.abs(z)), "swish": lambda z: z * ops.sigmoid(z),
    "exponential": ops.exp,
}


class CallDense(Layer):
    """Dense written with ops only: its backward comes from autograd."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.act = units, CALL_ACTIVATIONS[activation]

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), "glorot_uniform", name="kernel")
        self.bias = self.add_weight((self.units,), "zeros", name="bias")

    def call(self, x):
        return self.act(ops.matmul(x, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


class CallActivation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.act = CALL_ACTIVATIONS[activation]

    def call(self, x):
        return self.act(x)


class CallFlatten(Layer):
    def call(self, x):
        return ops.reshape(x, (x.shape[0], -1))


class CallReshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, x):
        return ops.reshape(x, (x.shape[0], *self.target_shape))


def _same_gradients(builtin, custom, x, seed=0):
    """Forward, dx and every weight gradient of the two layers agree on random x, dy (float64)."""
    rng = np.random.default_rng(seed)
    y1 = builtin(x)
    custom(x)
    if builtin.weights:
        custom.set_weights(builtin.get_weights())
    y2 = custom(x)
    assert rel_error(y1, y2) < 1e-12
    dy = rng.normal(size=y1.shape)
    dx1, dx2 = builtin.backward(dy), custom.backward(dy)
    assert rel_error(dx1, dx2) < 1e-10
    for w1, w2 in zip(builtin.weights, custom.weights):
        assert rel_error(w1.grad, w2.grad) < 1e-10, w1.name


@pytest.fixture
def float64():
    old = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(old)


@pytest.mark.parametrize("activation", list(CALL_ACTIVATIONS), ids=str)
def test_call_only_dense_matches_builtin_dense(float64, activation):
    x = np.random.default_rng(1).normal(size=(6, 5))
    _same_gradients(layers.Dense(4, activation=activation), CallDense(4, activation), x)


@pytest.mark.parametrize("activation", [a for a in CALL_ACTIVATIONS if a], ids=str)
def test_call_only_activation_matches_builtin(float64, activation):
    x = np.random.default_rng(2).normal(size=(6, 5))
    _same_gradients(layers.Activation(activation), CallActivation(activation), x)


def test_call_only_flatten_and_reshape_match_builtins(float64):
    x = np.random.default_rng(3).normal(size=(4, 2, 3, 2))
    _same_gradients(layers.Flatten(), CallFlatten(), x)
    _same_gradients(layers.Reshape((3, 4)), CallReshape((3, 4)), x)


def test_call_only_layer_has_correct_gradients():
    result = gradcheck(CustomLayer(3), np.random.default_rng(4).normal(size=(5, 4)))
    assert result.ok, repr(result)
    assert set(result.errors) == {"dx", "custom_layer/kernel", "custom_layer/bias"} or len(result.errors) == 3


def test_handwritten_backward_is_used_and_gradcheck_names_the_wrong_gradient():
    class MyDense(CustomLayer):
        def call(self, inputs):
            self._x = inputs
            return inputs @ self.kernel.value + self.bias.value

        def backward(self, dy):
            self.kernel.grad[...] = self._x.T @ dy
            self.bias.grad[...] = dy.sum(axis=0) / 2  # the bug: a stray 1/2
            return dy @ self.kernel.value.T

    layer = MyDense(3)
    result = gradcheck(layer, np.random.default_rng(5).normal(size=(5, 4)))
    assert not hasattr(layer, "_autograd_tape")  # autograd did not record anything
    wrong = [name for name, err in result.errors.items() if err > result.tol]
    assert wrong == [layer.bias.name] and "WRONG" in repr(result)


def test_model_skips_dx_of_a_first_call_only_layer():
    layer = CustomLayer(3)
    layer.compute_input_gradient = False  # what a model sets on its first layer
    layer(np.ones((2, 4), dtype="float32"))
    assert layer.backward(np.ones((2, 3), dtype="float32")) is None
    assert float(layer.kernel.grad.sum()) != 0 or float(layer.bias.grad.sum()) != 0


def test_call_only_layer_can_use_another_call_only_layer():
    class Two(Layer):
        def build(self, input_shape):
            self.inner = CustomLayer(3)
            self.inner.build_from_shape(input_shape)
            self._layers.append(self.inner)
            self.w = self.add_weight((3, 2), name="w")

        def call(self, x):
            return ops.tanh(ops.matmul(self.inner(x), self.w))

    result = gradcheck(Two(), np.random.default_rng(6).normal(size=(4, 5)))
    assert result.ok and len(result.errors) == 4, repr(result)


# --- errors ------------------------------------------------------------------------------------------------
def test_unknown_op_in_call_names_the_op_and_the_layer():
    class SinLayer(CustomLayer):
        def call(self, inputs):
            return np.sin(ops.matmul(inputs, self.kernel))

    layer = SinLayer(2, )
    with pytest.raises(AutogradError, match=r"Layer 'sin_layer.*' \(SinLayer\): numpy\.sin was applied"):
        layer(np.ones((2, 3), dtype="float32"))


def test_call_output_shape_disagreeing_with_compute_output_shape_is_an_error():
    class Wrong(CustomLayer):
        def call(self, inputs):
            return ops.matmul(inputs, self.kernel)[:, :1]

    with pytest.raises(ValueError, match=r"returned an output of shape \(2, 1\).*says \(2, 3\)"):
        Wrong(3)(np.ones((2, 4), dtype="float32"))


def test_backward_before_call_is_a_clear_error():
    with pytest.raises(RuntimeError, match="has not been called yet"):
        CustomLayer(3).backward(np.ones((2, 3)))


# --- losses ------------------------------------------------------------------------------------------------
def _numeric_grad(f, y, h=1e-6):
    g = np.zeros_like(y)
    for i in np.ndindex(y.shape):
        old = y[i]
        y[i] = old + h
        plus = float(f(y))
        y[i] = old - h
        minus = float(f(y))
        y[i] = old
        g[i] = (plus - minus) / (2 * h)
    return g


def test_seed_custom_loss_backward_is_the_gradient_of_its_scalar():
    rng = np.random.default_rng(7)
    y_true, y_pred = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    loss = CustomLoss()
    assert float(loss(y_true, y_pred)) == pytest.approx(((y_true - y_pred) ** 2).mean())
    g = loss.backward(y_true, y_pred)
    assert rel_error(g, _numeric_grad(lambda p: loss(y_true, p), y_pred.copy())) < 1e-8


def test_call_only_loss_gradient_matches_builtin_mse():
    class MyMSE(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.reduce_mean(ops.square(y_pred - y_true), axis=-1)

    rng = np.random.default_rng(8)
    y_true, y_pred = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    w = rng.uniform(size=6)
    mine, ref = MyMSE(), losses.MeanSquaredError()
    assert mine(y_true, y_pred) == pytest.approx(ref(y_true, y_pred))
    assert rel_error(mine.gradient(y_true, y_pred), ref.gradient(y_true, y_pred)) < 1e-12
    assert rel_error(mine.backward(y_true, y_pred, w), ref.backward(y_true, y_pred, w)) < 1e-12


@pytest.mark.parametrize("per_sample", [True, False], ids=["per-sample", "scalar"])
def test_plain_function_loss_gets_its_gradient_from_autograd(per_sample):
    def my_loss(y_true, y_pred):
        return ops.reduce_mean(ops.abs(y_true - y_pred) ** 3, axis=-1 if per_sample else None)

    rng = np.random.default_rng(9)
    y_true, y_pred = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    loss = losses.get(my_loss)
    g = loss.backward(y_true, y_pred)
    assert rel_error(g, _numeric_grad(lambda p: loss(y_true, p), y_pred.copy())) < 1e-8


# --- training on real data -----------------------------------------------------------------------------------
def _mnist(n_train, n_test=2000):
    if not os.path.exists(os.path.join(MNIST, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"MNIST not found in {MNIST} (set TINYNN_DATA)")
    from tinynn.datasets import mnist
    from tinynn.utils import to_categorical

    (x, y), (xt, yt) = mnist.load_data(path=MNIST)
    x = (x[:n_train].reshape(-1, 784) / 255.0).astype("float32")
    xt = (xt[:n_test].reshape(-1, 784) / 255.0).astype("float32")
    return x, to_categorical(y[:n_train], 10), xt, to_categorical(yt[:n_test], 10)


def _accuracy(model, x, y):
    return float((np.asarray(model.predict(x, verbose=0)).argmax(-1) == y.argmax(-1)).mean())


def test_the_seeds_three_custom_examples_train_on_mnist():
    from tinynn.models import Sequential
    from tinynn.utils import set_random_seed

    set_random_seed(0)
    x, y, xt, yt = _mnist(5000)
    model = Sequential([layers.Input(shape=(784,)), CustomLayer(64), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=_custom_optimizer_class()(learning_rate=1.0), loss=CustomLoss())
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < 0.6 * loss[0], loss
    assert _accuracy(model, xt, yt) > 0.8


def test_keras3_style_custom_optimizer_trains_a_call_only_layer():
    from tinynn.models import Sequential
    from tinynn.optimizers import Optimizer
    from tinynn.utils import set_random_seed

    class Momentum(Optimizer):
        def __init__(self, learning_rate=0.05, momentum=0.9, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.momentum = momentum

        def build(self, variables):
            super().build(variables)
            self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

        def update_step(self, gradient, variable, learning_rate):
            v = self.velocities[self._get_variable_index(variable)]
            v.assign(self.momentum * v - learning_rate * gradient)
            variable.assign_add(v)

    set_random_seed(0)
    x, y, xt, yt = _mnist(3000)
    model = Sequential([layers.Input(shape=(784,)), CallDense(64, "relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=Momentum(), loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert _accuracy(model, xt, yt) > 0.85


def _accuracy_after_one_epoch(first_layer):
    from tinynn.models import Sequential
    from tinynn.utils import set_random_seed

    set_random_seed(1234)
    x, y, xt, yt = _mnist(60000, 10000)
    model = Sequential([layers.Input(shape=(784,)), first_layer(), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return _accuracy(model, xt, yt)


@pytest.mark.slow
def test_call_only_dense_trains_like_builtin_dense_on_full_mnist():
    builtin = _accuracy_after_one_epoch(lambda: layers.Dense(128, activation="relu"))
    custom = _accuracy_after_one_epoch(lambda: CallDense(128, "relu"))
    assert builtin > 0.95
    assert abs(builtin - custom) <= 0.005, (builtin, custom)


def test_activation_names_cover_the_call_only_table():
    for name in CALL_ACTIVATIONS:
        if name:
            activations.get(name)
    assert autograd.Tensor  # the engine is importable from tinynn.autograd
