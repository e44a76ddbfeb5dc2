"""A trainable weight: its value and its gradient, side by side.

The tutorials' custom optimizer writes ``param - self.learning_rate * param.grad``; a ``Variable`` makes that
line work: it holds ``.value`` (the array) and ``.grad`` (a preallocated array of the same shape that a
layer's ``backward`` fills), and arithmetic on it acts on ``.value``.

Optimizers change ``.value`` *in place* (``assign``), so every reference to the weight stays valid.

>>> from tinynn.backend import xp
>>> w = Variable(xp.ones((2, 3)), name="kernel")
>>> w.shape, w.trainable
((2, 3), True)
>>> w.grad[...] = 0.5
>>> (w - 0.1 * w.grad)[0, 0]       # what the tutorials' CustomOptimizer computes
np.float32(0.95)
>>> w.assign(w - 0.1 * w.grad); float(w.value[0, 0])
0.949999988079071
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp


class Variable:
    """A weight of a layer: ``value``, ``grad``, ``name``, ``trainable``, ``shape``, ``dtype``."""

    __array_priority__ = 100  # so that ndarray * Variable defers to Variable.__rmul__

    def __init__(self, value, name="variable", trainable=True, dtype=None, regularizer=None, constraint=None):
        self.value = backend.asarray(value, dtype=dtype or getattr(value, "dtype", None) or backend.floatx())
        self.grad = xp.zeros_like(self.value)
        self.name = name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    # --- the Keras Variable API -------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return int(self.value.size)

    def numpy(self):
        """The value as a numpy array (copied from the GPU if needed)."""
        return backend.to_cpu(self.value).copy()

    def assign(self, new_value):
        """Write ``new_value`` into the existing array (in place; shape must match)."""
        new_value = getattr(new_value, "value", new_value)
        if tuple(getattr(new_value, "shape", ())) not in ((), self.shape):
            raise ValueError(
                f"Variable '{self.name}': cannot assign a value of shape {tuple(new_value.shape)} "
                f"to a weight of shape {self.shape}."
            )
        self.value[...] = backend.asarray(new_value) if not isinstance(new_value, (int, float)) else new_value
        return self

    def assign_sub(self, delta):
        xp.subtract(self.value, getattr(delta, "value", delta), out=self.value)
        return self

    def assign_add(self, delta):
        xp.add(self.value, getattr(delta, "value", delta), out=self.value)
        return self

    def zero_grad(self):
        self.grad[...] = 0

    def __repr__(self):
        return f"<Variable '{self.name}' shape={self.shape} dtype={backend.dtype_name(self.value)}>"

    # --- arrays ----------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        a = backend.to_cpu(self.value)
        return a.astype(dtype) if dtype is not None else a

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, idx):
        return self.value[idx]

    def __float__(self):
        return float(self.value)

    # arithmetic acts on .value and returns plain arrays
    def __neg__(self):
        return -self.value

    def __pos__(self):
        return +self.value

    def __abs__(self):
        return abs(self.value)


def _binary(op):
    def forward(self, other):
        return op(self.value, getattr(other, "value", other))

    def reflected(self, other):
        return op(getattr(other, "value", other), self.value)

    return forward, reflected


import operator as _op  # noqa: E402

for _name, _fn in [("add", _op.add), ("sub", _op.sub), ("mul", _op.mul), ("truediv", _op.truediv),
                   ("matmul", _op.matmul), ("pow", _op.pow)]:
    _f, _r = _binary(_fn)
    setattr(Variable, f"__{_name}__", _f)
    setattr(Variable, f"__r{_name}__", _r)
for _name, _fn in [("lt", _op.lt), ("le", _op.le), ("gt", _op.gt), ("ge", _op.ge)]:
    setattr(Variable, f"__{_name}__", _binary(_fn)[0])
