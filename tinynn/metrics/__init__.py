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

from tinynn import losses
from tinynn.metrics.accuracy_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                             SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
                                             binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                                             sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from tinynn.metrics.base import Metric
from tinynn.metrics.confusion_metrics import AUC, Precision, Recall
from tinynn.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from tinynn.metrics.regression_metrics import MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "RootMeanSquaredError", "Precision", "Recall", "AUC", "accuracy", "binary_accuracy",
    "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "get", "serialize",
]



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
