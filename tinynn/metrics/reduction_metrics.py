"""Metrics that reduce values over batches: :class:`Mean`, :class:`Sum`, and :class:`MeanMetricWrapper`
(the weighted mean of a per-sample function, which most metrics are)."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.metrics.base import Metric, _arr

__all__ = ["Mean", "Sum", "MeanMetricWrapper"]


class Mean(Metric):
    r"""The weighted mean of every value seen: :math:`\sum w_i v_i / \sum w_i` (0 before any value)."""

    _reset_on_init = True

    _default_name = "mean"

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = _arr(values)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
            return
        w = _arr(sample_weight)
        if w.ndim and w.shape != values.shape:
            if values.ndim and w.size == values.shape[0]:
                w = w.reshape((values.shape[0],) + (1,) * (values.ndim - 1))
            else:
                raise ValueError(f"Metric '{self.name}': sample_weight has shape {tuple(w.shape)}, "
                                 f"the values have shape {tuple(values.shape)}.")
        w = xp.broadcast_to(w, values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """The (weighted) sum of every value seen."""

    _reset_on_init = True

    _default_name = "sum"

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = _arr(values)
        self.total += float((values if sample_weight is None else values * _arr(sample_weight)).sum())

    def result(self):
        return self.total


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def _wrapper(fn, default_name, doc, **defaults):
    """A MeanMetricWrapper subclass with Keras' constructor (name=..., dtype=..., plus the fn's options)."""

    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})

    return {"__init__": __init__, "__doc__": doc, "_default_name": default_name}
