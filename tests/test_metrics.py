"""Metrics: values by hand, accumulation over batches, sample weights, names and get()."""
import math

import numpy as np
import pytest

from tinynn import losses, metrics


def test_mean_and_weights():
    m = metrics.Mean()
    assert m.result() == 0.0
    m.update_state(np.array([1.0, 2.0, 3.0]))
    m.update_state(np.array([4.0]), sample_weight=np.array([3.0]))
    assert m.result() == pytest.approx((1 + 2 + 3 + 12) / 6)
    assert type(m.result()) is float
    m.reset_state()
    assert m.result() == 0.0


def test_accuracy_family_by_hand():
    y = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0]])
    p = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.3, 0.4, 0.3]])
    assert metrics.CategoricalAccuracy()(y, p) == pytest.approx(0.75)
    assert metrics.SparseCategoricalAccuracy()(y.argmax(-1), p) == pytest.approx(0.75)
    assert metrics.SparseCategoricalAccuracy()(y.argmax(-1).reshape(-1, 1).astype(float), p) == pytest.approx(0.75)
    assert metrics.TopKCategoricalAccuracy(k=2)(y, p) == pytest.approx(1.0)
    assert metrics.TopKCategoricalAccuracy(k=1)(y, p) == pytest.approx(0.75)
    assert metrics.SparseTopKCategoricalAccuracy(k=1)(y.argmax(-1), p) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy()(np.array([1, 0, 1, 0]), np.array([[0.9], [0.6], [0.4], [0.1]])) == pytest.approx(0.5)
    assert metrics.BinaryAccuracy(threshold=0.3)(np.array([[1], [0]]), np.array([[0.4], [0.2]])) == pytest.approx(1.0)
    assert metrics.Accuracy()(np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [4]])) == pytest.approx(0.75)


def test_accumulates_over_batches_with_sample_weights():
    m = metrics.SparseCategoricalAccuracy()
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    m.update_state(np.array([0, 0]), p)                      # 1 right of 2
    m.update_state(np.array([1, 1]), p, sample_weight=np.array([0.0, 2.0]))  # weight 2 right
    assert m.result() == pytest.approx(3 / 4)


def test_regression_metrics():
    y, p = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[2.0, 4.0], [1.0, -1.0]])
    assert metrics.MeanSquaredError()(y, p) == pytest.approx((2.5 + 1.0) / 2)
    assert metrics.MeanAbsoluteError()(y, p) == pytest.approx((1.5 + 1.0) / 2)
    assert metrics.RootMeanSquaredError()(y, p) == pytest.approx(math.sqrt((1 + 4 + 1 + 1) / 4))


def test_precision_recall():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.1, 0.2, 0.3]).reshape(-1, 1)
    # TP 2, FN 1, FP 1
    assert metrics.Precision()(y, p) == pytest.approx(2 / 3)
    assert metrics.Recall()(y, p) == pytest.approx(2 / 3)
    assert metrics.Recall(thresholds=0.1)(y, p) == pytest.approx(1.0)
    assert metrics.Precision()(np.zeros(3), np.zeros((3, 1))) == 0.0  # nothing predicted positive: 0, not NaN
    w = np.array([1, 1, 1, 3, 1, 1, 1, 1.0])
    assert metrics.Precision()(y, p, sample_weight=w) == pytest.approx(2 / 5)
    assert metrics.Precision(class_id=1)(np.eye(2)[[0, 1, 1]], np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])) == 1.0


def test_auc():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    assert metrics.AUC()(y, p) == pytest.approx(0.75, abs=1e-6)  # 3 of the 4 (pos, neg) pairs ordered right
    assert metrics.AUC()(y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    pr = metrics.AUC(curve="PR")(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert pr == pytest.approx(1.0, abs=1e-6)
    assert metrics.AUC(from_logits=True)(y, np.array([-3.0, -1.0, 2.0, 3.0])) == pytest.approx(1.0)


@pytest.mark.parametrize("loss,cls", [("binary_crossentropy", metrics.BinaryAccuracy),
                                      ("categorical_crossentropy", metrics.CategoricalAccuracy),
                                      ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
                                      (losses.SparseCategoricalCrossentropy(from_logits=True), metrics.SparseCategoricalAccuracy),
                                      (losses.BinaryCrossentropy(), metrics.BinaryAccuracy)])
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_get_accuracy_from_the_loss(loss, cls, name):
    m = metrics.get(name, loss=loss)
    assert type(m) is cls and m.name == name


def test_get_accuracy_from_logits_thresholds_at_zero():
    m = metrics.get("accuracy", loss=losses.BinaryCrossentropy(from_logits=True))
    assert m(np.array([1, 0]), np.array([[0.2], [-0.3]])) == 1.0


def test_get_accuracy_from_the_shape():
    assert type(metrics.get("accuracy", loss="mse", output_shape=(None, 1))) is metrics.BinaryAccuracy
    assert type(metrics.get("accuracy", loss="mse", output_shape=(None, 10))) is metrics.CategoricalAccuracy
    assert type(metrics.get("accuracy", output_shape=(None, 10), target_shape=(None,))) is metrics.SparseCategoricalAccuracy
    assert type(metrics.get("accuracy")) is metrics.Accuracy


@pytest.mark.parametrize("name,cls", [("mse", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError),
                                      ("binary_accuracy", metrics.BinaryAccuracy),
                                      ("categorical_accuracy", metrics.CategoricalAccuracy),
                                      ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
                                      ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
                                      ("precision", metrics.Precision), ("recall", metrics.Recall),
                                      ("auc", metrics.AUC), ("Precision", metrics.Precision)])
def test_get_strings_keep_their_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls
    assert m.name == (name if name.islower() else "precision")


def test_get_other_identifiers():
    inst = metrics.Recall(name="r")
    assert metrics.get(inst) is inst
    assert type(metrics.get(metrics.AUC)) is metrics.AUC
    assert metrics.get(None) is None

    def my_metric(y_true, y_pred):
        return abs(y_true - y_pred).max(axis=-1)

    m = metrics.get(my_metric)
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "my_metric"
    assert m(np.array([[1.0, 2.0]]), np.array([[1.0, 5.0]])) == 3.0
    assert type(metrics.get(losses.mse)) is metrics.MeanSquaredError and metrics.get(losses.mse).name == "mean_squared_error"
    ce = metrics.get("binary_crossentropy")
    assert ce.name == "binary_crossentropy"
    assert ce(np.array([[1.0]]), np.array([[0.5]])) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'.*accuracy"):
        metrics.get("acuracy")


def test_shape_errors():
    with pytest.raises(ValueError, match="sparse_categorical_accuracy"):
        metrics.CategoricalAccuracy()(np.array([0, 1]), np.eye(2))
    with pytest.raises(ValueError, match="categorical_accuracy"):
        metrics.SparseCategoricalAccuracy()(np.eye(3), np.eye(3))


def test_results_are_python_floats():
    y, p = np.array([1, 0]), np.array([[0.7], [0.2]], dtype="float32")
    for m in [metrics.BinaryAccuracy(), metrics.Precision(), metrics.Recall(), metrics.AUC(), metrics.MeanSquaredError()]:
        m.update_state(y, p)
        assert type(m.result()) is float, type(m).__name__
