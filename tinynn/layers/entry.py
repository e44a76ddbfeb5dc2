r"""What a layer accepts: input specs and shape checks, and how an input is checked and converted on entry.

``Layer.__call__`` (:mod:`tinynn.layers.base`) uses these before ``build``/``call``: a wrong shape, ``None``, a
string, a ragged list, complex or object arrays and 0-d arrays are errors that name the layer and what it got.
"""
from __future__ import annotations

import inspect
import math

from tinynn import backend
from tinynn.autograd import Tensor
from tinynn.variables import Variable


def shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class InputSpec:
    """What a layer accepts once built: a number of dimensions and the sizes of some axes."""

    def __init__(self, ndim=None, min_ndim=None, axes=None, shape=None):
        if shape is not None:
            ndim, axes = len(shape), {i: d for i, d in enumerate(shape) if d is not None and i > 0}
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def expected(self, ndim):
        dims = [None] * (self.ndim or max(ndim, self.min_ndim or 0))
        for axis, size in self.axes.items():
            dims[axis] = size
        return shape_str(dims)

    def check(self, layer, shape):
        ok = (self.ndim is None or len(shape) == self.ndim) and (self.min_ndim is None or len(shape) >= self.min_ndim)
        if ok:
            ok = all(-len(shape) <= axis < len(shape) and shape[axis] == size for axis, size in self.axes.items())
        if not ok:
            raise ValueError(
                f"Input of layer '{layer.name}' ({type(layer).__name__}) has the wrong shape: expected "
                f"{self.expected(len(shape))}, got {shape_str(shape)}. The layer was built for inputs of shape "
                f"{shape_str(layer.input_shape) if layer.input_shape else '?'}."
                + _shape_hint(layer, shape)
            )


def _shape_hint(layer, shape):
    built = layer.input_shape
    if built and len(built) > 2 and len(shape) == 2 and math.prod(d for d in built[1:]) == shape[1]:
        return (f" The data looks already flattened: either feed it with shape {shape_str((None, *built[1:]))} "
                f"(x.reshape(-1, {', '.join(str(d) for d in built[1:])})) or declare input_shape=({shape[1]},).")
    return ""


class _Declared:
    def __init__(self, declared):
        self.input_shape = (None, *declared[1:])


_CALL_PARAMS: dict = {}


def _call_params(cls):
    if cls not in _CALL_PARAMS:
        sig = inspect.signature(cls.call)
        accepts_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        names = set(sig.parameters)
        if accepts_kwargs:
            names |= {"training", "mask"}
        _CALL_PARAMS[cls] = names
    return _CALL_PARAMS[cls]


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, Variable)


def _is_list_of_inputs(inputs):
    """A list of arrays/Tensors (several inputs), not a nested list of numbers (one input written as a list)."""
    return bool(inputs) and all(_is_array(v) or isinstance(v, (Tensor, Variable)) for v in inputs)


def _to_input(x, layer=None):
    """A Tensor stays a Tensor (recording); anything else becomes an array on the current backend, checked.

    The dtype rule: integer and boolean inputs become the layer's float type (``float32``), except for a
    layer that reads integers (``integer_input = True``: ``Embedding``'s token ids), which keeps them.
    """
    if isinstance(x, Tensor):
        return x
    where = f"Layer '{layer.name}' ({type(layer).__name__})" if layer is not None else "Layer"
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{where} was called on {x!r}; it expects an array of numbers (batch axis first).")
    if _is_array(x):
        a = backend.to_backend(x)
    else:
        try:
            a = backend.asarray(x)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{where} was called on a ragged or mixed {type(x).__name__} (rows of different "
                             f"lengths?): {e}. Give it one rectangular array (pad sequences first).") from None
    kind = a.dtype.kind
    if kind not in "fiub":
        what = {"c": "complex numbers", "O": "Python objects", "U": "strings", "S": "bytes"}.get(kind, str(a.dtype))
        raise TypeError(f"{where} was called on an array of {what} (dtype {a.dtype}); it expects real numbers.")
    if a.ndim == 0:
        raise ValueError(f"{where} was called on a single number ({a.item()!r}, a 0-d array); it expects a batch, "
                         "e.g. x.reshape(1, -1) for one sample.")
    if kind != "f" and layer is not None and not getattr(layer, "integer_input", False) and \
            not getattr(layer, "_graph", None) and not _keeps_dtype(layer):
        a = a.astype(layer.dtype or backend.floatx())
    return a


def _keeps_dtype(layer):
    """Models and InputLayers pass their inputs on unchanged: the layers inside decide."""
    return hasattr(layer, "_prepare_inputs") or type(layer).__name__ == "InputLayer"
