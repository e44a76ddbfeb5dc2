r"""Losses with Keras' names, each with its value *and* its gradient.

A loss separates two things (Keras hides the second):

* ``call(y_true, y_pred)`` — the loss of every sample, :math:`l_i`, shape ``y_pred.shape[:-1]``
  (mean over the last axis for MSE, MAE, Huber and BCE; sum over the classes for cross-entropy);
* ``gradient(y_true, y_pred)`` — :math:`\partial l_i/\partial \hat y_i`, the shape of ``y_pred``.

Calling the loss reduces it to one number, as Keras does:
:math:`L = \frac{1}{N}\sum_i w_i\, l_i` (``reduction='sum_over_batch_size'``: divided by the number
of samples :math:`N`, not by :math:`\sum w_i`), and ``backward`` is its gradient
:math:`\partial L/\partial \hat y_i = \frac{w_i}{N}\,\partial l_i/\partial \hat y_i`.

Softmax + categorical cross-entropy and sigmoid + binary cross-entropy have the short fused gradient
:math:`\partial L/\partial z = w_i(\hat y - y)/N` with respect to the *logits* :math:`z`
(``logits_backward``); a model uses it when its last layer ends in the matching activation.

>>> from tinynn.backend import xp
>>> round(BinaryCrossentropy()(xp.array([[0., 1.], [0., 0.]]), xp.array([[0.6, 0.4], [0.4, 0.6]])), 3)
0.815
>>> round(CategoricalCrossentropy()([[0, 1, 0], [0, 0, 1]], xp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 3)
1.177
>>> get('mse')
<MeanSquaredError name='mean_squared_error' reduction='sum_over_batch_size'>
"""
from __future__ import annotations

import math

from tinynn import backend
from tinynn.backend import xp

__all__ = [
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "mean_squared_error", "mse",
    "mean_absolute_error", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "get", "serialize",
]

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight")


def _as_array(a, dtype=None):
    if isinstance(a, xp.ndarray) and (dtype is None or a.dtype == dtype):  # the per-batch fast path
        return a
    a = getattr(a, "value", a)
    if dtype is None and not hasattr(a, "dtype"):
        dtype = backend.floatx()
    return backend.asarray(a, dtype=dtype)


def _shape(a):
    return tuple(a.shape)


class Loss:
    r"""Base class of the losses (Keras' ``keras.losses.Loss``).

    Subclass it and define ``call(y_true, y_pred)`` (the per-sample losses, as in Keras); define
    ``gradient`` too for a hand-written backward, else :mod:`tinynn.autograd` derives it.

    Args:
        reduction: ``'sum_over_batch_size'`` (default; :math:`\sum_i w_i l_i / N`), ``'sum'``,
            ``'mean_with_sample_weight'`` (:math:`\sum_i w_i l_i / \sum_i w_i`) or ``'none'``
            (the weighted per-sample array); ``'mean'`` is an alias of the default.
        name: the loss' name (default: its Keras name, e.g. ``'mean_squared_error'``).
        dtype: compute in this dtype (default: the dtype of ``y_pred``).
    """

    #: the activation whose Jacobian ``logits_backward`` folds in ('softmax', 'sigmoid' or None)
    fused_activation = None
    #: the built-in gradients return a new array that ``backward`` may scale in place
    _fresh_gradient = False
    _default_name = "loss"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        if reduction is None:
            reduction = "none"
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}; expected one of {REDUCTIONS}.")
        self.reduction = reduction
        self.name = name or self._default_name
        self.dtype = dtype

    # --- what a subclass defines ------------------------------------------------------------
    def call(self, y_true, y_pred):
        """The per-sample losses :math:`l_i`, shape ``y_pred.shape[:-1]``."""
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred).")

    def gradient(self, y_true, y_pred):
        r""":math:`\partial l_i/\partial \hat y_i`, the shape of ``y_pred`` (unreduced).

        The default derives it from ``call`` with :mod:`tinynn.autograd`.
        """
        from tinynn import autograd  # noqa: PLC0415 - optional, imported on first use

        return autograd.loss_gradient(self, y_true, y_pred)

    def validate_targets(self, y_true, num_outputs):
        """Check all the targets once before training (value ranges); the default checks nothing."""

    # --- reduction ----------------------------------------------------------------------------
    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss :math:`L` as a Python float (an array for ``reduction='none'``)."""
        losses = self.call(y_true, y_pred)
        return self._reduce(losses, sample_weight, self._mask(y_true, losses))

    def backward(self, y_true, y_pred, sample_weight=None):
        r""":math:`\partial L/\partial \hat y = \frac{w_i}{N}\,\partial l_i/\partial \hat y_i` (for the
        default reduction), the shape of ``y_pred``."""
        if type(self).__call__ is not Loss.__call__ and type(self).call is Loss.call:
            # a loss written as __call__ returning the reduced scalar (the tutorials' CustomLoss)
            from tinynn import autograd  # noqa: PLC0415

            extra = () if sample_weight is None else (sample_weight,)
            return autograd.loss_backward(self, y_true, y_pred, *extra)
        g = self.gradient(y_true, y_pred)
        n_axes = g.ndim - 1 if g.ndim else 0
        return self._scale(g, g.shape[:n_axes], sample_weight, self._mask(y_true, None), 1.0)

    def logits_backward(self, y_true, y_pred, sample_weight=None):
        r""":math:`\partial L/\partial z` for ``y_pred`` = activation(z), skipping the activation's Jacobian
        (only for losses with a ``fused_activation``)."""
        raise NotImplementedError(
            f"{type(self).__name__} '{self.name}' has no fused gradient (fused_activation is None)."
        )

    def _mask(self, y_true, losses):
        """Which per-sample losses count (None: all). Sparse CCE with ``ignore_class`` overrides it."""
        return None

    def _weights(self, sample_weight, loss_shape, dtype):
        w = _as_array(sample_weight)
        if w.dtype != dtype:
            w = w.astype(dtype)
        if w.ndim == 0 or _shape(w) == loss_shape:
            return w
        n = loss_shape[0] if loss_shape else 1
        if w.size == n and len(loss_shape) >= 1:
            return w.reshape((n,) + (1,) * (len(loss_shape) - 1))
        raise ValueError(
            f"Loss '{self.name}': sample_weight has shape {_shape(w)}, expected ({n},) — one weight per sample "
            f"— or the per-sample loss shape {loss_shape}."
        )

    def _divisor(self, loss_shape, w, mask):
        if self.reduction in ("sum", "none"):
            return 1.0
        if mask is not None:
            if self.reduction == "mean_with_sample_weight" and w is not None:
                return float((xp.broadcast_to(w, mask.shape) * mask).sum())
            return float(mask.sum())
        if self.reduction == "mean_with_sample_weight" and w is not None:
            return float(xp.broadcast_to(w, loss_shape).sum())
        return float(max(math.prod(loss_shape), 1))

    def _reduce(self, losses, sample_weight, mask=None):
        losses = _as_array(losses)
        shape = _shape(losses)
        w = None if sample_weight is None else self._weights(sample_weight, shape, losses.dtype)
        if w is not None:
            losses = losses * w
        if mask is not None:
            losses = losses * mask
        if self.reduction == "none":
            return losses
        total = float(losses.sum())
        d = self._divisor(shape, w, mask)
        return total / d if d else 0.0

    def _scale(self, g, loss_shape, sample_weight, mask, extra):
        """``g * w / divisor * extra`` with ``w`` broadcast along the last axis."""
        w = None if sample_weight is None else self._weights(sample_weight, loss_shape, g.dtype)
        d = self._divisor(loss_shape, w, mask)
        s = extra / d if d else 0.0
        if not self._fresh_gradient:
            g = g.copy()
        if w is None and mask is None:
            if s != 1.0:
                g *= s
            return g
        f = w if w is not None else 1.0
        if mask is not None:
            f = f * mask
        f = f * s
        g *= f[..., None] if getattr(f, "ndim", 0) else f
        return g

    # --- helpers for subclasses -------------------------------------------------------------
    def _prepare(self, y_true, y_pred):
        """Both as arrays of ``y_pred``'s float dtype; ``y_true`` (N,) vs ``y_pred`` (N, 1) is reshaped."""
        y_pred = _as_array(y_pred, self.dtype)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(backend.floatx())
        y_true = _as_array(y_true)
        if y_true.dtype != y_pred.dtype:
            y_true = y_true.astype(y_pred.dtype)
        if _shape(y_true) != _shape(y_pred):
            if y_true.size == y_pred.size and (
                _shape(y_true) == _shape(y_pred)[:-1] and y_pred.shape[-1] == 1
                or _shape(y_pred) == _shape(y_true)[:-1] and y_true.shape[-1] == 1
            ):
                y_true = y_true.reshape(y_pred.shape)
            else:
                raise ValueError(self._shape_message(y_true, y_pred))
        return y_true, y_pred

    def _shape_message(self, y_true, y_pred):
        return (f"{type(self).__name__} '{self.name}': y_true has shape {_shape(y_true)} but y_pred has shape "
                f"{_shape(y_pred)}; they must match.")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """Wraps a plain function ``fn(y_true, y_pred, **kwargs)`` (per-sample losses) as a :class:`Loss`;
    its gradient comes from :mod:`tinynn.autograd`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", "loss"), dtype=dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        # arrays (and autograd's tensors) pass through untouched; lists become arrays
        if not hasattr(y_pred, "shape"):
            y_pred = _as_array(y_pred, self.dtype)
        if not hasattr(y_true, "shape"):
            y_true = _as_array(y_true)
        dtype = getattr(y_pred, "dtype", None)
        if hasattr(y_true, "astype") and dtype is not None and getattr(dtype, "kind", "") == "f" and y_true.dtype != dtype:
            y_true = y_true.astype(dtype)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self.fn_kwargs}


# --- regression ------------------------------------------------------------------------------
class MeanSquaredError(Loss):
    r""":math:`l_i = \frac{1}{D}\sum_j (\hat y_{ij} - y_{ij})^2`, gradient
    :math:`\frac{2}{D}(\hat y_{ij} - y_{ij})`. Shapes: y_true, y_pred (N, D) → (N,)."""

    _default_name = "mean_squared_error"
    _fresh_gradient = True

    def call(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        d = y_pred - y_true
        return (d * d).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        g = y_pred - y_true
        g *= 2.0 / (y_pred.shape[-1] if y_pred.ndim else 1)
        return g


class MeanAbsoluteError(Loss):
    r""":math:`l_i = \frac{1}{D}\sum_j |\hat y_{ij} - y_{ij}|`, gradient
    :math:`\frac{1}{D}\operatorname{sign}(\hat y_{ij} - y_{ij})` (0 at equality). (N, D) → (N,)."""

    _default_name = "mean_absolute_error"
    _fresh_gradient = True

    def call(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        return abs(y_pred - y_true).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        g = xp.sign(y_pred - y_true)
        g *= 1.0 / (y_pred.shape[-1] if y_pred.ndim else 1)
        return g


class Huber(Loss):
    r"""Quadratic near 0, linear far away. With :math:`e = \hat y - y`:

    .. math:: l_i = \frac{1}{D}\sum_j \begin{cases} \tfrac12 e_{ij}^2 & |e_{ij}| \le \delta \\
              \delta(|e_{ij}| - \tfrac12\delta) & \text{otherwise}\end{cases},\qquad
              \frac{\partial l_i}{\partial \hat y_{ij}} = \frac{1}{D}\operatorname{clip}(e_{ij}, -\delta, \delta)

    Shapes: (N, D) → (N,).
    """

    _default_name = "huber_loss"
    _fresh_gradient = True

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        e = abs(y_pred - y_true)
        d = self.delta
        return xp.where(e <= d, 0.5 * e * e, d * e - 0.5 * d * d).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        g = xp.clip(y_pred - y_true, -self.delta, self.delta)
        g *= 1.0 / (y_pred.shape[-1] if y_pred.ndim else 1)
        return g

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


# --- cross-entropies --------------------------------------------------------------------------
def _check_probabilities(loss, y, what="y_true"):
    lo, hi = float(y.min()), float(y.max())
    if lo < 0 or hi > 1:
        raise ValueError(
            f"{type(loss).__name__} '{loss.name}': {what} must lie in [0, 1], found values from {lo:g} to {hi:g}."
        )


class BinaryCrossentropy(Loss):
    r"""Binary cross-entropy for sigmoid outputs (one or several independent yes/no outputs):

    .. math:: l_i = -\frac{1}{D}\sum_j \big[y_{ij}\log p_{ij} + (1 - y_{ij})\log(1 - p_{ij})\big],
              \qquad p = \operatorname{clip}(\hat y, \epsilon, 1 - \epsilon)

    Gradient :math:`\partial l_i/\partial \hat y_{ij} = \frac{1}{D}\,\frac{p_{ij} - y_{ij}}{p_{ij}(1 - p_{ij})}`
    (0 where the clip is active). With ``from_logits=True`` ``y_pred`` holds logits :math:`z` and
    :math:`l = \frac1D\sum_j \max(z, 0) - zy + \log(1 + e^{-|z|})`, gradient :math:`(\sigma(z) - y)/D`.
    ``label_smoothing`` :math:`s` replaces :math:`y` by :math:`y(1 - s) + s/2`.
    Shapes: y_true, y_pred (N, D) (or y_true (N,) with y_pred (N, 1)) → (N,).
    """

    _default_name = "binary_crossentropy"
    _fresh_gradient = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if axis != -1:
            raise NotImplementedError(f"BinaryCrossentropy '{self.name}': only axis=-1 is supported, got {axis}.")
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis
        self.fused_activation = None if self.from_logits else "sigmoid"

    def _targets(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y_true, y_pred

    def call(self, y_true, y_pred):
        y, p = self._targets(y_true, y_pred)
        if self.from_logits:
            z = p
            return (xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-abs(z)))).mean(axis=-1)
        eps = backend.epsilon()
        p = xp.clip(p, eps, 1.0 - eps)
        return -(y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p)).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        y, p = self._targets(y_true, y_pred)
        inv_d = 1.0 / (p.shape[-1] if p.ndim else 1)
        if self.from_logits:
            g = 0.5 * (xp.tanh(0.5 * p) + 1.0)  # sigmoid(z), overflow-free
            g -= y
        else:
            eps = backend.epsilon()
            inside = (p >= eps) & (p <= 1.0 - eps)
            pc = xp.clip(p, eps, 1.0 - eps)
            g = (pc - y) / (pc * (1.0 - pc))
            g *= inside
        g *= inv_d
        return g

    def logits_backward(self, y_true, y_pred, sample_weight=None):
        r"""Fused sigmoid + BCE: :math:`\partial L/\partial z_{ij} = \frac{w_i}{N D}(\hat y_{ij} - y_{ij})`
        where :math:`\hat y = \sigma(z)`. Shapes: (N, D) → (N, D)."""
        if self.fused_activation is None:
            return super().logits_backward(y_true, y_pred, sample_weight)
        y, p = self._targets(y_true, y_pred)
        dz = p - y
        return self._scale(dz, _shape(dz)[:-1], sample_weight, None, 1.0 / (p.shape[-1] if p.ndim else 1))

    def validate_targets(self, y_true, num_outputs):
        """y_true's values in [0, 1] and its last axis equal to the number of outputs."""
        y = _as_array(y_true)
        d = y.shape[-1] if y.ndim >= 2 else 1
        if num_outputs is not None and d != num_outputs:
            raise ValueError(
                f"BinaryCrossentropy '{self.name}': the targets have {d} value(s) per sample (shape {_shape(y)}) "
                f"but the model has {num_outputs} output(s). For one yes/no output use Dense(1, activation='sigmoid'); "
                f"for {num_outputs} exclusive classes use 'categorical_crossentropy' or 'sparse_categorical_crossentropy'."
            )
        _check_probabilities(self, y)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


def _log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=-1, keepdims=True))


def _softmax(z):
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


class CategoricalCrossentropy(Loss):
    r"""Cross-entropy between one-hot targets and a probability vector (softmax output):

    .. math:: l_i = -\sum_k y_{ik}\log q_{ik},\qquad q = \operatorname{clip}\Big(\frac{\hat y_{ik}}{\sum_c \hat y_{ic}},
              \epsilon, 1 - \epsilon\Big)

    (Keras renormalises the rows). Gradient, with :math:`S_i = \sum_c \hat y_{ic}` and :math:`m` = 1 where
    the clip is inactive: :math:`\frac{\partial l_i}{\partial \hat y_{ij}} = \frac{1}{S_i}\big(\sum_k y_{ik} m_{ik}
    - \frac{y_{ij} m_{ij}}{q_{ij}}\big)`, which is :math:`-y_{ij}/\hat y_{ij} + 1` for a one-hot row and
    softmax output. ``from_logits=True``: :math:`l_i = \sum_k y_{ik}\,(\operatorname{logsumexp}(z_i) - z_{ik})`,
    gradient :math:`\operatorname{softmax}(z_i)\sum_k y_{ik} - y_i`. ``label_smoothing`` :math:`s`:
    :math:`y \to y(1 - s) + s/C`. Shapes: y_true, y_pred (N, C) → (N,).
    """

    _default_name = "categorical_crossentropy"
    _fresh_gradient = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if axis != -1:
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': only axis=-1 is supported, got {axis}.")
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis
        self.fused_activation = None if self.from_logits else "softmax"

    def _shape_message(self, y_true, y_pred):
        msg = (f"CategoricalCrossentropy '{self.name}': y_true has shape {_shape(y_true)} but y_pred has shape "
               f"{_shape(y_pred)}; they must match (one-hot targets, one column per class).")
        if y_pred.ndim and (y_true.ndim == y_pred.ndim - 1 or y_true.shape[-1] == 1):
            c = y_pred.shape[-1]
            msg += (f" The targets look like integer class labels: one-hot encode them with "
                    f"tinynn.utils.to_categorical(y, {c}), or use loss='sparse_categorical_crossentropy'.")
        return msg

    def _prepare(self, y_true, y_pred):
        y_true, y_pred = super()._prepare(y_true, y_pred)
        if _shape(y_true) != _shape(y_pred):  # (N,) vs (N, 1) is not one-hot
            raise ValueError(self._shape_message(y_true, y_pred))
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / y_pred.shape[-1]
        return y_true, y_pred

    def call(self, y_true, y_pred):
        y, p = self._prepare(y_true, y_pred)
        if self.from_logits:
            return -(y * _log_softmax(p)).sum(axis=-1)
        eps = backend.epsilon()
        q = xp.clip(p / p.sum(axis=-1, keepdims=True), eps, 1.0 - eps)
        return -(y * xp.log(q)).sum(axis=-1)

    def gradient(self, y_true, y_pred):
        y, p = self._prepare(y_true, y_pred)
        if self.from_logits:
            g = _softmax(p)
            g *= y.sum(axis=-1, keepdims=True)
            g -= y
            return g
        eps = backend.epsilon()
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        ym = y * ((q >= eps) & (q <= 1.0 - eps))
        g = -ym / xp.clip(q, eps, 1.0 - eps)
        g += ym.sum(axis=-1, keepdims=True)
        g /= s
        return g

    def logits_backward(self, y_true, y_pred, sample_weight=None):
        r"""Fused softmax + CCE: :math:`\partial L/\partial z_i = \frac{w_i}{N}(\hat y_i - y_i)` where
        :math:`\hat y = \operatorname{softmax}(z)` and the rows of ``y_true`` sum to 1. Shapes: (N, C) → (N, C)."""
        if self.fused_activation is None:
            return super().logits_backward(y_true, y_pred, sample_weight)
        y, p = self._prepare(y_true, y_pred)
        dz = p - y
        return self._scale(dz, _shape(dz)[:-1], sample_weight, None, 1.0)

    def validate_targets(self, y_true, num_outputs):
        """One-hot-like targets: last axis = the number of classes, values in [0, 1]."""
        y = _as_array(y_true)
        if num_outputs is not None and (y.ndim < 2 or y.shape[-1] != num_outputs):
            integer_like = y.ndim < 2 or y.shape[-1] == 1
            hint = (f" They look like integer class labels: use tinynn.utils.to_categorical(y, {num_outputs}) or "
                    f"loss='sparse_categorical_crossentropy'." if integer_like else "")
            raise ValueError(
                f"CategoricalCrossentropy '{self.name}': the targets have shape {_shape(y)} but the model has "
                f"{num_outputs} outputs; expected one-hot targets of shape (N, {num_outputs}).{hint}"
            )
        _check_probabilities(self, y)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(Loss):
    r"""Categorical cross-entropy with integer labels :math:`c_i \in \{0, \dots, C-1\}` (no one-hot):

    .. math:: l_i = -\log q_{i c_i},\qquad \frac{\partial l_i}{\partial \hat y_{ij}} =
              \frac{m_{i}}{S_i}\Big(1 - \frac{[j = c_i]}{q_{i c_i}}\Big)

    with :math:`q, S, m` as in :class:`CategoricalCrossentropy`. ``from_logits=True``:
    :math:`l_i = \operatorname{logsumexp}(z_i) - z_{ic_i}`, gradient :math:`\operatorname{softmax}(z_i) - e_{c_i}`.
    Samples whose label is ``ignore_class`` count for nothing (the mean is over the others).
    Shapes: y_true (N,) or (N, 1) integers, y_pred (N, C) → (N,).
    """

    _default_name = "sparse_categorical_crossentropy"
    _fresh_gradient = True

    def __init__(self, from_logits=False, ignore_class=None, axis=-1, reduction="sum_over_batch_size",
                 name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if axis != -1:
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': only axis=-1 is supported, got {axis}.")
        self.from_logits, self.ignore_class, self.axis = bool(from_logits), ignore_class, axis
        self.fused_activation = None if self.from_logits else "softmax"

    def _labels(self, y_true, y_pred):
        """Flat integer labels (M,) and y_pred as (M, C), with M = N (or N·T for sequences)."""
        y_pred = _as_array(y_pred, self.dtype)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(backend.floatx())
        y = _as_array(y_true)
        lead = _shape(y_pred)[:-1]
        if _shape(y) != lead:
            if _shape(y) == lead + (1,):
                y = y.reshape(lead)
            else:
                raise ValueError(self._shape_error(y, y_pred))
        if y.dtype.kind not in "iu":
            y = y.astype("int64")
        c = y_pred.shape[-1]
        return y.reshape(-1), y_pred.reshape(-1, c), lead

    def _shape_error(self, y, y_pred):
        msg = (f"SparseCategoricalCrossentropy '{self.name}': y_true has shape {_shape(y)}, expected integer "
               f"class labels of shape {_shape(y_pred)[:-1]} for y_pred of shape {_shape(y_pred)}.")
        if _shape(y) == _shape(y_pred):
            msg += (" The targets look one-hot encoded: use loss='categorical_crossentropy' "
                    "(or pass y.argmax(axis=-1) as labels).")
        return msg

    def _gather(self, labels, p2):
        m = labels.shape[0]
        rows = xp.arange(m)
        safe = labels
        if self.ignore_class is not None:
            safe = xp.where(labels == self.ignore_class, 0, labels)
        try:
            return rows, safe, p2[rows, safe]
        except IndexError:
            raise ValueError(self._range_message(labels, p2.shape[-1])) from None

    def _range_message(self, labels, c):
        return (f"SparseCategoricalCrossentropy '{self.name}': labels must be integers in [0, {c}), found values "
                f"from {int(labels.min())} to {int(labels.max())}. Does the last layer have one unit per class?")

    def _valid(self, labels):
        return None if self.ignore_class is None else (labels != self.ignore_class)

    def call(self, y_true, y_pred):
        labels, p2, lead = self._labels(y_true, y_pred)
        rows, safe, picked = self._gather(labels, p2)
        if self.from_logits:
            mx = p2.max(axis=-1)
            lse = xp.log(xp.exp(p2 - mx[:, None]).sum(axis=-1)) + mx
            losses = lse - picked
        else:
            eps = backend.epsilon()
            q = xp.clip(picked / p2.sum(axis=-1), eps, 1.0 - eps)
            losses = -xp.log(q)
        valid = self._valid(labels)
        if valid is not None:
            losses = losses * valid
        return losses.reshape(lead)

    def gradient(self, y_true, y_pred):
        labels, p2, lead = self._labels(y_true, y_pred)
        rows, safe, picked = self._gather(labels, p2)
        if self.from_logits:
            g = _softmax(p2)
            g[rows, safe] -= 1.0
        else:
            eps = backend.epsilon()
            s = p2.sum(axis=-1)
            q = picked / s
            m = ((q >= eps) & (q <= 1.0 - eps)).astype(p2.dtype)
            g = xp.empty_like(p2)
            g[...] = (m / s)[:, None]
            g[rows, safe] -= m / (s * xp.clip(q, eps, 1.0 - eps))
        valid = self._valid(labels)
        if valid is not None:
            g *= valid[:, None]
        return g.reshape(*lead, p2.shape[-1])

    def _mask(self, y_true, losses):
        if self.ignore_class is None:
            return None
        y = _as_array(y_true)
        if losses is not None and _shape(y) != _shape(losses):
            y = y.reshape(_shape(losses))
        elif losses is None and y.ndim >= 2 and y.shape[-1] == 1:
            y = y.reshape(_shape(y)[:-1])
        return (y != self.ignore_class).astype(backend.floatx())

    def backward(self, y_true, y_pred, sample_weight=None):
        g = self.gradient(y_true, y_pred)
        mask = self._mask(y_true, None)
        if mask is not None:
            mask = mask.reshape(_shape(g)[:-1]).astype(g.dtype)
        return self._scale(g, _shape(g)[:-1], sample_weight, mask, 1.0)

    def logits_backward(self, y_true, y_pred, sample_weight=None):
        r"""Fused softmax + sparse CCE: :math:`\partial L/\partial z_i = \frac{w_i}{N}(\hat y_i - e_{c_i})`,
        built as a copy of :math:`\hat y` minus 1 at ``[i, c_i]`` (no one-hot matrix). (N, C) → (N, C)."""
        if self.fused_activation is None:
            return super().logits_backward(y_true, y_pred, sample_weight)
        labels, p2, lead = self._labels(y_true, y_pred)
        rows, safe, _ = self._gather(labels, p2)
        dz = p2.copy()
        dz[rows, safe] -= 1.0
        mask = None
        valid = self._valid(labels)
        if valid is not None:
            mask = valid.astype(dz.dtype).reshape(lead)
        return self._scale(dz.reshape(*lead, p2.shape[-1]), lead, sample_weight, mask, 1.0)

    def validate_targets(self, y_true, num_outputs):
        """Integer labels in [0, num_outputs), not one-hot rows."""
        y = _as_array(y_true)
        if y.ndim >= 2 and y.shape[-1] > 1 and (num_outputs is None or y.shape[-1] == num_outputs):
            raise ValueError(
                f"SparseCategoricalCrossentropy '{self.name}': the targets have shape {_shape(y)} and look one-hot "
                f"encoded; sparse_categorical_crossentropy expects integer labels of shape ({y.shape[0]},). "
                f"Use loss='categorical_crossentropy', or pass y.argmax(axis=-1)."
            )
        if y.size == 0:
            return
        if y.dtype.kind == "f" and bool((y != xp.floor(y)).any()):
            raise ValueError(
                f"SparseCategoricalCrossentropy '{self.name}': labels must be whole numbers (class indices), "
                f"found non-integer values such as {float(y[y != xp.floor(y)].reshape(-1)[0]):g}."
            )
        keep = y if self.ignore_class is None else y[y != self.ignore_class]
        if keep.size and num_outputs is not None and (float(keep.min()) < 0 or float(keep.max()) >= num_outputs):
            raise ValueError(self._range_message(keep.astype("int64"), num_outputs))

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


# --- the function forms (per-sample, like keras.losses.mse) ------------------------------------
def mean_squared_error(y_true, y_pred):
    r"""Per-sample mean squared error, :math:`\frac1D\sum_j(\hat y_{ij} - y_{ij})^2`, shape (N,)."""
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error, shape (N,)."""
    return MeanAbsoluteError().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss, shape (N,)."""
    return Huber(delta=delta).call(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (mean over the last axis), shape (N,)."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy, shape (N,)."""
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Per-sample sparse categorical cross-entropy, shape (N,)."""
    return SparseCategoricalCrossentropy(from_logits, ignore_class, axis).call(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_CLASSES = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MeanSquaredError": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "MeanAbsoluteError": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber, "Huber": Huber,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy, "BinaryCrossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy, "cce": CategoricalCrossentropy,
    "CategoricalCrossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
}
_FUNCTIONS = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError, huber: Huber,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}


def get(identifier):
    """A :class:`Loss` instance for a Keras name (``'mse'``, ``'categorical_crossentropy'``, ...), a Loss
    instance or class, or a function ``fn(y_true, y_pred)`` (wrapped in :class:`LossFunctionWrapper`)."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier) or _CLASSES.get(identifier.lower())
        if cls is None:
            known = sorted(k for k in _CLASSES if k.islower())
            raise ValueError(f"Unknown loss {identifier!r}. Known losses: {', '.join(known)}.")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss {identifier!r}: expected a name, a Loss or a function.")


def serialize(loss):
    """The loss' name (Keras' string for the built-ins)."""
    return getattr(loss, "name", getattr(loss, "__name__", repr(loss)))
