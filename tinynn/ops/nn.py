r"""``ops.nn``: Keras' neural-network functions (``tf.nn.relu`` becomes ``ops.nn.relu``).

On autograd Tensors each returns a Tensor; those that are not autograd primitives are written with
primitives (``where``, ``exp``, ``log``, ``multiply``...), so their gradient comes from the chain rule.
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp
from tinynn.ops._dispatch import _raw, _resolve
from tinynn.ops.numpy_ops import (abs, add, exp, greater, log, log_softmax, minimum, multiply, relu, sigmoid,
                                  softmax, subtract, tanh, where)

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "one_hot", "leaky_relu", "elu", "softplus",
           "silu", "swish"]


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels ``x`` as one-hot vectors along a new ``axis`` (``floatx()`` unless ``dtype``);
    a label outside ``0 .. num_classes-1`` gives a row of zeros, as in Keras."""
    if sparse:
        raise NotImplementedError("ops.one_hot: sparse=True is not supported by tinynn.")
    x = xp.asarray(_raw(x))
    if x.dtype.kind not in "iub":
        raise TypeError(f"ops.one_hot: x must hold integer labels, got dtype {x.dtype}.")
    out = (x[..., None] == xp.arange(int(num_classes))).astype(dtype or backend.floatx())
    return xp.moveaxis(out, -1, axis) if axis != -1 else out


def leaky_relu(x, negative_slope=0.2):
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha x` (``negative_slope`` = 0.2, Keras' ops default)."""
    x = _resolve(x)
    return where(_raw(x) > 0, x, multiply(x, negative_slope))


def elu(x, alpha=1.0):
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha(e^x - 1)` (exp of :math:`\min(x, 0)`, so no overflow)."""
    x = _resolve(x)
    return where(_raw(x) > 0, x, multiply(alpha, subtract(exp(minimum(x, 0.0)), 1.0)))


def softplus(x):
    r""":math:`\log(1 + e^x)`, computed as :math:`\max(x, 0) + \log(1 + e^{-|x|})` (no overflow)."""
    x = _resolve(x)
    return add(relu(x), log(add(1.0, exp(multiply(-1.0, abs(x))))))


def silu(x):
    r""":math:`x\,\sigma(x)` (also called swish)."""
    x = _resolve(x)
    return multiply(x, sigmoid(x))


swish = silu
