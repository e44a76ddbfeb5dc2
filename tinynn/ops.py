"""Array functions with TensorFlow's names, for writing a layer's or a loss's ``call``.

The seeds write ``tf.nn.relu(tf.matmul(inputs, self.kernel) + self.bias)`` and
``tf.reduce_mean(tf.square(y_true - y_pred))``; with tinynn that is ``ops.nn.relu(ops.matmul(inputs,
self.kernel) + self.bias)`` and ``ops.reduce_mean(ops.square(y_true - y_pred))``.

Each function works on plain arrays (and weights, using ``.value``), returning an array, and on
:class:`~tinynn.autograd.Tensor` s, returning a Tensor that records the operation so autograd can
differentiate it. That is how a layer defining only ``call`` gets its backward.

>>> from tinynn.backend import xp
>>> reduce_mean(square(xp.array([1.0, 2.0]) - xp.array([0.0, 0.0]))).item()
2.5
>>> from tinynn.autograd import Tensor
>>> x = Tensor(xp.array([-1.0, 2.0])); relu(x).sum().backward(); x.grad.tolist()
[0.0, 1.0]
"""
from __future__ import annotations

from types import SimpleNamespace

from tinynn import activations, autograd
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.variables import Variable

__all__ = [
    "matmul", "add", "subtract", "multiply", "divide", "negative", "power", "square", "sqrt", "exp", "log", "abs",
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
    "sum", "mean", "max", "min", "maximum", "minimum", "reshape", "transpose", "concat", "concatenate", "stack",
    "clip", "clip_by_value", "where", "nn", "math",
]


def _resolve(a):
    """A weight becomes its Tensor while its layer is being recorded, else its array."""
    if isinstance(a, Variable):
        for scope in reversed(autograd._SCOPES):
            if id(a) in scope:
                return scope[id(a)][1]
        return a.value
    return a


def _op(tensor_fn, array_fn, name, doc=None):
    def op(*args, **kwargs):
        args = [_resolve(a) for a in args]
        if any(isinstance(a, Tensor) for a in args):
            return tensor_fn(*args, **kwargs)
        return array_fn(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or tensor_fn.__doc__
    return op


def _list_op(tensor_fn, array_fn, name):
    def op(values, axis=0):
        values = [_resolve(a) for a in values]
        if any(isinstance(a, Tensor) for a in values):
            return tensor_fn(values, axis=axis)
        return array_fn(values, axis=axis)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = tensor_fn.__doc__
    return op


def _relu(x):
    return xp.maximum(x, 0)


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
relu = _op(autograd.relu, _relu, "relu")
sigmoid = _op(autograd.sigmoid, activations.sigmoid, "sigmoid")
tanh = _op(autograd.tanh, lambda x: xp.tanh(x), "tanh")
softmax = _op(autograd.softmax, activations.softmax, "softmax")
log_softmax = _op(autograd.log_softmax,
                  lambda x, axis=-1: (lambda z: z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True)))(
                      x - x.max(axis=axis, keepdims=True)), "log_softmax")
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
maximum = _op(autograd.maximum, lambda a, b: xp.maximum(a, b), "maximum")
minimum = _op(autograd.minimum, lambda a, b: xp.minimum(a, b), "minimum",
              "Elementwise minimum (the gradient goes to the smaller input).")
reshape = _op(autograd.reshape, lambda x, shape: xp.reshape(x, shape), "reshape")
transpose = _op(autograd.transpose, lambda x, perm=None: xp.transpose(x, perm), "transpose")
clip = _op(autograd.clip, lambda x, lo, hi: xp.clip(x, lo, hi), "clip")
clip_by_value = clip
where = _op(autograd.where, lambda c, a, b: xp.where(c, a, b), "where")
concatenate = _list_op(autograd.concatenate, lambda v, axis=0: xp.concatenate(v, axis=axis), "concatenate")
concat = concatenate
stack = _list_op(autograd.stack, lambda v, axis=0: xp.stack(v, axis=axis), "stack")

#: ``tf.nn.relu`` → ``ops.nn.relu``: the port stays one word.
nn = SimpleNamespace(relu=relu, sigmoid=sigmoid, tanh=tanh, softmax=softmax, log_softmax=log_softmax)
#: ``tf.math.reduce_mean`` → ``ops.math.reduce_mean``.
math = SimpleNamespace(**{n: globals()[n] for n in [
    "add", "subtract", "multiply", "divide", "negative", "pow", "square", "sqrt", "exp", "log", "abs", "sigmoid",
    "tanh", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "maximum", "minimum"]})
