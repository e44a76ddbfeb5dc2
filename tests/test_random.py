"""tinynn.random: Keras 3's draws and seeds (int = same draw, SeedGenerator = new draw each time, None = the
global generator), their distributions, and dropout / shuffle inside autograd."""
import numpy as np
import pytest

import tinynn
from tinynn import random as tr
from tinynn.autograd import Tensor, grad
from tinynn.utils import set_random_seed

DRAWS = [
    ("normal", lambda seed: tr.normal((50,), seed=seed)),
    ("uniform", lambda seed: tr.uniform((50,), seed=seed)),
    ("randint", lambda seed: tr.randint((50,), 0, 1000, seed=seed)),
    ("truncated_normal", lambda seed: tr.truncated_normal((50,), seed=seed)),
    ("categorical", lambda seed: tr.categorical(np.zeros((5, 100)), 10, seed=seed)),
    ("dropout", lambda seed: tr.dropout(np.ones(50), 0.5, seed=seed)),
    ("shuffle", lambda seed: tr.shuffle(np.arange(50), seed=seed)),
]


@pytest.mark.parametrize("name,draw", DRAWS, ids=[d[0] for d in DRAWS])
def test_seed_semantics_like_keras(name, draw):
    np.testing.assert_array_equal(draw(3), draw(3))                       # an int: the same draw every time
    assert not np.array_equal(draw(3), draw(4))
    gen = tr.SeedGenerator(42)
    first, second = draw(gen), draw(gen)
    assert not np.array_equal(first, second)                             # a generator: a new draw each time
    again = tr.SeedGenerator(42)
    np.testing.assert_array_equal(draw(again), first)                    # ... and the same sequence again
    np.testing.assert_array_equal(draw(again), second)
    set_random_seed(7)
    a, b = draw(None), draw(None)
    set_random_seed(7)
    np.testing.assert_array_equal(draw(None), a)                         # None: the global, seeded generator
    assert not np.array_equal(a, b)


def test_seed_generator_without_seed_follows_the_global_seed():
    set_random_seed(1)
    g1 = tr.SeedGenerator()
    set_random_seed(1)
    g2 = tr.SeedGenerator()
    np.testing.assert_array_equal(tr.normal((4,), seed=g1), tr.normal((4,), seed=g2))
    assert g1.counter == 1 and "draws=1" in repr(g1)


def test_distributions_shapes_and_dtypes():
    n = 200_000
    x = tr.normal((n,), mean=2.0, stddev=3.0, seed=0)
    assert x.dtype == np.float32 and abs(x.mean() - 2.0) < 0.03 and abs(x.std() - 3.0) < 0.03
    u = tr.uniform((n, 1), minval=-1.0, maxval=3.0, dtype="float64", seed=0)
    assert u.shape == (n, 1) and u.dtype == np.float64 and u.min() >= -1 and u.max() < 3
    assert abs(u.mean() - 1.0) < 0.02
    r = tr.randint((n,), 2, 5, seed=0)
    assert r.dtype == np.int32 and set(np.unique(r).tolist()) == {2, 3, 4}
    t = tr.truncated_normal((n,), mean=1.0, stddev=0.5, seed=0)
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.std() - 0.5 * 0.8796) < 0.01   # std of N(0,1) cut at ±2
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.0001, 0.0001, 0.9998]]))
    c = tr.categorical(logits, 20_000, seed=0)
    assert c.shape == (2, 20_000) and c.dtype == np.int32
    np.testing.assert_allclose(np.bincount(c[0], minlength=3) / 20_000, [0.7, 0.2, 0.1], atol=0.01)
    assert (c[1] == 2).mean() > 0.99
    assert tr.normal(3, seed=0).shape == (3,)


def test_dropout_keeps_the_mean_and_is_differentiable_on_tensors():
    x = np.ones((400, 500))
    y = tr.dropout(x, 0.3, seed=0)
    assert set(np.unique(y).round(6).tolist()) == {0.0, round(1 / 0.7, 6)}
    assert abs((y == 0).mean() - 0.3) < 0.01 and abs(y.mean() - 1.0) < 0.01
    shared = tr.dropout(np.ones((4, 6, 3)), 0.5, noise_shape=(None, 1, 3), seed=1)
    assert all(np.array_equal(shared[:, 0], shared[:, j]) for j in range(6))   # one mask along axis 1
    assert tr.dropout(np.ones((2, 3), dtype="float32"), 0.5, seed=0).dtype == np.float32
    a = np.random.default_rng(0).normal(size=(3, 4))
    (g,) = grad(lambda t: tr.dropout(t, 0.5, seed=5), a, dy=np.ones((3, 4)))
    mask = tr.dropout(np.ones((3, 4)), 0.5, seed=5)
    np.testing.assert_array_equal(g, mask)                                    # dx = dy * m / (1 - rate)
    assert isinstance(tr.dropout(Tensor(a), 0.5, seed=5), Tensor)
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="rate"):
            tr.dropout(a, bad)
    with pytest.raises(ValueError, match="noise_shape"):
        tr.dropout(a, 0.5, noise_shape=(3, 2))


def test_shuffle_is_a_permutation_along_axis_and_differentiable():
    x = np.arange(24.0).reshape(4, 6)
    s = tr.shuffle(x, axis=1, seed=0)
    assert not np.array_equal(s, x)
    np.testing.assert_array_equal(np.sort(s, axis=1), x)
    np.testing.assert_array_equal(s[1] - s[0], np.full(6, 6.0))            # whole columns move together
    dy = np.random.default_rng(1).normal(size=(4, 6))
    (g,) = grad(lambda t: tr.shuffle(t, axis=1, seed=0), x, dy=dy)
    order = tr.shuffle(np.arange(6), seed=0)
    np.testing.assert_array_equal(g[:, order], dy)                          # the gradient is un-shuffled


def test_random_values_are_constants_inside_a_recorded_call():
    class Noisy(tinynn.layers.Layer):
        def call(self, inputs, training=False):
            return inputs * 2.0 + tr.normal(tuple(inputs.shape), seed=0, dtype="float64")

    layer = Noisy()
    x = np.ones((2, 3))
    np.testing.assert_allclose(layer(x), 2.0 + tr.normal((2, 3), seed=0, dtype="float64"))
    np.testing.assert_array_equal(layer.backward(np.ones((2, 3))), np.full((2, 3), 2.0))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="random.normal: seed"):
        tr.normal((2,), seed="x")
    with pytest.raises(ValueError, match="float type"):
        tr.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="integer type"):
        tr.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="maxval"):
        tr.randint((2,), 3, 3)
    with pytest.raises(ValueError, match="SeedGenerator"):
        tr.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="batch, classes"):
        tr.categorical(np.zeros(3), 2)
    assert tinynn.random is tr
