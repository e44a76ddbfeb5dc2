import numpy as np
import pytest

from tinynn import backend, regularizers
from tinynn.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer, Reshape
from tinynn.testing import gradcheck

ACTS = ["linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softmax", "softplus", "softsign",
        "gelu", "swish"]


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("activation", ACTS)
def test_dense_gradcheck_every_activation(activation):
    r = gradcheck(Dense(5, activation=activation), _x((6, 4)))
    assert r.ok, r
    assert set(r.errors) == {"dx", r.errors and next(k for k in r.errors if k.endswith("kernel")),
                             next(k for k in r.errors if k.endswith("bias"))}


def test_dense_gradcheck_no_bias_and_3d_input():
    assert gradcheck(Dense(3, use_bias=False), _x((4, 5))).ok
    r = gradcheck(Dense(3, activation="tanh"), _x((2, 4, 5)))   # (N, T, D) -> (N, T, units)
    assert r.ok, r


def test_dense_formulas_written_in_its_docstring():
    """dW = xᵀ dz, db = Σ dz, dx = dz Wᵀ (linear activation, so dz = dy)."""
    layer = Dense(3, dtype="float64")
    x, dy = _x((4, 5)), _x((4, 3), 1)
    layer(x)
    dx = layer.backward(dy)
    assert np.allclose(layer.kernel.grad, x.T @ dy)
    assert np.allclose(layer.bias.grad, dy.sum(axis=0))
    assert np.allclose(dx, dy @ layer.kernel.value.T)
    assert np.allclose(layer(x), x @ layer.kernel.value + layer.bias.value)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "softmax"])
def test_activation_layer_gradcheck(activation):
    assert gradcheck(Activation(activation), _x((3, 4))).ok


def test_flatten_reshape_gradcheck_and_shapes():
    assert gradcheck(Flatten(), _x((2, 3, 4))).ok
    assert gradcheck(Reshape((4, 3)), _x((2, 12))).ok
    assert Flatten().compute_output_shape((None, 28, 28)) == (None, 784)
    assert Reshape((-1, 2)).compute_output_shape((None, 12)) == (None, 6, 2)
    with pytest.raises(ValueError, match="Reshape 'r'.*12 values.*5"):
        Reshape((5,), name="r")(np.zeros((2, 12)))


def test_dropout_is_inverted_and_only_in_training():
    backend.set_seed(0)
    layer = Dropout(0.25)
    x = np.ones((2000, 50), np.float32)
    assert layer(x) is x                                  # inference: identity
    y = layer(x, training=True)
    assert abs((y == 0).mean() - 0.25) < 0.01              # about rate of the values are dropped
    assert np.allclose(y[y != 0], 1 / 0.75)                # the rest scaled by 1/(1-rate)
    assert abs(y.mean() - 1) < 0.02                        # expectation unchanged
    dy = np.full_like(x, 2.0)
    assert np.array_equal(layer.backward(dy), 2.0 * layer._mask)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)


def test_dropout_gradcheck_with_fixed_mask():
    layer = Dropout(0.5, seed=1)
    x = _x((3, 4))
    y = layer(x, training=True)
    mask = layer._mask.copy()
    layer.call = lambda x, training=False: x * mask       # freeze the mask for finite differences
    layer._mask = mask
    assert np.allclose(y, x * mask)
    assert gradcheck(layer, x).ok


def test_weights_api_and_count_params():
    layer = Dense(128, input_shape=(784,))
    layer(np.zeros((1, 784), np.float32))
    assert layer.count_params() == 784 * 128 + 128
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    assert layer.trainable_weights == layer.weights and layer.non_trainable_weights == []
    ws = layer.get_weights()
    layer.set_weights([w + 1 for w in ws])
    assert np.allclose(layer.get_weights()[0], ws[0] + 1)
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights(ws[:1])
    with pytest.raises(ValueError, match=r"kernel.*\(784, 128\).*\(3, 3\)"):
        layer.set_weights([np.zeros((3, 3)), ws[1]])
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


def test_automatic_names_are_unique():
    a, b = Dense(1), Dense(1)
    assert a.name != b.name and a.name.startswith("dense") and b.name.startswith("dense")


def test_wrong_input_width_names_layer_and_shapes():
    layer = Dense(4, name="hidden")
    layer(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"'hidden'.*expected \(None, 5\), got \(2, 7\)"):
        layer(np.zeros((2, 7), np.float32))


def test_flatten_declared_28x28_fed_784_explains_the_fix():
    """The seed's MNIST program reshapes to (N, 784) but declares Flatten(input_shape=(28, 28))."""
    layer = Flatten(input_shape=(28, 28), name="flatten_seed")
    with pytest.raises(ValueError) as err:
        layer(np.zeros((32, 784), np.float32))
    msg = str(err.value)
    assert "'flatten_seed'" in msg and "(None, 28, 28)" in msg and "(32, 784)" in msg
    assert "input_shape=(784,)" in msg and "reshape(-1, 28, 28)" in msg


def test_input_dim_keyword_and_input_layer():
    assert Dense(3, input_dim=7)._batch_input_shape == (None, 7)
    inp = Input(shape=(4,))
    assert inp.shape == (None, 4) and inp.dtype == "float32"  # a symbolic tensor, as keras.Input
    assert isinstance(inp.node.layer, InputLayer) and inp.node.layer._batch_input_shape == (None, 4)
    with pytest.raises(ValueError, match="shape"):
        InputLayer()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        Dense(0)
    with pytest.raises(TypeError, match="unexpected keyword argument.*'unitz'"):
        Dense(3, unitz=4)
    with pytest.raises(ValueError, match="Unknown activation"):
        Dense(3, activation="rellu")


def test_kernel_regularizer_is_attached():
    layer = Dense(2, kernel_regularizer=regularizers.L2(0.1), dtype="float64")
    layer(np.ones((1, 3)))
    (penalty,) = layer.losses
    assert penalty == pytest.approx(0.1 * (layer.kernel.value ** 2).sum())


def test_float64_layers_stay_float64_and_float32_stay_float32():
    for dtype in ("float32", "float64"):
        layer = Dense(3, activation="sigmoid", dtype=dtype)
        y = layer(np.ones((2, 4), dtype))
        assert y.dtype == dtype and layer.backward(np.ones_like(y)).dtype == dtype
        assert layer.kernel.grad.dtype == dtype


def test_backward_never_modifies_dy():
    for layer in (Dense(3, activation="relu"), Dense(3, activation="softmax"), Activation("tanh"), Flatten()):
        x = _x((2, 3))
        y = layer(x)
        dy = np.ones_like(y)
        layer.backward(dy)
        assert (dy == 1).all(), layer


def test_compute_input_gradient_false_skips_dx():
    layer = Dense(3)
    layer(np.ones((2, 4), np.float32))
    layer.compute_input_gradient = False
    assert layer.backward(np.ones((2, 3), np.float32)) is None
    assert layer.kernel.grad.any()


def test_layer_base_defaults():
    class Identity(Layer):
        def call(self, x):
            return x

    layer = Identity()
    assert layer(np.ones(3)).shape == (3,) and layer.compute_output_shape((None, 3)) == (None, 3)
    with pytest.raises(ValueError, match="not built"):
        Dense(2).count_params()


def test_automatic_names_follow_keras():
    from tinynn.layers.base import _snake_case

    assert [_snake_case(n) for n in ("Dense", "SimpleRNN", "LSTM", "GRU", "InputLayer", "CustomLayer")] == [
        "dense", "simple_rnn", "lstm", "gru", "input_layer", "custom_layer"]
