import random

import numpy as np
import pytest

from tinynn import backend
from tinynn.utils import normalize, set_random_seed, to_categorical


def test_to_categorical_keras_semantics():
    y = to_categorical([0, 2, 1])
    assert y.dtype == np.float32 and y.shape == (3, 3)
    assert np.array_equal(y, np.eye(3)[[0, 2, 1]])
    assert to_categorical([1, 0], num_classes=4).shape == (2, 4)
    assert to_categorical(np.array([[1], [2]])).shape == (2, 3)       # (N, 1) is squeezed, as in Keras
    assert to_categorical(np.array([[0, 1], [2, 3]])).shape == (2, 2, 4)
    assert to_categorical(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]
    assert to_categorical([0, 1], dtype="int64").dtype == np.int64


def test_to_categorical_errors():
    with pytest.raises(ValueError, match="label 5 does not fit num_classes=3"):
        to_categorical([0, 5], num_classes=3)
    with pytest.raises(ValueError, match=">= 0"):
        to_categorical([-1, 0])
    with pytest.raises(ValueError, match="whole numbers"):
        to_categorical([0.5, 1.0])


def test_set_random_seed_reproduces_python_and_tinynn():
    set_random_seed(7)
    a, r1 = backend.rng().random(3), random.random()
    set_random_seed(7)
    assert np.array_equal(a, backend.rng().random(3)) and r1 == random.random()
    with pytest.raises(ValueError):
        set_random_seed("seven")


def test_normalize():
    x = normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(x, [[0.6, 0.8], [0, 0]])


def test_pad_sequences_is_exported_from_utils():
    from tinynn.utils import pad_sequences

    assert pad_sequences([[1, 2], [3]], maxlen=3).tolist() == [[0, 1, 2], [0, 0, 3]]
