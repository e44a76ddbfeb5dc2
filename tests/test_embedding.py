"""Embedding: lookup, scatter-add backward for repeated ids, mask_zero, errors, config."""
import numpy as np
import pytest

from tinynn import backend
from tinynn.layers import Embedding
from tinynn.layers.embedding import embedding_backward
from tinynn.testing import gradcheck


def test_forward_is_a_row_lookup():
    layer = Embedding(10, 4)
    x = np.array([[1, 2, 2], [0, 9, 1]])
    y = layer(x)
    assert y.shape == (2, 3, 4) and y.dtype == np.float32
    np.testing.assert_array_equal(y[1, 1], layer.embeddings.value[9])
    assert layer.compute_output_shape((None, 3)) == (None, 3, 4)


def test_backward_accumulates_repeated_ids_like_add_at():
    rng = np.random.default_rng(0)
    layer = Embedding(7, 3)
    x = rng.integers(0, 7, size=(5, 11))
    x[0, :4] = 3  # many repeats
    layer(x)
    dy = rng.normal(size=(5, 11, 3)).astype(np.float32)
    assert layer.backward(dy) is None  # nothing flows into integer ids
    expected = np.zeros((7, 3))
    np.add.at(expected, x.reshape(-1), dy.reshape(-1, 3))
    np.testing.assert_allclose(layer.embeddings.grad, expected, rtol=1e-5, atol=1e-6)
    assert layer.embeddings.grad.dtype == np.float32


def test_backward_overwrites_grad_and_unused_rows_are_zero():
    layer = Embedding(5, 2)
    layer(np.array([[1, 1]]))
    layer.embeddings.grad[...] = 123.0
    layer.backward(np.ones((1, 2, 2), dtype=np.float32))
    np.testing.assert_array_equal(layer.embeddings.grad, [[0, 0], [2, 2], [0, 0], [0, 0], [0, 0]])


def test_embedding_backward_function_matches_definition():
    out = np.empty((4, 2))
    embedding_backward(np.array([3, 0, 3]), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), out)
    np.testing.assert_array_equal(out, [[3, 4], [0, 0], [0, 0], [6, 8]])


def test_gradcheck_embeddings_weight():
    x = np.random.default_rng(1).integers(0, 6, size=(3, 8))
    r = gradcheck(Embedding(6, 3), x)
    assert r.ok, r
    assert "dx" not in r.errors


def test_mask_zero():
    x = np.array([[0, 0, 4, 5], [1, 2, 3, 4]])
    assert Embedding(6, 2).compute_mask(x) is None
    np.testing.assert_array_equal(Embedding(6, 2, mask_zero=True).compute_mask(x), x != 0)


def test_errors_name_the_layer():
    layer = Embedding(5, 2, name="emb")
    with pytest.raises(ValueError, match="emb.*\\[0, 5\\)"):
        layer(np.array([[1, 5]]))
    with pytest.raises(TypeError, match="emb.*integer"):
        layer(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(5, 0)


def test_whole_float_ids_are_accepted():
    layer = Embedding(5, 2)
    np.testing.assert_array_equal(layer(np.array([[1.0, 4.0]])), layer(np.array([[1, 4]])))


def test_default_initializer_is_uniform_005_and_config():
    layer = Embedding(1000, 8, mask_zero=True, input_length=20)
    layer(np.zeros((1, 20), dtype=np.int64))
    assert np.abs(layer.embeddings.value).max() <= 0.05
    cfg = layer.get_config()
    for key in ("input_dim", "output_dim", "embeddings_initializer", "mask_zero", "input_length", "name"):
        assert key in cfg
    assert cfg["input_dim"] == 1000 and cfg["mask_zero"] is True
    assert layer.get_weights()[0].shape == (1000, 8)


def test_float64_weights_follow_floatx():
    old = backend.floatx()
    backend.set_floatx("float64")
    try:
        layer = Embedding(4, 2)
        assert layer(np.array([[1]])).dtype == np.float64
    finally:
        backend.set_floatx(old)
