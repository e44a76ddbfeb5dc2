"""Keras' old batch-hook names (on_batch_begin/on_batch_end) and the logs dict every hook receives."""
import numpy as np

from tinynn import callbacks
from tinynn.layers import Dense
from tinynn.models import Sequential
from tinynn.utils import set_random_seed, to_categorical


def _fit(cbs, n=64, epochs=2, batch_size=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = to_categorical((x[:, 0] > 0).astype(int), 2)
    set_random_seed(0)
    model = Sequential([Dense(3, activation="tanh", input_shape=(4,)), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=cbs)


class OnlyOldNames(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begins, self.ends = [], []

    def on_batch_begin(self, batch, logs=None):
        self.begins.append(batch)

    def on_batch_end(self, batch, logs=None):
        self.ends.append((batch, dict(logs)))


def test_a_callback_with_only_on_batch_end_is_called_by_fit_with_the_batch_logs():
    cb = OnlyOldNames()
    _fit([cb])
    assert cb.begins == [0, 1, 2, 3] * 2
    assert [b for b, _ in cb.ends] == [0, 1, 2, 3] * 2
    assert all(isinstance(logs["loss"], float) for _, logs in cb.ends)


def test_base_on_train_batch_hooks_call_the_old_names_like_keras():
    seen = []

    class Sub(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs))

    class SubSub(Sub):               # overriding the old name again still reaches fit
        def on_batch_end(self, batch, logs=None):
            seen.append(("subsub", batch))

    Sub().on_train_batch_end(3, {"loss": 1.0})
    SubSub().on_train_batch_end(4)
    callbacks.Callback().on_train_batch_begin(0)        # the base does nothing, and does not fail
    assert seen == [(3, {"loss": 1.0}), ("subsub", 4)]


def test_overriding_the_new_name_does_not_also_call_the_old_one():
    calls = []

    class New(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append("new")

        def on_batch_end(self, batch, logs=None):
            calls.append("old")

    _fit([New()], epochs=1)
    assert calls == ["new"] * 4


def test_lambda_callback_accepts_on_batch_begin_and_on_batch_end():
    begins, ends = [], []
    cb = callbacks.LambdaCallback(on_batch_begin=lambda batch, logs: begins.append(batch),
                                  on_batch_end=lambda batch, logs: ends.append(round(logs["loss"], 6)))
    history = _fit([cb], epochs=1)
    assert begins == [0, 1, 2, 3] and len(ends) == 4
    assert abs(ends[-1] - history.history["loss"][0]) < 1e-6   # the last batch's running mean is the epoch's


def test_every_hook_receives_a_dict_when_fit_passes_no_logs():
    received = {}

    class Check(callbacks.Callback):
        pass

    for hook in [h for h in vars(callbacks.Callback) if h.startswith("on_")]:
        setattr(Check, hook, (lambda h: lambda self, *args: received.setdefault(h, args[-1]))(hook))
    _fit([Check()], epochs=1)
    for hook in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_end"):
        assert received[hook] == {}, hook      # fit passes nothing: the callback gets {} (not None)
    assert set(received["on_epoch_end"]) == {"loss"}
    cbs = callbacks.CallbackList([Check()])
    cbs.on_test_batch_end(0)
    assert received["on_test_batch_end"] == {}
    logs = {"loss": 2.0}
    received.clear()
    cbs.on_epoch_end(5, logs)            # a dict given is passed on as it is (callbacks may add to it)
    assert received["on_epoch_end"] is logs
    received.clear()
    cbs.on_epoch_end(5, logs=logs)
    assert received["on_epoch_end"] is logs
