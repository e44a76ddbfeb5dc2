r"""Merge layers: many inputs, one output (Keras' ``Add``, ``Subtract``, ``Multiply``, ``Average``,
``Maximum``, ``Minimum``, ``Concatenate``; ``Dot`` is in :mod:`tinynn.layers.merging_dot`).

The multi-input contract (what a model's graph engine relies on):

* ``build(input_shapes)`` and ``compute_output_shape(input_shapes)`` take a **list** of shapes (batch
  axis first, any axis may be ``None``); incompatible shapes raise a ``ValueError`` naming the layer and
  every shape.
* ``call(inputs, training=False)`` takes a **list** of arrays and keeps in ``self._cache`` what backward
  needs.
* ``backward(dy)`` returns a **list** of :math:`\partial L/\partial x_i`, one per input, each with that
  input's shape. Every ``dx`` is a new array (never ``dy`` itself, never shared between inputs), so a
  caller may accumulate into it in place; ``dy`` is never modified.

Elementwise merges follow Keras 3's broadcasting rule: the batch sizes must agree; the other axes are
aligned from the right (an input of lower rank gets axes of size 1 inserted after the batch axis) and an
axis of size 1 is broadcast. The gradient of a broadcast input is summed over the axes it was copied along.

>>> from tinynn.backend import xp
>>> Add()([xp.ones((2, 3)), xp.ones((2, 3))]).tolist()
[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp
from tinynn.layers.base import Layer, shape_str

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate"]


def _shapes_str(shapes):
    return "[" + ", ".join(shape_str(tuple(s)) for s in shapes) + "]"


class _Merge(Layer):
    """What every merge layer shares: a list of inputs, shape checks that name the layer, ``__call__``."""

    n_inputs = None  # exactly this many inputs (None: one or more)

    def _error(self, what, shapes):
        return ValueError(f"Layer '{self.name}' ({type(self).__name__}) {what}. Received input shapes "
                          f"{_shapes_str(shapes)}.")

    def _check_list(self, shapes, same_batch=True):
        if not isinstance(shapes, (list, tuple)) or not shapes or not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) must be called on a list of inputs "
                             f"(a list of shapes for build), got {shapes!r}.")
        if self.n_inputs is not None and len(shapes) != self.n_inputs:
            raise self._error(f"needs exactly {self.n_inputs} inputs, got {len(shapes)}", shapes)
        shapes = [tuple(s) for s in shapes]
        if same_batch and len({s[0] for s in shapes if s and s[0] is not None}) > 1:
            raise self._error("cannot merge inputs with different batch sizes", shapes)
        return shapes

    def build(self, input_shapes):
        """Check that the shapes can be merged (a merge layer has no weights)."""
        self.compute_output_shape(input_shapes)
        self.built = True

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        """Check that ``inputs`` is a list (and, once built, that the shapes still fit), then call the layer
        as any other (symbolic inputs, autograd Tensors and arrays alike: see ``Layer.__call__``)."""
        masks = mask if isinstance(mask, (list, tuple)) else [mask]
        if any(m is not None for m in masks) or kwargs:
            raise NotImplementedError(f"Layer '{self.name}' ({type(self).__name__}): masks and extra call "
                                      f"arguments are not supported by tinynn's merge layers.")
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) must be called on a list of inputs, "
                             f"got one {type(inputs).__name__}.")
        if self.built:
            shapes = [tuple(x.shape) for x in inputs]
            built = [s[1:] for s in self.input_shape] if isinstance(self.input_shape, list) else None
            if built is not None and (len(built) != len(shapes) or any(
                    len(b) != len(s) - 1 or any(d is not None and d != e for d, e in zip(b, s[1:]))
                    for b, s in zip(built, shapes))):
                raise self._error(f"was built for input shapes {_shapes_str(self.input_shape)}", shapes)
            self.compute_output_shape(shapes)
        return super().__call__(list(inputs), training=training)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return super().get_config()


# --- elementwise merges ------------------------------------------------------------------------------
class _Elementwise(_Merge):
    """Merges of inputs that broadcast to one shape (Keras 3's ``Merge`` rule, see the module docstring)."""

    def compute_output_shape(self, input_shapes):
        """Broadcast the non-batch axes from the right; the batch axis is the inputs' common batch size."""
        shapes = self._check_list(input_shapes)
        rank = max(len(s) for s in shapes) - 1
        out = []
        for axis in range(rank):
            dims = [s[1:][axis - rank + len(s) - 1] for s in shapes if axis >= rank - len(s) + 1]
            sizes = {d for d in dims if d is not None and d != 1}
            if len(sizes) > 1:
                raise self._error(f"cannot broadcast the inputs together (sizes {sorted(sizes)} on non-batch "
                                  f"axis {axis + 1} of the output)", shapes)
            out.append(sizes.pop() if sizes else (None if None in dims else 1))
        batch = {s[0] for s in shapes if s and s[0] is not None}
        return (batch.pop() if batch else None, *out)

    def call(self, inputs, training=False):
        """Give every input the same rank (axes of size 1 after the batch axis), then merge."""
        rank = max(x.ndim for x in inputs)
        xs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) if x.ndim < rank else x for x in inputs]
        y = self._merge(xs)
        self._cache = (xs, [x.shape for x in inputs], y)
        return y

    @staticmethod
    def _unbroadcast(g, shape, original):
        """Sum ``g`` over the axes where the input had size 1 (it was copied along them); original shape."""
        axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
        g = g.sum(axis=axes, keepdims=True) if axes else g.copy()
        return g.reshape(original)

    def backward(self, dy):
        xs, originals, y = self._cache
        return [self._unbroadcast(g, x.shape, s) for g, x, s in zip(self._input_grads(dy, xs, y), xs, originals)]


class Add(_Elementwise):
    r"""The sum of the inputs (Keras' ``keras.layers.Add``)."""

    def _merge(self, xs):
        y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for x in xs[2:]:
            y = y + x
        return y

    def _input_grads(self, dy, xs, y):
        r""":math:`y = \sum_i x_i`, so :math:`\partial L/\partial x_i = dy` for every input (before summing
        over broadcast axes). Shapes: every :math:`x_i` broadcasts to :math:`y`'s shape, ``dy`` has it."""
        return [dy] * len(xs)


class Subtract(_Elementwise):
    r"""The difference of exactly two inputs, :math:`x_1 - x_2` (Keras' ``keras.layers.Subtract``)."""

    n_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1]

    def _input_grads(self, dy, xs, y):
        r""":math:`y = x_1 - x_2`: :math:`dx_1 = dy`, :math:`dx_2 = -dy`."""
        return [dy, -dy]


class Multiply(_Elementwise):
    r"""The elementwise product of the inputs (Keras' ``keras.layers.Multiply``)."""

    def _merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return y if len(xs) > 1 else y.copy()

    def _input_grads(self, dy, xs, y):
        r""":math:`y = \prod_j x_j`: :math:`dx_i = dy \odot \prod_{j \ne i} x_j`, computed from prefix and
        suffix products (no division, so a zero input is fine)."""
        n = len(xs)
        prefix, suffix = [None] * n, [None] * n
        for i in range(1, n):
            prefix[i] = xs[i - 1] if prefix[i - 1] is None else prefix[i - 1] * xs[i - 1]
        for i in range(n - 2, -1, -1):
            suffix[i] = xs[i + 1] if suffix[i + 1] is None else suffix[i + 1] * xs[i + 1]
        grads = []
        for p, s in zip(prefix, suffix):
            g = dy
            for factor in (p, s):
                g = g if factor is None else g * factor
            grads.append(g)
        return grads


class Average(_Elementwise):
    r"""The mean of the inputs (Keras' ``keras.layers.Average``)."""

    def _merge(self, xs):
        return Add._merge(self, xs) * (1.0 / len(xs))

    def _input_grads(self, dy, xs, y):
        r""":math:`y = \frac1n\sum_i x_i`: :math:`dx_i = dy/n`."""
        return [dy * (1.0 / len(xs))] * len(xs)


class Maximum(_Elementwise):
    r"""The elementwise maximum of the inputs (Keras' ``keras.layers.Maximum``).

    Ties: the gradient goes to the *first* input (in list order) that attains the maximum, the others get 0.
    """

    _pick = staticmethod(lambda a, b: xp.maximum(a, b))

    def _merge(self, xs):
        y = xs[0] if len(xs) > 1 else xs[0].copy()
        for x in xs[1:]:
            y = self._pick(y, x)
        return y

    def _input_grads(self, dy, xs, y):
        r""":math:`y = \max_i x_i`: :math:`dx_i = dy \odot [x_i = y \text{ and } x_j \ne y \text{ for } j < i]`
        (each output element's gradient goes to one input: the first that attains it)."""
        taken = xp.zeros(y.shape, dtype=bool)
        grads = []
        for x in xs:
            wins = (x == y) & ~taken
            taken |= wins
            grads.append(dy * wins)
        return grads


class Minimum(Maximum):
    r"""The elementwise minimum of the inputs (Keras' ``keras.layers.Minimum``); ties as in :class:`Maximum`:
    the gradient goes to the first input that attains the minimum."""

    _pick = staticmethod(lambda a, b: xp.minimum(a, b))


# --- concatenation -------------------------------------------------------------------------------------
class Concatenate(_Merge):
    r"""Join the inputs along ``axis`` (Keras' ``keras.layers.Concatenate``); all other axes must agree."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def _axis(self, ndim):
        return self.axis % ndim

    def compute_output_shape(self, input_shapes):
        """The common shape, with the sizes along ``axis`` added (``None`` if one of them is unknown)."""
        shapes = self._check_list(input_shapes, same_batch=False)
        ndim = len(shapes[0])
        if any(len(s) != ndim for s in shapes) or not -ndim <= self.axis < ndim:
            raise self._error(f"needs inputs of one rank that have axis {self.axis}", shapes)
        axis = self._axis(ndim)
        out = []
        for i in range(ndim):
            dims = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            sizes = {d for d in dims if d is not None}
            if len(sizes) > 1:
                raise self._error(f"needs inputs with matching shapes except on the concatenation axis "
                                  f"{self.axis} (axis {i} differs)", shapes)
            out.append(sizes.pop() if sizes else None)
        return tuple(out)

    def call(self, inputs, training=False):
        axis = self._axis(inputs[0].ndim)
        self._cache = (axis, [x.shape[axis] for x in inputs])
        return xp.concatenate(inputs, axis=axis)

    def backward(self, dy):
        r""":math:`y = [x_1, x_2, \dots]` along ``axis``, so :math:`dx_i` is the slice of ``dy`` where
        :math:`x_i` was written: ``dy[..., start_i:start_i + n_i, ...]`` (copied), with
        :math:`n_i` = ``x_i.shape[axis]``."""
        axis, sizes = self._cache
        grads, start = [], 0
        for n in sizes:
            index = (slice(None),) * axis + (slice(start, start + n),)
            grads.append(dy[index].copy())
            start += n
        return grads

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# --- Keras' function forms: build the layer and call it on the inputs -------------------------------------
def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
