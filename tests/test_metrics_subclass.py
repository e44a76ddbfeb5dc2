"""Writing a metric Keras 3's way: add_variable / add_weight, assign / assign_add / assign_sub, result(), and
the default reset_state; the metric works in compile(metrics=[...]) and fit's logs hold floats."""
import os

import numpy as np
import pytest

from tinynn import metrics, ops
from tinynn.layers import Dense
from tinynn.models import Sequential
from tinynn.utils import set_random_seed


class BinaryTruePositives(metrics.Metric):
    """The example of Keras 3's ``Metric`` docstring, word for word (``keras`` replaced by ``tinynn``)."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "bool")
        y_pred = ops.cast(y_pred, "bool")

        values = ops.logical_and(ops.equal(y_true, True), ops.equal(y_pred, True))
        values = ops.cast(values, self.dtype)
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, self.dtype)
            sample_weight = ops.broadcast_to(sample_weight, ops.shape(values))
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign(self.true_positives + ops.sum(values))

    def result(self):
        return self.true_positives


class CategoricalTruePositives(metrics.Metric):
    """The metric of Keras' guide "Training & evaluation with the built-in methods" (sparse labels (N, 1))."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


class F1(metrics.Metric):
    """Binary F1 from three counters (add_weight, assign_add, assign_sub); result() computes with arrays."""

    def __init__(self, name="f1", threshold=0.5, **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.tp = self.add_weight(shape=(), initializer="zeros", name="tp")
        self.predicted = self.add_weight(name="predicted")
        self.actual = self.add_variable(shape=(), initializer="zeros", name="actual")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = ops.cast(ops.greater(y_pred, self.threshold), self.dtype)
        true = ops.cast(y_true, self.dtype)
        self.tp.assign_add(ops.sum(pred * true))
        self.predicted.assign_add(ops.sum(pred))
        self.actual.assign_add(ops.sum(true) + 1.0)
        self.actual.assign_sub(1.0 * ops.shape(true)[0] / ops.shape(true)[0])   # exercise assign_sub

    def result(self):
        return 2 * self.tp.value / ops.maximum(self.predicted.value + self.actual.value, 1e-12)


def test_keras_docstring_metric_counts_weights_and_resets():
    m = BinaryTruePositives()
    y_true, y_pred = np.array([1, 0, 1, 1, 0]), np.array([1.0, 1.0, 0.0, 0.3, 0.0])
    m.update_state(y_true, y_pred)
    assert m.result() == 2.0 and isinstance(m.result(), float)
    m.update_state(y_true, y_pred, sample_weight=np.array([0.5, 1, 1, 3, 1]))
    assert m.result() == 5.5
    assert m.variables == [m.true_positives] and m.true_positives.trainable is False
    assert m.true_positives.name == "binary_true_positives/true_positives"
    assert m.true_positives.dtype == np.float32 and m.dtype == "float32"
    m.reset_state()                                         # the default: back to the initializer
    assert m.result() == 0.0
    assert m(y_true, y_pred) == 2.0                        # __call__ = update_state + result


def test_reset_state_restores_each_initializer_and_sub_metrics():
    class Offsets(metrics.Metric):
        def __init__(self):
            super().__init__(name="offsets")
            self.ones = self.add_variable(shape=(2,), initializer="ones", name="ones")
            self.inner = BinaryTruePositives()

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.ones.assign_add(np.array([1.0, 2.0]))
            self.inner.update_state(y_true, y_pred)

        def result(self):
            return self.ones.value

    m = Offsets()
    m.update_state(np.array([1]), np.array([1.0]))
    assert m.result().tolist() == [2.0, 3.0]             # a result with two numbers stays an array
    assert m.inner.result() == 1.0 and len(m.variables) == 2
    m.reset_state()
    assert m.result().tolist() == [1.0, 1.0] and m.inner.result() == 0.0


def test_forgetting_super_init_is_a_clear_error():
    class Forgot(metrics.Metric):
        def __init__(self):
            self.v = self.add_variable(shape=(), initializer="zeros")

    with pytest.raises(RuntimeError, match=r"super\(\).__init__"):
        Forgot()


def test_f1_matches_the_formula():
    y_true = np.array([[1], [0], [1], [1], [0], [1]])
    y_pred = np.array([[0.9], [0.8], [0.2], [0.7], [0.1], [0.6]])
    f1 = F1()
    f1.update_state(y_true[:3], y_pred[:3])
    f1.update_state(y_true[3:], y_pred[3:])
    tp, p, a = 3, 4, 4
    assert f1.result() == pytest.approx(2 * tp / (p + a)) and isinstance(f1.result(), float)
    assert metrics.get(f1) is f1                          # compile passes a Metric instance through


@pytest.fixture(scope="module")
def mnist_small():
    from tinynn.datasets import mnist

    try:
        (x, y), (xt, yt) = mnist.load_data()
    except Exception as err:  # no local data and no network
        if os.environ.get("CI"):
            raise
        pytest.skip(f"MNIST not available offline: {err}")
    return (x[:3000].reshape(-1, 784) / 255.0, y[:3000].reshape(-1, 1)), (xt[:1000].reshape(-1, 784) / 255.0,
                                                                           yt[:1000].reshape(-1, 1))


def test_subclassed_metrics_in_compile_on_mnist(mnist_small):
    (x, y), (xt, yt) = mnist_small
    set_random_seed(0)
    model = Sequential([Dense(32, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives(), "accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    counts = history.history["categorical_true_positives"]
    assert len(counts) == 2 and all(isinstance(c, float) for c in counts)
    accs = history.history["accuracy"]
    assert counts == pytest.approx([a * len(x) for a in accs])     # correct predictions = accuracy x samples
    loss, ctp, acc = model.evaluate(xt, yt, batch_size=100, verbose=0)
    correct = int((model.predict(xt, verbose=0).argmax(1) == yt[:, 0]).sum())
    assert isinstance(ctp, float) and ctp == correct and acc == pytest.approx(correct / len(xt))
    assert correct > 800                                 # it learned (about 89 % after 2 short epochs)
