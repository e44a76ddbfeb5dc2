r"""Conv2D and Conv1D (channels_last, Keras' kernel layout ``(kh, kw, in, out)``), computed as im2col + one GEMM.

The math form is :func:`conv2d_loops`, a direct transcription of

.. math:: z[n, i, j, f] = b_f + \sum_{a, b', c} x_p[n,\, i s_h + a d_h,\, j s_w + b' d_w,\, c]\; K[a, b', c, f]

with four nested loops. :class:`Conv2D` computes exactly the same numbers (tested) as a fast path: it copies
the windows into a matrix (im2col, :mod:`tinynn.layers.im2col`) and does one matrix product.
"""
from __future__ import annotations

from tinynn import activations, initializers, regularizers
from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer, shape_str
from tinynn.layers.im2col import Buffers, col2im_add, im2col, out_size_and_pads, pad_into


def conv2d_loops(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    r"""The convolution by loops, as the formula reads (slow; the reference the fast path is tested against).

    Shapes: x (N, H, W, C), kernel (kh, kw, C, F), bias (F,) → z (N, Ho, Wo, F).
    """
    kh, kw, c, f = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation_rate
    ho, (pt, pb) = out_size_and_pads(x.shape[1], kh, sh, dh, padding)
    wo, (pl, pr) = out_size_and_pads(x.shape[2], kw, sw, dw, padding)
    xpad = xp.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    z = xp.zeros((x.shape[0], ho, wo, f), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    # (N, C) @ (C, F): every sample and every filter at once for this pixel and tap
                    z[:, i, j, :] += xpad[:, i * sh + a * dh, j * sw + b * dw, :] @ kernel[a, b]
    return z if bias is None else z + bias


def _tuple(value, rank, what, layer):
    t = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(t) != rank or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in t):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {what} must be a positive integer or a tuple of "
                         f"{rank} positive integers, got {value!r}.")
    return t


class Conv(Layer):
    r"""Shared by Conv1D and Conv2D: a 1D input (N, L, C) is treated as an image of height 1, (N, 1, L, C)."""

    rank = 2
    paddings = ("valid", "same")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{kind} '{self.name}': filters must be a positive integer, got {filters!r}.")
        if padding not in self.paddings:
            raise ValueError(f"{kind} '{self.name}': padding must be one of {self.paddings}, got {padding!r}.")
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{kind} '{self.name}': only data_format='channels_last' (images as "
                                      f"(N, H, W, C)) is implemented, got {data_format!r}.")
        for arg, value in (("groups", groups != 1), ("activity_regularizer", activity_regularizer),
                           ("kernel_constraint", kernel_constraint), ("bias_constraint", bias_constraint)):
            if value:
                raise NotImplementedError(f"{kind} '{self.name}': {arg} is not implemented in tinynn.")
        self.filters, self.padding = filters, padding
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size", self)
        self.strides = _tuple(strides, self.rank, "strides", self)
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate", self)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._buffers = Buffers()

    # the 2D view of the hyper-parameters: (kh, kw), (sh, sw), (dh, dw)
    def _hw(self, t, one=1):
        return t if self.rank == 2 else (one, *t)

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            want = "(N, H, W, C)" if self.rank == 2 else "(N, L, C)"
            raise ValueError(f"{type(self).__name__} '{self.name}': expected inputs of shape {want}, got "
                             f"{shape_str(input_shape)}.")
        c = input_shape[-1]
        if c is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel axis must be known, got "
                             f"{shape_str(input_shape)}.")
        self.kernel = self.add_weight((*self.kernel_size, c, self.filters), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: c})
        self.compute_output_shape(input_shape)  # a too-small input fails now, with a clear message

    def _geometry(self, h, w):
        (kh, kw), (sh, sw), (dh, dw) = self._hw(self.kernel_size), self._hw(self.strides), self._hw(self.dilation_rate)
        ho, ph = out_size_and_pads(h, kh, sh, dh, "valid" if self.rank == 1 else self.padding)
        wo, pw = out_size_and_pads(w, kw, sw, dw, self.padding)
        return ho, wo, ph, pw

    def call(self, x, training=False):
        r"""im2col, then one GEMM: :math:`Z = \text{col}\,K_2 + b`, :math:`y = f(Z)`.

        Shapes: x (N, H, W, C) → padded (N, Hp, Wp, C) → col (N·Ho·Wo, kh·kw·C);
        K₂ = kernel reshaped to (kh·kw·C, F); Z (N·Ho·Wo, F) → y (N, Ho, Wo, F).
        Keeps ``col``, ``Z`` and ``y`` for backward (``col`` is a buffer reused from batch to batch).
        """
        x4 = x if self.rank == 2 else x[:, None]
        n, h, w, c = x4.shape
        (kh, kw), (sh, sw), (dh, dw) = self._hw(self.kernel_size), self._hw(self.strides), self._hw(self.dilation_rate)
        ho, wo, ph, pw = self._geometry(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': input {shape_str(x.shape)} is smaller than the "
                             f"kernel {self.kernel_size} with dilation {self.dilation_rate} (padding='{self.padding}').")
        xpad = pad_into(self._buffers, "xpad", x4, ph, pw)
        col = self._buffers.get("col", (n, ho, wo, kh, kw, c), x.dtype)
        im2col(xpad, kh, kw, sh, sw, dh, dw, ho, wo, out=col)  # col = the windows, copied once
        col2 = col.reshape(n * ho * wo, kh * kw * c)
        z = col2 @ self.kernel.value.reshape(kh * kw * c, self.filters)
        if self.use_bias:
            z += self.bias.value
        y = xp.maximum(z, 0, out=z) if self.activation is activations.relu else self.activation(z)
        self._col2, self._z, self._y = col2, z, y
        self._shapes = (x.shape, (n, h, w, c), (n, ho, wo, kh, kw, c), ph, pw)
        return y.reshape(n, ho, wo, self.filters) if self.rank == 2 else y.reshape(n, wo, self.filters)

    def backward(self, dy):
        r"""Backprop through :math:`y = f(Z)`, :math:`Z = \text{col}\,K_2 + b`, then col2im:

        .. math:: dZ = dy \odot f'(Z),\quad dK_2 = \text{col}^\top dZ,\quad db = \textstyle\sum_{\text{rows}} dZ,
                  \quad d\text{col} = dZ\,K_2^\top,\quad dx = \text{col2im}(d\text{col})

        Shapes: dZ (N·Ho·Wo, F); dK₂ (kh·kw·C, F) = kernel.grad reshaped; db (F,); dcol (N·Ho·Wo, kh·kw·C);
        col2im adds every window entry back onto the pixel it was copied from (kh·kw slice-adds), and the
        padding is cut off: dx (N, H, W, C).
        """
        dy2 = dy.reshape(-1, self.filters)
        return self.backward_from_logits(activations.backward(self.activation, self._z, self._y, dy2))

    def backward_from_logits(self, dz):
        """The same backward from :math:`dZ` (reshaped to (N·Ho·Wo, F))."""
        dz = dz.reshape(-1, self.filters)
        x_shape, (n, h, w, c), win_shape, (pt, pb), (pl, pr) = self._shapes
        xp.matmul(self._col2.T, dz, out=self.kernel.grad.reshape(-1, self.filters))
        if self.use_bias:
            dz.sum(axis=0, out=self.bias.grad)
        if not self.compute_input_gradient:
            return None
        dcol = (dz @ self.kernel.value.reshape(-1, self.filters).T).reshape(win_shape)
        (sh, sw), (dh, dw) = self._hw(self.strides), self._hw(self.dilation_rate)
        dxpad = xp.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dcol.dtype)
        col2im_add(dxpad, dcol, sh, sw, dh, dw)
        dx = dxpad[:, pt:pt + h, pl:pl + w, :]
        return dx.reshape(x_shape) if pt + pb + pl + pr == 0 else xp.ascontiguousarray(dx).reshape(x_shape)

    def compute_output_shape(self, input_shape):
        if self.rank == 2:
            n, h, w, _ = input_shape
        else:
            (n, w, _), h = input_shape, 1
        ho, wo, _, _ = self._geometry(h, w)
        if (ho is not None and ho < 1) or (wo is not None and wo < 1):
            raise ValueError(f"{type(self).__name__} '{self.name}': input {shape_str(input_shape)} is smaller than "
                             f"the kernel {self.kernel_size} with dilation {self.dilation_rate} "
                             f"(padding='{self.padding}').")
        return (n, ho, wo, self.filters) if self.rank == 2 else (n, wo, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias}


class Conv2D(Conv):
    r"""2D convolution over images (N, H, W, C) → (N, Ho, Wo, filters); kernel (kh, kw, C, filters).

    ``padding="same"`` keeps :math:`\lceil H/s\rceil` rows, padding as TensorFlow (the odd pixel at the
    bottom/right). Each output pixel sees a kh×kw window: :math:`kh·kw·C·F + F` weights in all, whatever the
    image size.
    """

    rank = 2


class Conv1D(Conv):
    r"""1D convolution over sequences (N, L, C) → (N, Lo, filters); kernel (k, C, filters).

    ``padding="causal"`` pads :math:`(k-1)d` steps on the left only, so output :math:`t` sees inputs up to
    :math:`t` (time series).
    """

    rank = 1
    paddings = ("valid", "same", "causal")
