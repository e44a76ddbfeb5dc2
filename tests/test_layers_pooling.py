"""Pooling layers: gradient checks (float64), max-pool ties, TensorFlow's 'same' averaging, torch parity."""
import numpy as np
import pytest

from tinynn.layers import (AveragePooling1D, AveragePooling2D, Embedding, GlobalAveragePooling1D,
                           GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from tinynn.testing import gradcheck


def _x(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


POOL_CASES = [dict(), dict(pool_size=3), dict(pool_size=3, strides=2), dict(pool_size=(2, 3), strides=(1, 2)),
              dict(pool_size=3, strides=2, padding="same"), dict(pool_size=2, padding="same"),
              dict(pool_size=2, strides=1)]


@pytest.mark.parametrize("kw", POOL_CASES, ids=str)
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_pool2d_gradcheck(cls, kw):
    r = gradcheck(cls(**kw), _x((2, 7, 6, 3)))  # odd sizes: the last row/column drops out for 'valid'
    assert r.ok, r


@pytest.mark.parametrize("kw", [dict(), dict(pool_size=3, strides=2, padding="same"), dict(pool_size=2, strides=1)],
                         ids=str)
@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
def test_pool1d_gradcheck(cls, kw):
    layer = cls(**kw)
    x = _x((2, 9, 3))
    assert gradcheck(layer, x).ok
    twin = {MaxPooling1D: MaxPooling2D, AveragePooling1D: AveragePooling2D}[cls]
    ps, st = kw.get("pool_size", 2), kw.get("strides", kw.get("pool_size", 2))
    ref = twin(pool_size=(1, ps), strides=(1, st), padding=kw.get("padding", "valid"))(x[:, None])[:, 0]
    np.testing.assert_allclose(layer(x), ref)


def test_max_pool_by_hand_and_ties_go_to_the_first_maximum():
    x = np.array([[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]).reshape(1, 2, 4, 1)
    layer = MaxPooling2D()
    y = layer(x)
    assert y[0, :, :, 0].tolist() == [[3.0, 2.0]]
    dx = layer.backward(np.array([10.0, 20.0]).reshape(1, 1, 2, 1))
    # both windows have ties; the gradient goes (once) to the first maximum in row-major order
    assert dx[0, :, :, 0].tolist() == [[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]


def test_average_pool_same_padding_divides_by_the_pixels_inside():
    x = np.ones((1, 3, 3, 1))
    y = AveragePooling2D(2, padding="same")(x)   # TensorFlow: padded pixels are not counted
    assert np.allclose(y, 1.0)
    y = AveragePooling2D(2, padding="same")(np.arange(9.0).reshape(1, 3, 3, 1))
    assert y[0, :, :, 0].tolist() == [[2.0, 3.5], [6.5, 8.0]]


def test_max_pool_same_padding_ignores_padding_even_for_negative_inputs():
    x = -np.ones((1, 3, 3, 1)) - np.arange(9.0).reshape(1, 3, 3, 1)
    y = MaxPooling2D(2, padding="same")(x)
    assert y[0, :, :, 0].tolist() == [[-1.0, -3.0], [-7.0, -9.0]]


@pytest.mark.parametrize("cls", [GlobalAveragePooling2D, GlobalMaxPooling2D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pool2d(cls, keepdims):
    x = _x((3, 4, 5, 2))
    layer = cls(keepdims=keepdims)
    r = gradcheck(layer, x)
    assert r.ok, r
    ref = x.mean(axis=(1, 2), keepdims=keepdims) if cls is GlobalAveragePooling2D else x.max(axis=(1, 2), keepdims=keepdims)
    np.testing.assert_allclose(layer(x), ref)
    assert layer.compute_output_shape(x.shape) == ref.shape


@pytest.mark.parametrize("cls", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_global_pool1d(cls):
    x = _x((3, 6, 2))
    assert gradcheck(cls(), x).ok
    ref = x.mean(axis=1) if cls is GlobalAveragePooling1D else x.max(axis=1)
    np.testing.assert_allclose(cls()(x), ref)


def test_global_average_pool1d_with_a_mask_averages_only_the_real_steps():
    emb = Embedding(10, 3, mask_zero=True, dtype="float64")
    tokens = np.array([[4, 2, 0, 0], [1, 2, 3, 5]])
    e = emb(tokens)
    mask = emb.compute_mask(tokens)
    layer = GlobalAveragePooling1D()
    y = layer(e, mask=mask)
    np.testing.assert_allclose(y[0], e[0, :2].mean(axis=0))
    np.testing.assert_allclose(y[1], e[1].mean(axis=0))
    r = gradcheck(layer, e, mask=mask)
    assert r.ok, r
    with pytest.raises(NotImplementedError, match="mask"):
        GlobalMaxPooling1D()(e, mask=mask)


def test_max_pool_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    x = _x((2, 8, 6, 3))  # no ties in random data, so torch and tinynn pick the same position
    layer = MaxPooling2D(3, strides=2, padding="valid")
    y = layer(x)
    dy = _x(y.shape, 2)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt.permute(0, 3, 1, 2), 3, stride=2).permute(0, 2, 3, 1)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy())
    np.testing.assert_allclose(layer.backward(dy), xt.grad.numpy())


def test_average_pool_matches_torch():
    torch = pytest.importorskip("torch")
    x = _x((2, 8, 6, 3))
    y = AveragePooling2D(2)(x)
    yt = torch.nn.functional.avg_pool2d(torch.tensor(x).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    np.testing.assert_allclose(y, yt.numpy())


def test_pool_errors():
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(pool_size=0)
    with pytest.raises(ValueError, match="padding"):
        MaxPooling2D(padding="full")
    with pytest.raises(NotImplementedError, match="channels_first"):
        AveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"mp_bad.*\(N, H, W, C\)"):
        MaxPooling2D(name="mp_bad")(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="smaller than the pool"):
        MaxPooling2D(3)(np.zeros((1, 2, 2, 1)))
