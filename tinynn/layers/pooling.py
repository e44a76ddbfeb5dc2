r"""Pooling: MaxPooling2D/1D, AveragePooling2D/1D over windows, and the global poolings (channels_last).

A pooling window is the same view of the (padded) input as a convolution's (:func:`~tinynn.layers.im2col.windows`,
no weights); its backward sends the gradient back through the same window map (:func:`col2im_add`).
"""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer, shape_str
from tinynn.layers.convolutional import _tuple
from tinynn.layers.im2col import Buffers, out_size_and_pads, pad_into, windows


def _check_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{type(layer).__name__} '{layer.name}': only data_format='channels_last' is "
                                  f"implemented, got {data_format!r}.")


class Pooling(Layer):
    """Shared by the max and average poolings; a 1D input (N, L, C) is pooled as an image of height 1."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(self, data_format)
        if padding not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} '{self.name}': padding must be 'valid' or 'same', got {padding!r}.")
        self.pool_size = _tuple(pool_size, self.rank, "pool_size", self)
        self.strides = self.pool_size if strides is None else _tuple(strides, self.rank, "strides", self)
        self.padding = padding
        self._buffers = Buffers()

    def _hw(self, t):
        return t if self.rank == 2 else (1, *t)

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            want = "(N, H, W, C)" if self.rank == 2 else "(N, L, C)"
            raise ValueError(f"{type(self).__name__} '{self.name}': expected inputs of shape {want}, got "
                             f"{shape_str(input_shape)}.")
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: input_shape[-1]})
        self.compute_output_shape(input_shape)

    def _geometry(self, h, w):
        (kh, kw), (sh, sw) = self._hw(self.pool_size), self._hw(self.strides)
        ho, ph = out_size_and_pads(h, kh, sh, 1, self.padding if self.rank == 2 else "valid")
        wo, pw = out_size_and_pads(w, kw, sw, 1, self.padding)
        return ho, wo, ph, pw

    def call(self, x, training=False):
        r"""Max: :math:`y[n,i,j,c] = \max_{a,b} \text{win}[n,i,j,a,b,c]`. Average:
        :math:`y = \frac{1}{|w|}\sum_{a,b} \text{win}`, where :math:`|w|` counts only the window's pixels
        inside the image (as TensorFlow, with ``padding="same"``).

        Computed tap by tap: ``win[:, :, :, a, b, :]`` is a strided view (N, Ho, Wo, C) of the padded input,
        so the kh·kw taps are combined with ``maximum`` (or ``+``) without copying any window.
        Shapes: x (N, H, W, C) → y (N, Ho, Wo, C). Keeps the padded input for backward.
        """
        x4 = x if self.rank == 2 else x[:, None]
        n, h, w, c = x4.shape
        (kh, kw), (sh, sw) = self._hw(self.pool_size), self._hw(self.strides)
        ho, wo, ph, pw = self._geometry(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': input {shape_str(x.shape)} is smaller than the "
                             f"pool {self.pool_size}.")
        xpad = pad_into(self._buffers, "xpad", x4, ph, pw, fill=-xp.inf if self.mode == "max" else 0.0)
        win = windows(xpad, kh, kw, sh, sw, 1, 1, ho, wo)
        y = win[:, :, :, 0, 0, :].copy()
        combine = xp.maximum if self.mode == "max" else xp.add
        for a in range(kh):
            for b in range(kw):
                if a or b:
                    combine(y, win[:, :, :, a, b, :], out=y)
        if self.mode == "avg":
            self._count = self._counts(h, w, ho, wo, ph, pw, x.dtype)
            y /= self._count
        self._win, self._y = win, y
        self._shapes = (x.shape, (n, h, w, c), ph, pw)
        return y if self.rank == 2 else y[:, 0]

    def _counts(self, h, w, ho, wo, ph, pw, dtype):
        """How many window pixels lie inside the image, per output pixel: (Ho, Wo, 1)."""
        (kh, kw), (sh, sw) = self._hw(self.pool_size), self._hw(self.strides)
        ones = xp.zeros((1, h + sum(ph), w + sum(pw), 1), dtype=dtype)
        ones[:, ph[0]:ph[0] + h, pw[0]:pw[0] + w] = 1
        return windows(ones, kh, kw, sh, sw, 1, 1, ho, wo).sum(axis=(3, 4))[0]

    def backward(self, dy):
        r"""Max: the gradient goes to the input that was the maximum,
        :math:`d\text{win}[n,i,j,a,b,c] = dy[n,i,j,c]\,[\text{win}[n,i,j,a,b,c] = y[n,i,j,c]]`, and to the
        *first* such tap only when several are equal (row-major order, as TensorFlow), so a tie never
        doubles the gradient. Average: every window pixel gets :math:`dy/|w|`.
        col2im adds each tap's gradient back where it was read (windows that overlap add up) and cuts the
        padding off: dx (N, H, W, C).
        """
        x_shape, (n, h, w, c), (pt, pb), (pl, pr) = self._shapes
        dy4 = dy if self.rank == 2 else dy[:, None]
        (kh, kw), (sh, sw) = self._hw(self.pool_size), self._hw(self.strides)
        ho, wo = dy4.shape[1:3]
        dxpad = xp.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dy.dtype)
        if self.mode == "avg":
            g = dy4 / self._count
        else:
            taken = xp.zeros(dy4.shape, dtype=bool)  # which outputs already sent their gradient
        for a in range(kh):
            for b in range(kw):
                if self.mode == "max":
                    first = (self._win[:, :, :, a, b, :] == self._y) & ~taken
                    taken |= first
                    g = dy4 * first
                dxpad[:, a:a + sh * (ho - 1) + 1:sh, b:b + sw * (wo - 1) + 1:sw, :] += g
        dx = dxpad[:, pt:pt + h, pl:pl + w, :]
        return (dx if pt + pb + pl + pr == 0 else xp.ascontiguousarray(dx)).reshape(x_shape)

    def compute_output_shape(self, input_shape):
        if self.rank == 2:
            n, h, w, c = input_shape
        else:
            (n, w, c), h = input_shape, 1
        ho, wo, _, _ = self._geometry(h, w)
        if (ho is not None and ho < 1) or (wo is not None and wo < 1):
            raise ValueError(f"{type(self).__name__} '{self.name}': input {shape_str(input_shape)} is smaller than "
                             f"the pool {self.pool_size}.")
        return (n, ho, wo, c) if self.rank == 2 else (n, wo, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}


class MaxPooling2D(Pooling):
    """The maximum of each pool_size window (default 2×2, strides = pool_size): (N, H, W, C) → (N, H/2, W/2, C)."""

    rank, mode = 2, "max"


class AveragePooling2D(Pooling):
    """The mean of each pool_size window (default 2×2, strides = pool_size)."""

    rank, mode = 2, "avg"


class MaxPooling1D(Pooling):
    """The maximum over windows of ``pool_size`` steps: (N, L, C) → (N, L/2, C)."""

    rank, mode = 1, "max"


class AveragePooling1D(Pooling):
    """The mean over windows of ``pool_size`` steps: (N, L, C) → (N, L/2, C)."""

    rank, mode = 1, "avg"


class GlobalPooling(Layer):
    """Shared by the global poolings: one number per channel, over all positions (axes 1 .. rank)."""

    rank = 2
    mode = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _check_format(self, data_format)
        self.keepdims = keepdims

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected inputs with {self.rank + 2} axes, got "
                             f"{shape_str(input_shape)}.")
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: input_shape[-1]})

    def call(self, x, training=False, mask=None):
        r"""Average: :math:`y[n,c] = \frac{1}{P}\sum_p x[n,p,c]` over the P positions (for a 1D input with a
        mask, only over the unmasked steps). Max: :math:`y[n,c] = \max_p x[n,p,c]`, keeping the first argmax.

        Shapes: x (N, H, W, C) or (N, L, C) → y (N, C) (``keepdims``: (N, 1, 1, C) or (N, 1, C)).
        """
        if mask is not None and self.mode == "max":
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': a mask (from Embedding(mask_zero=True)) "
                                      "is only supported by GlobalAveragePooling1D.")
        n, c = x.shape[0], x.shape[-1]
        flat = x.reshape(n, -1, c)
        self._x_shape = x.shape
        if self.mode == "avg":
            if mask is not None:
                m = xp.asarray(mask).reshape(n, -1, 1).astype(x.dtype)
                count = xp.maximum(m.sum(axis=1, keepdims=True), 1)
                self._weights_p = m / count
            else:
                self._weights_p = None
                count = flat.shape[1]
            y = (flat * self._weights_p).sum(axis=1) if mask is not None else flat.sum(axis=1) / count
            self._count = count
        else:
            self._idx = flat.argmax(axis=1)[:, None, :]
            y = xp.take_along_axis(flat, self._idx, axis=1)[:, 0, :]
        return y.reshape((n,) + (1,) * self.rank + (c,)) if self.keepdims else y

    def backward(self, dy):
        r"""Average: :math:`dx[n,p,c] = dy[n,c]/P` (with a mask: :math:`m_p\,dy/\sum m`). Max: :math:`dy` goes to
        the first position of the maximum, 0 elsewhere. Shapes: dy (N, C) → dx like x."""
        n, c = self._x_shape[0], self._x_shape[-1]
        dy = dy.reshape(n, 1, c)
        p = 1
        for d in self._x_shape[1:-1]:
            p *= d
        if self.mode == "avg":
            dx = dy * self._weights_p if self._weights_p is not None else xp.broadcast_to(dy / self._count, (n, p, c))
        else:
            dx = (xp.arange(p)[:, None] == self._idx) * dy  # dy at the argmax, 0 elsewhere
        return xp.ascontiguousarray(dx).reshape(self._x_shape)

    def compute_output_shape(self, input_shape):
        n, c = input_shape[0], input_shape[-1]
        return (n,) + (1,) * self.rank + (c,) if self.keepdims else (n, c)

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(GlobalPooling):
    """The mean of each channel over the image: (N, H, W, C) → (N, C)."""

    rank, mode = 2, "avg"


class GlobalMaxPooling2D(GlobalPooling):
    """The maximum of each channel over the image: (N, H, W, C) → (N, C)."""

    rank, mode = 2, "max"


class GlobalAveragePooling1D(GlobalPooling):
    """The mean of each channel over the steps (only the unmasked ones after ``Embedding(mask_zero=True)``)."""

    rank, mode = 1, "avg"


class GlobalMaxPooling1D(GlobalPooling):
    """The maximum of each channel over the steps: (N, L, C) → (N, C)."""

    rank, mode = 1, "max"
