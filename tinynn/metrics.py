"""Metrics with Keras 3's names: stateful objects that accumulate over the batches of an epoch.

``update_state(y_true, y_pred, sample_weight=None)`` adds a batch, ``result()`` returns the value so far
as a Python float, ``reset_state()`` starts again. Most metrics are the weighted mean of a per-sample
function (:class:`MeanMetricWrapper`): for accuracy, the fraction of samples classified right.

``get('accuracy', loss=...)`` picks the accuracy that fits the loss, as ``model.compile`` does.

>>> from tinynn.backend import xp
>>> m = CategoricalAccuracy()
>>> m.update_state(xp.array([[0, 0, 1], [0, 1, 0]]), xp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
>>> m.result()
0.5
>>> get('accuracy', loss='binary_crossentropy')
<BinaryAccuracy name='accuracy' result=0.0>
"""
from __future__ import annotations

import math

from tinynn import backend, losses
from tinynn.backend import xp

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "RootMeanSquaredError", "Precision", "Recall", "AUC", "accuracy", "binary_accuracy",
    "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "get", "serialize",
]


def _arr(a):
    if isinstance(a, xp.ndarray):
        return a
    a = getattr(a, "value", a)
    return backend.asarray(a, dtype=None if hasattr(a, "dtype") else backend.floatx())


def _same_shape(y_true, y_pred):
    """Reshape ``y_true`` (N,) ↔ (N, 1) to ``y_pred``'s shape when only a trailing 1 differs."""
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size and (
            y_true.shape == y_pred.shape[:-1] or y_true.shape[:-1] == y_pred.shape):
        y_true = y_true.reshape(y_pred.shape)
    return y_true


def _labels(y_true, y_pred):
    """Integer labels with the shape ``y_pred.shape[:-1]`` (from (N,) or (N, 1))."""
    y = _arr(y_true)
    lead = y_pred.shape[:-1]
    if y.shape != lead:
        if y.shape == (*lead, 1):
            y = y.reshape(lead)
        else:
            raise ValueError(
                f"Sparse metric: y_true has shape {tuple(y.shape)}, expected integer labels of shape {tuple(lead)} "
                f"for y_pred of shape {tuple(y_pred.shape)}. For one-hot targets use 'categorical_accuracy'."
            )
    return y if y.dtype.kind in "iu" else y.astype("int64")


# --- the per-sample functions ---------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """1 where ``y_true == y_pred`` exactly, else 0 (elementwise)."""
    y_pred = _arr(y_pred)
    y_true = _same_shape(_arr(y_true), y_pred)
    return (y_true == y_pred).astype(backend.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    r"""Per sample, the fraction of outputs with :math:`[\hat y > \text{threshold}] = y`. (N, D) → (N,)."""
    y_pred = _arr(y_pred)
    y_true = _same_shape(_arr(y_true), y_pred)
    return ((y_pred > threshold) == (y_true > 0.5)).astype(backend.floatx()).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    r"""1 where :math:`\arg\max_k y_{ik} = \arg\max_k \hat y_{ik}` (one-hot targets). (N, C) → (N,)."""
    y_pred, y_true = _arr(y_pred), _arr(y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"categorical_accuracy: y_true has shape {tuple(y_true.shape)} but y_pred has shape "
            f"{tuple(y_pred.shape)}; use 'sparse_categorical_accuracy' for integer labels."
        )
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(backend.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    r"""1 where the integer label equals :math:`\arg\max_k \hat y_{ik}`. y_true (N,) or (N, 1), y_pred (N, C) → (N,)."""
    y_pred = _arr(y_pred)
    return (_labels(y_true, y_pred) == y_pred.argmax(axis=-1)).astype(backend.floatx())


def _in_top_k(labels, y_pred, k):
    c = y_pred.shape[-1]
    p2, lab = y_pred.reshape(-1, c), labels.reshape(-1)
    target = p2[xp.arange(lab.shape[0]), lab]
    higher = (p2 > target[:, None]).sum(axis=-1)     # ties count as in the top k, as in Keras
    return (higher < k).astype(backend.floatx()).reshape(labels.shape)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the true class (one-hot) is among the ``k`` highest scores. (N, C) → (N,)."""
    y_pred = _arr(y_pred)
    return _in_top_k(_arr(y_true).argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the integer label is among the ``k`` highest scores. (N, C) → (N,)."""
    y_pred = _arr(y_pred)
    return _in_top_k(_labels(y_true, y_pred), y_pred, k)


# --- the stateful metrics ------------------------------------------------------------------------
class Metric:
    """Base class (Keras' ``keras.metrics.Metric``): ``update_state``, ``result``, ``reset_state``, ``name``."""

    _default_name = "metric"

    def __init__(self, name=None, dtype=None):
        self.name = name or self._default_name
        self.dtype = dtype
        self.reset_state()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define update_state.")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result.")

    def reset_state(self):
        """Forget every batch seen so far."""

    reset_states = reset_state  # Keras 2 name

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result (as Keras' ``metric(y_true, y_pred)``)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        try:
            r = round(self.result(), 4)
        except Exception:  # noqa: BLE001 - a repr must not fail
            r = "?"
        return f"<{type(self).__name__} name={self.name!r} result={r}>"


class Mean(Metric):
    r"""The weighted mean of every value seen: :math:`\sum w_i v_i / \sum w_i` (0 before any value)."""

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


Accuracy = type("Accuracy", (MeanMetricWrapper,), _wrapper(
    accuracy, "accuracy", "How often ``y_pred`` equals ``y_true`` exactly (Keras' ``Accuracy``)."))
CategoricalAccuracy = type("CategoricalAccuracy", (MeanMetricWrapper,), _wrapper(
    categorical_accuracy, "categorical_accuracy", "How often the argmax of ``y_pred`` is the one-hot class."))
SparseCategoricalAccuracy = type("SparseCategoricalAccuracy", (MeanMetricWrapper,), _wrapper(
    sparse_categorical_accuracy, "sparse_categorical_accuracy", "How often the argmax of ``y_pred`` is the integer label."))
MeanSquaredError = type("MeanSquaredError", (MeanMetricWrapper,), _wrapper(
    losses.mean_squared_error, "mean_squared_error", r"The mean over samples of :math:`\frac1D\sum_j (\hat y - y)^2`."))
MeanAbsoluteError = type("MeanAbsoluteError", (MeanMetricWrapper,), _wrapper(
    losses.mean_absolute_error, "mean_absolute_error", r"The mean over samples of :math:`\frac1D\sum_j |\hat y - y|`."))


class BinaryAccuracy(MeanMetricWrapper):
    r"""How often :math:`[\hat y > \text{threshold}]` equals the 0/1 target (Keras' ``BinaryAccuracy``)."""

    _default_name = "binary_accuracy"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot class is among the ``k`` highest scores."""

    _default_name = "top_k_categorical_accuracy"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores."""

    _default_name = "sparse_top_k_categorical_accuracy"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class RootMeanSquaredError(Mean):
    r""":math:`\sqrt{\text{mean of } (\hat y - y)^2}` over every output of every sample."""

    _default_name = "root_mean_squared_error"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _arr(y_pred)
        d = y_pred - _same_shape(_arr(y_true), y_pred).astype(y_pred.dtype)
        super().update_state(d * d, sample_weight)

    def result(self):
        return math.sqrt(super().result())


# --- confusion-matrix metrics --------------------------------------------------------------------
class _Confusion(Metric):
    r"""Counts true/false positives/negatives of :math:`[\hat y > \text{threshold}]` against a 0/1 target."""

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


# --- names ---------------------------------------------------------------------------------------------
_FUNCTION_CLASSES = {
    accuracy: Accuracy, binary_accuracy: BinaryAccuracy, categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy, top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    losses.mean_squared_error: MeanSquaredError, losses.mean_absolute_error: MeanAbsoluteError,
}
_NAMES = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "precision": Precision, "recall": Recall, "auc": AUC,
    "binary_crossentropy": lambda name: MeanMetricWrapper(losses.binary_crossentropy, name=name),
    "categorical_crossentropy": lambda name: MeanMetricWrapper(losses.categorical_crossentropy, name=name),
    "sparse_categorical_crossentropy": lambda name: MeanMetricWrapper(losses.sparse_categorical_crossentropy, name=name),
}
_CLASS_NAMES = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, Precision, Recall, AUC)}


def _accuracy_for(loss, output_shape, target_shape):
    """The accuracy that fits the loss (or, failing that, the shapes) and its options."""
    if isinstance(loss, str):
        try:
            loss = losses.get(loss)
        except ValueError:
            loss = None
    if isinstance(loss, losses.BinaryCrossentropy):
        return BinaryAccuracy, {"threshold": 0.0 if loss.from_logits else 0.5}  # sigmoid(z) > 0.5 iff z > 0
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy, {}
    if isinstance(loss, losses.CategoricalCrossentropy):
        return CategoricalAccuracy, {}
    if output_shape is not None and len(output_shape) and output_shape[-1] is not None:
        if output_shape[-1] == 1:
            return BinaryAccuracy, {}
        if target_shape is not None and (len(target_shape) < len(output_shape) or target_shape[-1] == 1):
            return SparseCategoricalAccuracy, {}
        return CategoricalAccuracy, {}
    return Accuracy, {}


def get(identifier, loss=None, output_shape=None, target_shape=None):
    """A :class:`Metric` for a Keras name, a Metric instance or class, or a function ``fn(y_true, y_pred)``.

    ``'accuracy'``/``'acc'`` becomes the accuracy that fits ``loss`` (binary for binary cross-entropy,
    sparse for sparse categorical cross-entropy, categorical for categorical cross-entropy) or, without such
    a loss, the model's ``output_shape`` (last axis 1: binary) and ``target_shape``. A metric made from a
    string keeps that string as its name (the key in ``History.history``).
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            cls, kwargs = _accuracy_for(loss, output_shape, target_shape)
            return cls(name=identifier, **kwargs)
        if identifier in _CLASS_NAMES:
            return _CLASS_NAMES[identifier]()
        factory = _NAMES.get(key)
        if factory is None:
            known = sorted(["accuracy", "acc", *_NAMES])
            raise ValueError(f"Unknown metric {identifier!r}. Known metrics: {', '.join(known)}.")
        return factory(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        cls = _FUNCTION_CLASSES.get(identifier)
        if cls is not None:
            return cls(name=identifier.__name__)
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric {identifier!r}: expected a name, a Metric or a function.")


def serialize(metric):
    return getattr(metric, "name", getattr(metric, "__name__", repr(metric)))
