"""Callbacks: code that runs at fixed points of ``fit`` (Keras' hook names and classes).

The training loop calls, in order::

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(batch) ... on_train_batch_end(batch, logs)    # for every batch
        on_test_begin ... on_test_end                                      # validation, if any
      on_epoch_end(epoch, logs)                                            # logs: loss, metrics, val_*
    on_train_end

Setting ``self.model.stop_training = True`` in any hook ends training after the current batch.
"""
from __future__ import annotations

import math
import os
import string
import sys
import warnings

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "TerminateOnNaN",
    "LambdaCallback", "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau",
]


class Callback:
    """Base class: override any of the ``on_*`` hooks. ``self.model`` and ``self.params`` are set by fit."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def __init_subclass__(cls, **kwargs):
        """A subclass that overrides only the old names ``on_batch_begin``/``on_batch_end`` gets its own
        ``on_train_batch_*`` (calling them), so fit sees that it listens to batches."""
        super().__init_subclass__(**kwargs)
        for old, new in (("on_batch_begin", "on_train_batch_begin"), ("on_batch_end", "on_train_batch_end")):
            if getattr(cls, old) is not getattr(Callback, old) and getattr(cls, new) is getattr(Callback, new):
                setattr(cls, new, _alias(old, new))

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...  # Keras' old name of on_train_batch_begin
    def on_batch_end(self, batch, logs=None): ...    # Keras' old name of on_train_batch_end

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)   # as Keras 3: the old name still works

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


def _alias(old, new):
    def hook(self, batch, logs=None):
        getattr(self, old)(batch, logs=logs)

    hook.__name__ = new
    return hook


class CallbackList(Callback):
    """Calls every hook on each callback in order."""

    def __init__(self, callbacks=None, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        self.model = model
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        self.params = params
        for c in self.callbacks:
            c.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)


def _dispatch(hook):
    indexed = int(hook.startswith(("on_epoch", "on_batch")) or "_batch_" in hook)  # (batch or epoch, logs)

    def call_all(self, *args, logs=None):
        if len(args) > indexed:
            args, logs = args[:indexed], args[indexed]
        logs = {} if logs is None else logs  # every callback gets a dict, as in Keras
        for c in self.callbacks:
            getattr(c, hook)(*args, logs)

    call_all.__name__ = hook
    return call_all


for _hook in [name for name in vars(Callback) if name.startswith("on_")]:
    setattr(CallbackList, _hook, _dispatch(_hook))


class History(Callback):
    """Records the epoch logs: ``history.history['loss']`` is the list of per-epoch losses."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = [] if not self.epoch else self.epoch  # keep earlier fits' epochs (Keras does too)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def format_logs(logs, keys=None):
    """``'accuracy: 0.9750 - loss: 0.0812'`` (Keras 3 sorts the names)."""
    items = sorted((k, v) for k, v in logs.items() if keys is None or k in keys)
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in items)


class ProgbarLogger(Callback):
    """Progress output of ``fit(verbose=...)``.

    ``verbose=1``: a tqdm bar per epoch with the running metrics (Keras' progress bar).
    ``verbose=2``: one line per epoch, ``Epoch 3/10 - accuracy: 0.9750 - loss: 0.0812``, without timings
    so that notebooks give the same text on every run.
    """

    def __init__(self, verbose=1, file=None):
        super().__init__()
        self.verbose = verbose
        self.file = file
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        if self.verbose == 1:
            from tqdm.auto import tqdm  # noqa: PLC0415

            self._bar = tqdm(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", unit="step", leave=True,
                             file=self.file or sys.stdout, mininterval=0.2, dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            if logs and (batch % 10 == 0 or batch + 1 == self.params.get("steps")):
                self._bar.set_postfix_str(format_logs(logs), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {format_logs(logs or {})}",
                  file=self.file or sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _MonitorMixin:
    def _init_monitor(self, monitor, mode, min_delta):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got {mode!r}.")
        if mode == "auto":
            mode = "max" if any(s in monitor for s in ("acc", "auc", "precision", "recall")) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)

    def _improved(self, current, best):
        if best is None:
            return True
        return current < best - self.min_delta if self.mode == "min" else current > best + self.min_delta

    def _get_monitor_value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__}: the monitored quantity {self.monitor!r} is not in the logs "
                f"(available: {', '.join(sorted(logs or {})) or 'none'}).", stacklevel=3)
        return value


class EarlyStopping(_MonitorMixin, Callback):
    """Stop when ``monitor`` has stopped improving for ``patience`` epochs.

    With ``restore_best_weights=True`` the model gets back the weights of its best epoch.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self._init_monitor(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = self.baseline, None

    def on_epoch_end(self, epoch, logs=None):
        current = self._get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch))``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for old in ("on_batch_begin", "on_batch_end"):  # the old names stand for on_train_batch_* (Keras)
            new = old.replace("on_", "on_train_", 1)
            if hooks.get(old) is not None and hooks.get(new) is None:
                hooks[new] = hooks[old]
        for name, fn in hooks.items():
            if not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}.")
            if fn is not None:
                setattr(self, name, fn)


class ModelCheckpoint(_MonitorMixin, Callback):
    """Save the model (or only its weights) after every epoch, every ``save_freq`` batches, or only when
    ``monitor`` improved (``save_best_only``), as Keras 3's ``ModelCheckpoint``.

    The path may contain ``{epoch}``, ``{batch}`` and log names: ``'ckpt-{epoch:02d}-{val_loss:.2f}.keras'``;
    its folder is created if needed. ``save_weights_only=False`` (the default, as in Keras) saves the whole
    model (``model.save``: architecture, weights, compile settings, optimizer state, loadable with
    ``load_model``); ``True`` saves the weights (``model.save_weights``). Files are written atomically.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        self._init_monitor(monitor, mode, 0)
        self.filepath, self.verbose, self.save_best_only = os.fspath(filepath), verbose, save_best_only
        try:
            list(string.Formatter().parse(self.filepath))
        except ValueError as exc:
            raise ValueError(f"ModelCheckpoint: the file path {self.filepath!r} is not a valid format string ({exc}); "
                             "write a literal brace as {{ or }}.") from None
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}.")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._batches_seen = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch, logs or {})

    def on_train_begin(self, logs=None):
        """Fail at the start of fit, not after an epoch, when the path needs ``val_*`` logs and fit has no
        validation data (``params['do_validation']``, Keras' name)."""
        fields = [f for _, f, _, _ in string.Formatter().parse(self.filepath) if f]
        missing = [f for f in fields if f.startswith("val_")]
        if self.params.get("do_validation") is False and missing:
            raise ValueError(f"ModelCheckpoint: the file path {self.filepath!r} uses {{{missing[0]}}}, but fit has no "
                             "validation data. Pass validation_data= or validation_split= to fit, or remove "
                             f"{{{missing[0]}}} from the path.")

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        try:
            path = self.filepath.format(epoch=epoch + 1, batch=None if batch is None else batch + 1, **logs)
        except IndexError:
            raise ValueError(f"ModelCheckpoint: the file path {self.filepath!r} has a positional field {{}}; name "
                             "what it holds, e.g. {epoch:02d} or {val_loss:.2f}.") from None
        except KeyError as exc:
            hint = " (pass validation_data= or validation_split= to fit)" if str(exc.args[0]).startswith("val_") else ""
            raise ValueError(f"ModelCheckpoint: the file path {self.filepath!r} uses {{{exc.args[0]}}}, which is not "
                             f"in the logs of epoch {epoch + 1}{hint}; available: epoch, batch, "
                             f"{', '.join(sorted(logs)) or 'nothing else'}.") from None
        except ValueError as exc:  # e.g. {loss:02d}: a float with an integer format
            raise ValueError(f"ModelCheckpoint: cannot fill the file path {self.filepath!r} with the logs of epoch "
                             f"{epoch + 1} ({exc}).") from None
        if self.save_best_only:
            current = self._get_monitor_value(logs)
            if current is None or not self._improved(current, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to {current:.5f}, saving model to {path}")
            self.best = current
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: ``schedule(epoch, lr) -> new lr``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        new = float(self.schedule(epoch, lr))
        self.model.optimizer.learning_rate = new
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(_MonitorMixin, Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}.")
        self._init_monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._get_monitor_value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                lr = float(self.model.optimizer.learning_rate)
                if lr > self.min_lr:
                    self.model.optimizer.learning_rate = max(lr * self.factor, self.min_lr)
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {self.model.optimizer.learning_rate}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0

