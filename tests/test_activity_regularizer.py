"""Dense(activity_regularizer=...): R(y)/N is added to the loss and its gradient flows back (both training paths)."""
import numpy as np
import pytest

from tinynn import backend, regularizers
from tinynn.layers import Dense, Input
from tinynn.models import Model, Sequential


@pytest.fixture(autouse=True)
def float64():
    backend.set_floatx("float64")
    yield
    backend.set_floatx("float32")


def _loss_and_grads(model, x, y):
    model.compile(optimizer="sgd", loss="mse")
    model.optimizer.learning_rate = 0.0
    loss = model.train_on_batch(x, y)
    return loss, [w.grad.copy() for w in model.trainable_weights]


def test_activity_penalty_value_and_gradient_in_sequential_and_functional():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    seq = Sequential([Input(shape=(3,)), Dense(4, activation="tanh", activity_regularizer=regularizers.L2(0.3)),
                      Dense(1)])
    inputs = Input(shape=(3,))
    act = Dense(4, activation="tanh", activity_regularizer=regularizers.L2(0.3))
    fun = Model(inputs, Dense(1)(act(inputs)))
    fun.set_weights(seq.get_weights())
    results = []
    for model, layer in ((seq, seq.layers[0]), (fun, act)):
        loss, grads = _loss_and_grads(model, x, y)
        h = layer(x)
        expected = float(((model(x) - y) ** 2).mean()) + 0.3 * float((h ** 2).sum()) / 6
        assert loss == pytest.approx(expected, rel=1e-10)
        results.append(grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10)

    def total():  # the same loss, evaluated directly, for central differences
        h = seq.layers[0](x)
        return float(((seq(x) - y) ** 2).mean()) + 0.3 * float((h ** 2).sum()) / 6

    for w, g in zip(seq.trainable_weights, results[0]):
        num = np.zeros_like(w.value)
        for i in range(w.value.size):
            old = w.value.flat[i]
            w.value.flat[i] = old + 1e-6
            up = total()
            w.value.flat[i] = old - 1e-6
            down = total()
            w.value.flat[i] = old
            num.flat[i] = (up - down) / 2e-6
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_activity_regularizer_round_trips_through_get_config():
    layer = Dense(2, activity_regularizer="l2")
    again = Dense.from_config(layer.get_config())
    assert isinstance(again.activity_regularizer, regularizers.L2) and again.activity_regularizer.l2 == 0.01


def test_a_plain_function_is_refused_with_a_reason():
    with pytest.raises(NotImplementedError, match="activity_regularizer must be a tinynn regularizer"):
        Dense(2, activity_regularizer=lambda y: 0.0)
