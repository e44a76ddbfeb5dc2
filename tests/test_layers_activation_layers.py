"""Softmax, ReLU, LeakyReLU, ELU layers: Keras' values and options, backward vs finite differences."""
import numpy as np
import pytest

from tinynn.layers import ELU, Dense, LeakyReLU, ReLU, Softmax
from tinynn.models import Sequential
from tinynn.testing import gradcheck


def _x(shape, seed=0, scale=2.0):
    x = np.random.default_rng(seed).normal(size=shape) * scale
    return np.where(np.abs(x) < 0.05, 0.3, x)   # keep away from the kink at 0 for finite differences


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1, (1, 2)])
def test_softmax_values_and_gradcheck(axis):
    x = _x((2, 3, 4))
    np.testing.assert_allclose(Softmax(axis=axis)(x), _softmax(x, axis), rtol=1e-12)
    r = gradcheck(Softmax(axis=axis), x)
    assert r.ok, r


def test_softmax_mask_gives_zero_probability_and_zero_gradient():
    x = _x((3, 5))
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 0, 0]], dtype=bool)
    layer = Softmax()
    y = layer(x, mask=mask)
    expected = np.where(mask, np.exp(x), 0)
    np.testing.assert_allclose(y, expected / expected.sum(-1, keepdims=True), atol=1e-12)
    dx = layer.backward(np.ones((3, 5)) + x)
    assert np.all(np.abs(dx[~mask]) < 1e-12)
    r = gradcheck(Softmax(), x, mask=mask)
    assert r.ok, r
    np.testing.assert_allclose(Softmax()(x, mask=np.ones((3, 5), bool)), _softmax(x, -1), rtol=1e-12)


def test_relu_keras_docstring_example_and_options():
    x = np.array([-10, -5, 0.0, 5, 10])
    assert ReLU(max_value=10, negative_slope=0.5, threshold=0)(x).tolist() == [-5.0, -2.5, 0.0, 5.0, 10.0]
    assert ReLU()(x).tolist() == [0, 0, 0, 5, 10]
    assert ReLU(max_value=6)(np.array([-1.0, 3.0, 8.0])).tolist() == [0, 3, 6]
    assert ReLU(threshold=2.0, negative_slope=0.1)(np.array([1.0, 3.0])).tolist() == pytest.approx([-0.1, 3.0])
    assert ReLU()(np.ones(3, dtype="float32")).dtype == np.float32
    for bad in (dict(max_value=-1), dict(negative_slope=-0.1), dict(threshold=-1.0), dict(negative_slope=None)):
        with pytest.raises(ValueError, match="ReLU"):
            ReLU(**bad)


@pytest.mark.parametrize("layer", [ReLU(), ReLU(max_value=1.5, negative_slope=0.2, threshold=0.5),
                                   LeakyReLU(), LeakyReLU(negative_slope=0.01), ELU(), ELU(alpha=0.5)],
                         ids=["relu", "relu-options", "leaky", "leaky-0.01", "elu", "elu-0.5"])
def test_backward_gradcheck(layer):
    x = _x((4, 6), seed=1)
    if isinstance(layer, ReLU):
        x = np.where(np.abs(x - 0.5) < 0.05, 0.8, x)
        x = np.where(np.abs(x - 1.5) < 0.05, 1.2, x)
    r = gradcheck(layer, x)
    assert r.ok, r


def test_leaky_relu_and_elu_values():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    np.testing.assert_allclose(LeakyReLU()(x), [-0.6, -0.15, 0.0, 1.5])
    np.testing.assert_allclose(ELU(alpha=2.0)(x), [2 * (np.exp(-2) - 1), 2 * (np.exp(-0.5) - 1), 0.0, 1.5])
    assert ELU()(np.array([1000.0, -1000.0])).tolist() == [1000.0, -1.0]   # no overflow
    with pytest.raises(ValueError, match="LeakyReLU"):
        LeakyReLU(negative_slope=None)


def test_any_input_shape_config_round_trip_and_in_a_model():
    layer = LeakyReLU(negative_slope=0.1)
    layer(np.ones((2, 3)))
    assert layer(np.ones((4, 5, 7))).shape == (4, 5, 7)       # activation layers accept any shape
    clone = ReLU.from_config(ReLU(max_value=6.0, negative_slope=0.1, name="r6").get_config())
    assert (clone.max_value, clone.negative_slope, clone.threshold, clone.name) == (6.0, 0.1, 0.0, "r6")
    assert Softmax.from_config(Softmax(axis=(1, 2)).get_config()).axis == (1, 2)
    model = Sequential([Dense(8, input_shape=(4,)), LeakyReLU(), Dense(3), Softmax()])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = _x((16, 4))
    y = np.eye(3)[np.arange(16) % 3]
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
