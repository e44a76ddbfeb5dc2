r"""BatchNormalization and LayerNormalization: standardise, then scale by γ and shift by β.

Both compute :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}` and :math:`y = \gamma \hat x + \beta`; they differ
in *which* values share a mean: BatchNormalization averages over the batch (and the image positions) for
each channel, LayerNormalization over the features of each sample.
"""
from __future__ import annotations

from tinynn import initializers, regularizers
from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer, shape_str


def standardize_backward(dy, xhat, inv_std, gamma, axes, m):
    r"""The full backward of :math:`y = \gamma \hat x + \beta`, :math:`\hat x = (x - \mu)\,s`,
    :math:`s = 1/\sqrt{\sigma^2 + \epsilon}`, where :math:`\mu` and :math:`\sigma^2` (biased) are taken over the
    ``m`` values along ``axes``, and *depend on x*:

    .. math:: d\hat x = dy\,\gamma,\qquad
              dx = \frac{s}{m}\Big(m\, d\hat x - \sum d\hat x - \hat x \sum d\hat x\,\hat x\Big)

    (sums over ``axes``, broadcast back). The first term is the direct path, the second comes through
    :math:`\mu`, the third through :math:`\sigma^2`. Shapes: dy, xhat, dx like x; inv_std, sums keep dims.
    """
    dxhat = dy * gamma if gamma is not None else dy
    s1 = dxhat.sum(axis=axes, keepdims=True)
    s2 = (dxhat * xhat).sum(axis=axes, keepdims=True)
    return (inv_std / m) * (m * dxhat - s1 - xhat * s2)


class _Normalization(Layer):
    def _init_params(self, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                     gamma_regularizer, beta_constraint, gamma_constraint):
        if beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': constraints are not implemented in tinynn.")
        if not epsilon > 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': epsilon must be > 0, got {epsilon!r}.")
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _axes(self, axis, ndim, input_shape):
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        out = []
        for a in axes:
            if not -ndim <= a < ndim or a % ndim == 0:
                raise ValueError(f"{type(self).__name__} '{self.name}': axis {a} is not a feature axis of inputs "
                                 f"of shape {shape_str(input_shape)} (axis 0 is the batch).")
            if input_shape[a] is None:
                raise ValueError(f"{type(self).__name__} '{self.name}': axis {a} of the input must be known, got "
                                 f"{shape_str(input_shape)}.")
            out.append(a % ndim)
        return tuple(sorted(out))

    def _make_params(self, shape):
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer) if self.center else None

    def _affine(self, xhat):
        y = xhat * self.gamma.value.reshape(self._bshape) if self.scale else xhat.copy()
        if self.center:
            y += self.beta.value.reshape(self._bshape)
        return y

    def _param_grads(self, dy, xhat, axes):
        if self.scale:
            self.gamma.grad[...] = (dy * xhat).sum(axis=axes).reshape(self.gamma.shape)
        if self.center:
            self.beta.grad[...] = dy.sum(axis=axes).reshape(self.beta.shape)


class BatchNormalization(_Normalization):
    r"""Normalises each channel (``axis``) with the statistics of the batch while training, and with moving
    averages of them at inference (``predict``, ``evaluate``, the validation inside ``fit``).

    Moving statistics (non-trainable weights), after each training batch:
    :math:`\bar\mu \leftarrow m\,\bar\mu + (1-m)\,\mu_B`, :math:`\bar\sigma^2 \leftarrow m\,\bar\sigma^2 +
    (1-m)\,\sigma^2_B` with ``momentum`` m (biased batch variance, as Keras).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if synchronized:
            raise NotImplementedError(f"BatchNormalization '{self.name}': synchronized=True (several devices) is "
                                      "not implemented in tinynn.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization '{self.name}': momentum must be in [0, 1], got {momentum!r}.")
        self.axis, self.momentum = axis, float(momentum)
        self._init_params(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        self._feature_axes = self._axes(self.axis, ndim, input_shape)
        shape = tuple(input_shape[a] for a in self._feature_axes)
        self._reduce = tuple(a for a in range(ndim) if a not in self._feature_axes)
        self._bshape = tuple(input_shape[a] if a in self._feature_axes else 1 for a in range(ndim))
        self._make_params(shape)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)
        self.input_spec = InputSpec(ndim=ndim, axes={a: input_shape[a] for a in self._feature_axes})

    def call(self, x, training=False):
        r"""Training: :math:`\mu_B, \sigma^2_B` = mean and (biased) variance over every axis but ``axis``
        (N·H·W values per channel for images); inference: the moving averages instead. Then
        :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}`, :math:`y = \gamma \hat x + \beta`.

        Shapes: x, y (N, ..., C); μ, σ², γ, β (C,). A frozen layer (``trainable=False``) always runs in
        inference mode, as in Keras.
        """
        self._training = bool(training) and self.trainable
        if self._training:
            mean = x.mean(axis=self._reduce, keepdims=True)
            xc = x - mean
            var = (xc * xc).mean(axis=self._reduce, keepdims=True)
            m = self.momentum
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, var)):
                moving.value *= m
                moving.value += (1.0 - m) * batch.reshape(moving.shape).astype(moving.value.dtype)
        else:
            xc = x - self.moving_mean.value.reshape(self._bshape).astype(x.dtype)
            var = self.moving_variance.value.reshape(self._bshape).astype(x.dtype)
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self._xhat = xc * self._inv_std
        return self._affine(self._xhat)

    def backward(self, dy):
        r"""Training: the full backward through the batch statistics (:func:`standardize_backward`, m = N·H·W).
        Inference: the statistics are constants, so :math:`dx = dy\,\gamma / \sqrt{\bar\sigma^2 + \epsilon}`.
        Both: :math:`d\gamma = \sum dy\,\hat x`, :math:`d\beta = \sum dy` over every axis but ``axis``.
        """
        self._param_grads(dy, self._xhat, self._reduce)
        gamma = self.gamma.value.reshape(self._bshape) if self.scale else None
        if not self._training:
            return dy * (self._inv_std * gamma if gamma is not None else self._inv_std)
        m = self._xhat.size // self._inv_std.size
        return standardize_backward(dy, self._xhat, self._inv_std, gamma, self._reduce, m)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}


class LayerNormalization(_Normalization):
    r"""Normalises each sample over ``axis`` (default the last): no batch statistics, so training and
    inference compute the same thing."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if rms_scaling:
            raise NotImplementedError(f"LayerNormalization '{self.name}': rms_scaling=True is not implemented.")
        self.axis = axis
        self._init_params(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        self._norm_axes = self._axes(self.axis, ndim, input_shape)
        self._other = tuple(a for a in range(ndim) if a not in self._norm_axes)
        self._bshape = tuple(input_shape[a] if a in self._norm_axes else 1 for a in range(ndim))
        self._make_params(tuple(input_shape[a] for a in self._norm_axes))
        self.input_spec = InputSpec(ndim=ndim, axes={a: input_shape[a] for a in self._norm_axes})

    def call(self, x, training=False):
        r""":math:`\mu, \sigma^2` over ``axis`` for each sample, :math:`\hat x = (x-\mu)/\sqrt{\sigma^2+\epsilon}`,
        :math:`y = \gamma\hat x + \beta`. Shapes: x, y (N, ..., D); γ, β the sizes of ``axis``."""
        mean = x.mean(axis=self._norm_axes, keepdims=True)
        xc = x - mean
        self._inv_std = 1.0 / xp.sqrt((xc * xc).mean(axis=self._norm_axes, keepdims=True) + self.epsilon)
        self._xhat = xc * self._inv_std
        return self._affine(self._xhat)

    def backward(self, dy):
        r""":func:`standardize_backward` per sample (sums over ``axis``, m = the number of normalised values);
        :math:`d\gamma = \sum dy\,\hat x`, :math:`d\beta = \sum dy` over the batch (and the other axes)."""
        self._param_grads(dy, self._xhat, self._other)
        gamma = self.gamma.value.reshape(self._bshape) if self.scale else None
        m = self._xhat.size // self._inv_std.size
        return standardize_backward(dy, self._xhat, self._inv_std, gamma, self._norm_axes, m)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}
