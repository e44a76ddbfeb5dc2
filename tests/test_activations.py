import numpy as np
import pytest

from tinynn import activations
from tinynn.testing import gradcheck, numerical_gradient, rel_error

ELEMENTWISE = ["linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh", "softplus",
               "softsign", "gelu", "swish", "silu", "exponential"]


def _x(seed=0, shape=(4, 6)):
    x = np.random.default_rng(seed).normal(size=shape) * 2
    return np.where(np.abs(x) < 1e-3, 0.5, x)  # keep away from kinks (relu at 0, hard_sigmoid at ±3)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_differences(name):
    f = activations.get(name)
    x = _x()
    x = np.where(np.abs(np.abs(x) - 3) < 1e-3, 2.5, x)
    d = activations.derivative(f)(x, f(x))
    for i in np.ndindex(x.shape):
        xi = x[i]
        num = (f(np.array(xi + 1e-6)) - f(np.array(xi - 1e-6))) / 2e-6
        assert abs(d[i] - num) < 1e-6 * max(1, abs(num)), (name, xi, d[i], num)


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_backward_gradcheck(name):
    f = activations.get(name)
    x = _x(1)
    r = gradcheck(f, x, backward=lambda dy, x: activations.backward(f, x, f(x), dy))
    assert r.ok, r


def test_softmax_is_stable_and_normalised():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    y = activations.softmax(x)
    assert np.all(np.isfinite(y)) and np.allclose(y.sum(-1), 1)
    assert np.allclose(y[0], activations.softmax(np.array([0.0, 1.0, 2.0])))


def test_softmax_backward_is_jacobian_product():
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=5), rng.normal(size=5)
    y = activations.softmax(x)
    jac = np.diag(y) - np.outer(y, y)          # dy_i/dx_j = y_i (delta_ij - y_j)
    assert np.allclose(activations.softmax_backward(y, dy), jac.T @ dy)


def test_documented_identities():
    x = np.linspace(-5, 5, 101)
    s = activations.sigmoid(x)
    assert np.allclose(s, 1 / (1 + np.exp(-x)))                      # sigma = (1 + tanh(x/2)) / 2
    assert activations.sigmoid_derivative(x, s).max() <= 0.25 + 1e-12  # sigma' <= 1/4
    assert np.allclose(activations.softplus(x), np.log1p(np.exp(x)))
    assert np.allclose(activations.gelu(x, approximate=True), activations.gelu(x), atol=2e-3)
    assert np.allclose(activations.elu_derivative(x, activations.elu(x)), np.where(x > 0, 1, np.exp(x)))
    assert np.allclose(activations.tanh_derivative(x, np.tanh(x)), 1 / np.cosh(x) ** 2)


def test_backward_does_not_modify_dy():
    x = _x()
    for name in ELEMENTWISE + ["softmax"]:
        f = activations.get(name)
        dy = np.ones_like(x)
        activations.backward(f, x, f(x), dy)
        assert (dy == 1).all(), name


def test_get_resolves_like_keras():
    assert activations.get("relu") is activations.relu
    assert activations.get(None) is activations.linear
    fn = lambda x: x  # noqa: E731
    assert activations.get(fn) is fn
    assert activations.serialize(activations.tanh) == "tanh"
    with pytest.raises(ValueError, match="Unknown activation 'rellu'.*relu"):
        activations.get("rellu")


def test_unknown_derivative_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="sin"):
        activations.backward(np.sin, np.zeros(2), np.zeros(2), np.ones(2))


def test_float32_stays_float32():
    x = _x().astype(np.float32)
    for name in ELEMENTWISE + ["softmax"]:
        f = activations.get(name)
        y = f(x)
        assert y.dtype == np.float32, name
        assert activations.backward(f, x, y, np.ones_like(x)).dtype == np.float32, name


def test_rel_error_and_numerical_gradient_helpers():
    x = np.array([1.0, 2.0])
    g = numerical_gradient(lambda: float((x ** 2).sum()), x)
    assert rel_error(g, 2 * x) < 1e-9
    assert rel_error(np.ones(2), -np.ones(2)) == pytest.approx(1.0)


def test_numerical_gradient_works_on_non_contiguous_arrays():
    w = np.random.default_rng(0).normal(size=(3, 4)).T   # a transposed view, not C-contiguous
    g = numerical_gradient(lambda: float((w ** 2).sum()), w)
    assert rel_error(g, 2 * w) < 1e-9
