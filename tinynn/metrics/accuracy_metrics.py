"""Accuracy metrics: the per-sample functions (``accuracy``, ``categorical_accuracy``, ...) and their
stateful means (``Accuracy``, ``CategoricalAccuracy``, ...)."""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp
from tinynn.metrics.base import _arr, _labels, _same_shape
from tinynn.metrics.reduction_metrics import MeanMetricWrapper, _wrapper

__all__ = ["Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]


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


Accuracy = type("Accuracy", (MeanMetricWrapper,), _wrapper(
    accuracy, "accuracy", "How often ``y_pred`` equals ``y_true`` exactly (Keras' ``Accuracy``)."))
CategoricalAccuracy = type("CategoricalAccuracy", (MeanMetricWrapper,), _wrapper(
    categorical_accuracy, "categorical_accuracy", "How often the argmax of ``y_pred`` is the one-hot class."))
SparseCategoricalAccuracy = type("SparseCategoricalAccuracy", (MeanMetricWrapper,), _wrapper(
    sparse_categorical_accuracy, "sparse_categorical_accuracy", "How often the argmax of ``y_pred`` is the integer label."))


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

