r"""im2col and col2im: a convolution (or a pooling) as one matrix product over image windows.

For an input ``x`` (N, H, W, C) padded to ``xp_`` (N, Hp, Wp, C), the window of output pixel
:math:`(i, j)` and kernel tap :math:`(a, b)` reads

.. math:: \text{win}[n, i, j, a, b, c] = x_p[n,\; i s_h + a d_h,\; j s_w + b d_w,\; c]

(strides :math:`s`, dilation :math:`d`). :func:`windows` returns that 6-axis array as a *view* of ``xp_``
(no copy: only the strides change). Copying it into a matrix of shape (N·Ho·Wo, kh·kw·C) is im2col; the
convolution is then one GEMM with the kernel reshaped to (kh·kw·C, F).

col2im is the transpose of im2col: every entry of a window gradient is *added* back to the pixel it was
read from (overlapping windows add up). :func:`col2im_add` does it with kh·kw strided slice-adds.

Padding follows TensorFlow/Keras: ``"valid"`` adds none, ``"same"`` gives :math:`\lceil H/s \rceil` outputs
and puts the odd extra pixel at the bottom/right; ``"causal"`` (1D) pads only on the left.
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp


def out_size_and_pads(size, k, stride, dilation, padding):
    r"""Output length and (before, after) padding of one spatial axis.

    Effective kernel :math:`e = (k - 1) d + 1`. ``valid``: :math:`\lfloor (H - e)/s \rfloor + 1`, no padding.
    ``same``: :math:`\lceil H/s \rceil` outputs, total padding :math:`\max((\lceil H/s\rceil - 1)s + e - H, 0)`,
    the smaller half before. ``causal``: :math:`e - 1` before, none after, then like ``valid``.

    >>> out_size_and_pads(28, 3, 1, 1, "valid"), out_size_and_pads(5, 3, 2, 1, "same")
    ((26, (0, 0)), (3, (1, 1)))
    >>> out_size_and_pads(6, 3, 2, 1, "same")   # TensorFlow: the extra pixel goes after
    (3, (0, 1))
    """
    e = (k - 1) * dilation + 1
    if size is None:
        return None, None
    if padding == "valid":
        out, pads = (size - e) // stride + 1, (0, 0)
    elif padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + e - size, 0)
        pads = (total // 2, total - total // 2)
    elif padding == "causal":
        pads = (e - 1, 0)
        out = (size + e - 1 - e) // stride + 1
    else:
        raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}.")
    return out, pads


def windows(xpad, kh, kw, sh, sw, dh, dw, ho, wo):
    r"""The view ``win[n, i, j, a, b, c] = xpad[n, i*sh + a*dh, j*sw + b*dw, c]``, shape (N, Ho, Wo, kh, kw, C)."""
    n, _, _, c = xpad.shape
    s_n, s_h, s_w, s_c = xpad.strides
    return backend.as_strided(xpad, (n, ho, wo, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))


def im2col(xpad, kh, kw, sh, sw, dh, dw, ho, wo, out):
    r"""Copy the windows into ``out`` (N, Ho, Wo, kh, kw, C): ``out[...] = windows(...)``, the matrix a convolution
    multiplies once its first three and last three axes are merged. Same numbers either way; how is chosen by
    speed (measured, batch 128, one thread): one strided copy for C ≥ 4 (C = 32: 2 ms against 16 ms tap by
    tap), kh·kw slice copies for fewer channels (C = 1: 0.9 ms against 11 ms, the copy's inner loop is too short).
    """
    c = xpad.shape[-1]
    if c >= 4:
        out[...] = windows(xpad, kh, kw, sh, sw, dh, dw, ho, wo)
        return out
    for a in range(kh):
        for b in range(kw):
            out[:, :, :, a, b, :] = xpad[:, a * dh:a * dh + sh * (ho - 1) + 1:sh, b * dw:b * dw + sw * (wo - 1) + 1:sw, :]
    return out


def col2im_add(dxpad, dwin, sh, sw, dh, dw):
    r"""The transpose of :func:`windows`: ``dxpad[n, i*sh + a*dh, j*sw + b*dw, c] += dwin[n, i, j, a, b, c]``
    for every window entry, as kh·kw strided slice-adds of shape (N, Ho, Wo, C). ``dxpad`` must start at zero."""
    _, ho, wo, kh, kw, _ = dwin.shape
    for a in range(kh):
        for b in range(kw):
            dxpad[:, a * dh:a * dh + sh * (ho - 1) + 1:sh, b * dw:b * dw + sw * (wo - 1) + 1:sw, :] += dwin[:, :, :, a, b, :]
    return dxpad


class Buffers:
    """Arrays kept between batches (the padded input, the im2col matrix, ...), re-created only when the shape
    or dtype asked for changes: a layer allocates them once per batch size, not once per batch."""

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype, zero=False):
        key = (name, backend.backend())  # a switch to the GPU must not reuse a CPU array
        a = self._arrays.get(key)
        if a is None or a.shape != tuple(shape) or a.dtype != dtype:
            a = xp.zeros(shape, dtype=dtype) if zero else xp.empty(shape, dtype=dtype)
            self._arrays[key] = a
        elif zero:
            a.fill(0)
        return a

    def clear(self):
        self._arrays.clear()


def pad_into(buffers, name, x, pads_h, pads_w, fill=0.0):
    """``x`` (N, H, W, C) padded by ``pads_h``/``pads_w`` (before, after) with ``fill``; ``x`` itself when no
    padding is needed. The padded array is a reused buffer whose border is refilled only when it is new."""
    (t, b), (l, r) = pads_h, pads_w
    if t == b == l == r == 0:
        return x
    n, h, w, c = x.shape
    shape = (n, h + t + b, w + l + r, c)
    key = (name, fill)
    old = buffers._arrays.get((key, backend.backend()))
    xpad = buffers.get(key, shape, x.dtype)
    if xpad is not old:
        xpad.fill(fill)
    xpad[:, t:t + h, l:l + w, :] = x
    return xpad
