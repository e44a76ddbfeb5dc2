"""The CuPy backend on a real GPU: same results as NumPy. Skipped where CuPy or a CUDA device is missing."""
import numpy as np
import pytest

from tinynn import backend

pytestmark = pytest.mark.gpu


def _has_gpu():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


if not _has_gpu():
    pytest.skip("CuPy with a CUDA device is not available here", allow_module_level=True)

import cupy  # noqa: E402

from tinynn import layers, losses  # noqa: E402
from tinynn.models import Sequential  # noqa: E402
from tinynn.testing import gradcheck  # noqa: E402
from tinynn.utils import set_random_seed, to_categorical  # noqa: E402


@pytest.fixture(autouse=True)
def on_gpu():
    backend.set_backend("cupy")
    yield
    backend.set_backend("numpy")


def _numpy_then_cupy(fn):
    backend.set_backend("numpy")
    a = fn()
    backend.set_backend("cupy")
    b = fn()
    return a, b


def test_xp_is_cupy_and_arrays_live_on_the_gpu():
    assert backend.backend() == "cupy"
    layer = layers.Dense(3)
    y = layer(np.ones((2, 4), "float32"))
    assert isinstance(y, cupy.ndarray) and isinstance(layer.kernel.value, cupy.ndarray)
    assert isinstance(backend.to_cpu(y), np.ndarray)


@pytest.mark.parametrize("make", [lambda: layers.Dense(4, activation="tanh"), lambda: layers.Dense(4, activation="softmax"),
                                  lambda: layers.LSTM(3, return_sequences=True), lambda: layers.GRU(3),
                                  lambda: layers.SimpleRNN(3)])
def test_gradcheck_on_the_gpu(make):
    x = np.random.default_rng(0).normal(size=(2, 7, 5) if not isinstance(make(), layers.Dense) else (3, 5))
    r = gradcheck(make(), cupy.asarray(x))
    assert r.ok, r


def test_mlp_training_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 20)).astype("float32")
    y = to_categorical(rng.integers(0, 3, 256), 3)

    def run():
        set_random_seed(0)
        model = Sequential([layers.Dense(16, activation="relu", input_shape=(20,)), layers.Dense(3, activation="softmax")])
        model.set_weights(init)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
        return h.history, model.get_weights(), model.predict(x[:5])

    backend.set_backend("numpy")
    set_random_seed(0)
    init = Sequential([layers.Dense(16, activation="relu", input_shape=(20,)), layers.Dense(3)]).get_weights()
    (h_np, w_np, p_np), (h_cp, w_cp, p_cp) = _numpy_then_cupy(run)
    assert isinstance(p_cp, np.ndarray)
    assert all(isinstance(v, float) for v in h_cp["loss"] + h_cp["accuracy"])
    assert np.allclose(h_np["loss"], h_cp["loss"], rtol=1e-4)
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(w_np, w_cp))


def test_embedding_lstm_model_and_saving_from_the_gpu(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(1, 50, size=(64, 12))
    y = (x[:, -1] > 25).astype("float32")
    set_random_seed(0)
    model = Sequential([layers.Embedding(50, 8), layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    model.save_weights(tmp_path / "w.npz")
    backend.set_backend("numpy")
    again = Sequential([layers.Embedding(50, 8), layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
    again(x[:2])
    again.load_weights(tmp_path / "w.npz")
    backend.set_backend("cupy")
    p_gpu = model.predict(x)
    backend.set_backend("numpy")
    assert np.allclose(again.predict(x), p_gpu, atol=1e-5)


def test_losses_return_python_floats_on_the_gpu():
    y = cupy.asarray([[0.0, 1.0], [1.0, 0.0]])
    p = cupy.asarray([[0.2, 0.8], [0.6, 0.4]])
    value = losses.CategoricalCrossentropy()(y, p)
    assert isinstance(value, float) and abs(value - float(-np.log([0.8, 0.6]).mean())) < 1e-6
