"""Merge layers: Keras' shapes and broadcasting, values vs numpy, every backward vs finite differences."""
import itertools

import numpy as np
import pytest

from tinynn import autograd, layers
from tinynn.layers import merging
from tinynn.testing import rel_error


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def list_gradcheck(layer, xs, seed=1, h=1e-6):
    """Relative errors of ``layer.backward`` against centred differences of s = sum(dy * call(xs)), for
    every input of the list ``xs`` (float64). Checks that backward leaves dy unchanged and returns new arrays."""
    xs = [np.array(x, dtype="float64") for x in xs]
    layer.build([x.shape for x in xs])
    y = layer.call(xs)
    dy = np.random.default_rng(seed).normal(size=y.shape)
    dy_before = dy.copy()
    dxs = layer.backward(dy)
    assert np.array_equal(dy, dy_before), "backward modified dy"
    assert isinstance(dxs, list) and len(dxs) == len(xs)
    for i, dx in enumerate(dxs):
        assert dx.shape == xs[i].shape
        assert not np.shares_memory(dx, dy)
        assert not any(np.shares_memory(dx, other) for other in dxs[i + 1:])
    errors = []
    for x, dx in zip(xs, dxs):
        num = np.zeros_like(x)
        for idx in itertools.product(*(range(d) for d in x.shape)):
            old = x[idx]
            x[idx] = old + h
            plus = float((dy * layer.call(xs)).sum())
            x[idx] = old - h
            minus = float((dy * layer.call(xs)).sum())
            x[idx] = old
            num[idx] = (plus - minus) / (2 * h)
        errors.append(rel_error(dx, num))
    return errors


ELEMENTWISE = [
    (layers.Add, lambda xs: sum(xs)),
    (layers.Subtract, lambda xs: xs[0] - xs[1]),
    (layers.Multiply, lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0)),
    (layers.Average, lambda xs: sum(xs) / len(xs)),
    (layers.Maximum, lambda xs: np.max(np.broadcast_arrays(*xs), axis=0)),
    (layers.Minimum, lambda xs: np.min(np.broadcast_arrays(*xs), axis=0)),
]


SHAPES = {"same": [(4, 3), (4, 3)], "size1": [(2, 1, 3), (2, 4, 3)], "rank": [(3, 2, 5), (3, 5)],
          "three": [(2, 3), (2, 3), (2, 3)]}
CASES = [(cls, ref, shapes, f"{cls.__name__}-{key}") for cls, ref in ELEMENTWISE for key, shapes in SHAPES.items()
         if not (cls is layers.Subtract and len(shapes) != 2)]   # Subtract takes exactly two inputs


@pytest.mark.parametrize("cls,reference,shapes", [c[:3] for c in CASES], ids=[c[3] for c in CASES])
def test_elementwise_values_and_gradcheck_on_every_input(cls, reference, shapes):
    xs = [_x(s, seed=i) for i, s in enumerate(shapes)]
    layer = cls()
    rank = max(len(s) for s in shapes)
    expanded = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]
    y = layer(xs)
    np.testing.assert_allclose(y, reference(expanded), rtol=1e-12)
    assert layer.compute_output_shape([(None, *s[1:]) for s in shapes]) == (None, *y.shape[1:])
    errors = list_gradcheck(cls(), xs)
    assert max(errors) < 1e-7, errors


def test_multiply_with_a_zero_input_gets_the_right_gradient():
    xs = [_x((3, 4)), np.zeros((3, 4)), _x((3, 4), 2)]
    assert max(list_gradcheck(layers.Multiply(), xs)) < 1e-7
    dxs = _backward(layers.Multiply(), xs, np.ones((3, 4)))
    np.testing.assert_allclose(dxs[1], xs[0] * xs[2])


def _backward(layer, xs, dy):
    layer.build([x.shape for x in xs])
    layer.call(xs)
    return layer.backward(dy)


@pytest.mark.parametrize("cls,pick", [(layers.Maximum, np.maximum), (layers.Minimum, np.minimum)])
def test_max_min_ties_send_the_gradient_to_the_first_input(cls, pick):
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[1.0, 0.0, 5.0]])
    c = np.array([[1.0, 2.0, 3.0]])
    dy = np.array([[10.0, 20.0, 30.0]])
    dxs = _backward(cls(), [a, b, c], dy)
    winner = [np.argmax([x[0, j] == pick(pick(a, b), c)[0, j] for x in (a, b, c)]) for j in range(3)]
    for i, dx in enumerate(dxs):
        np.testing.assert_array_equal(dx[0], [dy[0, j] if winner[j] == i else 0.0 for j in range(3)])
    assert sum(dxs).tolist() == dy.tolist()   # each output's gradient goes to exactly one input


@pytest.mark.parametrize("axis,shapes", [(-1, [(2, 3), (2, 4)]), (1, [(2, 1, 3), (2, 4, 3), (2, 2, 3)]),
                                         (2, [(2, 3, 1), (2, 3, 2)])])
def test_concatenate_values_shapes_and_gradcheck(axis, shapes):
    xs = [_x(s, i) for i, s in enumerate(shapes)]
    y = layers.Concatenate(axis=axis)(xs)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    assert layers.Concatenate(axis=axis).compute_output_shape([(None, *s[1:]) for s in shapes]) == \
        (None, *y.shape[1:])
    assert max(list_gradcheck(layers.Concatenate(axis=axis), xs)) < 1e-7


def test_concatenate_unknown_size_gives_none():
    assert layers.Concatenate().compute_output_shape([(None, 3), (None, None)]) == (None, None)


DOT_CASES = [
    (1, [(4, 5), (4, 5)], (4, 1), lambda a, b: (a * b).sum(1, keepdims=True)),
    (-1, [(4, 5), (4, 5)], (4, 1), lambda a, b: (a * b).sum(1, keepdims=True)),
    ((2, 2), [(3, 4, 5), (3, 2, 5)], (3, 4, 2), lambda a, b: np.einsum("nik,njk->nij", a, b)),
    ((1, 2), [(3, 5, 4), (3, 2, 5)], (3, 4, 2), lambda a, b: np.einsum("nki,njk->nij", a, b)),
    ((1, 1), [(3, 5), (3, 5, 2)], (3, 2), lambda a, b: np.einsum("nk,nkj->nj", a, b)),
    ((2, 1), [(3, 4, 5), (3, 5)], (3, 4), lambda a, b: np.einsum("nik,nk->ni", a, b)),
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes,shapes,out,reference", DOT_CASES, ids=[str(c[:2]) for c in DOT_CASES])
def test_dot_keras_semantics_and_gradcheck(axes, shapes, out, reference, normalize):
    xs = [_x(s, i) for i, s in enumerate(shapes)]
    y = layers.Dot(axes=axes, normalize=normalize)(xs)
    assert y.shape == out
    assert layers.Dot(axes=axes).compute_output_shape([(None, *s[1:]) for s in shapes]) == (None, *out[1:])
    ref_in = xs
    if normalize:
        ax = (axes, axes) if isinstance(axes, int) else axes
        ref_in = [x / np.linalg.norm(x, axis=a, keepdims=True) for x, a in zip(xs, ax)]
    np.testing.assert_allclose(y, reference(*ref_in).reshape(out), rtol=1e-10)
    errors = list_gradcheck(layers.Dot(axes=axes, normalize=normalize), xs)
    assert max(errors) < 1e-7, errors


def test_dot_normalize_is_cosine_similarity():
    a, b = _x((5, 3)), _x((5, 3), 1)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(layers.dot([a, b], axes=1, normalize=True)[:, 0], cos, rtol=1e-12)
    assert np.all(np.abs(layers.Dot(1, normalize=True)([a, 7 * a])) - 1 < 1e-12)


@pytest.mark.parametrize("make,shapes,words", [
    (layers.Add, [(None, 3), (None, 4)], ["'add", "Add", "(None, 3)", "(None, 4)", "broadcast"]),
    (layers.Subtract, [(None, 3), (None, 3), (None, 3)], ["exactly 2 inputs", "Subtract"]),
    (layers.Add, [(2, 3), (5, 3)], ["batch sizes", "(2, 3)", "(5, 3)"]),
    (lambda: layers.Concatenate(axis=1), [(None, 2, 3), (None, 2, 4)], ["Concatenate", "concatenation axis",
                                                                         "(None, 2, 4)"]),
    (lambda: layers.Concatenate(), [(None, 2, 3), (None, 3)], ["one rank"]),
    (lambda: layers.Dot(axes=1), [(None, 3), (None, 4)], ["Dot", "equal sizes", "(None, 4)"]),
    (lambda: layers.Dot(axes=0), [(None, 3), (None, 3)], ["batch axis"]),
])
def test_shape_mismatch_raises_at_build_naming_layer_and_shapes(make, shapes, words):
    layer = make()
    with pytest.raises(ValueError) as err:
        layer.build(shapes)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_call_needs_a_list_and_checks_shapes_against_the_built_ones():
    layer = layers.Add(name="joiner")
    with pytest.raises(ValueError, match="'joiner'.*list of inputs"):
        layer(_x((2, 3)))
    layer([_x((2, 3)), _x((2, 3))])
    assert layer.input_shape == [(None, 3), (None, 3)] and layer.output_shape == (None, 3)
    layer([_x((5, 3)), _x((5, 3))])                        # another batch size is fine
    with pytest.raises(ValueError, match="built for input shapes"):
        layer([_x((2, 4)), _x((2, 4))])
    with pytest.raises(NotImplementedError, match="mask"):
        layer([_x((2, 3)), _x((2, 3))], mask=[None, np.ones((2,), bool)])
    layer([_x((2, 3)), _x((2, 3))], mask=[None, None])     # no mask at all is fine
    with pytest.raises((TypeError, ValueError)):
        layers.Dot(axes="1")


def test_function_forms_build_and_call_the_layer():
    a, b = _x((2, 3)), _x((2, 3), 1)
    np.testing.assert_allclose(layers.add([a, b]), a + b)
    np.testing.assert_allclose(layers.subtract([a, b]), a - b)
    np.testing.assert_allclose(layers.multiply([a, b]), a * b)
    np.testing.assert_allclose(layers.average([a, b]), (a + b) / 2)
    np.testing.assert_allclose(layers.maximum([a, b]), np.maximum(a, b))
    np.testing.assert_allclose(layers.minimum([a, b]), np.minimum(a, b))
    np.testing.assert_allclose(layers.concatenate([a, b], axis=0), np.concatenate([a, b]))
    np.testing.assert_allclose(layers.dot([a, b], axes=1), (a * b).sum(1, keepdims=True))
    assert merging.concatenate is layers.concatenate


def test_merge_inside_autograd_uses_its_backward_and_handles_a_shared_layer():
    """On Tensors a merge layer records one node whose VJP is its backward (with that use's cache)."""
    a, b, c = _x((3, 4)), _x((3, 4), 1), _x((3, 4), 2)
    mul = layers.Multiply()

    def f(a, b, c):
        return mul([mul([a, b]), c]) * 2.0       # the same layer used twice

    ga, gb, gc = autograd.grad(f, a, b, c)
    np.testing.assert_allclose(ga, 2 * b * c)
    np.testing.assert_allclose(gb, 2 * a * c)
    np.testing.assert_allclose(gc, 2 * a * b)
    gx, gy = autograd.grad(lambda x, y: layers.Dot(axes=1, normalize=True)([x, y]), a, b)
    num = _numeric(lambda x: layers.Dot(axes=1, normalize=True)([x, b]).sum(), a)
    assert rel_error(gx, num) < 1e-7


def _numeric(f, x, h=1e-6):
    x = x.copy()
    g = np.zeros_like(x)
    for idx in itertools.product(*(range(d) for d in x.shape)):
        old = x[idx]
        x[idx] = old + h
        p = f(x)
        x[idx] = old - h
        m = f(x)
        x[idx] = old
        g[idx] = (p - m) / (2 * h)
    return g


def test_get_config_round_trips():
    layer = layers.Dot(axes=(1, 2), normalize=True, name="d")
    clone = layers.Dot.from_config(layer.get_config())
    assert (clone.axes, clone.normalize, clone.name) == ((1, 2), True, "d")
    assert layers.Concatenate.from_config(layers.Concatenate(axis=1).get_config()).axis == 1
