"""The image layers on CuPy: the same numbers as NumPy, and gradchecks on the GPU. Skipped without a CUDA device."""
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

from tinynn import layers  # noqa: E402
from tinynn.testing import gradcheck  # noqa: E402

MAKERS = [
    lambda: layers.Conv2D(3, 3, strides=2, padding="same", activation="relu", dtype="float64"),
    lambda: layers.Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64"),
    lambda: layers.MaxPooling2D(3, strides=2, padding="same"),
    lambda: layers.AveragePooling2D(2, padding="same"),
    lambda: layers.GlobalMaxPooling2D(),
    lambda: layers.BatchNormalization(dtype="float64"),
    lambda: layers.LayerNormalization(dtype="float64"),
]


@pytest.fixture(autouse=True)
def numpy_afterwards():
    yield
    backend.set_backend("numpy")


@pytest.mark.parametrize("i", range(len(MAKERS)))
def test_same_numbers_on_cupy_and_gradcheck(i):
    x = np.random.default_rng(1).normal(size=(2, 7, 6, 3))
    if i == 1:
        x = x[:, 0]
    out = []
    for name in ("numpy", "cupy"):
        backend.set_backend(name)
        backend.set_seed(0)
        layer = MAKERS[i]()
        y = layer(x, training=True)
        out.append((backend.to_cpu(y), backend.to_cpu(layer.backward(backend.asarray(np.ones(y.shape))))))
    np.testing.assert_allclose(out[0][0], out[1][0], atol=1e-10)
    np.testing.assert_allclose(out[0][1], out[1][1], atol=1e-10)
    r = gradcheck(MAKERS[i](), backend.asarray(x), training=True)
    assert r.ok, r


def test_augmentation_on_cupy():
    backend.set_backend("cupy")
    x = backend.asarray(np.random.default_rng(1).normal(size=(4, 6, 6, 1)))
    for layer in (layers.RandomFlip(seed=1), layers.RandomTranslation(0.2, 0.2, seed=1)):
        y = layer(x, training=True)
        assert y.shape == x.shape and type(y) is type(x)
        assert layer.backward(y).shape == x.shape
