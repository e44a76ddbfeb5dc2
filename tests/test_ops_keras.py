"""tinynn.ops with Keras 3's names: values equal numpy's on arrays; on Tensors the differentiable ones record
a graph whose gradient matches finite differences, the others return plain arrays."""
import itertools

import numpy as np
import pytest

from tinynn import ops
from tinynn.autograd import Tensor, grad
from tinynn.testing import rel_error
from tinynn.variables import Variable

R = np.random.default_rng(0)
A, B = R.normal(size=(3, 4)), R.normal(size=(3, 4))
P = R.uniform(0.5, 2, size=(3, 4))
M, V = R.normal(size=(4, 2)), R.normal(size=(4,))
T3 = R.normal(size=(2, 3, 4))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


# name, function of the differentiable inputs, the inputs, numpy's value
DIFFERENTIABLE = [
    ("softmax", lambda x: ops.softmax(x, axis=0), [A], _softmax(A, 0)),
    ("nn.softmax", lambda x: ops.nn.softmax(x), [A], _softmax(A)),
    ("log_softmax", lambda x: ops.nn.log_softmax(x), [A], np.log(_softmax(A))),
    ("sum", lambda x: ops.sum(x, axis=1, keepdims=True), [A], A.sum(1, keepdims=True)),
    ("mean", lambda x: ops.mean(x, axis=(0, 1)), [T3], T3.mean((0, 1))),
    ("max", lambda x: ops.max(x, axis=0), [A], A.max(0)),
    ("min", lambda x: ops.min(x), [A], A.min()),
    ("square", ops.square, [A], A**2),
    ("sqrt", ops.sqrt, [P], np.sqrt(P)),
    ("exp", ops.exp, [A], np.exp(A)),
    ("log", ops.log, [P], np.log(P)),
    ("abs", ops.abs, [A], np.abs(A)),
    ("absolute", ops.absolute, [A], np.abs(A)),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), [A, B], np.concatenate([A, B], 1)),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), [A, B], np.stack([A, B], 1)),
    ("reshape", lambda x: ops.reshape(x, (4, 3)), [A], A.reshape(4, 3)),
    ("transpose", lambda x: ops.transpose(x, axes=(2, 0, 1)), [T3], T3.transpose(2, 0, 1)),
    ("expand_dims", lambda x: ops.expand_dims(x, 1), [A], A[:, None]),
    ("squeeze", lambda x: ops.squeeze(x, axis=1), [A[:, :1]], A[:, 0]),
    ("matmul", ops.matmul, [A, M], A @ M),
    ("dot matrix", ops.dot, [A, M], A @ M),
    ("dot vector", ops.dot, [A, V], A @ V),
    ("dot scalar", lambda a: ops.dot(a, 2.5), [A], 2.5 * A),
    ("where", lambda a, b: ops.where(A > 0, a, b), [A, B], np.where(A > 0, A, B)),
    ("clip", lambda x: ops.clip(x, -0.5, 0.5), [A], np.clip(A, -0.5, 0.5)),
    ("maximum", ops.maximum, [A, B], np.maximum(A, B)),
    ("minimum", ops.minimum, [A, B], np.minimum(A, B)),
    ("sigmoid", ops.sigmoid, [A], 1 / (1 + np.exp(-A))),
    ("nn.sigmoid", ops.nn.sigmoid, [A], 1 / (1 + np.exp(-A))),
    ("relu", ops.nn.relu, [A], np.maximum(A, 0)),
    ("tanh", ops.tanh, [A], np.tanh(A)),
    ("leaky_relu", ops.nn.leaky_relu, [A], np.where(A > 0, A, 0.2 * A)),
    ("elu", lambda x: ops.nn.elu(x, alpha=0.7), [A], np.where(A > 0, A, 0.7 * (np.exp(A) - 1))),
    ("softplus", ops.nn.softplus, [A * 30], np.log1p(np.exp(A * 30))),
    ("silu", ops.nn.silu, [A], A / (1 + np.exp(-A))),
    ("take axis", lambda x: ops.take(x, np.array([2, 0, 2]), axis=1), [A], A[:, [2, 0, 2]]),
    ("take flat", lambda x: ops.take(x, np.array([[1, 5], [5, 11]])), [A], A.reshape(-1)[[[1, 5], [5, 11]]]),
    ("norm", lambda x: ops.norm(x), [A], np.linalg.norm(A)),
    ("norm axis", lambda x: ops.norm(x, axis=1, keepdims=True), [A], np.linalg.norm(A, axis=1, keepdims=True)),
    ("norm ord 1", lambda x: ops.norm(x, ord=1, axis=0), [A], np.linalg.norm(A, ord=1, axis=0)),
    ("norm inf", lambda x: ops.norm(x, ord=np.inf, axis=-1), [A], np.linalg.norm(A, ord=np.inf, axis=-1)),
    ("norm fro", lambda x: ops.norm(x, ord="fro", axis=(1, 2)), [T3], np.linalg.norm(T3, ord="fro", axis=(1, 2))),
    ("std", lambda x: ops.std(x, axis=0), [A], A.std(0)),
    ("var", lambda x: ops.var(x, keepdims=True), [A], A.var(keepdims=True)),
    ("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)), [A], np.broadcast_to(A, (2, 3, 4))),
    ("cast float", lambda x: ops.cast(x, "float64"), [A], A),
    ("einsum matmul", lambda a, b: ops.einsum("nk,kj->nj", a, b), [A, M], A @ M),
    ("einsum batch", lambda a, b: ops.einsum("bij,kj->bki", a, b), [T3, B], np.einsum("bij,kj->bki", T3, B)),
    ("einsum implicit", lambda a, b: ops.einsum("ij,ij", a, b), [A, B], np.einsum("ij,ij", A, B)),
    ("einsum one", lambda a: ops.einsum("ij->j", a), [A], A.sum(0)),
]


@pytest.mark.parametrize("name,fn,inputs,expected", DIFFERENTIABLE, ids=[d[0] for d in DIFFERENTIABLE])
def test_on_arrays_the_numpy_value(name, fn, inputs, expected):
    out = fn(*inputs)
    assert not isinstance(out, Tensor)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def _numeric(fn, inputs, dy, h=1e-6):
    inputs = [np.array(x, dtype="float64") for x in inputs]
    out = []
    for x in inputs:
        g = np.zeros_like(x)
        for idx in itertools.product(*(range(d) for d in x.shape)):
            old = x[idx]
            x[idx] = old + h
            plus = float((dy * np.asarray(fn(*inputs))).sum())
            x[idx] = old - h
            minus = float((dy * np.asarray(fn(*inputs))).sum())
            x[idx] = old
            g[idx] = (plus - minus) / (2 * h)
        out.append(g)
    return out


@pytest.mark.parametrize("name,fn,inputs,expected", DIFFERENTIABLE, ids=[d[0] for d in DIFFERENTIABLE])
def test_on_tensors_a_recorded_op_with_the_right_gradient(name, fn, inputs, expected):
    ts = [Tensor(x) for x in inputs]
    out = fn(*ts)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_allclose(out.value, expected, rtol=1e-12, atol=1e-12)
    dy = np.random.default_rng(1).normal(size=np.shape(expected))
    analytic = grad(fn, *inputs, dy=dy)
    for a, n in zip(analytic, _numeric(fn, inputs, dy)):
        assert rel_error(a, n) < 1e-7, (name, rel_error(a, n))


NO_GRADIENT = [
    ("argmax", lambda x: ops.argmax(x, axis=1), np.argmax(A, 1)),
    ("argmin", lambda x: ops.argmin(x), np.argmin(A)),
    ("argmax keepdims", lambda x: ops.argmax(x, axis=0, keepdims=True), np.argmax(A, 0, keepdims=True)),
    ("equal", lambda x: ops.equal(x, A), np.ones(A.shape, bool)),
    ("not_equal", lambda x: ops.not_equal(x, B), A != B),
    ("greater", lambda x: ops.greater(x, 0), A > 0),
    ("greater_equal", lambda x: ops.greater_equal(x, B), A >= B),
    ("less", lambda x: ops.less(x, B), A < B),
    ("less_equal", lambda x: ops.less_equal(x, 0.1), A <= 0.1),
    ("logical_and", lambda x: ops.logical_and(ops.greater(x, 0), ops.less(x, 1)), (A > 0) & (A < 1)),
    ("logical_or", lambda x: ops.logical_or(ops.greater(x, 1), ops.less(x, -1)), (A > 1) | (A < -1)),
    ("logical_not", lambda x: ops.logical_not(ops.greater(x, 0)), A <= 0),
    ("cast int", lambda x: ops.cast(x, "int32"), A.astype("int32")),
    ("cast bool", lambda x: ops.cast(x, "bool"), A.astype(bool)),
    ("zeros_like", lambda x: ops.zeros_like(x), np.zeros_like(A)),
    ("ones_like", lambda x: ops.ones_like(x, dtype="int8"), np.ones(A.shape, "int8")),
    ("convert_to_numpy", ops.convert_to_numpy, A),
]


@pytest.mark.parametrize("name,fn,expected", NO_GRADIENT, ids=[d[0] for d in NO_GRADIENT])
def test_ops_without_gradient_give_plain_arrays_for_arrays_tensors_and_weights(name, fn, expected):
    for x in (A, Tensor(A), Variable(A, dtype="float64")):
        out = fn(x)
        assert not isinstance(out, Tensor), name
        np.testing.assert_array_equal(out, expected)
        assert np.asarray(out).dtype == np.asarray(expected).dtype


def test_one_hot_like_keras():
    labels = np.array([0, 2, 1, 3])
    np.testing.assert_array_equal(ops.one_hot(labels, 3), np.eye(3)[[0, 2, 1]].tolist() + [[0, 0, 0]])
    assert ops.one_hot(labels, 4).dtype == np.float32
    assert ops.nn.one_hot(Tensor(labels), 4, axis=0, dtype="int32").shape == (4, 4)
    np.testing.assert_array_equal(ops.one_hot(labels, 4, axis=0), np.eye(4)[labels].T)
    with pytest.raises(TypeError, match="integer labels"):
        ops.one_hot(np.array([0.5]), 3)
    with pytest.raises(NotImplementedError):
        ops.one_hot(labels, 4, sparse=True)


def test_shapes_new_arrays_and_conversions():
    assert ops.shape(A) == (3, 4) and ops.shape(Tensor(T3)) == (2, 3, 4) and ops.shape(Variable(A)) == (3, 4)
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.ones((2,), dtype="int32").tolist() == [1, 1]
    assert ops.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert ops.arange(4).tolist() == [0, 1, 2, 3] and ops.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert ops.arange(0, 1, 0.5, dtype="float32").dtype == np.float32
    t = ops.convert_to_tensor([[1, 2], [3, 4]], dtype="float32")
    assert t.dtype == np.float32 and t.shape == (2, 2)
    x = Tensor(A)
    assert ops.convert_to_tensor(x) is x and isinstance(ops.convert_to_tensor(x, "float32"), Tensor)
    assert isinstance(ops.convert_to_numpy(Tensor(A)), np.ndarray)
    w = Variable(A, dtype="float64")
    np.testing.assert_array_equal(ops.convert_to_numpy(w), A)
    assert ops.cast(A, "float32").dtype == np.float32 and ops.cast(Tensor(A), "float32").dtype == np.float32


def test_unsupported_gradient_cases_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="ord"):
        ops.norm(Tensor(A), ord=2)          # the spectral norm of a matrix
    with pytest.raises(NotImplementedError, match="repeated letter"):
        ops.einsum("ii->i", Tensor(A[:, :3]))
    with pytest.raises(NotImplementedError, match=r"\.\.\."):
        ops.einsum("...j->...", Tensor(A))
    with pytest.raises(NotImplementedError, match="einsum"):
        ops.dot(Tensor(A), T3.transpose(0, 2, 1))
    np.testing.assert_allclose(ops.norm(A, ord=2), np.linalg.norm(A, ord=2))   # arrays: any numpy order
    np.testing.assert_allclose(ops.einsum("ii->i", A[:, :3]), np.diag(A[:, :3]))


def test_keras_guide_metric_expression_runs_on_arrays():
    """BinaryTruePositives' update from Keras' Metric docstring, word for word with ``ops``."""
    y_true, y_pred = np.array([1, 0, 1, 1]), np.array([0.9, 0.2, 0.0, 0.7])
    values = ops.logical_and(ops.equal(ops.cast(y_true, "bool"), True), ops.equal(ops.cast(y_pred, "bool"), True))
    values = ops.cast(values, "float32")
    sample_weight = ops.broadcast_to(ops.cast(np.array(2.0), "float32"), ops.shape(values))
    assert float(ops.sum(ops.multiply(values, sample_weight))) == 4.0
