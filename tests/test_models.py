import os

import numpy as np
import pytest

from tinynn import backend, callbacks, losses
from tinynn.layers import Dense, Dropout, Flatten, Input
from tinynn.models import Sequential, load_model
from tinynn.utils import set_random_seed, to_categorical


def _toy(n=64, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, y % classes


def _mlp(d=5, classes=3, seed=0, **compile_kwargs):
    set_random_seed(seed)
    model = Sequential([Dense(8, activation="relu", input_shape=(d,)), Dense(classes, activation="softmax")])
    model.compile(**{"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"],
                     **compile_kwargs})
    return model


# --- the seeds' programs -----------------------------------------------------------------------
def test_seed2_program_train_on_batch_loop_learns():
    """Seed 2's Keras example: Dense(128, input_dim=784) ... compile without metrics, a train_on_batch loop."""
    x, y = _toy(256, 784, 10)
    y = to_categorical(y, 10)
    set_random_seed(1)
    model = Sequential()
    model.add(Dense(128, input_dim=784, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    first = model.train_on_batch(x[:32], y[:32])
    for i in range(40):
        loss = model.train_on_batch(x[(i % 8) * 32:(i % 8 + 1) * 32], y[(i % 8) * 32:(i % 8 + 1) * 32])
    assert isinstance(first, float) and loss < first
    assert model.predict(x[:5]).shape == (5, 10)


@pytest.mark.slow
def test_seed_mnist_program_reaches_975_percent(mnist):
    """Seed 1's MNIST program (with its Flatten bug fixed) on the real data: >= 97.5 % in <= 10 epochs."""
    (x_train, y_train), (x_test, y_test) = mnist
    x_train, x_test = x_train.reshape(-1, 28 * 28) / 255.0, x_test.reshape(-1, 28 * 28) / 255.0
    y_train, y_test = to_categorical(y_train, 10), to_categorical(y_test, 10)
    set_random_seed(2024)
    model = Sequential()
    model.add(Flatten(input_shape=(28 * 28,)))
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.975, f"test accuracy {acc:.4f} after {len(history.history['loss'])} epochs"
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.fixture(scope="module")
def mnist():
    from tinynn.datasets import mnist

    try:
        return mnist.load_data()
    except Exception as err:  # no local data and no network
        if os.environ.get("CI"):
            raise
        pytest.skip(f"MNIST not available offline: {err}")


# --- Keras semantics -------------------------------------------------------------------------
def test_evaluate_return_shapes():
    x, y = _toy()
    y = to_categorical(y, 3)
    model = _mlp()
    res = model.evaluate(x, y, verbose=0)
    assert isinstance(res, list) and len(res) == 2 and all(isinstance(v, float) for v in res)
    assert model.metrics_names == ["loss", "accuracy"]
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["loss", "accuracy"] and d["loss"] == pytest.approx(res[0])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_history_keys_and_lengths():
    x, y = _toy()
    model = _mlp()
    h = model.fit(x, to_categorical(y, 3), epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert isinstance(h, callbacks.History) and model.history is h
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in h.history.values()) and h.epoch == [0, 1, 2]
    assert all(isinstance(v, float) for vs in h.history.values() for v in vs)


def test_validation_split_takes_the_last_fraction():
    x, y = _toy(100)
    y = to_categorical(y, 3)
    model = _mlp()
    h = model.fit(x, y, epochs=1, batch_size=10, validation_split=0.2, shuffle=True, verbose=0)
    val_loss, val_acc = model.evaluate(x[80:], y[80:], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert h.history["val_accuracy"][0] == pytest.approx(val_acc)
    other_loss, _ = model.evaluate(x[:20], y[:20], verbose=0)
    assert other_loss != pytest.approx(val_loss)


def test_class_weight_scales_the_gradient_like_sample_weight():
    """Keras: class_weight={c: w} multiplies the loss of each sample of class c by w (divided by N, not Σw)."""
    x, y = _toy(32)
    yc = to_categorical(y, 3)

    def grads(**kw):
        model = _mlp(optimizer="sgd")
        model.optimizer.learning_rate = 0.0
        loss, _accuracy = model.train_on_batch(x, yc, **kw)
        return loss, [w.grad.copy() for w in model.trainable_weights]

    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    loss_cw, g_cw = grads(class_weight=cw)
    loss_sw, g_sw = grads(sample_weight=np.array([cw[c] for c in y], "float32"))
    loss_plain, g_plain = grads()
    assert loss_cw == pytest.approx(loss_sw, rel=1e-6)
    assert all(np.allclose(a, b, atol=1e-7) for a, b in zip(g_cw, g_sw))
    assert not np.allclose(g_cw[0], g_plain[0])
    # the weighted loss is Σ w_i l_i / N
    model = _mlp()
    p = model.predict(x)
    per_sample = -np.log(np.clip(p[np.arange(32), y], 1e-7, 1))
    w = np.array([cw[c] for c in y])
    assert loss_cw == pytest.approx((w * per_sample).sum() / 32, rel=1e-5)


def test_fused_softmax_crossentropy_gradient_equals_the_chain_rule():
    x, y = _toy(16)
    yc = to_categorical(y, 3)
    fused = _mlp(optimizer="sgd")
    assert fused._fused == [True]  # Dense(softmax) + categorical_crossentropy: the fused pair
    fused.optimizer.learning_rate = 0.0
    fused.train_on_batch(x, yc)
    plain = _mlp(optimizer="sgd")
    plain.optimizer.learning_rate = 0.0
    plain._fused = [False]  # go through softmax's Jacobian instead
    plain.train_on_batch(x, yc)
    for a, b in zip(fused.trainable_weights, plain.trainable_weights):
        assert np.allclose(a.grad, b.grad, atol=1e-6)


def test_shuffle_false_is_deterministic_and_seed_reproduces():
    x, y = _toy()
    y = to_categorical(y, 3)
    runs = []
    for _ in range(2):
        model = _mlp(seed=5)
        set_random_seed(5)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        runs.append(model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_predict_on_batch_test_on_batch_and_call():
    x, y = _toy()
    model = _mlp()
    yc = to_categorical(y, 3)
    assert np.allclose(model.predict_on_batch(x), model.predict(x, batch_size=7), atol=1e-6)
    assert np.allclose(model(x), model.predict(x), atol=1e-6)
    loss, acc = model.test_on_batch(x, yc)
    assert loss == pytest.approx(model.evaluate(x, yc, batch_size=64, verbose=0)[0], rel=1e-5)
    assert isinstance(model.predict(x), np.ndarray)


def test_input_layer_and_summary(capsys):
    model = Sequential([Input(shape=(784,)), Dense(128, activation="relu"), Dropout(0.2), Dense(10, activation="softmax")])
    assert model.built and len(model.layers) == 3
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 128)" in out and "(None, 10)" in out and "100,480" in out and "1,290" in out
    assert "Total params: 101,770" in out and "Trainable params: 101,770" in out
    assert model.count_params() == 101770


def test_sparse_labels_and_binary_and_regression_losses():
    x, y = _toy()
    model = _mlp(loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    set_random_seed(0)
    binary = Sequential([Dense(4, activation="tanh", input_shape=(5,)), Dense(1, activation="sigmoid")])
    binary.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    h = binary.fit(x, (y > 0).astype("float32"), epochs=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0] and binary._fused == [True]
    reg = Sequential([Dense(1, input_shape=(5,))])
    reg.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    target = x @ np.arange(5, dtype="float32")
    h = reg.fit(x, target, epochs=20, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < 0.1 * h.history["loss"][0] and "mae" in h.history


def test_regularization_is_added_to_loss_and_gradient():
    x, y = _toy()
    yc = to_categorical(y, 3)
    set_random_seed(0)
    model = Sequential([Dense(3, activation="softmax", input_shape=(5,), kernel_regularizer="l2")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.optimizer.learning_rate = 0.0
    data_loss = losses.CategoricalCrossentropy()(yc, model.predict(x))
    penalty = 0.01 * float((model.layers[0].kernel.value ** 2).sum())
    assert model.train_on_batch(x, yc) == pytest.approx(data_loss + penalty, rel=1e-5)


# --- errors that teach ---------------------------------------------------------------------------
def test_fit_before_compile():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)))


def test_unknown_strings():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="adamm"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_sqared_error"):
        model.compile(optimizer="adam", loss="mean_sqared_error")
    with pytest.raises(ValueError, match="accuracyy"):
        model.compile(optimizer="adam", loss="mse", metrics=["accuracyy"])
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


def test_labels_that_do_not_match_the_loss():
    x, y = _toy()
    model = _mlp()
    with pytest.raises(ValueError, match="to_categorical"):
        model.fit(x, y, verbose=0)  # integer labels with categorical_crossentropy
    model = _mlp(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\b7\b"):
        model.fit(x, np.where(y == 0, 7, y), verbose=0)  # label 7 with 3 outputs
    with pytest.raises(ValueError, match="x has 64.*y has 10"):
        model.fit(x, y[:10], verbose=0)


def test_wrong_input_shape_names_layer():
    model = _mlp()
    with pytest.raises(ValueError, match=r"'dense.*expected \(None, 5\), got \(64, 6\)"):
        model.fit(np.zeros((64, 6), "float32"), to_categorical(np.zeros(64, int), 3), verbose=0)


def test_seed_flatten_bug_gives_the_fix():
    model = Sequential([Flatten(input_shape=(28, 28)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\(None, 28, 28\).*\(32, 784\).*input_shape=\(784,\)"):
        model.fit(np.zeros((32, 784), "float32"), to_categorical(np.zeros(32, int), 10), verbose=0)


def test_empty_batch_size_and_nonfinite_inputs():
    model = _mlp()
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.zeros((0, 5)), np.zeros((0, 3)), verbose=0)
    x, y = _toy()
    yc = to_categorical(y, 3)
    for bs in (0, -1, 2.5):
        with pytest.raises(ValueError, match="batch_size"):
            model.fit(x, yc, batch_size=bs, verbose=0)
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite.*sample 7"):
        model.fit(bad, yc, verbose=0)
    bad[7, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.predict(bad)


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_nan_loss_stops_training_and_keeps_finite_weights():
    x, y = _toy(256)
    target = (x @ np.arange(5, dtype="float32"))[:, None] * 1e3
    set_random_seed(0)
    model = Sequential([Dense(16, activation="relu", input_shape=(5,)), Dense(1)])
    model.compile(optimizer=__import__("tinynn").optimizers.SGD(learning_rate=10.0), loss="mse")
    with pytest.warns(RuntimeWarning, match="loss became"):
        h = model.fit(x, target, epochs=50, batch_size=8, verbose=0)
    assert model.stop_training
    assert len(h.history.get("loss", [])) < 50
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_stop_training_flag_from_a_callback_keeps_history():
    x, y = _toy()
    model = _mlp()
    stopper = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1))
    h = model.fit(x, to_categorical(y, 3), epochs=10, verbose=0, callbacks=[stopper])
    assert len(h.history["loss"]) == 2


# --- saving ---------------------------------------------------------------------------------
def test_save_and_load_weights_roundtrip_and_mismatch(tmp_path):
    x, _ = _toy()
    model = _mlp()
    path = tmp_path / "mlp.weights.npz"
    model.save_weights(path)
    assert [p.name for p in tmp_path.iterdir()] == ["mlp.weights.npz"]  # no temporary file left behind
    other = _mlp(seed=9)
    assert not np.allclose(other.predict(x), model.predict(x))
    other.load_weights(path)
    assert np.allclose(other.predict(x), model.predict(x))
    with np.load(path, allow_pickle=False) as f:  # plain arrays, no pickle
        assert len([k for k in f.files if k.startswith("w")]) == 4
    wrong = Sequential([Dense(9, input_shape=(5,)), Dense(3)])
    with pytest.raises(ValueError, match=r"(?s)does not fit.*\(5, 9\).*\(5, 8\)"):
        wrong.load_weights(path)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    before = path.read_bytes()
    import tinynn.files as files_module

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files_module.np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert path.read_bytes() == before and len(list(tmp_path.iterdir())) == 1


def test_save_and_load_model(tmp_path):
    x, y = _toy()
    model = _mlp()
    model.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    model.save(tmp_path / "model.npz")
    again = load_model(tmp_path / "model.npz")
    assert np.allclose(again.predict(x), model.predict(x))
    assert again.evaluate(x, to_categorical(y, 3), verbose=0)[0] == pytest.approx(
        model.evaluate(x, to_categorical(y, 3), verbose=0)[0], rel=1e-6)
    model.save_weights(tmp_path / "only.npz")
    with pytest.raises(ValueError, match="load_weights"):
        load_model(tmp_path / "only.npz")


def test_float32_end_to_end():
    x, y = _toy()
    model = _mlp()
    model.fit(x.astype("float64"), to_categorical(y, 3), epochs=1, verbose=0)
    assert all(w.value.dtype == np.float32 for w in model.weights)
    assert all(w.grad.dtype == np.float32 for w in model.weights)
    assert model.predict(x).dtype == np.float32
    assert backend.floatx() == "float32"


def test_weights_are_packed_and_references_stay_live():
    from tinynn import backend as B

    x, y = _toy()
    model = _mlp()
    kernel = model.layers[0].kernel
    value, grad = kernel.value, kernel.grad           # a learner's references, taken after building
    assert B.packed_base([w.value for w in model.trainable_weights]) is not None
    before = value.copy()
    model.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert model.layers[0].kernel is kernel and kernel.value is value and kernel.grad is grad
    assert not np.allclose(value, before)             # updated in place, through the packed array
    assert model.optimizer._packed is not None


def test_a_frozen_layer_falls_back_to_per_weight_updates():
    x, y = _toy()
    model = _mlp()
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    h = model.fit(x, to_categorical(y, 3), epochs=3, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, model.layers[0].get_weights()))
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_seed1_usage_steps_run_with_keras_replaced_by_tinynn():
    """Seed 1, section 3.3 (the seven usage steps), with `keras` replaced by `tinynn` and nothing else changed."""
    seed_steps = """
import keras
model = keras.models.Sequential()
model.add(keras.layers.Dense(units=64, activation='relu', input_shape=(784,)))
model.add(keras.layers.Dense(units=10, activation='softmax'))
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=10, batch_size=32)
model.evaluate(x_test, y_test)
predictions = model.predict(x_test)
"""
    x, y = _toy(128, 784, 10)
    y = to_categorical(y, 10)
    scope = {"x_train": x[:96], "y_train": y[:96], "x_test": x[96:], "y_test": y[96:]}
    exec(seed_steps.replace("keras", "tinynn").replace("epochs=10", "epochs=2, verbose=0"), scope)
    assert scope["predictions"].shape == (32, 10)
    assert np.allclose(scope["predictions"].sum(axis=1), 1, atol=1e-5)
