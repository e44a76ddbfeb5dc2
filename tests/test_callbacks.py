import io
import re

import numpy as np
import pytest

from tinynn import callbacks
from tinynn.layers import Dense
from tinynn.models import Sequential
from tinynn.utils import set_random_seed, to_categorical


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, to_categorical((x[:, 0] > 0).astype(int), 2)


def _model(seed=0):
    set_random_seed(seed)
    m = Sequential([Dense(6, activation="tanh", input_shape=(4,)), Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


for _hook in [name for name in vars(callbacks.Callback) if name.startswith("on_")]:
    setattr(Recorder, _hook, (lambda hook: lambda self, *args, **kwargs: self.calls.append(hook))(_hook))


def test_hook_order_like_keras():
    x, y = _data()
    rec = Recorder()
    _model().fit(x, y, epochs=2, batch_size=32, validation_data=(x, y), verbose=0, callbacks=[rec])
    calls = [c for c in rec.calls if not c.startswith("on_test_batch")]
    assert calls[0] == "on_train_begin" and calls[-1] == "on_train_end"
    epoch = ["on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_train_batch_begin",
             "on_train_batch_end", "on_test_begin", "on_test_end", "on_epoch_end"]
    assert calls[1:-1] == epoch * 2
    assert rec.params["epochs"] == 2 and rec.params["steps"] == 2 and rec.model is not None


def test_history_records_each_epoch():
    x, y = _data()
    h = callbacks.History()
    _model().fit(x, y, epochs=3, verbose=0, callbacks=[h])
    assert h.epoch == [0, 1, 2] and len(h.history["loss"]) == 3


def test_early_stopping_restores_best_weights():
    x, y = _data()
    model = _model()
    seen = []

    class FakeMonitor(callbacks.Callback):   # a val_loss that is best at epoch 1 and then gets worse
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [3.0, 1.0, 2.0, 2.5, 2.7, 2.9][epoch]
            seen.append(self.model.get_weights())

    es = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=6, verbose=0, callbacks=[FakeMonitor(), es])
    assert len(h.history["loss"]) == 4 and es.stopped_epoch == 3 and es.best_epoch == 1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), seen[1]))


def test_early_stopping_mode_auto_for_accuracy():
    es = callbacks.EarlyStopping(monitor="val_accuracy")
    assert es.mode == "max"
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="up")


def test_terminate_on_nan():
    model = _model()
    cb = callbacks.TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": float("nan")})
    assert model.stop_training


def test_lambda_callback_and_unknown_hook():
    x, y = _data()
    ends = []
    _model().fit(x, y, epochs=2, verbose=0,
                 callbacks=[callbacks.LambdaCallback(on_epoch_end=lambda e, logs: ends.append((e, round(logs["loss"], 6))))])
    assert [e for e, _ in ends] == [0, 1]
    with pytest.raises(TypeError, match="on_epoch_ending"):
        callbacks.LambdaCallback(on_epoch_ending=print)


def test_model_checkpoint_best_only(tmp_path):
    x, y = _data()
    model = _model()
    path = str(tmp_path / "best-{epoch:02d}.npz")
    ck = callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[ck])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files and all(re.fullmatch(r"best-0[1-3]\.npz", f) for f in files)
    other = _model(seed=3)
    other.load_weights(tmp_path / files[-1])


def test_learning_rate_scheduler_and_reduce_on_plateau():
    x, y = _data()
    model = _model()
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 * 0.5 ** epoch)
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    assert h.history["learning_rate"] == pytest.approx([0.01, 0.005, 0.0025])
    rl = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    model.optimizer.learning_rate = 0.1
    model.fit(x, y, epochs=3, verbose=0, callbacks=[rl])
    assert float(model.optimizer.learning_rate) < 0.1


def test_verbose_2_prints_one_line_per_epoch_without_timings(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"Epoch 1/2 - accuracy: \d\.\d{4} - loss: \d\.\d{4}", lines[0])


def test_verbose_1_shows_a_progress_bar():
    x, y = _data()
    buf = io.StringIO()
    model = _model()
    cb = callbacks.ProgbarLogger(verbose=1, file=buf)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[cb])
    out = buf.getvalue()
    assert "Epoch 1/1" in out and "4/4" in out and "loss:" in out


def test_batch_hooks_of_lambda_callbacks_are_called():
    x, y = _data()
    seen = []
    _model().fit(x, y, epochs=1, batch_size=16, verbose=0,
                 callbacks=[callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))])
    assert len(seen) == 4 and all(isinstance(v, float) for v in seen)
