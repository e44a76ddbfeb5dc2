r"""``einsum``: numpy's Einstein summation; on Tensors written with broadcasting ``multiply`` and ``sum``.

For ``einsum("nk,kj->nj", a, b)`` each operand is transposed and reshaped so that its axes line up with
one axis per letter (size 1 for the letters it lacks); the broadcast product is then summed over the letters
not in the output. Autograd differentiates these primitives, so :math:`\partial/\partial a` of
:math:`\sum_k a_{nk} b_{kj}` is :math:`\sum_j g_{nj} b_{kj}`, as it should be.
"""
from __future__ import annotations

from tinynn import autograd
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.ops._dispatch import _resolve

__all__ = ["einsum"]


def _parse(subscripts, n):
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise NotImplementedError("ops.einsum on Tensors: '...' is not supported by tinynn; name every axis.")
    lhs, arrow, out = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != n:
        raise ValueError(f"ops.einsum: {subscripts!r} names {len(inputs)} operands, {n} were given.")
    if not arrow:  # numpy's implicit output: the letters used once, in alphabetical order
        out = "".join(sorted(c for c in set(lhs) - {","} if lhs.count(c) == 1))
    for sub in inputs:
        if len(set(sub)) != len(sub):
            raise NotImplementedError(f"ops.einsum on Tensors: a repeated letter in one operand ({sub!r}, a "
                                      f"diagonal or trace) is not supported by tinynn.")
    return inputs, out


def einsum(subscripts, *operands):
    """``einsum(subscripts, *operands)``, as numpy (e.g. ``"nk,kj->nj"`` is a matrix product)."""
    operands = [_resolve(o) for o in operands]
    if not any(isinstance(o, Tensor) for o in operands):
        return xp.einsum(subscripts, *operands)
    inputs, out = _parse(subscripts, len(operands))
    letters = list(out) + sorted({c for sub in inputs for c in sub} - set(out))
    sizes = {}
    for sub, o in zip(inputs, operands):
        shape = tuple(xp.shape(getattr(o, "value", o)))
        if len(shape) != len(sub):
            raise ValueError(f"ops.einsum: operand {sub!r} has shape {shape}, which has {len(shape)} axes.")
        for c, d in zip(sub, shape):
            if sizes.setdefault(c, d) != d:
                raise ValueError(f"ops.einsum: letter {c!r} is size {sizes[c]} in one operand and {d} in another.")
    product = None
    for sub, o in zip(inputs, operands):
        order = sorted(range(len(sub)), key=lambda i: letters.index(sub[i]))
        t = autograd.transpose(o, tuple(order)) if order != list(range(len(sub))) else autograd._lift(o)
        t = autograd.reshape(t, tuple(sizes[c] if c in sub else 1 for c in letters))
        product = t if product is None else autograd.multiply(product, t)
    summed = tuple(range(len(out), len(letters)))
    return autograd.reduce_sum(product, axis=summed) if summed else product
