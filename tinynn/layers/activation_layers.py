r"""Activation layers with options (Keras' ``layers.Softmax``, ``ReLU``, ``LeakyReLU``, ``ELU``).

``Activation("relu")`` applies a fixed function; these layers carry the function's parameters (the softmax
axis and mask, the leaky slope, ...). Each has no weights: ``call`` keeps what ``backward`` needs and
``backward`` returns :math:`\partial L/\partial x` from :math:`\partial L/\partial y` (same shape).

>>> from tinynn.backend import xp
>>> ReLU(max_value=10, negative_slope=0.5)(xp.array([-10.0, -5.0, 0.0, 5.0, 10.0])).tolist()
[-5.0, -2.5, 0.0, 5.0, 10.0]
"""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer

__all__ = ["Softmax", "ReLU", "LeakyReLU", "ELU"]


class _Elementwise(Layer):
    """A weightless layer that accepts inputs of any shape and passes masks on."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.input_spec = InputSpec()  # any shape, like Keras' activation layers

    def _config(self, **options):
        return {**Layer.get_config(self), **options}


class Softmax(_Elementwise):
    r"""Softmax along ``axis`` (an int or a tuple of ints), with Keras' optional boolean ``mask``
    (True = keep): a masked input gets :math:`-10^9` added (:math:`-3\cdot 10^4` in float16), so its
    probability is 0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs, mask=None):
        r""":math:`y = e^{x - m} / \sum_{axis} e^{x - m}` with :math:`m = \max_{axis} x` (for stability);
        with a mask, :math:`x` first becomes :math:`x + (1 - \text{mask})\cdot(-10^9)`."""
        x = inputs
        if mask is not None:
            big = -3e4 if x.dtype == xp.float16 else -1e9
            x = x + (1.0 - xp.asarray(mask).astype(x.dtype)) * big
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self._y = e / e.sum(axis=self.axis, keepdims=True)
        return self._y

    def backward(self, dy):
        r""":math:`dx = y \odot (dy - \sum_{axis} dy \odot y)` (the softmax Jacobian
        :math:`\mathrm{diag}(y) - y y^\top` applied to ``dy``); shapes: all as the input. A masked entry has
        :math:`y \approx 0`, so its gradient is 0."""
        y = self._y
        return y * (dy - (dy * y).sum(axis=self.axis, keepdims=True))

    def get_config(self):
        return self._config(axis=list(self.axis) if isinstance(self.axis, tuple) else self.axis)


class ReLU(_Elementwise):
    r"""Keras' ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:
    :math:`f(x) = \min(x, \text{max\_value})` for :math:`x > \text{threshold}`, else
    :math:`\text{negative\_slope}\,(x - \text{threshold})`."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("max_value", max_value), ("negative_slope", negative_slope), ("threshold", threshold)):
            if (value is None and arg != "max_value") or (value is not None and value < 0):
                raise ValueError(f"ReLU: {arg} must be a number >= 0{' or None' if arg == 'max_value' else ''}, "
                                 f"got {value!r}.")
        self.max_value, self.negative_slope, self.threshold = max_value, float(negative_slope), float(threshold)

    def call(self, inputs):
        r""":math:`y = x` above the threshold (at most ``max_value``), :math:`\text{negative\_slope}\,(x - t)`
        at or below it."""
        x = inputs
        self._above = x > self.threshold
        y = xp.where(self._above, x, self.negative_slope * (x - self.threshold))
        if self.max_value is not None:
            self._clipped = y > self.max_value
            y = xp.where(self._clipped, xp.asarray(self.max_value, dtype=x.dtype), y)
        return y.astype(x.dtype, copy=False)

    def backward(self, dy):
        r""":math:`dx = dy` where :math:`\text{threshold} < x < \text{max\_value}`, :math:`0` where
        :math:`x \ge \text{max\_value}`, :math:`\text{negative\_slope}\cdot dy` where
        :math:`x \le \text{threshold}` (at the kinks: ``negative_slope`` at the threshold, 1 at ``max_value``)."""
        slope = xp.where(self._above, 1.0, self.negative_slope).astype(dy.dtype, copy=False)
        if self.max_value is not None:
            slope = xp.where(self._clipped, 0.0, slope).astype(dy.dtype, copy=False)
        return dy * slope

    def get_config(self):
        return self._config(max_value=self.max_value, negative_slope=self.negative_slope, threshold=self.threshold)


class LeakyReLU(_Elementwise):
    r"""Keras' ``LeakyReLU(negative_slope=0.3)``: :math:`f(x) = x` for :math:`x > 0`, else :math:`\alpha x`."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be a number >= 0, got {negative_slope!r}.")
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        r""":math:`y = x` where :math:`x > 0`, else :math:`\alpha x`."""
        self._positive = inputs > 0
        return xp.where(self._positive, inputs, inputs * self.negative_slope)

    def backward(self, dy):
        r""":math:`dx = dy` where :math:`x > 0`, else :math:`\alpha\,dy`."""
        return xp.where(self._positive, dy, dy * self.negative_slope)

    def get_config(self):
        return self._config(negative_slope=self.negative_slope)


class ELU(_Elementwise):
    r"""Keras' ``ELU(alpha=1.0)``: :math:`f(x) = x` for :math:`x > 0`, else :math:`\alpha(e^x - 1)`."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        r""":math:`y = x` where :math:`x > 0`, else :math:`\alpha(e^x - 1)` (``expm1`` of :math:`\min(x, 0)`:
        accurate near 0, no overflow for large :math:`x`)."""
        self._positive = inputs > 0
        self._y = xp.where(self._positive, inputs, self.alpha * xp.expm1(xp.minimum(inputs, 0)))
        return self._y

    def backward(self, dy):
        r""":math:`dx = dy` where :math:`x > 0`, else :math:`dy\,\alpha e^x = dy\,(y + \alpha)`."""
        return xp.where(self._positive, dy, dy * (self._y + self.alpha))

    def get_config(self):
        return self._config(alpha=self.alpha)
