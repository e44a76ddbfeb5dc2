"""SimpleRNN, LSTM, GRU, Bidirectional: BPTT gradchecks for every option, masking, Keras weight layout,
the layers against their one-step cell functions, dropout, states and config."""
import math

import numpy as np
import pytest

from tinynn import backend
from tinynn.layers import GRU, LSTM, Bidirectional, Embedding, Layer, SimpleRNN
from tinynn.layers.recurrent import (gru_cell_forward, lstm_cell_backward, lstm_cell_forward,
                                     simple_rnn_cell_forward)
from tinynn.testing import gradcheck, rel_error

N, T, D, U = 3, 8, 4, 5  # T >= 7 steps, so mistakes in backprop through time show


def _x(seed=0, n=N, t=T, d=D):
    return np.random.default_rng(seed).normal(size=(n, t, d))


def _mask():
    m = np.ones((N, T), dtype=bool)
    m[0, :3] = False  # pre-padded
    m[2, :6] = False
    return m


def _generic(layer):
    layer.fused = False
    return layer


LAYERS = {
    "simple_rnn": lambda **kw: SimpleRNN(U, **kw),
    "lstm": lambda **kw: LSTM(U, **kw),
    "lstm_generic": lambda **kw: _generic(LSTM(U, **kw)),
    "gru": lambda **kw: GRU(U, **kw),
    "gru_reset_before": lambda **kw: GRU(U, reset_after=False, **kw),
}
OPTIONS = {
    "last": {},
    "sequences": {"return_sequences": True},
    "backwards": {"go_backwards": True},
    "sequences_backwards": {"return_sequences": True, "go_backwards": True},
}


@pytest.mark.parametrize("opt", list(OPTIONS))
@pytest.mark.parametrize("kind", list(LAYERS))
def test_gradcheck(kind, opt):
    r = gradcheck(LAYERS[kind](**OPTIONS[opt]), _x())
    assert r.ok, r
    assert len(r.errors) == 4  # dx, kernel, recurrent_kernel, bias


@pytest.mark.parametrize("opt", ["last", "sequences", "sequences_backwards"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_gradcheck_masked(kind, opt):
    r = gradcheck(LAYERS[kind](**OPTIONS[opt]), _x(), mask=_mask())
    assert r.ok, r


def test_gradcheck_non_default_activations_use_the_generic_loop():
    layer = LSTM(U, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True)
    r = gradcheck(layer, _x() * 0.3)
    assert r.ok, r
    assert layer._is_fused is False


class _States(Layer):
    """Test wrapper: concatenates [output, *states] so gradcheck sees one array; splits dy back."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self._layers = [inner]

    def build(self, input_shape):
        self.inner.build_from_shape(input_shape)

    def call(self, x, training=False):
        outs = self.inner(x, training=training)
        self._sizes = [o.shape[-1] for o in outs]
        self._seq_shape = outs[0].shape if outs[0].ndim == 3 else None
        flat = [o.reshape(o.shape[0], -1) for o in outs]
        self._widths = [f.shape[1] for f in flat]
        return np.concatenate(flat, axis=1)

    def backward(self, dy):
        parts = np.split(dy, np.cumsum(self._widths)[:-1], axis=1)
        if self._seq_shape is not None:
            parts[0] = parts[0].reshape(self._seq_shape)
        return self.inner.backward(parts)


@pytest.mark.parametrize("seq", [False, True])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "lstm_generic", "gru"])
def test_gradcheck_return_state(kind, seq):
    layer = LAYERS[kind](return_state=True, return_sequences=seq)
    r = gradcheck(_States(layer), _x())
    assert r.ok, r


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
def test_gradcheck_bidirectional(merge_mode):
    r = gradcheck(Bidirectional(LSTM(U, return_sequences=True), merge_mode=merge_mode), _x())
    assert r.ok, r
    assert len(r.errors) == 7  # dx + 3 weights per direction


@pytest.mark.parametrize("inner", [lambda: GRU(U), lambda: LSTM(U, return_sequences=True), lambda: SimpleRNN(U)])
def test_gradcheck_bidirectional_masked(inner):
    r = gradcheck(Bidirectional(inner()), _x(), mask=_mask())
    assert r.ok, r


def test_bidirectional_shapes_weights_and_reversal():
    bi = Bidirectional(LSTM(U, return_sequences=True))
    x = _x().astype(np.float32)
    y = bi(x)
    assert y.shape == (N, T, 2 * U)
    assert len(bi.weights) == 6 and len(bi.trainable_weights) == 6
    assert bi.compute_output_shape((None, T, D)) == (None, T, 2 * U)
    # the backward half at step t equals a go_backwards LSTM's output at position T-1-t
    back = LSTM(U, return_sequences=True, go_backwards=True)
    back(x)
    back.set_weights(bi.backward_layer.get_weights())
    np.testing.assert_allclose(y[:, :, U:], back(x)[:, ::-1], rtol=1e-5, atol=1e-6)
    assert Bidirectional(GRU(U), merge_mode=None)(x)[1].shape == (N, U)


# --- masking: a pre-padded batch equals each sequence run unpadded ---------------------------------
@pytest.mark.parametrize("kind", list(LAYERS))
def test_masked_batch_equals_unpadded_sequences(kind):
    rng = np.random.default_rng(3)
    lengths = [8, 5, 2]
    x = rng.normal(size=(3, T, D))
    mask = np.zeros((3, T), dtype=bool)
    for n, length in enumerate(lengths):
        mask[n, T - length:] = True
        x[n, :T - length] = 0.0  # pre-padding
    layer = LAYERS[kind]()
    gradcheck(layer, x[:1, :1])  # build in float64
    dy = rng.normal(size=(3, U))
    y = layer(x, mask=mask)
    dx = layer.backward(dy)
    grads = [w.grad.copy() for w in layer.weights]
    total = [np.zeros_like(g) for g in grads]
    for n, length in enumerate(lengths):
        xn = x[n:n + 1, T - length:]
        np.testing.assert_allclose(y[n], layer(xn)[0], rtol=1e-12, atol=1e-12)
        dxn = layer.backward(dy[n:n + 1])
        np.testing.assert_allclose(dx[n, T - length:], dxn[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(dx[n, :T - length], 0.0)
        for acc, w in zip(total, layer.weights):
            acc += w.grad
    for g, t in zip(grads, total):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)


def test_embedding_mask_zero_reaches_the_lstm():
    emb = Embedding(20, D, mask_zero=True)
    lstm = LSTM(U)
    ids = np.array([[0, 0, 0, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]])
    h = lstm(emb(ids), mask=emb.compute_mask(ids))
    np.testing.assert_allclose(h[0], lstm(emb(ids[:1, 3:]))[0], rtol=1e-5, atol=1e-6)
    assert lstm.compute_mask(ids, emb.compute_mask(ids)) is None  # return_sequences=False ends the mask


# --- Keras weight layout: one step computed by hand from the equations ------------------------------
def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def test_lstm_keras_layout_by_hand():
    # D = 1 input, units = 1: kernel (1, 4) = [W_i, W_f, W_c, W_o], recurrent (1, 4), bias (4,)
    W, R, b = [0.5, -0.25, 1.0, 0.75], [0.1, 0.2, -0.3, 0.4], [0.01, 1.0, -0.02, 0.03]
    x1, x2 = 0.8, -0.6
    h, c = 0.0, 0.0
    for xv in (x1, x2):
        i = _sig(xv * W[0] + h * R[0] + b[0])
        f = _sig(xv * W[1] + h * R[1] + b[1])
        g = math.tanh(xv * W[2] + h * R[2] + b[2])
        o = _sig(xv * W[3] + h * R[3] + b[3])
        c = f * c + i * g
        h = o * math.tanh(c)
    layer = LSTM(1, return_state=True)
    layer(np.zeros((1, 2, 1)))
    layer.set_weights([np.array([W]), np.array([R]), np.array(b)])
    assert [w.shape for w in layer.weights] == [(1, 4), (1, 4), (4,)]
    for fused in (True, False):
        layer.fused = fused
        out, hh, cc = layer(np.array([[[x1], [x2]]], dtype=np.float32))
        assert out[0, 0] == pytest.approx(h, rel=1e-5) and cc[0, 0] == pytest.approx(c, rel=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_keras_layout_by_hand(reset_after):
    # gate order z, r, h; reset_after=True: bias rows = [input bias, recurrent bias]
    W, R = [0.5, -0.4, 0.9], [0.3, 0.2, -0.7]
    bi, br = [0.1, -0.2, 0.05], [0.02, 0.3, -0.1]
    h = 0.0
    for xv in (0.7, -1.1, 0.4):
        if reset_after:
            z = _sig(xv * W[0] + bi[0] + h * R[0] + br[0])
            r = _sig(xv * W[1] + bi[1] + h * R[1] + br[1])
            hh = math.tanh(xv * W[2] + bi[2] + r * (h * R[2] + br[2]))
        else:
            z = _sig(xv * W[0] + bi[0] + h * R[0])
            r = _sig(xv * W[1] + bi[1] + h * R[1])
            hh = math.tanh(xv * W[2] + bi[2] + (r * h) * R[2])
        h = z * h + (1 - z) * hh
    layer = GRU(1, reset_after=reset_after)
    layer(np.zeros((1, 3, 1)))
    bias = np.array([bi, br]) if reset_after else np.array(bi)
    assert layer.bias.shape == bias.shape
    layer.set_weights([np.array([W]), np.array([R]), bias])
    assert layer(np.array([[[0.7], [-1.1], [0.4]]]))[0, 0] == pytest.approx(h, rel=1e-5)


def test_lstm_unit_forget_bias():
    layer = LSTM(3)
    layer(np.zeros((1, 2, 2), dtype=np.float32))
    np.testing.assert_array_equal(layer.bias.value, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    layer = LSTM(3, unit_forget_bias=False)
    layer(np.zeros((1, 2, 2), dtype=np.float32))
    np.testing.assert_array_equal(layer.bias.value, 0)


# --- the layers step their cell functions ------------------------------------------------------------
def _weights(layer):
    return [w.value for w in (layer.kernel, layer.recurrent_kernel, layer.bias)]


@pytest.mark.parametrize("fused", [True, False])
def test_lstm_layer_equals_stepping_the_cell(fused):
    x = _x(5)
    layer = LSTM(U, return_sequences=True)
    gradcheck(layer, x[:, :2])  # float64 weights
    layer.fused = fused
    y = layer(x)
    dy = np.random.default_rng(6).normal(size=y.shape)
    dx = layer.backward(dy)
    W, R, b = _weights(layer)
    h = c = np.zeros((N, U))
    caches = []
    for t in range(T):
        h, c, cache = lstm_cell_forward(x[:, t], h, c, W, R, b)
        caches.append(cache)
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12, atol=1e-14)
    dh = dc = np.zeros((N, U))
    gW, gR, gb = np.zeros_like(W), np.zeros_like(R), np.zeros_like(b)
    for t in reversed(range(T)):
        dxt, dh, dc, a, r_, bb = lstm_cell_backward(dh + dy[:, t], dc, caches[t])
        gW, gR, gb = gW + a, gR + r_, gb + bb
        np.testing.assert_allclose(dx[:, t], dxt, rtol=1e-10, atol=1e-12)
    for w, g in zip((layer.kernel, layer.recurrent_kernel, layer.bias), (gW, gR, gb)):
        np.testing.assert_allclose(w.grad, g, rtol=1e-10, atol=1e-12)


def test_gru_and_simple_rnn_equal_stepping_their_cells():
    x = _x(7)
    for layer, step in ((GRU(U, return_sequences=True), lambda xt, h, W, R, b: gru_cell_forward(xt, h, W, R, b)),
                        (SimpleRNN(U, return_sequences=True), simple_rnn_cell_forward)):
        gradcheck(layer, x[:, :2])
        y = layer(x)
        h = np.zeros((N, U))
        for t in range(T):
            h, _ = step(x[:, t], h, *_weights(layer))
            np.testing.assert_allclose(y[:, t], h, rtol=1e-12, atol=1e-14)


def test_fused_and_generic_lstm_agree_in_float32():
    x = _x(8).astype(np.float32)
    a, b = LSTM(U, return_sequences=True), _generic(LSTM(U, return_sequences=True))
    a(x)
    b(x)
    b.set_weights(a.get_weights())
    ya, yb = a(x), b(x)
    assert ya.dtype == np.float32 and a.kernel.grad.dtype == np.float32
    np.testing.assert_allclose(ya, yb, rtol=1e-5, atol=1e-6)
    dy = np.random.default_rng(9).normal(size=ya.shape).astype(np.float32)
    np.testing.assert_allclose(a.backward(dy), b.backward(dy), rtol=1e-4, atol=1e-5)
    for wa, wb in zip(a.weights, b.weights):
        assert wa.grad.dtype == np.float32
        assert rel_error(wa.grad, wb.grad) < 1e-5


@pytest.mark.parametrize("chunk", [1, 3, T])
def test_fused_lstm_backward_factor_chunks_do_not_change_the_gradients(chunk):
    # the fused backward computes its factors per chunk of steps; T = 8 with chunk 3 leaves a partial chunk
    x = _x(10).astype(np.float32)
    a, b = LSTM(U, return_sequences=True, return_state=True), _generic(LSTM(U, return_sequences=True,
                                                                          return_state=True))
    a(x)
    b(x)
    b.set_weights(a.get_weights())
    a._chunk = chunk
    ya, yb = a(x), b(x)
    for u, v in zip(ya, yb):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    rng = np.random.default_rng(11)
    dys = [rng.normal(size=y.shape).astype(np.float32) for y in ya]
    np.testing.assert_allclose(a.backward(dys), b.backward(dys), rtol=1e-4, atol=1e-5)
    for wa, wb in zip(a.weights, b.weights):
        assert rel_error(wa.grad, wb.grad) < 1e-5


# --- dropout, states, flags, errors, config ----------------------------------------------------------
def test_input_dropout_one_mask_per_sequence_only_in_training():
    x = np.ones((4, T, 6), dtype=np.float32)
    layer = LSTM(U, dropout=0.5, seed=1, return_sequences=True)
    y_inf = layer(x)
    np.testing.assert_array_equal(layer(x, training=False), y_inf)
    y = layer(x, training=True)
    drop = layer._drop  # (N, 1, D): the same features dropped at every step, kept ones scaled by 2
    assert drop.shape == (4, 1, 6) and set(np.unique(drop)) <= {0.0, 2.0} and 0 < (drop == 0).sum() < 24
    ref = LSTM(U, return_sequences=True)
    ref(x)
    ref.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, ref(x * drop), rtol=1e-6)
    dy = np.ones_like(y)
    np.testing.assert_allclose(layer.backward(dy), ref.backward(dy) * drop, rtol=1e-5, atol=1e-6)


def test_recurrent_dropout_is_refused_loudly():
    with pytest.raises(NotImplementedError, match="recurrent_dropout"):
        LSTM(4, recurrent_dropout=0.2)


def test_return_state_shapes_and_list_backward():
    layer = LSTM(U, return_state=True)
    out, h, c = layer(_x().astype(np.float32))
    assert out.shape == h.shape == c.shape == (N, U)
    np.testing.assert_array_equal(out, h)
    dx = layer.backward([np.ones((N, U), np.float32), None, None])
    assert dx.shape == (N, T, D)
    with pytest.raises(ValueError, match="upstream gradient"):
        layer.backward([np.ones((N, U))])
    assert GRU(U, return_state=True)(_x().astype(np.float32))[1].shape == (N, U)
    assert LSTM(U, return_state=True).compute_output_shape((None, T, D)) == [(None, U), (None, U), (None, U)]


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_no_input_gradient_when_first_layer(kind):
    layer = LAYERS[kind]()
    layer(_x().astype(np.float32))
    layer.compute_input_gradient = False
    assert layer.backward(np.ones((N, U), np.float32)) is None
    assert np.abs(layer.kernel.grad).sum() > 0


def test_shapes_and_errors():
    layer = LSTM(U, name="lstm_x")
    with pytest.raises(ValueError, match="lstm_x.*timesteps"):
        layer(np.zeros((2, 3)))
    layer(np.zeros((2, T, D), np.float32))
    with pytest.raises(ValueError, match="lstm_x"):
        layer(np.zeros((2, T, D + 1), np.float32))
    with pytest.raises(ValueError, match="mask"):
        layer(np.zeros((2, T, D), np.float32), mask=np.ones((2, T + 1), bool))
    assert [w.shape for w in layer.weights] == [(D, 4 * U), (U, 4 * U), (4 * U,)]
    assert LSTM(U, return_sequences=True).compute_output_shape((None, T, D)) == (None, T, U)
    with pytest.raises(ValueError, match="units"):
        GRU(0)


def test_get_config_keras_keys():
    cfg = LSTM(7, return_sequences=True, dropout=0.1).get_config()
    for key in ("units", "activation", "recurrent_activation", "return_sequences", "return_state", "go_backwards",
                "unit_forget_bias", "kernel_initializer", "recurrent_initializer", "dropout", "recurrent_dropout",
                "use_bias", "bias_initializer", "name"):
        assert key in cfg, key
    assert cfg["units"] == 7 and cfg["activation"] == "tanh" and cfg["recurrent_activation"] == "sigmoid"
    assert GRU(3).get_config()["reset_after"] is True
    assert SimpleRNN(3).get_config()["activation"] == "tanh"
    assert Bidirectional(LSTM(3)).get_config()["merge_mode"] == "concat"


def test_layers_follow_floatx():
    old = backend.floatx()
    backend.set_floatx("float64")
    try:
        assert LSTM(2)(np.zeros((1, 3, 2))).dtype == np.float64
    finally:
        backend.set_floatx(old)


# --- the seeds' IMDB model, small, on the real data ---------------------------------------------------
@pytest.mark.slow
def test_imdb_lstm_learns_on_real_data(monkeypatch):
    import os

    from tinynn.datasets import imdb
    from tinynn.layers import Dense
    from tinynn.models import Sequential
    from tinynn.preprocessing.sequence import pad_sequences
    from tinynn.utils import set_random_seed

    if not os.environ.get("TINYNN_DATA") and os.path.isdir("/work/shared/data/imdb"):
        monkeypatch.setenv("TINYNN_DATA", "/work/shared/data")
    set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
    x_train, y_train = pad_sequences(x_train[:5000], maxlen=200), y_train[:5000]
    x_test, y_test = pad_sequences(x_test[:5000], maxlen=200), y_test[:5000]
    model = Sequential([Embedding(10000, 32), LSTM(32), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    _, acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    assert acc > 0.70, f"test accuracy {acc:.3f} after 2 epochs on 5,000 reviews"
