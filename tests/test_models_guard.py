"""The guard: a step that would make the weights non-finite is not applied (or is undone)."""
import warnings

import numpy as np
import pytest

from tinynn.layers import Dense, Input
from tinynn.models import Model, Sequential
from tinynn.optimizers import SGD


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32") * 10
    return x, x @ rng.normal(size=(4, 1)).astype("float32") * 10


def test_full_batch_sgd_with_a_huge_learning_rate_keeps_finite_weights_and_history():
    x, y = _data()
    model = Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")  # diverges within a few epochs
    with pytest.warns(RuntimeWarning, match=r"fit: epoch \d+, batch 1: .*(not applied|undone)"):
        hist = model.fit(x, y, epochs=50, batch_size=64, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert 0 < len(hist.history["loss"]) < 50 and np.isfinite(hist.history["loss"]).all()
    assert model.history is hist and model.predict(x, verbose=0).shape == (64, 1)


def test_train_on_batch_is_guarded_too():
    x, y = _data()
    inputs = Input(shape=(4,))
    model = Model(inputs, Dense(1)(Dense(8)(inputs)))
    model.compile(optimizer=SGD(learning_rate=1e3), loss="mse")
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(20):
            before = model.get_weights()
            model.train_on_batch(x, y)
            if any("train_on_batch:" in str(w.message) for w in caught):
                seen.append(before)
                break
    assert seen, "the learning rate should have made the update blow up"
    assert all(np.isfinite(w).all() for w in model.get_weights())
    for a, b in zip(seen[0], model.get_weights()):
        np.testing.assert_array_equal(a, b)  # exactly the pre-step weights


def test_a_nan_gradient_is_not_applied_and_the_optimizer_state_is_untouched():
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.train_on_batch(x, y)
    weights, slots = model.get_weights(), [s.numpy() for s in model.optimizer.variables]
    steps = model.optimizer.iterations
    model.layers[0].backward = lambda dy: (model.layers[0].kernel.grad.fill(np.nan), None)[1]
    with pytest.warns(RuntimeWarning, match="gradient became NaN"):
        model.train_on_batch(x, y)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(slots, model.optimizer.variables):
        np.testing.assert_array_equal(a, b.numpy())
    assert model.optimizer.iterations == steps
    del model.layers[0].backward  # the bug fixed: training continues from the kept state
    hist = model.fit(x, y, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and model.optimizer.iterations == steps + 2
