r"""``Dot``: the per-sample dot product of two inputs along one axis each (Keras' ``keras.layers.Dot``).

For inputs :math:`x_1` of shape ``(N, *p, K)`` and :math:`x_2` of shape ``(N, K, *q)`` (after moving the
axes in ``axes`` to those places) the output is the batched matrix product, shape ``(N, *p, *q)``; an
output of shape ``(N,)`` becomes ``(N, 1)``, as in Keras. So ``Dot(axes=1)`` on two ``(N, d)`` inputs is
:math:`y_n = \sum_k x_{1,nk} x_{2,nk}`, shape ``(N, 1)``; with ``normalize=True`` both inputs are first
divided by their L2 norm along the axis, and the output is the cosine proximity.

It follows the multi-input contract of :mod:`tinynn.layers.merging`.

>>> from tinynn.backend import xp
>>> Dot(axes=1)([xp.array([[1.0, 2.0]]), xp.array([[3.0, 4.0]])]).tolist()
[[11.0]]
"""
from __future__ import annotations

import math

from tinynn import backend
from tinynn.backend import xp
from tinynn.layers.merging import _Merge

__all__ = ["Dot", "dot"]


class Dot(_Merge):
    r"""Dot product of two inputs along ``axes`` (an int for both, or a pair ``(axis_1, axis_2)``).

    ``normalize=True``: L2-normalise each input along its axis first,
    :math:`u = x / \max(\lVert x\rVert, \epsilon)` with :math:`\epsilon` = ``backend.epsilon()``,
    so the output is the cosine of the angle between the two vectors.
    """

    n_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, bool) or not isinstance(axes, (int, list, tuple)):
            raise TypeError(f"Dot: axes must be an int or a pair of ints, got {axes!r}.")
        if not isinstance(axes, int) and (len(axes) != 2 or not all(isinstance(a, int) for a in axes)):
            raise ValueError(f"Dot: axes must be an int or a pair of ints, got {axes!r}.")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)

    def _resolve_axes(self, ndims):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return tuple(a % n if -n <= a < n else None for a, n in zip(axes, ndims))

    def compute_output_shape(self, input_shapes):
        """``(N, *p, *q)``: the first input's axes without its dot axis, then the second's without its batch
        axis and its dot axis; ``(N,)`` becomes ``(N, 1)``."""
        shapes = self._check_list(input_shapes)
        if any(len(s) < 2 for s in shapes):
            raise self._error("needs two inputs with a batch axis and at least one more axis", shapes)
        a1, a2 = self._resolve_axes([len(s) for s in shapes])
        if a1 in (None, 0) or a2 in (None, 0):
            raise self._error(f"cannot take the dot product along axes={self.axes} (the batch axis 0, or an "
                              f"axis the inputs do not have)", shapes)
        d1, d2 = shapes[0][a1], shapes[1][a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise self._error(f"needs equal sizes along axes={self.axes}, got {d1} (input 0, axis {a1}) and "
                              f"{d2} (input 1, axis {a2})", shapes)
        s1, s2 = list(shapes[0]), list(shapes[1])
        s1.pop(a1)
        s2.pop(a2)
        batch = {s[0] for s in shapes if s[0] is not None}
        out = [batch.pop() if batch else None, *s1[1:], *s2[1:]]
        return tuple(out) if len(out) > 1 else (out[0], 1)

    def call(self, inputs, training=False):
        r"""Normalise (if asked), move the dot axes to the end of :math:`x_1` and just after the batch axis of
        :math:`x_2`, flatten the rest: :math:`X` ``(N, P, K)``, :math:`Y` ``(N, K, Q)``,
        :math:`y = XY` ``(N, P, Q)``, reshaped to ``(N, *p, *q)``."""
        x1, x2 = inputs
        a1, a2 = self._resolve_axes([x1.ndim, x2.ndim])
        norms = []
        if self.normalize:
            eps = backend.epsilon()
            for i, (x, a) in enumerate(((x1, a1), (x2, a2))):
                r = xp.maximum(xp.sqrt((x * x).sum(axis=a, keepdims=True)), eps)
                norms.append(r)
                if i == 0:
                    x1 = x1 / r
                else:
                    x2 = x2 / r
        m1, m2 = xp.moveaxis(x1, a1, -1), xp.moveaxis(x2, a2, 1)
        n, k = x1.shape[0], x1.shape[a1]
        p_dims, q_dims = m1.shape[1:-1], m2.shape[2:]
        X = m1.reshape(n, math.prod(p_dims), k)
        Y = m2.reshape(n, k, math.prod(q_dims))
        self._cache = (X, Y, (a1, a2), (m1.shape, m2.shape), (x1, x2), norms)
        y = (X @ Y).reshape(n, *p_dims, *q_dims)
        return y.reshape(n, 1) if y.ndim == 1 else y

    def backward(self, dy):
        r"""With :math:`G` = ``dy`` reshaped to ``(N, P, Q)``: :math:`dX = G\,Y^\top` ``(N, P, K)`` and
        :math:`dY = X^\top G` ``(N, K, Q)``, reshaped and moved back to the inputs' axes.

        With ``normalize=True``, :math:`u = x/r`, :math:`r = \lVert x\rVert` along the axis; then
        :math:`dx = (du - u\,\langle du, u\rangle)/r` (the part of :math:`du` along :math:`u` changes only the
        norm, which :math:`u` ignores). Where :math:`\lVert x\rVert < \epsilon`, :math:`r = \epsilon` is a
        constant and :math:`dx = du/\epsilon`.
        """
        X, Y, (a1, a2), (s1, s2), (u1, u2), norms = self._cache
        G = dy.reshape(X.shape[0], X.shape[1], Y.shape[2])
        dX = G @ xp.swapaxes(Y, -1, -2)
        dY = xp.swapaxes(X, -1, -2) @ G
        du1 = xp.moveaxis(dX.reshape(s1), -1, a1)
        du2 = xp.moveaxis(dY.reshape(s2), 1, a2)
        if not self.normalize:
            return [xp.ascontiguousarray(du1), xp.ascontiguousarray(du2)]
        eps = backend.epsilon()
        grads = []
        for du, u, r, a in ((du1, u1, norms[0], a1), (du2, u2, norms[1], a2)):
            projected = du - u * (du * u).sum(axis=a, keepdims=True)
            grads.append(xp.where(r > eps, projected, du) / r)
        return grads

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """``Dot(axes=axes, **kwargs)(inputs)`` (Keras' function form; ``normalize=`` goes in ``kwargs``)."""
    return Dot(axes=axes, **kwargs)(inputs)
