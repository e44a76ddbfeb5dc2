"""Constraints: Keras' formulas (written out again here with plain numpy), names and configs, and their
application by every optimizer after each update, on the packed fast path and weight by weight alike."""
import numpy as np
import pytest

from tinynn import constraints, layers, optimizers
from tinynn.backend import epsilon
from tinynn.models import Sequential
from tinynn.variables import Variable

W = np.random.default_rng(0).normal(size=(5, 4)) * np.array([0.1, 1.0, 3.0, 10.0])


def norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, (0, 1)])
def test_max_norm_is_keras_formula(axis):
    n = norms(W, axis)
    expected = W * (np.clip(n, 0, 2.0) / (epsilon() + n))
    np.testing.assert_allclose(constraints.MaxNorm(2.0, axis=axis)(W), expected)
    assert (norms(constraints.MaxNorm(2.0, axis=axis)(W), axis) <= 2.0 + 1e-6).all()


def test_non_neg_unit_norm_and_min_max_norm_are_keras_formulas():
    np.testing.assert_array_equal(constraints.NonNeg()(W), W * (W >= 0))
    n = norms(W, 0)
    np.testing.assert_allclose(constraints.UnitNorm()(W), W / (epsilon() + n))
    desired = 0.3 * np.clip(n, 0.5, 2.0) + 0.7 * n
    np.testing.assert_allclose(constraints.MinMaxNorm(0.5, 2.0, rate=0.3)(W), W * desired / (epsilon() + n))


def test_constraints_keep_float32():
    w32 = W.astype(np.float32)
    for c in (constraints.MaxNorm(), constraints.NonNeg(), constraints.UnitNorm(), constraints.MinMaxNorm()):
        assert c(w32).dtype == np.float32 and c(Variable(w32)).dtype == np.float32


@pytest.mark.parametrize("name,cls", [
    ("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm), ("maxnorm", constraints.MaxNorm),
    ("non_neg", constraints.NonNeg), ("NonNeg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm),
    ("UnitNorm", constraints.UnitNorm), ("min_max_norm", constraints.MinMaxNorm),
    ("MinMaxNorm", constraints.MinMaxNorm),
])
def test_get_by_keras_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_get_serialize_round_trip():
    c = constraints.MinMaxNorm(0.1, 3.0, rate=0.5, axis=1)
    config = constraints.serialize(c)
    assert config == {"class_name": "MinMaxNorm", "config": {"min_value": 0.1, "max_value": 3.0, "rate": 0.5, "axis": 1}}
    again = constraints.get(config)
    assert type(again) is constraints.MinMaxNorm and again.get_config() == c.get_config()
    assert constraints.get(None) is None and constraints.serialize(None) is None
    assert type(constraints.get(constraints.NonNeg)) is constraints.NonNeg
    fn = lambda w: w  # noqa: E731
    assert constraints.get(fn) is fn


def test_dense_config_round_trip_keeps_the_constraints():
    d = layers.Dense(3, kernel_constraint=constraints.MaxNorm(1.5), bias_constraint="non_neg")
    again = layers.Dense.from_config(d.get_config())
    assert again.kernel_constraint.get_config() == {"max_value": 1.5, "axis": 0}
    assert type(again.bias_constraint) is constraints.NonNeg


X = np.random.default_rng(1).normal(size=(64, 6)).astype("float32")
Y = np.random.default_rng(2).normal(size=(64, 3)).astype("float32") * 5


def _fit(optimizer, between=None, **dense_kwargs):
    from tinynn.utils import set_random_seed

    set_random_seed(0)
    hidden = [layers.Dense(16, activation="relu", **dense_kwargs)]
    if between is not None:
        hidden.append(between)
    model = Sequential([layers.Input(shape=(6,)), *hidden, layers.Dense(3)])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    return model, model.layers[0]


@pytest.mark.parametrize("opt", ["sgd", "adam", "rmsprop", "adagrad", "adamw"])
def test_every_optimizer_applies_the_constraints_on_the_packed_path(opt):
    model, dense = _fit(opt, kernel_constraint=constraints.MaxNorm(0.3), bias_constraint=constraints.NonNeg())
    assert getattr(model.optimizer, "_packed", None) is not None  # the fast path ran
    assert norms(dense.kernel.numpy(), 0).max() <= 0.3 + 1e-5
    assert dense.bias.numpy().min() >= 0.0
    free = _fit(opt)[1]
    assert norms(free.kernel.numpy(), 0).max() > 0.3  # without the constraint the norms do grow past it


def test_constraints_apply_weight_by_weight_too():
    opt = optimizers.Adam(0.01, clipnorm=1.0)  # clipnorm: no packed path
    model, dense = _fit(opt, kernel_constraint=constraints.UnitNorm())
    assert getattr(model.optimizer, "_packed", None) is None
    np.testing.assert_allclose(norms(dense.kernel.numpy(), 0), 1.0, rtol=1e-5)


def test_packed_and_per_weight_updates_give_the_same_numbers_with_constraints():
    flat = np.random.default_rng(3).normal(size=20)
    grads = np.random.default_rng(4).normal(size=20)

    def run(packed):
        base = flat.copy()
        gbase = grads.copy()
        views = [(base[:12].reshape(3, 4), gbase[:12].reshape(3, 4)), (base[12:], gbase[12:])]
        vs = []
        for (value, grad), c in zip(views, (constraints.MaxNorm(0.5), constraints.NonNeg())):
            v = Variable(value if packed else value.copy(), dtype="float64", constraint=c)
            v.grad = grad if packed else grad.copy()
            vs.append(v)
        opt = optimizers.Adam(0.1)
        for _ in range(3):
            opt.step(vs)
        return [v.numpy() for v in vs], getattr(opt, "_packed", None) is not None

    (a, packed_used), (b, per_weight) = run(True), run(False)
    assert packed_used and not per_weight
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_custom_get_updates_optimizer_applies_constraints():
    class Plain(optimizers.Optimizer):
        def get_updates(self, loss, params):
            return [(p, p - self.learning_rate * p.grad) for p in params]

    _, dense = _fit(Plain(learning_rate=0.05), kernel_constraint=constraints.MaxNorm(0.2))
    assert norms(dense.kernel.numpy(), 0).max() <= 0.2 + 1e-5


def test_embedding_constraint_and_a_frozen_layer_between():
    from tinynn.utils import set_random_seed

    set_random_seed(0)
    frozen = layers.Dense(4)
    frozen.trainable = False
    model = Sequential([layers.Input(shape=(5,)), layers.Embedding(20, 4, embeddings_constraint="non_neg"),
                        layers.Flatten(), frozen, layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    ids = np.random.default_rng(0).integers(0, 20, size=(32, 5))
    model.fit(ids, np.random.default_rng(1).normal(size=(32, 1)), epochs=3, verbose=0)
    assert model.layers[0].embeddings.numpy().min() >= 0.0


def test_add_weight_with_a_constraint_name_in_a_custom_layer():
    class Positive(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="random_normal", constraint="non_neg")

        def call(self, x):
            return x @ self.w

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 2)

    model = Sequential([layers.Input(shape=(6,)), Positive(), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, epochs=2, verbose=0)
    assert model.layers[0].w.numpy().min() >= 0.0


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_recurrent_constraints_hold_after_training(cls):
    from tinynn.utils import set_random_seed

    set_random_seed(0)
    rnn = cls(4, kernel_constraint=constraints.MaxNorm(0.2), recurrent_constraint=constraints.UnitNorm(),
              bias_constraint="non_neg")
    model = Sequential([layers.Input(shape=(5, 3)), layers.Bidirectional(rnn), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 5, 3)).astype("float32")
    model.fit(x, np.random.default_rng(1).normal(size=(16, 1)) * 3, epochs=3, verbose=0)
    for sub in model.layers[0]._layers:  # the forward and the backward copy
        assert norms(sub.kernel.numpy(), 0).max() <= 0.2 + 1e-5
        np.testing.assert_allclose(norms(sub.recurrent_kernel.numpy(), 0), 1.0, rtol=1e-5)
        assert sub.bias.numpy().min() >= 0.0
    config = rnn.get_config()
    assert config["kernel_constraint"] == {"class_name": "MaxNorm", "config": {"max_value": 0.2, "axis": 0}}
    assert type(constraints.get(config["bias_constraint"])) is constraints.NonNeg


def test_an_lstm_model_with_constraints_survives_save_and_load(tmp_path):
    from tinynn.models import load_model

    model = Sequential([layers.Input(shape=(5, 3)), layers.LSTM(4, kernel_constraint=constraints.MaxNorm(1.5)),
                        layers.Dense(1, bias_constraint="non_neg")])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert again.layers[0].kernel_constraint.get_config() == {"max_value": 1.5, "axis": 0}
    assert type(again.layers[1].bias_constraint) is constraints.NonNeg
