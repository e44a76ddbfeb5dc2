r"""Keras' ``keras.ops`` array functions (numpy's names) and TensorFlow's ``reduce_*`` names.

Every function takes arrays, weights or autograd Tensors; with a Tensor among its inputs it returns a
Tensor recording a differentiable operation (those that are not primitives of :mod:`tinynn.autograd` are
written with primitives, so autograd differentiates them by the chain rule).
"""
from __future__ import annotations

import builtins

from tinynn import activations, autograd, backend
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.ops._dispatch import _list_op, _no_grad, _op, _raw, _resolve

__all__ = [
    "matmul", "add", "subtract", "multiply", "divide", "negative", "power", "pow", "square", "sqrt", "exp", "log",
    "abs", "absolute", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "reduce_sum", "reduce_mean",
    "reduce_max", "reduce_min", "sum", "mean", "max", "min", "maximum", "minimum", "reshape", "transpose",
    "concat", "concatenate", "stack", "clip", "clip_by_value", "where", "expand_dims", "squeeze", "dot",
    "broadcast_to", "take", "std", "var", "norm", "argmax", "argmin", "zeros", "ones", "zeros_like", "ones_like",
    "full", "arange", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_or", "logical_not",
]


def _relu(x):
    return xp.maximum(x, 0)


def _tensor(*args):
    return builtins.any(isinstance(a, Tensor) for a in args)


# --- elementwise arithmetic and functions ----------------------------------------------------------------
matmul = _op(autograd.matmul, lambda a, b: a @ b, "matmul")
add = _op(autograd.add, lambda a, b: a + b, "add")
subtract = _op(autograd.subtract, lambda a, b: a - b, "subtract")
multiply = _op(autograd.multiply, lambda a, b: a * b, "multiply")
divide = _op(autograd.divide, lambda a, b: a / b, "divide")
negative = _op(autograd.negative, lambda a: -a, "negative")
power = _op(autograd.power, lambda a, b: a**b, "power")
pow = power  # noqa: A001 - tf.pow
square = _op(autograd.square, lambda x: x * x, "square")
sqrt = _op(autograd.sqrt, lambda x: xp.sqrt(x), "sqrt")
exp = _op(autograd.exp, lambda x: xp.exp(x), "exp")
log = _op(autograd.log, lambda x: xp.log(x), "log")
abs = _op(autograd.absolute, lambda x: xp.abs(x), "abs")  # noqa: A001 - tf.abs
absolute = abs
relu = _op(autograd.relu, _relu, "relu")
sigmoid = _op(autograd.sigmoid, activations.sigmoid, "sigmoid")
tanh = _op(autograd.tanh, lambda x: xp.tanh(x), "tanh")
softmax = _op(autograd.softmax, activations.softmax, "softmax")
log_softmax = _op(autograd.log_softmax,
                  lambda x, axis=-1: (lambda z: z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True)))(
                      x - x.max(axis=axis, keepdims=True)), "log_softmax")
maximum = _op(autograd.maximum, lambda a, b: xp.maximum(a, b), "maximum")
minimum = _op(autograd.minimum, lambda a, b: xp.minimum(a, b), "minimum",
              "Elementwise minimum (the gradient goes to the smaller input).")
clip = _op(autograd.clip, lambda x, lo, hi: xp.clip(x, lo, hi), "clip",
           r"``clip(x, x_min, x_max)``: :math:`\min(\max(x, x_{min}), x_{max})`; the gradient passes inside.")
clip_by_value = clip

# --- reductions ------------------------------------------------------------------------------------------
reduce_sum = _op(autograd.reduce_sum, lambda x, axis=None, keepdims=False: xp.sum(x, axis=axis, keepdims=keepdims),
                 "reduce_sum")
reduce_mean = _op(autograd.reduce_mean,
                  lambda x, axis=None, keepdims=False: xp.mean(x, axis=axis, keepdims=keepdims), "reduce_mean")
reduce_max = _op(autograd.reduce_max, lambda x, axis=None, keepdims=False: xp.max(x, axis=axis, keepdims=keepdims),
                 "reduce_max")
reduce_min = _op(lambda x, axis=None, keepdims=False: -autograd.reduce_max(-x, axis, keepdims),
                 lambda x, axis=None, keepdims=False: xp.min(x, axis=axis, keepdims=keepdims), "reduce_min",
                 "The minimum over ``axis`` (the gradient goes to the minimum).")
sum, mean, max, min = reduce_sum, reduce_mean, reduce_max, reduce_min  # noqa: A001 - keras.ops names


def var(x, axis=None, keepdims=False):
    r"""The variance :math:`\frac1n\sum (x - \bar x)^2` over ``axis`` (numpy's ``var``, ``ddof=0``)."""
    x = _resolve(x)
    d = x - reduce_mean(x, axis=axis, keepdims=True)
    return reduce_mean(d * d, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    r"""The standard deviation :math:`\sqrt{\mathrm{var}(x)}` over ``axis``."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - Keras' name
    r"""Vector norms (``ord`` None or 2: :math:`\sqrt{\sum x^2}`, 1: :math:`\sum|x|`, ``inf``:
    :math:`\max|x|`) and, over two axes, the Frobenius norm; arrays accept every ``numpy.linalg.norm`` order."""
    x = _resolve(x)
    if not _tensor(x):
        return xp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    vector = isinstance(axis, int) or (axis is None and x.ndim == 1)
    if ord is None or (ord == "fro" and not vector) or (ord == 2 and vector):
        return sqrt(reduce_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1 and vector:
        return reduce_sum(abs(x), axis=axis, keepdims=keepdims)
    if ord == float("inf") and vector:
        return reduce_max(abs(x), axis=axis, keepdims=keepdims)
    raise NotImplementedError(f"ops.norm: ord={ord!r} with axis={axis!r} has no gradient in tinynn; use ord "
                              f"None/2/'fro', 1 or inf over one axis (or all).")


# --- shapes ------------------------------------------------------------------------------------------------
def _transpose(x, axes=None, perm=None):
    return autograd.transpose(x, perm if axes is None else axes)


reshape = _op(autograd.reshape, lambda x, newshape: xp.reshape(x, newshape), "reshape",
              "``reshape(x, newshape)``: the same values in a new shape.")
transpose = _op(_transpose, lambda x, axes=None, perm=None: xp.transpose(x, perm if axes is None else axes),
                "transpose", "``transpose(x, axes=None)`` (``perm=`` as TensorFlow): permute the axes.")
where = _op(autograd.where, lambda c, a, b: xp.where(c, a, b), "where",
            "``where(condition, x1, x2)``: ``x1`` where the condition holds, else ``x2``.")
concatenate = _list_op(autograd.concatenate, lambda v, axis=0: xp.concatenate(v, axis=axis), "concatenate")
concat = concatenate
stack = _list_op(autograd.stack, lambda v, axis=0: xp.stack(v, axis=axis), "stack")


def expand_dims(x, axis):
    """A new axis of size 1 at ``axis`` (an int or a tuple of ints)."""
    x = _resolve(x)
    if not _tensor(x):
        return xp.expand_dims(x, axis)
    return autograd.reshape(x, xp.expand_dims(xp.empty(x.shape, dtype=bool), axis).shape)


def squeeze(x, axis=None):
    """Remove axes of size 1 (all of them, or those in ``axis``)."""
    x = _resolve(x)
    if not _tensor(x):
        return xp.squeeze(x, axis=axis)
    return autograd.reshape(x, xp.squeeze(xp.empty(x.shape, dtype=bool), axis=axis).shape)


def broadcast_to(x, shape):
    """``x`` repeated to ``shape`` (numpy's broadcasting); the gradient sums the copies."""
    x = _resolve(x)
    if not _tensor(x):
        return xp.broadcast_to(x, shape)
    return autograd.add(x, xp.zeros(shape, dtype=x.dtype))


def take(x, indices, axis=None):
    """The entries at ``indices`` along ``axis`` (of the flattened ``x`` when ``axis`` is None); a repeated
    index gets the sum of its gradients."""
    x, indices = _resolve(x), _raw(indices)
    if not _tensor(x):
        return xp.take(x, indices, axis=axis)
    if axis is None:
        return autograd.getitem(autograd.reshape(x, (-1,)), xp.asarray(indices))
    axis = axis % x.ndim
    return autograd.getitem(x, (slice(None),) * axis + (xp.asarray(indices),))


def dot(x1, x2):
    """numpy's ``dot``: the product of numbers, vectors and matrices, and ``x1 @ x2`` when ``x2`` is a vector
    or a matrix; a Tensor with ``x2`` of 3 or more axes raises ``NotImplementedError``."""
    x1, x2 = _resolve(x1), _resolve(x2)
    if not _tensor(x1, x2):
        return xp.dot(x1, x2)
    n1, n2 = xp.ndim(_raw(x1)), xp.ndim(_raw(x2))
    if n1 == 0 or n2 == 0:
        return autograd.multiply(x1, x2)
    if n2 > 2:
        raise NotImplementedError("ops.dot on Tensors supports a second input with at most 2 axes; use ops.einsum.")
    return autograd.matmul(x1, x2)


# --- no gradient: indices, comparisons, new arrays ------------------------------------------------------------
argmax = _no_grad(lambda x, axis=None, keepdims=False: xp.argmax(x, axis=axis, keepdims=keepdims), "argmax",
                  "The index of the largest entry along ``axis`` (of the flattened ``x`` when None).")
argmin = _no_grad(lambda x, axis=None, keepdims=False: xp.argmin(x, axis=axis, keepdims=keepdims), "argmin",
                  "The index of the smallest entry along ``axis``.")
equal = _no_grad(lambda a, b: xp.equal(a, b), "equal", "``x1 == x2`` elementwise (booleans).")
not_equal = _no_grad(lambda a, b: xp.not_equal(a, b), "not_equal", "``x1 != x2`` elementwise.")
greater = _no_grad(lambda a, b: xp.greater(a, b), "greater", "``x1 > x2`` elementwise.")
greater_equal = _no_grad(lambda a, b: xp.greater_equal(a, b), "greater_equal", "``x1 >= x2`` elementwise.")
less = _no_grad(lambda a, b: xp.less(a, b), "less", "``x1 < x2`` elementwise.")
less_equal = _no_grad(lambda a, b: xp.less_equal(a, b), "less_equal", "``x1 <= x2`` elementwise.")
logical_and = _no_grad(lambda a, b: xp.logical_and(a, b), "logical_and", "``x1 and x2`` elementwise.")
logical_or = _no_grad(lambda a, b: xp.logical_or(a, b), "logical_or", "``x1 or x2`` elementwise.")
logical_not = _no_grad(lambda a: xp.logical_not(a), "logical_not", "``not x`` elementwise.")


def zeros(shape, dtype=None):
    """An array of zeros (``floatx()`` unless ``dtype`` is given)."""
    return xp.zeros(shape, dtype=dtype or backend.floatx())


def ones(shape, dtype=None):
    """An array of ones (``floatx()`` unless ``dtype`` is given)."""
    return xp.ones(shape, dtype=dtype or backend.floatx())


def full(shape, fill_value, dtype=None):
    """An array filled with ``fill_value``."""
    return xp.full(shape, _raw(fill_value), dtype=dtype)


zeros_like = _no_grad(lambda x, dtype=None: xp.zeros_like(x, dtype=dtype), "zeros_like",
                      "Zeros with the shape (and dtype, unless given) of ``x``.")
ones_like = _no_grad(lambda x, dtype=None: xp.ones_like(x, dtype=dtype), "ones_like",
                     "Ones with the shape (and dtype, unless given) of ``x``.")


def arange(start, stop=None, step=1, dtype=None):
    """``start, start + step, ...`` below ``stop`` (``arange(n)``: 0 .. n-1)."""
    if stop is None:
        start, stop = 0, start
    return xp.arange(start, stop, step, dtype=dtype)
