"""Confusion-matrix metrics: :class:`Precision`, :class:`Recall` (counts at one threshold) and :class:`AUC`
(counts at many thresholds)."""
from __future__ import annotations

import math

from tinynn import backend
from tinynn.backend import xp
from tinynn.metrics.base import Metric, _arr, _same_shape

__all__ = ["Precision", "Recall", "AUC"]


class _Confusion(Metric):
    r"""Counts true/false positives/negatives of :math:`[\hat y > \text{threshold}]` against a 0/1 target."""

    _reset_on_init = True

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None:
            raise NotImplementedError(f"{type(self).__name__}: top_k is not supported by tinynn.")
        if isinstance(thresholds, (list, tuple)):
            if len(thresholds) != 1:
                raise NotImplementedError(f"{type(self).__name__}: tinynn supports one threshold, got {thresholds}.")
            thresholds = thresholds[0]
        self.thresholds = 0.5 if thresholds is None else float(thresholds)
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.true_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _arr(y_pred)
        y_true = _same_shape(_arr(y_true), y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} '{self.name}': y_true has shape {tuple(y_true.shape)}, "
                             f"y_pred has shape {tuple(y_pred.shape)}.")
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        pred, true = y_pred > self.thresholds, y_true > 0.5
        if sample_weight is None:
            w = 1.0
        else:
            w = _arr(sample_weight).astype(y_pred.dtype)
            if w.ndim and w.shape != pred.shape:
                w = w.reshape((w.shape[0],) + (1,) * (pred.ndim - 1))
            w = xp.broadcast_to(w, pred.shape)
        self.true_positives += float((w * (pred & true)).sum())
        self.false_positives += float((w * (pred & ~true)).sum())
        self.false_negatives += float((w * (~pred & true)).sum())
        self.true_negatives += float((w * (~pred & ~true)).sum())

    def get_config(self):
        return {**super().get_config(), "thresholds": self.thresholds, "class_id": self.class_id}


class Precision(_Confusion):
    """Of the samples predicted positive, the fraction that are: :math:`TP / (TP + FP)` (0 if none predicted)."""

    _default_name = "precision"

    def result(self):
        d = self.true_positives + self.false_positives
        return self.true_positives / d if d else 0.0


class Recall(_Confusion):
    """Of the positive samples, the fraction found: :math:`TP / (TP + FN)` (0 if there are none)."""

    _default_name = "recall"

    def result(self):
        d = self.true_positives + self.false_negatives
        return self.true_positives / d if d else 0.0


class AUC(Metric):
    """Area under the ROC (or precision-recall) curve, from counts at ``num_thresholds`` fixed thresholds
    (Keras' method): ROC by the trapezoid rule over (FPR, TPR); PR by Davis & Goadrich's interpolation."""

    _reset_on_init = True

    _default_name = "auc"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}.")
        if multi_label:
            raise NotImplementedError("AUC: multi_label=True is not supported by tinynn.")
        self.curve, self.summation_method, self.from_logits = curve, summation_method, bool(from_logits)
        if thresholds is None:
            eps = backend.epsilon()
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [0.0 - eps, *inner, 1.0 + eps]
        self._thresholds_list = [float(t) for t in thresholds]
        self.num_thresholds = len(self._thresholds_list)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._thresholds = xp.asarray(self._thresholds_list, dtype="float64")
        n = len(self._thresholds_list)
        self.true_positives, self.false_positives = xp.zeros(n), xp.zeros(n)
        self.true_negatives, self.false_negatives = xp.zeros(n), xp.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _arr(y_pred)
        y_true = _same_shape(_arr(y_true), y_pred)
        p = y_pred.reshape(-1).astype("float64")
        if self.from_logits:
            p = 0.5 * (xp.tanh(0.5 * p) + 1.0)
        t = (y_true.reshape(-1) > 0.5).astype("float64")
        w = xp.ones_like(p) if sample_weight is None else xp.broadcast_to(
            _arr(sample_weight).astype("float64").reshape(-1, *([1] * (y_pred.ndim - 1))), y_pred.shape).reshape(-1)
        above = (p[None, :] > self._thresholds[:, None]).astype("float64")   # (T, M)
        self.true_positives += above @ (w * t)
        self.false_positives += above @ (w * (1 - t))
        self.false_negatives += (1 - above) @ (w * t)
        self.true_negatives += (1 - above) @ (w * (1 - t))

    def result(self):
        tp, fp = backend.to_cpu(self.true_positives), backend.to_cpu(self.false_positives)
        tn, fn = backend.to_cpu(self.true_negatives), backend.to_cpu(self.false_negatives)
        div = lambda a, b: [x / y if y else 0.0 for x, y in zip(a, b)]  # noqa: E731
        if self.curve == "ROC":
            x, y = div(fp, fp + tn), div(tp, tp + fn)
            return float(sum((x[i] - x[i + 1]) * (y[i] + y[i + 1]) / 2 for i in range(len(x) - 1)))
        total = 0.0  # PR, interpolated (Davis & Goadrich 2006), as keras.metrics.AUC
        for i in range(len(tp) - 1):
            dtp, p0, p1 = tp[i] - tp[i + 1], tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            dp = max(p0 - p1, 0.0)
            slope = dtp / dp if dp else 0.0
            intercept = tp[i + 1] - slope * p1
            ratio = p0 / p1 if p0 > 0 and p1 > 0 else 1.0
            denom = max(tp[i + 1] + fn[i + 1], 0.0)
            total += slope * (dtp + intercept * math.log(ratio)) / denom if denom else 0.0
        return float(total)
