"""Regression metrics: mean squared / absolute error and the root mean squared error."""
from __future__ import annotations

import math

from tinynn import losses
from tinynn.metrics.base import _arr, _same_shape
from tinynn.metrics.reduction_metrics import Mean, MeanMetricWrapper, _wrapper

__all__ = ["MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError"]

MeanSquaredError = type("MeanSquaredError", (MeanMetricWrapper,), _wrapper(
    losses.mean_squared_error, "mean_squared_error", "The mean over samples of :math:`\\frac1D\\sum_j (\\hat y - y)^2`."))
MeanAbsoluteError = type("MeanAbsoluteError", (MeanMetricWrapper,), _wrapper(
    losses.mean_absolute_error, "mean_absolute_error", "The mean over samples of :math:`\\frac1D\\sum_j |\\hat y - y|`."))



class RootMeanSquaredError(Mean):
    r""":math:`\sqrt{\text{mean of } (\hat y - y)^2}` over every output of every sample."""

    _default_name = "root_mean_squared_error"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _arr(y_pred)
        d = y_pred - _same_shape(_arr(y_true), y_pred).astype(y_pred.dtype)
        super().update_state(d * d, sample_weight)

    def result(self):
        return math.sqrt(super().result())

