"""How every ``tinynn.ops`` function chooses between plain arrays and autograd Tensors."""
from __future__ import annotations

from tinynn import autograd
from tinynn.autograd import Tensor
from tinynn.variables import Variable


def _resolve(a):
    """A weight becomes its Tensor while its layer is being recorded, else its array."""
    if isinstance(a, Variable):
        for scope in reversed(autograd._SCOPES):
            if id(a) in scope:
                return scope[id(a)][1]
        return a.value
    return a


def _raw(a):
    """The plain array (or number) behind a Tensor or a weight: for ops that have no gradient."""
    a = _resolve(a)
    return a.value if isinstance(a, Tensor) else a


def _op(tensor_fn, array_fn, name, doc=None):
    """``name(*args)``: ``tensor_fn`` (recorded) when an argument is a Tensor, else ``array_fn``."""
    def op(*args, **kwargs):
        args = [_resolve(a) for a in args]
        if any(isinstance(a, Tensor) for a in args):
            return tensor_fn(*args, **kwargs)
        return array_fn(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or tensor_fn.__doc__
    return op


def _list_op(tensor_fn, array_fn, name):
    """Like :func:`_op` for functions of a list of arrays (``concatenate``, ``stack``)."""
    def op(values, axis=0):
        values = [_resolve(a) for a in values]
        if any(isinstance(a, Tensor) for a in values):
            return tensor_fn(values, axis=axis)
        return array_fn(values, axis=axis)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = tensor_fn.__doc__
    return op


def _no_grad(array_fn, name, doc):
    """An op without a gradient (comparisons, argmax, ...): Tensors and weights are read as plain arrays."""
    def op(*args, **kwargs):
        return array_fn(*[_raw(a) for a in args], **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op
