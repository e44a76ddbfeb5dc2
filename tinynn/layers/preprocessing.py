r"""Image preprocessing layers: Rescaling, and the augmentations RandomFlip and RandomTranslation.

The augmentations change the images only while training (``fit``); ``predict``/``evaluate`` see the images
unchanged. Each draws from its own generator when given ``seed=`` (else from the seeded backend generator),
so a run can be repeated. All three are linear in x, so their backward applies the transposed map to dy.
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp
from tinynn.layers.base import Layer, shape_str


class Rescaling(Layer):
    r""":math:`y = x \cdot \text{scale} + \text{offset}` (e.g. ``Rescaling(1/255)`` turns bytes into [0, 1]);
    integer inputs become floats (``floatx``). Backward: :math:`dx = dy \cdot \text{scale}`."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x, training=False):
        if x.dtype.kind != "f":
            x = x.astype(self.dtype or backend.floatx())
        y = x * self.scale
        if self.offset:
            y += self.offset
        return y

    def backward(self, dy):
        return dy * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class _RandomImageLayer(Layer):
    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': only data_format='channels_last' is "
                                      f"implemented, got {data_format!r}.")
        self.seed = seed
        self._rng = None

    def _generator(self):
        if self._rng is None:
            self._rng = backend.rng() if self.seed is None else xp.random.default_rng(self.seed)
        return self._rng

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a batch of images (N, H, W, C), got "
                             f"{shape_str(input_shape)}.")


class RandomFlip(_RandomImageLayer):
    r"""While training, mirrors each image with probability 1/2 along each axis of ``mode``
    (``"horizontal"``: left↔right, ``"vertical"``: top↔bottom, ``"horizontal_and_vertical"``: both, drawn
    independently). :math:`y_n = F_n x_n` with :math:`F_n` a flip or the identity; backward
    :math:`dx_n = F_n\, dy_n` (a flip is its own transpose)."""

    _MODES = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (1, 2)}

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip '{self.name}': mode must be one of {tuple(self._MODES)}, got {mode!r}.")
        self.mode = mode

    def _apply(self, a):
        for axis, flip in zip(self._MODES[self.mode], self._flips):
            a = xp.where(flip[:, None, None, None], xp.flip(a, axis=axis), a)
        return a

    def call(self, x, training=False):
        if not training:
            self._flips = None
            return x
        g = self._generator()
        self._flips = [g.random(x.shape[0]) < 0.5 for _ in self._MODES[self.mode]]
        return self._apply(x)

    def backward(self, dy):
        return dy if self._flips is None else self._apply(dy)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}


def _factor_range(value, name, layer):
    lo, hi = (-value, value) if isinstance(value, (int, float)) else tuple(value)
    if not (-1 <= lo <= hi <= 1):
        raise ValueError(f"RandomTranslation '{layer.name}': {name} must be a fraction in [0, 1] or a pair "
                         f"(lower, upper) within [-1, 1], got {value!r}.")
    return float(lo), float(hi)


class RandomTranslation(_RandomImageLayer):
    r"""While training, shifts each image by a random fraction of its size: down by :math:`t_y = u\,H`,
    :math:`u \sim U(\text{height\_factor})`, right by :math:`t_x` likewise (negative: up/left).

    Each shift is a matrix: :math:`y_n = A_n\, x_n\, B_n^\top` (per channel), where row :math:`r` of
    :math:`A_n` (H×H) holds the bilinear weights :math:`1-f, f` of the source rows :math:`\lfloor r - t_y\rfloor`
    and :math:`\lfloor r - t_y\rfloor + 1` (``fill_mode`` says where a source row outside the image comes
    from: ``reflect`` d c b a|a b c d, ``wrap``, ``nearest``; ``constant`` gives ``fill_value``).
    Backward: :math:`dx_n = A_n^\top\, dy_n\, B_n`.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if fill_mode not in ("reflect", "wrap", "nearest", "constant"):
            raise ValueError(f"RandomTranslation '{self.name}': fill_mode must be 'reflect', 'wrap', 'nearest' "
                             f"or 'constant', got {fill_mode!r}.")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomTranslation '{self.name}': interpolation must be 'bilinear' or 'nearest', "
                             f"got {interpolation!r}.")
        self.height_factor, self.width_factor = height_factor, width_factor
        self._hr = _factor_range(height_factor, "height_factor", self)
        self._wr = _factor_range(width_factor, "width_factor", self)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def shift_matrix(self, shifts, size, dtype):
        r"""(N, size, size) matrices :math:`A_n` moving a length-``size`` axis by ``shifts`` (N,) pixels."""
        r = xp.arange(size)
        src = r[None, :] - shifts[:, None]                       # (N, size) source coordinate of each output
        if self.interpolation == "nearest":
            src = xp.floor(src + 0.5)
        lo = xp.floor(src)
        frac = (src - lo).astype(dtype)
        lo = lo.astype("int64")
        mat = xp.zeros((shifts.shape[0], size, size), dtype=dtype)
        cols = r[None, None, :]
        for k, w in ((lo, 1 - frac), (lo + 1, frac)):
            if self.fill_mode == "reflect":
                k = k % (2 * size)
                k = xp.where(k >= size, 2 * size - 1 - k, k)
            elif self.fill_mode == "wrap":
                k = k % size
            elif self.fill_mode == "nearest":
                k = xp.clip(k, 0, size - 1)
            else:  # constant: a source outside the image contributes fill_value, not a pixel
                w = xp.where((k >= 0) & (k < size), w, 0)
            mat += w[:, :, None] * (k[:, :, None] == cols)
        return mat

    def call(self, x, training=False):
        if not training:
            self._mats = None
            return x
        n, h, w, _ = x.shape
        g = self._generator()
        ty = (self._hr[0] + (self._hr[1] - self._hr[0]) * g.random(n)) * h
        tx = (self._wr[0] + (self._wr[1] - self._wr[0]) * g.random(n)) * w
        dtype = x.dtype if x.dtype.kind == "f" else backend.floatx()
        a, b = self.shift_matrix(ty, h, dtype), self.shift_matrix(tx, w, dtype)
        self._mats = (a, b)
        y = xp.einsum("nhk,nkwc->nhwc", a, x.astype(dtype, copy=False))
        y = xp.einsum("nwk,nhkc->nhwc", b, y)
        if self.fill_mode == "constant" and self.fill_value:
            inside = a.sum(axis=2)[:, :, None] * b.sum(axis=2)[:, None, :]   # weight that came from the image
            y += (self.fill_value * (1 - inside))[..., None]
        return y

    def backward(self, dy):
        if self._mats is None:
            return dy
        a, b = self._mats
        dx = xp.einsum("nhk,nhwc->nkwc", a, dy)
        return xp.einsum("nwk,nhwc->nhkc", b, dx)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor,
                "fill_mode": self.fill_mode, "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}
