"""tinynn.ops: TF-named functions; plain arrays in → arrays out (same values as numpy), Tensors in → Tensors."""
import numpy as np
import pytest

from tinynn import ops
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.variables import Variable

R = np.random.default_rng(0)
A, B, P = R.normal(size=(3, 4)), R.normal(size=(3, 4)), R.uniform(0.5, 2, size=(3, 4))

REFERENCE = [
    ("matmul", lambda: ops.matmul(A, B.T), A @ B.T),
    ("add", lambda: ops.add(A, B), A + B),
    ("subtract", lambda: ops.subtract(A, B), A - B),
    ("multiply", lambda: ops.multiply(A, B), A * B),
    ("divide", lambda: ops.divide(A, P), A / P),
    ("negative", lambda: ops.negative(A), -A),
    ("power", lambda: ops.power(P, 1.5), P**1.5),
    ("square", lambda: ops.square(A), A**2),
    ("sqrt", lambda: ops.sqrt(P), np.sqrt(P)),
    ("exp", lambda: ops.exp(A), np.exp(A)),
    ("log", lambda: ops.log(P), np.log(P)),
    ("abs", lambda: ops.abs(A), np.abs(A)),
    ("relu", lambda: ops.relu(A), np.maximum(A, 0)),
    ("nn.relu", lambda: ops.nn.relu(A), np.maximum(A, 0)),
    ("sigmoid", lambda: ops.sigmoid(A), 1 / (1 + np.exp(-A))),
    ("tanh", lambda: ops.nn.tanh(A), np.tanh(A)),
    ("softmax", lambda: ops.nn.softmax(A), np.exp(A) / np.exp(A).sum(-1, keepdims=True)),
    ("log_softmax", lambda: ops.log_softmax(A), A - np.log(np.exp(A).sum(-1, keepdims=True))),
    ("reduce_sum", lambda: ops.reduce_sum(A, axis=1), A.sum(1)),
    ("reduce_mean", lambda: ops.reduce_mean(A), A.mean()),
    ("math.reduce_mean", lambda: ops.math.reduce_mean(A, axis=0, keepdims=True), A.mean(0, keepdims=True)),
    ("reduce_max", lambda: ops.reduce_max(A, axis=-1), A.max(-1)),
    ("reduce_min", lambda: ops.reduce_min(A), A.min()),
    ("mean/sum/max/min", lambda: ops.mean(A) + ops.sum(A) + ops.max(A) + ops.min(A),
     A.mean() + A.sum() + A.max() + A.min()),
    ("maximum", lambda: ops.maximum(A, B), np.maximum(A, B)),
    ("minimum", lambda: ops.minimum(A, 0.0), np.minimum(A, 0.0)),
    ("reshape", lambda: ops.reshape(A, (4, 3)), A.reshape(4, 3)),
    ("transpose", lambda: ops.transpose(A), A.T),
    ("concat", lambda: ops.concat([A, B], axis=1), np.concatenate([A, B], 1)),
    ("concatenate", lambda: ops.concatenate([A, B]), np.concatenate([A, B], 0)),
    ("stack", lambda: ops.stack([A, B], axis=-1), np.stack([A, B], -1)),
    ("clip_by_value", lambda: ops.clip_by_value(A, -0.1, 0.2), np.clip(A, -0.1, 0.2)),
    ("where", lambda: ops.where(A > 0, A, B), np.where(A > 0, A, B)),
]


@pytest.mark.parametrize("name,compute,expected", REFERENCE, ids=[r[0] for r in REFERENCE])
def test_ops_on_arrays_return_arrays_with_numpy_values(name, compute, expected):
    out = compute()
    assert not isinstance(out, Tensor)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_ops_accept_variables_by_value():
    w = Variable(xp.ones((4, 2)), name="kernel", dtype="float64")
    b = Variable(xp.full((2,), 0.5), name="bias", dtype="float64")
    out = ops.relu(ops.matmul(A, w) + b)
    np.testing.assert_allclose(out, np.maximum(A @ np.ones((4, 2)) + 0.5, 0))


def test_ops_on_tensors_record_and_differentiate():
    t = Tensor(A)
    y = ops.reduce_mean(ops.square(t - B))
    assert isinstance(y, Tensor) and y._op == "mean"
    y.backward()
    np.testing.assert_allclose(t.grad, 2 * (A - B) / A.size)


def test_seed_expressions_port_word_for_word():
    """``tf.nn.relu(tf.matmul(inputs, self.kernel) + self.bias)`` and the seeds' MSE."""
    kernel = Variable(R.normal(size=(4, 5)), dtype="float64")
    bias = Variable(R.normal(size=(5,)), dtype="float64")
    np.testing.assert_allclose(ops.nn.relu(ops.matmul(A, kernel) + bias), np.maximum(A @ kernel.value + bias.value, 0))
    assert ops.reduce_mean(ops.square(A - B)) == pytest.approx(((A - B) ** 2).mean())


def test_float32_stays_float32():
    a = A.astype("float32")
    for f in (ops.relu, ops.sigmoid, ops.tanh, ops.softmax, ops.square, lambda x: ops.multiply(x, 2.0)):
        assert f(a).dtype == np.float32
