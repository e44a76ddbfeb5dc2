r"""A small reverse-mode autodiff: micrograd's idea on arrays.

Every operation on a :class:`Tensor` returns a new Tensor that remembers its inputs (``parents``) and, for
each input, a function turning the upstream gradient :math:`g = \partial L/\partial y` into that input's
share :math:`\partial L/\partial x` (the vector-Jacobian product, "local derivative times upstream").
``backward()`` visits the graph in reverse topological order and *adds* the shares, so a value used twice
(``x * x``) gets both contributions.

This is what trains a layer that defines only ``call``: :func:`layer_forward` runs ``call`` on Tensors
(the layer's weights temporarily replaced by Tensors wrapping them), :func:`layer_backward` backpropagates
through the recorded graph and writes each weight's ``.grad``. :func:`loss_gradient` does the same for a
loss that defines only ``call``. The scalar :class:`Value` is the same engine on single numbers.

>>> from tinynn.backend import xp
>>> x = Tensor(xp.array([1.0, -2.0, 3.0]), name="x")
>>> y = (x * x).sum()            # x used twice: dy/dx = 2x
>>> y.backward(); x.grad.tolist()
[2.0, -4.0, 6.0]
"""
from __future__ import annotations

import math

from tinynn.backend import xp
from tinynn.variables import Variable

__all__ = ["Tensor", "Value", "grad", "backprop", "draw_graph", "layer_forward", "layer_backward", "loss_gradient", "loss_backward",
           "AutogradError"]


class AutogradError(TypeError):
    """An operation autograd cannot differentiate (it names the op and the layer)."""


_SCOPES: list = []  # one dict {id(Variable): (Variable, Tensor)} per layer being recorded


class Tensor:
    """An array ``value`` with a ``grad`` (filled by ``backward``) and the graph that produced it.

    ``requires_grad=False`` marks a constant: no gradient is computed for it (labels, masks, numbers).
    """

    __array_priority__ = 200  # ndarray (op) Tensor and Variable (op) Tensor defer to the Tensor

    def __init__(self, value, requires_grad=True, name=None):
        self.value = getattr(value, "value", value) if not _is_number(value) else value
        if not _is_number(self.value) and not hasattr(self.value, "shape"):
            self.value = xp.asarray(self.value)
        self.grad = None
        self.requires_grad = requires_grad
        self.name = name
        self._op = ""
        self._parents = ()   # ((parent, vjp), ...) for the parents that need a gradient
        self._inputs = ()    # every input, constants included (for drawing)

    # --- the graph -------------------------------------------------------------------------
    def backward(self, dy=None):
        r"""Fill ``.grad`` of every Tensor this one depends on with :math:`\partial s/\partial t`, where
        :math:`s = \sum dy \odot \text{self}` (``dy`` defaults to ones, i.e. :math:`s` = the sum of self).

        Gradients are recomputed from scratch for this graph (not accumulated across calls).
        """
        backprop([self], [dy])
        return self

    # --- array-like -----------------------------------------------------------------------
    shape = property(lambda self: tuple(xp.shape(self.value)))
    ndim = property(lambda self: len(self.shape))
    dtype = property(lambda self: getattr(self.value, "dtype", None))
    size = property(lambda self: math.prod(self.shape))
    T = property(lambda self: self.transpose())

    def __len__(self):
        return self.shape[0]

    def __float__(self):
        return float(self.value)

    def __repr__(self):
        op = f", op='{self._op}'" if self._op else ""
        name = f", name='{self.name}'" if self.name else ""
        return f"Tensor(shape={self.shape}{op}{name})"

    def __array__(self, dtype=None, copy=None):
        raise AutogradError(
            f"{_where()}a Tensor was converted to a plain array (numpy.asarray or a numpy function autograd "
            f"does not know), which would cut it out of the graph. Use the tinynn.ops functions, or "
            f"tensor.value if you really mean a constant.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``ndarray + tensor``, ``xp.exp(tensor)``...: known ufuncs are recorded, others raise."""
        fn = _UFUNCS.get(ufunc.__name__)
        if method == "__call__" and not kwargs and fn is not None:
            return fn(*inputs)
        if method == "__call__" and ufunc.__name__ in _COMPARISONS and not kwargs:
            return ufunc(*[_raw(i) for i in inputs])  # a comparison has no gradient: plain bool array
        raise AutogradError(_unknown(f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")))

    def __array_function__(self, func, types, args, kwargs):
        fn = _FUNCTIONS.get(func.__name__)
        if fn is None:
            raise AutogradError(_unknown(f"numpy.{func.__name__}"))
        return fn(*args, **kwargs)

    # --- operators ------------------------------------------------------------------------
    def __add__(self, o): return add(self, o)
    def __radd__(self, o): return add(o, self)
    def __sub__(self, o): return subtract(self, o)
    def __rsub__(self, o): return subtract(o, self)
    def __mul__(self, o): return multiply(self, o)
    def __rmul__(self, o): return multiply(o, self)
    def __truediv__(self, o): return divide(self, o)
    def __rtruediv__(self, o): return divide(o, self)
    def __matmul__(self, o): return matmul(self, o)
    def __rmatmul__(self, o): return matmul(o, self)
    def __pow__(self, o): return power(self, o)
    def __rpow__(self, o): return power(o, self)
    def __neg__(self): return negative(self)
    def __pos__(self): return self
    def __abs__(self): return absolute(self)
    def __getitem__(self, idx): return getitem(self, idx)
    def __lt__(self, o): return self.value < _raw(o)
    def __le__(self, o): return self.value <= _raw(o)
    def __gt__(self, o): return self.value > _raw(o)
    def __ge__(self, o): return self.value >= _raw(o)
    __hash__ = object.__hash__

    # --- methods, like ndarray's ----------------------------------------------------------
    def sum(self, axis=None, keepdims=False): return reduce_sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return reduce_mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return reduce_max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return -reduce_max(-self, axis, keepdims)
    def reshape(self, *shape): return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
    def transpose(self, *axes): return transpose(self, (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes) or None)
    def exp(self): return exp(self)
    def log(self): return log(self)
    def sqrt(self): return sqrt(self)
    def abs(self): return absolute(self)
    def relu(self): return relu(self)
    def sigmoid(self): return sigmoid(self)
    def tanh(self): return tanh(self)
    def softmax(self, axis=-1): return softmax(self, axis)
    def astype(self, dtype): return _node(self.value.astype(dtype), "astype", (self, lambda g: g.astype(self.dtype)))


# --- building blocks -------------------------------------------------------------------------
def _is_number(v):
    return isinstance(v, (int, float, bool))


def _raw(v):
    return v.value if isinstance(v, (Tensor, Variable)) else v


def _lift(v):
    """A Tensor for ``v``: Tensors pass; a weight being recorded maps to its Tensor; the rest are constants."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, Variable):
        for scope in reversed(_SCOPES):
            if id(v) in scope:
                return scope[id(v)][1]
    if isinstance(v, (list, tuple)):
        v = xp.asarray([_raw(u) for u in v])
    return Tensor(v, requires_grad=False)


def _node(value, op, *parents):
    """The Tensor ``value`` computed by ``op`` from ``parents``: pairs (input Tensor, vjp)."""
    t = Tensor.__new__(Tensor)
    t.value, t.grad, t.name, t._op = value, None, None, op
    t._inputs = tuple(p for p, _ in parents)
    t._parents = tuple((p, f) for p, f in parents if p.requires_grad)
    t.requires_grad = bool(t._parents)
    return t


def _topological_order(root):
    """Tensors reachable from ``root`` (needing a gradient), every input before the Tensors using it."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:  # iterative depth-first search: long graphs (RNN loops) do not hit the recursion limit
        t, done = stack.pop()
        if done:
            order.append(t)
        elif id(t) not in seen:
            seen.add(id(t))
            stack.append((t, True))
            stack.extend((p, False) for p, _ in t._parents if id(p) not in seen)
    return order


def backprop(roots, grads):
    """Reverse mode over the graph of several ``roots`` at once: seed each root with its ``dy`` (None:
    ones), visit every Tensor after all the Tensors that use it, and *add* each one's share to its inputs.

    An op may also write gradients straight into weights (a built-in layer's node: its ``backward`` fills
    ``w.grad``); such a node lists them in ``_writes``. A weight written by several nodes (a layer called
    twice) gets the *sum* of their contributions, the same accumulation rule one level up. Returns the
    set of ids of the weights written.
    """
    order = _topological_order_many(roots)
    for t in order:
        t.grad = None
    for root, dy in zip(roots, grads):
        g = xp.ones_like(root.value) if dy is None else getattr(dy, "value", dy)
        if tuple(xp.shape(g)) != tuple(root.shape):
            raise ValueError(f"Tensor.backward: dy has shape {tuple(xp.shape(g))}, "
                             f"the tensor has shape {tuple(root.shape)}.")
        root.grad = g if root.grad is None else root.grad + g
    writes: dict = {}
    for t in order:
        for w in getattr(t, "_writes", ()):
            writes[id(w)] = writes.get(id(w), 0) + 1
    sums: dict = {}
    for t in reversed(order):
        if t.grad is None:
            continue
        for parent, vjp in t._parents:
            g = vjp(t.grad)
            parent.grad = g if parent.grad is None else parent.grad + g  # accumulate, never in place
        for w in getattr(t, "_writes", ()):
            if writes[id(w)] > 1:  # written again by a later node: keep this node's share
                sums[id(w)] = (w, w.grad.copy() if id(w) not in sums else sums[id(w)][1] + w.grad)
    for w, total in sums.values():
        w.grad[...] = total
    for t in order:  # a weight used directly by recorded ops (a call-only layer's self.kernel)
        w = getattr(t, "_variable", None)
        if w is not None and t.grad is not None:
            if id(w) in writes:
                w.grad += t.grad
            else:
                w.grad[...] = t.grad
                writes[id(w)] = 1
    return set(writes)


def _topological_order_many(roots):
    if len(roots) == 1:
        return _topological_order(roots[0])
    order, seen = [], set()
    for root in roots:
        for t in _topological_order(root):
            if id(t) not in seen:
                seen.add(id(t))
                order.append(t)
    return order


def _unbroadcast(g, shape):
    """Sum ``g`` back to ``shape``: broadcasting copied the input, so its gradient is the sum of the copies."""
    shape = tuple(shape)
    if tuple(xp.shape(g)) == shape:
        return g
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _shape(v):
    return tuple(xp.shape(v))


def _where():
    if not _SCOPES or "_layer" not in _SCOPES[-1]:
        return "tinynn.autograd: "
    layer = _SCOPES[-1]["_layer"]
    return f"Layer '{layer.name}' ({type(layer).__name__}): "


def _unknown(op):
    return (f"{_where()}{op} was applied to a Tensor, and autograd knows no derivative for it. Write the "
            f"computation with the tinynn.ops functions (matmul, relu, exp, log, reduce_mean, ...), or give the "
            f"layer a backward(dy) method.")


# --- elementwise arithmetic (with broadcasting) ----------------------------------------------
def add(a, b):
    r""":math:`y = a + b`; :math:`\partial y/\partial a = \partial y/\partial b = 1`."""
    a, b = _lift(a), _lift(b)
    sa, sb = _shape(a.value), _shape(b.value)
    return _node(a.value + b.value, "+", (a, lambda g: _unbroadcast(g, sa)), (b, lambda g: _unbroadcast(g, sb)))


def subtract(a, b):
    """:math:`y = a - b`."""
    a, b = _lift(a), _lift(b)
    sa, sb = _shape(a.value), _shape(b.value)
    return _node(a.value - b.value, "-", (a, lambda g: _unbroadcast(g, sa)), (b, lambda g: _unbroadcast(-g, sb)))


def multiply(a, b):
    r""":math:`y = ab`; :math:`da = g\,b`, :math:`db = g\,a`."""
    a, b = _lift(a), _lift(b)
    av, bv = a.value, b.value
    return _node(av * bv, "*", (a, lambda g: _unbroadcast(g * bv, _shape(av))),
                 (b, lambda g: _unbroadcast(g * av, _shape(bv))))


def divide(a, b):
    r""":math:`y = a/b`; :math:`da = g/b`, :math:`db = -g\,a/b^2`."""
    a, b = _lift(a), _lift(b)
    av, bv = a.value, b.value
    return _node(av / bv, "/", (a, lambda g: _unbroadcast(g / bv, _shape(av))),
                 (b, lambda g: _unbroadcast(-g * av / (bv * bv), _shape(bv))))


def power(a, b):
    r""":math:`y = a^b`; :math:`da = g\,b\,a^{b-1}`, :math:`db = g\,y\log a`."""
    a, b = _lift(a), _lift(b)
    av, bv = a.value, b.value
    y = av**bv
    return _node(y, "**", (a, lambda g: _unbroadcast(g * bv * av ** (bv - 1), _shape(av))),
                 (b, lambda g: _unbroadcast(g * y * xp.log(av), _shape(bv))))


def negative(a):
    a = _lift(a)
    return _node(-a.value, "neg", (a, lambda g: -g))


def maximum(a, b):
    r""":math:`y = \max(a, b)`; the gradient goes to the larger input (to ``a`` on ties)."""
    a, b = _lift(a), _lift(b)
    av, bv = a.value, b.value
    mask = av >= bv
    return _node(xp.maximum(av, bv), "maximum", (a, lambda g: _unbroadcast(g * mask, _shape(av))),
                 (b, lambda g: _unbroadcast(g * ~mask, _shape(bv))))


def minimum(a, b):
    return -maximum(-_lift(a), -_lift(b))


def where(condition, a, b):
    """:math:`y = a` where the condition holds, else :math:`b` (the condition gets no gradient)."""
    c, a, b = _raw(condition), _lift(a), _lift(b)
    av, bv = a.value, b.value
    return _node(xp.where(c, av, bv), "where", (a, lambda g: _unbroadcast(xp.where(c, g, 0), _shape(av))),
                 (b, lambda g: _unbroadcast(xp.where(c, 0, g), _shape(bv))))


# --- elementwise functions ---------------------------------------------------------------------
def exp(x):
    r""":math:`y = e^x`, :math:`dx = g\,y`."""
    x = _lift(x)
    y = xp.exp(x.value)
    return _node(y, "exp", (x, lambda g: g * y))


def log(x):
    r""":math:`y = \log x`, :math:`dx = g/x`."""
    x = _lift(x)
    return _node(xp.log(x.value), "log", (x, lambda g: g / x.value))


def sqrt(x):
    r""":math:`y = \sqrt x`, :math:`dx = g/(2y)`."""
    x = _lift(x)
    y = xp.sqrt(x.value)
    return _node(y, "sqrt", (x, lambda g: g / (2.0 * y)))


def square(x):
    """:math:`y = x^2`, :math:`dx = 2gx`."""
    x = _lift(x)
    return _node(x.value * x.value, "square", (x, lambda g: 2.0 * g * x.value))


def absolute(x):
    r""":math:`y = |x|`, :math:`dx = g\,\mathrm{sign}(x)`."""
    x = _lift(x)
    return _node(abs(x.value), "abs", (x, lambda g: g * xp.sign(x.value)))


def relu(x):
    r""":math:`y = \max(x, 0)`, :math:`dx = g\,[x > 0]` (0 at the kink, like Keras)."""
    x = _lift(x)
    y = xp.maximum(x.value, 0)
    return _node(y, "relu", (x, lambda g: g * (y > 0)))


def sigmoid(x):
    r""":math:`y = \sigma(x)`, :math:`dx = g\,y(1 - y)`."""
    x = _lift(x)
    y = 0.5 * (xp.tanh(0.5 * x.value) + 1.0)
    return _node(y, "sigmoid", (x, lambda g: g * y * (1.0 - y)))


def tanh(x):
    r""":math:`y = \tanh x`, :math:`dx = g(1 - y^2)`."""
    x = _lift(x)
    y = xp.tanh(x.value)
    return _node(y, "tanh", (x, lambda g: g * (1.0 - y * y)))


def softmax(x, axis=-1):
    r""":math:`y = e^{x - m}/\sum e^{x - m}`; :math:`dx = y \odot (g - \sum g\,y)`."""
    x = _lift(x)
    e = xp.exp(x.value - x.value.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return _node(y, "softmax", (x, lambda g: y * (g - (g * y).sum(axis=axis, keepdims=True))))


def log_softmax(x, axis=-1):
    r""":math:`y = x - \log\sum e^x` (stable); :math:`dx = g - \mathrm{softmax}(x) \sum g`."""
    x = _lift(x)
    z = x.value - x.value.max(axis=axis, keepdims=True)
    y = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
    return _node(y, "log_softmax", (x, lambda g: g - xp.exp(y) * g.sum(axis=axis, keepdims=True)))


def clip(x, lo, hi):
    r""":math:`y = \min(\max(x, lo), hi)`; the gradient passes where :math:`lo \le x \le hi`."""
    x = _lift(x)
    v = x.value
    return _node(xp.clip(v, lo, hi), "clip", (x, lambda g: g * ((v >= lo) & (v <= hi))))


# --- reductions and shapes -----------------------------------------------------------------------
def _expand(g, shape, axis, keepdims):
    """Put the reduced axes back into ``g`` and broadcast it to ``shape``."""
    if axis is not None and not keepdims:
        g = xp.expand_dims(g, axis)
    return xp.broadcast_to(g, shape)


def reduce_sum(x, axis=None, keepdims=False):
    r""":math:`y = \sum x` over ``axis``; every input gets the gradient of its sum: :math:`dx = g`."""
    x = _lift(x)
    s = _shape(x.value)
    return _node(xp.sum(x.value, axis=axis, keepdims=keepdims), "sum", (x, lambda g: _expand(g, s, axis, keepdims)))


def reduce_mean(x, axis=None, keepdims=False):
    r""":math:`y = \frac1n\sum x`; :math:`dx = g/n`."""
    x = _lift(x)
    s = _shape(x.value)
    axes = range(len(s)) if axis is None else (axis if isinstance(axis, (tuple, list)) else (axis,))
    n = math.prod(s[a] for a in axes)
    return _node(xp.mean(x.value, axis=axis, keepdims=keepdims), "mean",
                 (x, lambda g: _expand(g / n, s, axis, keepdims)))


def reduce_max(x, axis=None, keepdims=False):
    r""":math:`y = \max x`; the gradient goes to the maximum (shared equally between ties)."""
    x = _lift(x)
    v = x.value
    m = v.max(axis=axis, keepdims=True)

    def vjp(g):
        mask = v == m
        return _expand(g, v.shape, axis, keepdims) * mask / mask.sum(axis=axis, keepdims=True)

    return _node(m if keepdims else (m.reshape(()) if axis is None else m.squeeze(axis)), "max", (x, vjp))


def reshape(x, shape):
    """Same values, new shape; :math:`dx` = ``g`` reshaped back."""
    x = _lift(x)
    s = _shape(x.value)
    return _node(xp.reshape(x.value, shape), "reshape", (x, lambda g: g.reshape(s)))


def transpose(x, axes=None):
    """Permute the axes; :math:`dx` = ``g`` with the inverse permutation."""
    x = _lift(x)
    inverse = None if axes is None else tuple(int(i) for i in xp.argsort(xp.asarray(axes)).tolist())
    return _node(xp.transpose(x.value, axes), "transpose", (x, lambda g: xp.transpose(g, inverse)))


def _basic_index(idx):
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def getitem(x, idx):
    """``x[idx]``; :math:`dx` is zero except at the selected places, which receive ``g`` (summed if an
    index repeats)."""
    x = _lift(x)
    idx = tuple(_raw(i) for i in idx) if isinstance(idx, tuple) else _raw(idx)

    def vjp(g):
        dx = xp.zeros(_shape(x.value), dtype=g.dtype)
        if _basic_index(idx):
            dx[idx] = g
        else:
            xp.add.at(dx, idx, g)
        return dx

    return _node(x.value[idx], "getitem", (x, vjp))


def concatenate(tensors, axis=0):
    """Join along ``axis``; each input gets its slice of ``g``."""
    ts = [_lift(t) for t in tensors]
    ends = [0]
    for t in ts:
        ends.append(ends[-1] + _shape(t.value)[axis])

    def part(i):
        return lambda g: xp.take(g, xp.arange(ends[i], ends[i + 1]), axis=axis)

    return _node(xp.concatenate([t.value for t in ts], axis=axis), "concat", *[(t, part(i)) for i, t in enumerate(ts)])


def stack(tensors, axis=0):
    """Stack along a new ``axis``; each input gets its slice of ``g``."""
    ts = [_lift(t) for t in tensors]
    return _node(xp.stack([t.value for t in ts], axis=axis), "stack",
                 *[(t, (lambda i: lambda g: xp.take(g, i, axis=axis))(i)) for i, t in enumerate(ts)])


def matmul(a, b):
    r""":math:`y = ab`; :math:`da = g\,b^\top`, :math:`db = a^\top g` (batched and 1-D inputs too)."""
    a, b = _lift(a), _lift(b)
    av, bv = a.value, b.value
    if av.ndim == 2 and bv.ndim == 2:
        return _node(av @ bv, "matmul", (a, lambda g: g @ bv.T), (b, lambda g: av.T @ g))
    A, B = (av[None] if av.ndim == 1 else av), (bv[:, None] if bv.ndim == 1 else bv)

    def full(g):  # g with the axes a 1-D operand removed put back
        g = g[..., None] if bv.ndim == 1 else g
        return g[..., None, :] if av.ndim == 1 else g

    return _node(av @ bv, "matmul",
                 (a, lambda g: _unbroadcast(full(g) @ xp.swapaxes(B, -1, -2), A.shape).reshape(av.shape)),
                 (b, lambda g: _unbroadcast(xp.swapaxes(A, -1, -2) @ full(g), B.shape).reshape(bv.shape)))


_UFUNCS = {"add": add, "subtract": subtract, "multiply": multiply, "true_divide": divide, "divide": divide,
           "power": power, "negative": negative, "matmul": matmul, "maximum": maximum, "minimum": minimum,
           "exp": exp, "log": log, "sqrt": sqrt, "square": square, "absolute": absolute, "tanh": tanh}
_COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "sign", "isfinite", "isnan"}
_FUNCTIONS = {"sum": reduce_sum, "mean": reduce_mean, "max": reduce_max, "amax": reduce_max, "reshape": reshape,
              "transpose": transpose, "concatenate": concatenate, "stack": stack, "where": where, "clip": clip,
              "dot": matmul, "shape": lambda t: t.shape, "ndim": lambda t: t.ndim}


# --- gradients of functions, layers and losses ----------------------------------------------------
def grad(fn, *inputs, dy=None):
    r"""The gradient of :math:`s = \sum dy \odot fn(inputs)` with respect to each input (a list; ``None``
    for non-float inputs). ``dy`` defaults to ones (then :math:`s` is the sum of the output).

    >>> from tinynn.backend import xp
    >>> grad(lambda x, w: x @ w, xp.ones((1, 2)), xp.ones((2, 3)))[0].tolist()
    [[3.0, 3.0]]
    """
    ts = [Tensor(x, requires_grad=getattr(getattr(x, "dtype", None), "kind", "f") == "f") for x in inputs]
    y = _lift(fn(*ts))
    y.backward(dy)
    return [None if not t.requires_grad else (xp.zeros_like(t.value) if t.grad is None else t.grad) for t in ts]


class _Swap:
    """Replace the layer's weight attributes (``self.kernel``, lists of weights) by their Tensors, and back."""

    def __init__(self, layer, scope):
        self.layer, self.scope, self.saved = layer, scope, {}

    def __enter__(self):
        for k, v in vars(self.layer).items():
            if isinstance(v, Variable) and id(v) in self.scope:
                self.saved[k] = v
            elif isinstance(v, (list, tuple)) and v and all(isinstance(u, Variable) and id(u) in self.scope for u in v):
                self.saved[k] = v
        for k, v in self.saved.items():
            new = self.scope[id(v)][1] if isinstance(v, Variable) else type(v)(self.scope[id(u)][1] for u in v)
            setattr(self.layer, k, new)

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            setattr(self.layer, k, v)


def _check_output_shape(layer, x, y):
    from tinynn.layers.base import Layer, shape_str  # noqa: PLC0415 - avoid a cycle

    if type(layer).compute_output_shape is Layer.compute_output_shape:
        return
    expected = tuple(layer.compute_output_shape(tuple(x.shape)))
    got = _shape(_raw(y))
    if len(expected) != len(got) or any(e is not None and e != g for e, g in zip(expected, got)):
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}): call() returned an output of shape {shape_str(got)}, "
            f"but compute_output_shape({shape_str(tuple(x.shape))}) says {shape_str(expected)}. "
            f"One of the two is wrong.")


def layer_forward(layer, x, call_kwargs):
    """Run ``layer.call`` on Tensors and keep the graph for :func:`layer_backward`; return the output array.

    The input becomes a Tensor (needing a gradient unless ``layer.compute_input_gradient`` is False); each
    of the layer's own weights a Tensor wrapping its ``.value`` (no copy). When ``x`` is already a Tensor
    (inside a model's recorded forward pass, or another layer's recording) the call is recorded into that
    graph and a Tensor is returned. Layers the layer owns record themselves when it calls them.
    """
    recording = _is_tensor_input(x)
    outer = _SCOPES[-1] if _SCOPES and recording else None
    scope = outer if outer is not None else {"_layer": layer}
    for w in layer._weights:
        if id(w) not in scope:
            t = Tensor(w.value, requires_grad=bool(w.trainable and layer.trainable), name=w.name)
            t._variable = w
            scope[id(w)] = (w, t)
    if recording:
        xt = x
    elif isinstance(x, (list, tuple)):
        xt = type(x)(Tensor(v, requires_grad=getattr(layer, "compute_input_gradient", True), name=f"inputs[{i}]")
                     for i, v in enumerate(x))
    else:
        xt = Tensor(x, requires_grad=getattr(layer, "compute_input_gradient", True), name="inputs")
    if outer is None:
        _SCOPES.append(scope)
    try:
        with _Swap(layer, scope):
            y = layer.call(xt, **call_kwargs)
    finally:
        if outer is None:
            _SCOPES.pop()
    if not isinstance(xt, (list, tuple)):
        _check_output_shape(layer, xt, y)
    if recording:
        return y
    if isinstance(y, (list, tuple)):
        raise NotImplementedError(f"Layer '{layer.name}' ({type(layer).__name__}): call() returned several outputs; "
                                  "autograd gives a call-only layer one output outside a model. Use it inside a "
                                  "Model, or give the layer a backward(dy).")
    y = _lift(y)
    layer._autograd_tape = (xt, [v for k, v in scope.items() if k != "_layer"], y)
    return y.value


def _is_tensor_input(x):
    if isinstance(x, (list, tuple)):
        return any(isinstance(v, Tensor) for v in x)
    return isinstance(x, Tensor)


def recorded_graph(layer):
    """What autograd recorded at the layer's last call: ``(inputs, [(weight, its Tensor)], output)``.

    ``draw_graph(recorded_graph(layer)[2])`` draws the graph that :func:`layer_backward` will walk.
    """
    tape = getattr(layer, "_autograd_tape", None)
    if tape is None:
        raise RuntimeError(f"Layer '{layer.name}' has recorded nothing: it has a backward() of its own, "
                           "or it has not been called yet.")
    return tape


def layer_backward(layer, dy):
    r"""Backpropagate ``dy`` through the graph recorded by the layer's last call: overwrite each weight's
    ``.grad`` and return :math:`\partial L/\partial x` (None when the input needs no gradient)."""
    tape = getattr(layer, "_autograd_tape", None)
    if tape is None:
        raise RuntimeError(
            f"Layer '{layer.name}' ({type(layer).__name__}) has no backward() of its own and has not been called "
            f"yet: call the layer (layer(x)) before layer.backward(dy), so autograd can record call().")
    xt, weights, y = tape
    dy = getattr(dy, "value", dy)
    if _shape(dy) != y.shape:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}).backward: dy has shape {_shape(dy)}, "
                         f"the layer's last output has shape {y.shape}.")
    written = backprop([y], [dy])
    for w, _ in weights:
        if w.trainable and id(w) not in written:
            w.grad[...] = 0  # this weight did not take part in the output: its gradient is zero
    if isinstance(xt, (list, tuple)):
        return [None if not t.requires_grad else (xp.zeros_like(t.value) if t.grad is None else t.grad) for t in xt]
    if not xt.requires_grad:
        return None
    if xt.grad is None:
        return xp.zeros_like(xt.value)
    return xt.grad if getattr(getattr(xt.grad, "flags", None), "writeable", True) else xt.grad.copy()


def loss_gradient(loss, y_true, y_pred):
    r""":math:`\partial l_i/\partial \hat y_i` for a loss that defines only ``call`` (per-sample losses
    :math:`l_i`, so this has the shape of ``y_pred``): backprop from :math:`\sum_i l_i`, since :math:`l_i`
    depends on :math:`\hat y_i` only."""
    yp = Tensor(y_pred, name="y_pred")
    per_sample = _lift(loss.call(_raw(y_true), yp))
    per_sample.backward()
    g = xp.zeros_like(yp.value) if yp.grad is None else yp.grad
    if per_sample.ndim == 0 and yp.ndim > 1 and hasattr(loss, "_divisor"):
        # call() already reduced the batch to one number L (allowed in Keras): the reduction will divide the
        # "per-sample" gradient by its divisor again, so hand it dL/dy_pred times that divisor
        g = g * loss._divisor(tuple(yp.shape[:-1]), None, None)
    return g


def loss_backward(fn, y_true, y_pred, *args, **kwargs):
    r""":math:`\partial L/\partial \hat y` for a function returning the scalar loss :math:`L` (a plain
    Python loss function, or a ``Loss`` whose ``__call__`` is written by hand, as in the tutorials)."""
    yp = Tensor(y_pred, name="y_pred")
    out = _lift(fn(_raw(y_true), yp, *args, **kwargs))
    out.backward()
    return xp.zeros_like(yp.value) if yp.grad is None else yp.grad


# --- the scalar version, for the backprop chapter ---------------------------------------------------
class Value:
    """One number and its gradient: the whole engine on scalars (micrograd's ``Value``).

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a          # a used twice
    >>> c.backward(); (c.data, a.grad, b.grad)
    (-4.0, -2.0, 2.0)
    """

    def __init__(self, data, _children=(), _op="", label=""):
        self.data, self.grad, self.label, self._op = float(data), 0.0, label, _op
        self._prev = tuple(_children)
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():  # d(a^k)/da = k a^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, y, dydx, op):
        out = Value(y, (self,), op)

        def _backward():
            self.grad += dydx * out.grad
        out._backward = _backward
        return out

    def exp(self):
        y = math.exp(self.data)
        return self._unary(y, y, "exp")

    def log(self):
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self):
        y = math.tanh(self.data)
        return self._unary(y, 1.0 - y * y, "tanh")

    def sigmoid(self):
        y = 1.0 / (1.0 + math.exp(-self.data))
        return self._unary(y, y * (1.0 - y), "sigmoid")

    def relu(self):
        return self._unary(max(self.data, 0.0), float(self.data > 0), "relu")

    def backward(self):
        r"""Set every ``grad`` to :math:`\partial\,\text{self}/\partial v`, visiting nodes in reverse
        topological order (each node after every node that uses it)."""
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    visit(child)
                order.append(v)
        visit(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1
    __hash__ = object.__hash__

    def __repr__(self):
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g}{', label=' + repr(self.label) if self.label else ''})"


def draw_graph(root, ax=None, figsize=None):
    """Draw the graph that produced ``root`` (see :mod:`tinynn.autograd_graph`); returns a matplotlib Figure."""
    from tinynn.autograd_graph import draw_graph as _draw  # noqa: PLC0415 - matplotlib only when drawing

    return _draw(root, ax=ax, figsize=figsize)
