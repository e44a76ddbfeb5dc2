"""Rescaling, RandomFlip, RandomTranslation: values, training-only behaviour, seeds, gradient checks."""
import numpy as np
import pytest

from tinynn.layers import RandomFlip, RandomTranslation, Rescaling
from tinynn.testing import gradcheck


def _x(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


def test_rescaling_bytes_to_floats():
    layer = Rescaling(1 / 255)
    y = layer(np.array([[0, 255]], dtype="uint8"))
    assert y.dtype == np.float32 and y.tolist() == [[0.0, 1.0]]
    assert Rescaling(2.0, offset=-1.0)(np.array([0.5])).tolist() == [0.0]
    assert gradcheck(Rescaling(0.5, offset=3.0), _x((2, 3))).ok


def _seeded_check(make, x):
    """Gradcheck of a random layer in training mode: the same draw before every forward (fresh seeded layer)."""
    state = {}

    def fn(x):
        state["layer"] = make()
        return state["layer"](x, training=True)

    def backward(dy, x):
        fn(x)
        return [state["layer"].backward(dy)]

    return gradcheck(fn, x, backward=backward)


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip(mode):
    x = _x((16, 3, 4, 2))
    layer = RandomFlip(mode, seed=3)
    assert layer(x) is x                                      # inference: unchanged
    y = layer(x, training=True)
    axes = {"horizontal": [2], "vertical": [1], "horizontal_and_vertical": [1, 2]}[mode]
    for n in range(16):  # every image is one of its flips
        candidates = [x[n], *(np.flip(x[n], a - 1) for a in axes)]
        if len(axes) == 2:
            candidates.append(np.flip(x[n], (0, 1)))
        assert any(np.array_equal(y[n], c) for c in candidates)
    assert not np.array_equal(y, x)
    np.testing.assert_array_equal(RandomFlip(mode, seed=3)(x, training=True), y)   # seeded: repeatable
    r = _seeded_check(lambda: RandomFlip(mode, seed=5), x)
    assert r.ok, r


def test_random_translation_integer_shift_constant_fill():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    layer = RandomTranslation((0.5, 0.5), (-0.25, -0.25), fill_mode="constant", fill_value=-1.0)
    y = layer(x, training=True)[0, :, :, 0]   # down by 2 rows, left by 1 column
    assert y.tolist() == [[-1, -1, -1, -1], [-1, -1, -1, -1], [1, 2, 3, -1], [5, 6, 7, -1]]


@pytest.mark.parametrize("fill_mode,row", [("reflect", [1, 0, 0, 1]), ("wrap", [2, 3, 0, 1]),
                                           ("nearest", [0, 0, 0, 1]), ("constant", [0, 0, 0, 1])])
def test_random_translation_fill_modes(fill_mode, row):
    x = np.arange(4.0).reshape(1, 1, 4, 1)
    y = RandomTranslation(0.0, (0.5, 0.5), fill_mode=fill_mode)(x, training=True)  # right by 2
    assert y[0, 0, :, 0].tolist() == row


def test_random_translation_bilinear_half_pixel():
    x = np.array([0.0, 2.0, 4.0, 6.0]).reshape(1, 1, 4, 1)
    y = RandomTranslation(0.0, (0.125, 0.125), fill_mode="nearest")(x, training=True)  # right by 0.5 pixel
    assert y[0, 0, :, 0].tolist() == [0.0, 1.0, 3.0, 5.0]
    # nearest: a shift of 0.75 pixel reads the nearest source pixel, one to the left
    y = RandomTranslation(0.0, (0.1875, 0.1875), fill_mode="nearest", interpolation="nearest")(x, training=True)
    assert y[0, 0, :, 0].tolist() == [0.0, 0.0, 2.0, 4.0]


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "nearest", "constant"])
def test_random_translation_gradcheck(fill_mode):
    x = _x((3, 5, 6, 2))
    r = _seeded_check(lambda: RandomTranslation(0.3, 0.4, fill_mode=fill_mode, fill_value=0.5, seed=7), x)
    assert r.ok, r


def test_random_translation_inference_identity_and_seed():
    x = _x((4, 6, 6, 1))
    layer = RandomTranslation(0.2, 0.2, seed=1)
    assert layer(x) is x and layer.backward(x) is x
    y1 = layer(x, training=True)
    y2 = RandomTranslation(0.2, 0.2, seed=1)(x, training=True)
    np.testing.assert_allclose(y1, y2)
    assert not np.allclose(layer(x, training=True), y1)     # the next batch draws new shifts


def test_preprocessing_errors():
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="height_factor"):
        RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="fill_mode"):
        RandomTranslation(0.1, 0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match=r"random_flip_bad.*\(N, H, W, C\)"):
        RandomFlip(name="random_flip_bad")(np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="channels_first"):
        RandomFlip(data_format="channels_first")
