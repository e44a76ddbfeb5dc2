"""tinynn.autograd: every op against centred finite differences (float64, broadcasting included), the graph
rules (accumulation, topological order), the scalar Value, the error messages and the drawing."""
import matplotlib
import numpy as np
import pytest

from tinynn import autograd, ops
from tinynn.autograd import AutogradError, Tensor, Value
from tinynn.backend import xp
from tinynn.testing import gradcheck, rel_error

matplotlib.use("Agg")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _pos(shape, seed=1):
    return _rng(seed).uniform(0.5, 2.0, size=shape)


def _n(shape, seed=2):
    return _rng(seed).normal(size=shape)


# (name, function of Tensors, inputs); every op once plain and once with broadcasting where it applies
CASES = [
    ("add", lambda a, b: a + b, [_n((3, 4)), _n((3, 4), 3)]),
    ("add broadcast row", lambda a, b: a + b, [_n((3, 4)), _n((4,), 3)]),
    ("add broadcast col/keepdim", lambda a, b: a + b, [_n((3, 1)), _n((1, 4), 3)]),
    ("radd scalar", lambda a: 2.5 + a, [_n((3, 4))]),
    ("sub broadcast", lambda a, b: a - b, [_n((2, 3, 4)), _n((3, 1), 3)]),
    ("rsub scalar", lambda a: 1.0 - a, [_n((3,))]),
    ("mul broadcast", lambda a, b: a * b, [_n((2, 3, 4)), _n((4,), 3)]),
    ("div broadcast", lambda a, b: a / b, [_n((3, 4)), _pos((3, 1))]),
    ("rdiv scalar", lambda a: 2.0 / a, [_pos((3,))]),
    ("pow scalar", lambda a: a**3, [_n((3, 4))]),
    ("pow tensor", lambda a, b: a**b, [_pos((3, 4)), _n((4,), 3)]),
    ("neg", lambda a: -a, [_n((3,))]),
    ("matmul 2d", lambda a, b: a @ b, [_n((3, 4)), _n((4, 5), 3)]),
    ("matmul batched broadcast", lambda a, b: a @ b, [_n((2, 3, 4)), _n((4, 5), 3)]),
    ("matmul vec", lambda a, b: a @ b, [_n((3, 4)), _n((4,), 3)]),
    ("vec matmul", lambda a, b: a @ b, [_n((3,)), _n((3, 4), 3)]),
    ("sum", lambda a: a.sum(), [_n((3, 4))]),
    ("sum axis", lambda a: a.sum(axis=0), [_n((3, 4))]),
    ("sum axis keepdims", lambda a: a.sum(axis=-1, keepdims=True), [_n((3, 4))]),
    ("mean", lambda a: a.mean(), [_n((3, 4))]),
    ("mean axes", lambda a: ops.reduce_mean(a, axis=(0, 2)), [_n((2, 3, 4))]),
    ("max", lambda a: a.max(), [_n((3, 4))]),
    ("max axis", lambda a: ops.reduce_max(a, axis=1), [_n((3, 4))]),
    ("min axis keepdims", lambda a: ops.reduce_min(a, axis=0, keepdims=True), [_n((3, 4))]),
    ("exp", lambda a: ops.exp(a), [_n((3, 4))]),
    ("log", lambda a: ops.log(a), [_pos((3, 4))]),
    ("sqrt", lambda a: ops.sqrt(a), [_pos((3, 4))]),
    ("square", lambda a: ops.square(a), [_n((3, 4))]),
    ("abs", lambda a: ops.abs(a), [_n((3, 4))]),
    ("reshape", lambda a: a.reshape(4, 3) * _n((4, 3), 5), [_n((3, 4))]),
    ("transpose", lambda a: a.T @ _n((3, 2), 5), [_n((3, 4))]),
    ("transpose axes", lambda a: ops.transpose(a, (2, 0, 1)) * _n((4, 2, 3), 5), [_n((2, 3, 4))]),
    ("slice", lambda a: a[1:, ::2], [_n((3, 4))]),
    ("int index", lambda a: a[1] * a[2], [_n((3, 4))]),
    ("fancy index repeated", lambda a: a[[0, 0, 2], [1, 1, 3]], [_n((3, 4))]),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), [_n((3, 2)), _n((3, 4), 3)]),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), [_n((3, 4)), _n((3, 4), 3)]),
    ("relu", lambda a: ops.relu(a), [_n((3, 4))]),
    ("sigmoid", lambda a: ops.sigmoid(a), [_n((3, 4))]),
    ("tanh", lambda a: ops.tanh(a), [_n((3, 4))]),
    ("softmax", lambda a: ops.softmax(a), [_n((3, 4))]),
    ("softmax axis 0", lambda a: ops.softmax(a, axis=0), [_n((3, 4))]),
    ("log_softmax", lambda a: ops.log_softmax(a), [_n((3, 4))]),
    ("maximum broadcast", lambda a, b: ops.maximum(a, b), [_n((3, 4)), _n((4,), 3)]),
    ("minimum", lambda a, b: ops.minimum(a, b), [_n((3, 4)), _n((3, 4), 3)]),
    ("where", lambda a, b: ops.where(_n((3, 4), 9) > 0, a, b), [_n((3, 4)), _n((1, 4), 3)]),
    ("clip", lambda a: ops.clip(a, -0.5, 0.5), [_n((3, 4))]),
    ("numpy ufunc exp", lambda a: np.exp(a) + np.tanh(a), [_n((3, 4))]),
    ("numpy function sum", lambda a: np.sum(a, axis=0), [_n((3, 4))]),
    ("dense layer", lambda x, w, b: ops.nn.relu(ops.matmul(x, w) + b), [_n((5, 4)), _n((4, 3), 3), _n((3,), 4)]),
    ("mse", lambda t, p: ops.reduce_mean(ops.square(t - p)), [_n((5, 3)), _n((5, 3), 3)]),
]


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_every_op_matches_finite_differences(name, fn, inputs):
    result = gradcheck(fn, *inputs)
    assert result.ok, f"{name}\n{result!r}"


def test_gradcheck_catches_a_wrong_gradient():
    """The check can fail: a deliberately wrong backward (missing factor 2) is reported."""
    result = gradcheck(lambda x: x * x, _n((3,)), backward=lambda g, x: [g * x])
    assert not result.ok and result["dx"] > 0.1


def test_reused_value_accumulates():
    x = Tensor(xp.array([3.0, -1.0]))
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    assert x.grad.tolist() == [7.0, -1.0]


def test_diamond_graph_in_topological_order():
    a = Tensor(xp.array(2.0))
    b = a * 3.0
    c = a + b          # a reaches c twice, once through b
    d = b * c
    d.backward()       # d = 3a * 4a = 12 a^2, dd/da = 24 a
    assert float(a.grad) == 48.0


def test_backward_recomputes_not_accumulates_across_calls():
    x = Tensor(xp.array([1.0, 2.0]))
    y = (x * 2.0).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_constants_get_no_gradient_and_float32_stays_float32():
    x = Tensor(xp.ones((2, 3), dtype="float32"))
    c = Tensor(xp.ones((3,), dtype="float32"), requires_grad=False)
    y = ops.sigmoid(x * c + 1.0).sum()
    y.backward()
    assert c.grad is None
    assert x.grad.dtype == np.float32 and y.value.dtype == np.float32


def test_grad_returns_one_gradient_per_input_and_none_for_integers():
    x, idx = _n((4, 3)), np.array([0, 2, 2])
    gx, gi = autograd.grad(lambda x, i: x[i], x, idx)
    assert gi is None
    expected = np.zeros((4, 3))
    expected[0] = 1
    expected[2] = 2
    assert np.array_equal(gx, expected)


def test_grad_with_dy_is_vector_jacobian_product():
    x, w, dy = _n((2, 3)), _n((3, 4), 3), _n((2, 4), 4)
    gx, gw = autograd.grad(lambda x, w: x @ w, x, w, dy=dy)
    assert rel_error(gx, dy @ w.T) < 1e-12 and rel_error(gw, x.T @ dy) < 1e-12


def test_micrograd_reference_example():
    """The example of micrograd's README; its numbers were checked there against PyTorch."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338" and f"{b.grad:.4f}" == "645.5773"


def test_value_and_zero_dim_tensor_agree():
    """The scalar engine and the array engine compute the same neuron gradient."""
    xs, ws = [2.0, 0.0], [-3.0, 1.0]
    vx, vw = [Value(v) for v in xs], [Value(v) for v in ws]
    vb = Value(6.8813735870195432)
    out = (vx[0] * vw[0] + vx[1] * vw[1] + vb).tanh()
    out.backward()
    tx, tw = [Tensor(xp.array(v)) for v in xs], [Tensor(xp.array(v)) for v in ws]
    tb = Tensor(xp.array(6.8813735870195432))
    tout = ops.tanh(tx[0] * tw[0] + tx[1] * tw[1] + tb)
    tout.backward()
    assert abs(out.data - float(tout.value)) < 1e-12
    for v, t in zip(vx + vw + [vb], tx + tw + [tb]):
        assert abs(v.grad - float(t.grad)) < 1e-12


@pytest.mark.parametrize("method", ["exp", "log", "tanh", "sigmoid", "relu"])
def test_value_unary_matches_finite_difference(method):
    x0, h = 0.7, 1e-6
    v = Value(x0)
    getattr(v, method)().backward()
    num = (getattr(Value(x0 + h), method)().data - getattr(Value(x0 - h), method)().data) / (2 * h)
    assert abs(v.grad - num) < 1e-7


def test_unknown_numpy_function_raises_naming_it():
    with pytest.raises(AutogradError, match=r"numpy\.sin"):
        autograd.grad(lambda x: np.sin(x), _n((3,)))


def test_converting_a_tensor_to_an_array_raises():
    with pytest.raises(AutogradError, match="cut it out of the graph"):
        np.asarray(Tensor(xp.ones(3)))


def test_backward_checks_dy_shape():
    y = Tensor(xp.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"dy has shape \(3,\)"):
        y.backward(xp.ones(3))


def test_comparisons_are_plain_arrays():
    t = Tensor(xp.array([-1.0, 2.0]))
    assert (t > 0).tolist() == [False, True] and np.greater(t, 0).tolist() == [False, True]


def test_draw_graph_returns_a_figure_and_dot_names_the_ops():
    from tinynn.autograd_graph import to_dot

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = (a * b + a).tanh()
    c.backward()
    fig = autograd.draw_graph(c)
    boxes = [t.get_text() for t in fig.axes[0].texts if t.get_text()]  # arrows are empty annotations
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(boxes) == 8 and sorted(b for b in boxes if "grad" not in b) == ["*", "+", "tanh"]  # 5 values, 3 ops
    assert "a = 2\ngrad -0.002682" in boxes
    # legible (≥ 9 pt) and with arrowheads pointing from inputs to results: 2 per op into it, 1 out of it
    assert min(t.get_fontsize() for t in fig.axes[0].texts if t.get_text()) >= 9
    arrows = [t.arrow_patch for t in fig.axes[0].texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 3 + 5 and all(a.get_arrowstyle().__class__.__name__ == "CurveFilledB" for a in arrows)
    x = Value(3.0, label="x")
    y = x * x
    y.backward()
    fig = autograd.draw_graph(y)  # a value used twice: two arrows, bent apart so both show
    arrows = [t.arrow_patch for t in fig.axes[0].texts if getattr(t, "arrow_patch", None) is not None]
    bends = sorted(a.get_connectionstyle().rad for a in arrows)
    assert len(arrows) == 3 and bends[0] < 0 < bends[-1] and "x = 3\ngrad 6" in [t.get_text() for t in fig.axes[0].texts]
    x = Tensor(xp.ones((2, 2)), name="x")
    dot = to_dot(ops.reduce_mean(ops.relu(x @ x)))
    for op in ("matmul", "relu", "mean", "x | [1, 1, 1, 1]"):
        assert op in dot


def test_recorded_graph_is_what_backward_walks():
    import numpy as np

    from tinynn import autograd, ops
    from tinynn.layers import Dense, Layer

    class Tiny(Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight((input_shape[-1], 2), name="kernel")

        def call(self, x):
            return ops.relu(ops.matmul(x, self.kernel))

    layer = Tiny()
    y = layer(np.ones((3, 4), "float32"))
    inputs, weights, output = autograd.recorded_graph(layer)
    assert output.shape == y.shape and [w.name for w, _ in weights] == [layer.kernel.name]
    with pytest.raises(RuntimeError, match="recorded nothing"):
        autograd.recorded_graph(Dense(2))
