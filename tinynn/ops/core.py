"""Keras' core ops: ``cast``, ``shape``, ``convert_to_tensor``, ``convert_to_numpy``."""
from __future__ import annotations

from tinynn import backend
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.ops._dispatch import _raw, _resolve

__all__ = ["cast", "shape", "convert_to_tensor", "convert_to_numpy"]


def _is_float(dtype):
    return xp.dtype(dtype).kind == "f"


def cast(x, dtype):
    """``x`` as ``dtype``. A Tensor cast to a float dtype stays in the graph (the gradient is cast back);
    cast to an integer or bool dtype it becomes a plain array (no gradient flows through rounding)."""
    x = _resolve(x)
    if isinstance(x, Tensor):
        return x.astype(dtype) if _is_float(dtype) else x.value.astype(dtype)
    return xp.asarray(x).astype(dtype)


def shape(x):
    """The shape of ``x`` as a tuple of ints."""
    return tuple(xp.shape(_raw(x)))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` (a list, a number, a numpy array, a weight) as an array of the current backend; a Tensor stays
    a Tensor (cast if ``dtype`` is given)."""
    if sparse or ragged:
        raise NotImplementedError("ops.convert_to_tensor: sparse and ragged tensors are not supported by tinynn.")
    x = _resolve(x)
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    return backend.asarray(x, dtype=dtype)


def convert_to_numpy(x):
    """``x`` as a numpy array on the CPU (a Tensor gives its value)."""
    return backend.to_cpu(_raw(x))
