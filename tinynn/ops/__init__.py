"""Array functions with Keras' ``keras.ops`` names (and TensorFlow's), for writing a layer's or a loss's ``call``.

The tutorials write ``tf.nn.relu(tf.matmul(inputs, self.kernel) + self.bias)`` and
``tf.reduce_mean(tf.square(y_true - y_pred))``; with tinynn that is ``ops.nn.relu(ops.matmul(inputs,
self.kernel) + self.bias)`` and ``ops.reduce_mean(ops.square(y_true - y_pred))``. Keras 3 programs use
``ops.mean``, ``ops.one_hot``, ``ops.cast``, ``ops.einsum``... with the same arguments.

Each function works on plain arrays (and weights, using ``.value``), returning an array, and on
:class:`~tinynn.autograd.Tensor` s, returning a Tensor that records the operation so autograd can
differentiate it. That is how a layer defining only ``call`` gets its backward. Functions without a
gradient (``argmax``, ``shape``, comparisons, ``one_hot``, ``cast`` to an integer type) return plain arrays.

>>> from tinynn.backend import xp
>>> reduce_mean(square(xp.array([1.0, 2.0]) - xp.array([0.0, 0.0]))).item()
2.5
>>> from tinynn.autograd import Tensor
>>> x = Tensor(xp.array([-1.0, 2.0])); _ = relu(x).sum().backward(); x.grad.tolist()
[0.0, 1.0]
"""
from __future__ import annotations

from types import SimpleNamespace

from tinynn.ops import nn
from tinynn.ops.core import cast, convert_to_numpy, convert_to_tensor, shape
from tinynn.ops.einsum import einsum
from tinynn.ops.nn import elu, leaky_relu, one_hot, silu, softplus, swish
from tinynn.ops.numpy_ops import *  # noqa: F403 - the names listed in numpy_ops.__all__
from tinynn.ops.numpy_ops import __all__ as _numpy_names

__all__ = [*_numpy_names, "cast", "shape", "convert_to_numpy", "convert_to_tensor", "einsum", "one_hot",
           "leaky_relu", "elu", "softplus", "silu", "swish", "nn", "math"]

#: ``tf.math.reduce_mean`` → ``ops.math.reduce_mean``.
math = SimpleNamespace(**{n: globals()[n] for n in [
    "add", "subtract", "multiply", "divide", "negative", "pow", "square", "sqrt", "exp", "log", "abs", "sigmoid",
    "tanh", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "maximum", "minimum"]})
