import numpy as np
import pytest

from tinynn import initializers
from tinynn.utils import set_random_seed


@pytest.mark.parametrize("name,var", [
    ("glorot_uniform", lambda i, o: 2 / (i + o)), ("glorot_normal", lambda i, o: 2 / (i + o)),
    ("he_uniform", lambda i, o: 2 / i), ("he_normal", lambda i, o: 2 / i),
    ("lecun_uniform", lambda i, o: 1 / i), ("lecun_normal", lambda i, o: 1 / i),
])
def test_variance_scaling_variances(name, var):
    set_random_seed(0)
    w = initializers.get(name)((400, 300), "float64")
    assert w.dtype == np.float64 and w.shape == (400, 300)
    assert abs(w.var() / var(400, 300) - 1) < 0.05


def test_glorot_uniform_limit():
    w = initializers.get("glorot_uniform")((784, 128))
    assert w.dtype == np.float32
    assert np.abs(w).max() <= np.sqrt(6 / (784 + 128))


def test_uniform_is_keras_range():
    w = initializers.get("uniform")((1000,))
    assert w.min() >= -0.05 and w.max() <= 0.05 and w.max() > 0.04


def test_orthogonal_is_orthogonal():
    q = initializers.Orthogonal()((32, 128), "float64")
    assert np.allclose(q @ q.T, np.eye(32), atol=1e-10)
    q = initializers.Orthogonal()((64, 16), "float64")
    assert np.allclose(q.T @ q, np.eye(16), atol=1e-10)
    assert initializers.Orthogonal()((16, 64)).flags.c_contiguous  # weights are updated in place


def test_zeros_ones_constant():
    assert not initializers.get("zeros")((3,)).any()
    assert (initializers.get("ones")((3,)) == 1).all()
    assert (initializers.Constant(2.5)((2,)) == 2.5).all()


def test_truncated_normal_within_two_stddev():
    w = initializers.TruncatedNormal(stddev=1.0)((10000,), "float64")
    assert np.abs(w).max() <= 2.0


def test_seed_makes_initializers_reproducible():
    a = initializers.GlorotUniform(seed=3)((5, 5))
    b = initializers.GlorotUniform(seed=3)((5, 5))
    assert np.array_equal(a, b)


def test_unknown_initializer():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'"):
        initializers.get("glorot")


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "orthogonal", "random_uniform", "constant", "identity"])
def test_get_rebuilds_an_initializer_from_its_layer_config(name):
    from tinynn.layers.recurrent.base import serialize_initializer

    init = initializers.get(name)
    again = initializers.get(serialize_initializer(init))
    assert type(again) is type(init) and again.get_config() == init.get_config()


def test_get_names_an_unknown_initializer_class():
    with pytest.raises(ValueError, match="Unknown initializer 'Glorot'"):
        initializers.get({"class_name": "Glorot", "config": {}})


def test_get_reads_the_flat_config_an_embedding_stores():
    from tinynn.layers import Embedding

    layer = Embedding(10, 4, embeddings_initializer=initializers.RandomUniform(-0.2, 0.3))
    again = Embedding.from_config(layer.get_config())
    assert again.embeddings_initializer.get_config() == layer.embeddings_initializer.get_config()
