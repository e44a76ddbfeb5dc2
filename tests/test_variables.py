import numpy as np
import pytest

from tinynn.variables import Variable


def test_value_grad_shape_and_array_protocol():
    w = Variable(np.ones((2, 3), np.float32), name="kernel")
    assert w.shape == (2, 3) and w.grad.shape == (2, 3) and w.trainable and w.name == "kernel"
    assert np.asarray(w).shape == (2, 3)
    assert np.array_equal(np.asarray(w), w.numpy())


def test_seed_style_update_and_in_place_assign():
    w = Variable(np.ones(3), dtype="float64")
    ref = w.value
    w.grad[...] = [1.0, 2.0, 3.0]
    new = w - 0.1 * w.grad             # the seeds' CustomOptimizer expression
    w.assign(new)
    assert w.value is ref               # same array object: references stay valid
    assert np.allclose(w.value, [0.9, 0.8, 0.7])


def test_arithmetic_both_sides():
    w = Variable(np.array([2.0, 4.0]), dtype="float64")
    assert np.allclose(1 - w, [-1, -3]) and np.allclose(w * 2, [4, 8]) and np.allclose(2 * w, [4, 8])
    assert np.allclose(w / 2, [1, 2]) and np.allclose(-w, [-2, -4]) and np.allclose(w ** 2, [4, 16])
    assert np.allclose(np.array([1.0, 1.0]) + w, [3, 5])


def test_assign_wrong_shape_is_a_clear_error():
    w = Variable(np.zeros((2, 2)), name="dense/kernel")
    with pytest.raises(ValueError, match=r"dense/kernel.*\(3,\).*\(2, 2\)"):
        w.assign(np.zeros(3))
