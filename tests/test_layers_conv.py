"""Conv2D / Conv1D: gradient checks in float64 for every option, forward parity with the loop reference and
with torch (when installed) on the same weights, im2col helpers, shapes and errors."""
import numpy as np
import pytest

from tinynn.layers import Conv1D, Conv2D, Flatten, Dense, Input
from tinynn.layers.convolutional import conv2d_loops
from tinynn.layers.im2col import Buffers, col2im_add, out_size_and_pads, windows
from tinynn.models import Sequential
from tinynn.testing import gradcheck


def _x(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


CONV2D_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=3, strides=2, padding="same"),
    dict(kernel_size=(2, 3), strides=(2, 1), padding="same"),
    dict(kernel_size=3, strides=2),
    dict(kernel_size=3, dilation_rate=2),
    dict(kernel_size=2, dilation_rate=(2, 1), padding="same"),
    dict(kernel_size=4, strides=3, padding="same"),   # odd total padding: the extra row goes at the bottom
    dict(kernel_size=1),
]


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_conv2d_gradcheck(kw, activation):
    layer = Conv2D(3, activation=activation, **kw)
    r = gradcheck(layer, _x((2, 7, 6, 2)))
    assert r.ok, r
    assert len(r.errors) == 3  # dx, kernel, bias


def test_conv2d_gradcheck_without_bias_odd_sizes():
    r = gradcheck(Conv2D(2, (3, 2), use_bias=False, padding="same", strides=(1, 2)), _x((3, 5, 7, 3)))
    assert r.ok, r
    assert len(r.errors) == 2


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_conv2d_equals_the_loop_reference(kw):
    """The im2col fast path computes exactly the four-loop formula of conv2d_loops."""
    layer = Conv2D(4, bias_initializer="glorot_uniform", dtype="float64", **kw)
    x = _x((3, 9, 8, 2))
    y = layer(x)
    ref = conv2d_loops(x, layer.kernel.value, layer.bias.value, layer.strides, layer.padding, layer.dilation_rate)
    assert y.shape == ref.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


def test_conv2d_loop_reference_by_hand():
    """A 1-channel 3×3 image, a 2×2 kernel of ones: every output is the sum of a 2×2 block."""
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    z = conv2d_loops(x, np.ones((2, 2, 1, 1)))
    assert z[0, :, :, 0].tolist() == [[8.0, 12.0], [20.0, 24.0]]
    z_same = conv2d_loops(x, np.ones((2, 2, 1, 1)), padding="same")  # padding only at the bottom/right
    assert z_same[0, :, :, 0].tolist() == [[8.0, 12.0, 7.0], [20.0, 24.0, 13.0], [13.0, 15.0, 8.0]]


def test_padding_rule_matches_tensorflow():
    # TF: out = ceil(H / s); pad_total = max((out-1)*s + k - H, 0); pad_top = pad_total // 2
    for h in range(1, 12):
        for k in range(1, 5):
            for s in range(1, 4):
                out, (top, bottom) = out_size_and_pads(h, k, s, 1, "same")
                assert out == -(-h // s)
                total = max((out - 1) * s + k - h, 0)
                assert (top, bottom) == (total // 2, total - total // 2)
                if h >= k:
                    assert out_size_and_pads(h, k, s, 1, "valid")[0] == (h - k) // s + 1
    assert out_size_and_pads(10, 3, 1, 2, "causal") == (10, (4, 0))


def test_windows_and_col2im_are_transposes():
    """<win(x), g> = <x, col2im(g)> for any x, g: col2im is the adjoint of the window map."""
    x, g = _x((2, 7, 8, 3)), _x((2, 3, 3, 2, 3, 3), 2)
    win = windows(x, 2, 3, 2, 2, 2, 1, 3, 3)
    assert win.shape == g.shape
    assert win[1, 2, 1, 1, 2, 0] == x[1, 2 * 2 + 1 * 2, 1 * 2 + 2 * 1, 0]
    back = col2im_add(np.zeros_like(x), g, 2, 2, 2, 1)
    assert np.isclose((win * g).sum(), (x * back).sum())


def test_conv2d_backward_formulas_in_docstring():
    """dK₂ = colᵀ dZ, db = Σ dZ, dx = col2im(dZ K₂ᵀ) — checked against the loop reference's own gradient."""
    layer = Conv2D(3, 3, padding="same", dtype="float64")
    x, dy = _x((2, 5, 5, 2)), _x((2, 5, 5, 3), 3)
    layer(x)
    dx = layer.backward(dy)
    col = np.stack([np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))[:, i:i + 5, j:j + 5, :]
                    for i in range(3) for j in range(3)], axis=3).reshape(50, 18)
    np.testing.assert_allclose(layer.kernel.grad.reshape(18, 3), col.T @ dy.reshape(50, 3), atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, dy.sum(axis=(0, 1, 2)), atol=1e-12)
    # a linear map: <dx, x> = <dy, y - b>
    assert np.isclose((dx * x).sum(), (dy * (layer(x) - layer.bias.value)).sum())


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, padding="same", strides=2),
                                dict(kernel_size=2, padding="causal", dilation_rate=3),
                                dict(kernel_size=4, strides=3, padding="same")])
def test_conv1d_gradcheck_and_reference(kw):
    layer = Conv1D(3, activation="tanh", **kw)
    x = _x((2, 10, 2))
    r = gradcheck(layer, x)
    assert r.ok, r
    assert layer.kernel.shape == (kw["kernel_size"], 2, 3)  # Keras' Conv1D kernel layout (k, in, out)
    padding = kw.get("padding", "valid")
    x4, k4 = x[:, None], layer.kernel.value[None]
    if padding == "causal":  # causal = left padding, then valid
        x4, padding = np.pad(x4, ((0, 0), (0, 0), ((kw["kernel_size"] - 1) * kw["dilation_rate"], 0), (0, 0))), "valid"
    ref = np.tanh(conv2d_loops(x4, k4, layer.bias.value, (1, kw.get("strides", 1)), padding,
                               (1, kw.get("dilation_rate", 1)))[:, 0])
    np.testing.assert_allclose(layer(x), ref, atol=1e-12)


def test_conv1d_causal_output_does_not_see_the_future():
    layer = Conv1D(2, 3, padding="causal", dtype="float64")
    x = _x((1, 8, 1))
    y = layer(x)
    x2 = x.copy()
    x2[:, 5:] += 10.0
    np.testing.assert_allclose(layer(x2)[:, :5], y[:, :5])


def test_conv2d_float32_keeps_float32_and_reuses_its_buffers():
    layer = Conv2D(4, 3, padding="same")
    x = _x((2, 6, 6, 3)).astype("float32")
    y = layer(x)
    assert y.dtype == np.float32
    col_id = id(layer._col2.base if layer._col2.base is not None else layer._col2)
    layer.backward(np.ones_like(y))
    assert layer.kernel.grad.dtype == np.float32
    layer(x * 2)
    assert id(layer._col2.base if layer._col2.base is not None else layer._col2) == col_id
    # im2col buffer: exactly one batch of windows, no more
    assert layer._col2.size == 2 * 6 * 6 * 3 * 3 * 3


def test_buffers_reallocate_on_new_shape():
    b = Buffers()
    a1 = b.get("a", (2, 3), np.float32)
    assert b.get("a", (2, 3), np.float32) is a1
    assert b.get("a", (4, 3), np.float32) is not a1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conv2d_in_a_sequential_model_trains_and_counts_params(seed):
    from tinynn.utils import set_random_seed

    set_random_seed(seed)
    model = Sequential([Input(shape=(8, 8, 1)), Conv2D(4, 3, activation="relu"), Flatten(), Dense(2, activation="softmax")])
    assert model.layers[0].count_params() == 3 * 3 * 1 * 4 + 4
    assert model.compute_output_shape((None, 8, 8, 1)) == (None, 2)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    y = (x[:, :4].sum(axis=(1, 2, 3)) > x[:, 4:].sum(axis=(1, 2, 3))).astype("int64")
    hist = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.6
    assert hist.history["accuracy"][-1] > 0.8


def test_conv_errors_name_the_layer():
    with pytest.raises(ValueError, match="conv_bad.*filters"):
        Conv2D(0, 3, name="conv_bad")
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="padding"):
        Conv2D(2, 3, padding="causal")
    with pytest.raises(NotImplementedError, match="channels_first"):
        Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(NotImplementedError, match="groups"):
        Conv2D(2, 3, groups=2)
    with pytest.raises(ValueError, match=r"conv_shape.*\(N, H, W, C\)"):
        Conv2D(2, 3, name="conv_shape")(np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        Conv2D(2, 5)(np.zeros((1, 3, 3, 1)))
    layer = Conv2D(2, 3, name="conv_c")
    layer(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match="conv_c"):
        layer(np.zeros((1, 5, 5, 2)))


# ---- torch as an independent reference (skipped when torch is not installed) ------------------------------
def _torch_conv(x, kernel, bias, strides, padding, dilation):
    torch = pytest.importorskip("torch")
    tf_ = torch.nn.functional
    kh, kw = kernel.shape[:2]
    xt = torch.tensor(x).permute(0, 3, 1, 2)
    if padding == "same":  # TensorFlow's "same": the extra pixel at the bottom/right
        ph = [out_size_and_pads(x.shape[1], kh, strides[0], dilation[0], "same")[1],
              out_size_and_pads(x.shape[2], kw, strides[1], dilation[1], "same")[1]]
        xt = tf_.pad(xt, (ph[1][0], ph[1][1], ph[0][0], ph[0][1]))
    y = tf_.conv2d(xt, torch.tensor(kernel).permute(3, 2, 0, 1), torch.tensor(bias), stride=strides,
                   dilation=dilation)
    return y.permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_conv2d_forward_matches_torch(kw):
    layer = Conv2D(5, bias_initializer="glorot_uniform", dtype="float64", **kw)
    x = _x((2, 11, 10, 3))
    y = layer(x)
    ref = _torch_conv(x, layer.kernel.value, layer.bias.value, layer.strides, layer.padding, layer.dilation_rate)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


def test_conv2d_gradients_match_torch():
    torch = pytest.importorskip("torch")
    layer = Conv2D(4, 3, strides=2, padding="same", dtype="float64")
    x, dy = _x((2, 9, 8, 3)), _x((2, 5, 4, 4), 5)
    layer(x)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    kt = torch.tensor(layer.kernel.value, requires_grad=True)
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(xt.permute(0, 3, 1, 2), (0, 1, 1, 1)),
                                   kt.permute(3, 2, 0, 1), stride=2)
    y.backward(torch.tensor(dy).permute(0, 3, 1, 2))
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.kernel.grad, kt.grad.numpy(), atol=1e-10)


def test_keras_io_mnist_convnet_builds_with_keras_parameter_counts(tmp_path):
    """keras.io "Simple MNIST convnet", only the import changed: 34,826 parameters as Keras' summary says."""
    from tinynn import layers, models

    model = models.Sequential([
        Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    assert [layer.count_params() for layer in model.layers] == [320, 0, 18496, 0, 0, 0, 16010]
    assert model.layers[3].output_shape == (None, 5, 5, 64)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    p = model.predict(x, verbose=0)
    path = tmp_path / "convnet.keras"
    model.save(path)
    again = models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), p, rtol=1e-6)


@pytest.mark.parametrize("c", [1, 3, 4, 6])
def test_im2col_both_copies_equal_the_window_view(c):
    """The tap-by-tap copy (few channels) and the one strided copy give the windows exactly."""
    from tinynn.layers.im2col import im2col

    x = _x((2, 9, 8, c))
    out = np.empty((2, 3, 3, 3, 2, c))
    im2col(x, 3, 2, 2, 2, 2, 3, 3, 3, out=out)
    np.testing.assert_array_equal(out, windows(x, 3, 2, 2, 2, 2, 3, 3, 3))


def test_tensorflow_cnn_tutorial_model_runs_with_the_import_changed():
    """TensorFlow's "Convolutional Neural Network (CNN)" tutorial (CIFAR-10 architecture), `tensorflow.keras` →
    `tinynn`, on random images of CIFAR's shape: the summary's 122,570 parameters, and a training step."""
    from tinynn import layers, losses, models
    from tinynn.utils import set_random_seed

    set_random_seed(0)
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10))
    assert model.count_params() == 122_570
    model.compile(optimizer='adam', loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['accuracy'])
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 32, 32, 3)).astype("float32"), rng.integers(0, 10, 16)
    history = model.fit(x, y, epochs=3, validation_data=(x, y), verbose=0)
    assert len(history.history["val_accuracy"]) == 3 and np.isfinite(history.history["loss"]).all()
