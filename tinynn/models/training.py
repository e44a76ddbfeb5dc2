r"""Keras' ``compile`` / ``fit`` / ``evaluate`` / ``predict`` for every kind of model.

A model has one or several inputs and outputs. Internally the data are always *lists* of arrays, one per
input (``xs``) and one per output (``ys``); ``x`` and ``y`` may be given as one array, a list, or a dict keyed
by input / output name, as in Keras. ``compile(loss=...)`` takes one loss (used for every output), a list or
a dict keyed by output name; the training loss is

.. math:: L = \sum_k w_k\, L_k(y_k, \hat y_k) + \text{penalties},

with the ``loss_weights`` :math:`w_k` (default 1). One step of training is :meth:`train_step` of the model
class (:class:`~tinynn.models.Sequential` or :class:`~tinynn.models.Model`).
"""
from __future__ import annotations

import math
import warnings

from tinynn import backend, callbacks as callbacks_module, losses, metrics as metrics_module, optimizers
from tinynn.backend import xp
from tinynn.models import data as data_module


class Trainer:
    """What every model can do once it has layers: compile, fit, evaluate, predict (mixed into Model)."""

    optimizer = None
    loss = None
    history = None
    stop_training = False

    # --- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, jit_compile=None, steps_per_execution=None, **kwargs):
        """Choose the optimizer, the loss(es) and the metrics (names like Keras: ``'adam'``,
        ``'categorical_crossentropy'``, ``['accuracy']``). For several outputs, ``loss``, ``loss_weights``
        and ``metrics`` may be lists (in output order) or dicts keyed by output name."""
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(map(repr, kwargs))}.")
        if weighted_metrics:
            raise NotImplementedError("compile: weighted_metrics is not supported by tinynn; metrics use sample_weight "
                                      "already when fit gets one.")
        if loss is None and not self._has_add_loss():
            raise ValueError("compile: a loss is required, e.g. loss='categorical_crossentropy'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss if isinstance(loss, (list, tuple, dict)) else losses.get(loss) if loss is not None else None
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights}
        self._metric_ids = metrics
        self.compiled_metrics = []
        self._compiled = False
        self.stop_training = False
        if self.built:
            self._resolve_compiled()

    def _has_add_loss(self):
        return False

    def _resolve_compiled(self):
        """Per output: its loss, its weight, its metrics (named ``<output>_<metric>`` when there are several)."""
        if self._compiled:
            return
        names = self.output_names
        args = self._compile_args
        losses_ = _per_output(args["loss"], names, "loss")
        self._loss_fns = [None if l is None else losses.get(l) for l in losses_]
        if isinstance(self.loss, losses.Loss):
            self._loss_fns = [self.loss if l is not None else None for l in self._loss_fns]
            if len(names) > 1:  # one loss for every output: a fresh object each, same settings
                self._loss_fns = [self.loss] + [losses.get(args["loss"]) if isinstance(args["loss"], str)
                                                else self.loss for _ in names[1:]]
        weights = _per_output(args["loss_weights"], names, "loss_weights")
        self._loss_weights = [1.0 if w is None else float(w) for w in weights]
        shapes = self._output_shapes()
        self._metric_slots = []  # (output index, metric, log name)
        per = _per_output_metrics(args["metrics"], names)
        for k, ids in enumerate(per):
            for m in ids:
                metric = metrics_module.get(m, loss=self._loss_fns[k], output_shape=shapes[k])
                key = metric.name if len(names) == 1 else f"{names[k]}_{metric.name}"
                self._metric_slots.append((k, metric, key))
        self.compiled_metrics = [m for _, m, _ in self._metric_slots]
        self._loss_trackers = [_LossTracker() for _ in range(1 + (len(names) if len(names) > 1 else 0))]
        self._loss_tracker = self._loss_trackers[0]
        self._compiled = True
        self._resolve_fused()

    def _resolve_fused(self):
        self._fused = [False] * len(self.output_names)

    def _check_compiled(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"You must call compile() before {what}(): e.g. "
                               "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']).")

    @property
    def metrics_names(self):
        names = ["loss"] + ([f"{n}_loss" for n in self.output_names] if len(self.output_names) > 1 else [])
        return names + [key for _, _, key in getattr(self, "_metric_slots", [])]

    # --- losses of one batch --------------------------------------------------------------------
    def _batch_losses(self, ys, y_preds, sws):
        """The weighted total and the per-output losses (floats)."""
        total, parts = 0.0, []
        for k, (fn, y, yp) in enumerate(zip(self._loss_fns, ys, y_preds)):
            if fn is None:
                parts.append(0.0)
                continue
            sw = sws[k] if sws is not None else None
            value = float(fn(y, yp) if sw is None else fn(y, yp, sample_weight=sw))
            parts.append(value)
            total += self._loss_weights[k] * value
        return total, parts

    def _update_metrics(self, ys, y_preds, sws):
        for k, m, _ in self._metric_slots:
            m.update_state(ys[k], y_preds[k], sample_weight=None if sws is None else sws[k])

    # --- fit ------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over ``(x, y)``; returns a :class:`~tinynn.callbacks.History`.

        ``x`` may also be a Python generator/iterator of ``(x, y[, sample_weight])`` batches or a
        :class:`tinynn.utils.PyDataset` (then ``y`` is not given). ``validation_split`` holds out the *last*
        fraction of the data (before shuffling), as in Keras. Training stops cleanly (weights and history
        kept) when a callback sets ``model.stop_training``, when the loss becomes NaN/inf, or on Ctrl-C.
        """
        self._check_compiled("fit")
        for name, value in (("epochs", epochs), ("validation_freq", validation_freq)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"fit: {name} must be a positive integer, got {value!r}.")
        source = data_module.adapt(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch,
                                   "fit")
        if validation_data is None and validation_split:
            source, validation = source.split(validation_split)
        elif validation_data is not None:
            validation = data_module.adapt_validation(self, validation_data, validation_batch_size or source.batch_size,
                                                      validation_steps)
        else:
            validation = None
        steps = source.steps
        self.history = callbacks_module.History()
        cbs = self._callback_list(callbacks, verbose, epochs=epochs, steps=steps, samples=source.samples,
                                  batch_size=source.batch_size, do_validation=validation is not None)
        cbs.append(self.history)
        cbs.set_model(self)
        self.stop_training = False
        self._stop_reason = None
        cbs.on_train_begin({})
        batch_hooks = any(_listens(c, hook) for c in cbs for hook in
                          ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"))
        epoch = initial_epoch
        try:
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                cbs.on_epoch_begin(epoch)
                for step, (xs, ys, sws) in enumerate(source.epoch()):
                    if batch_hooks:
                        cbs.on_train_batch_begin(step)
                    self._rejected = None
                    loss = self._train_batch(xs, ys, sws)
                    if not math.isfinite(loss) or self._rejected:
                        self._stop_on_nan(epoch, step, loss)
                        break
                    self._track_losses(loss, len(xs[0]))
                    if batch_hooks:
                        cbs.on_train_batch_end(step, self._logs())
                    if self.stop_training:
                        break
                if self._stop_reason == "nan":
                    break
                logs = self._logs() if self._loss_tracker.count else {}
                if validation is not None and (epoch + 1) % validation_freq == 0:
                    val = self._evaluate_source(validation, cbs)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            warnings.warn(f"fit: interrupted during epoch {epoch + 1}; the model keeps its current weights and "
                          "model.history keeps the completed epochs.", stacklevel=2)
        cbs.on_train_end({})
        return self.history

    def _train_batch(self, xs, ys, sws):
        if self._single_io:
            return self.train_step(xs[0], ys[0], None if sws is None else sws[0])
        return self.train_step(xs, ys, sws)

    def _track_losses(self, loss, n):
        self._loss_tracker.update(loss, n)
        parts = getattr(self, "_last_losses", None)
        if len(self._loss_trackers) > 1 and parts is not None:
            for tracker, value in zip(self._loss_trackers[1:], parts):
                tracker.update(value, n)

    def _stop_on_nan(self, epoch, step, loss):
        """Stop training after a step that was not applied: the weights are the pre-step ones."""
        self.stop_training = True
        self._stop_reason = "nan"
        warnings.warn(f"fit: epoch {epoch + 1}, batch {step + 1}: {self._rejection_text(loss)}; training stopped. "
                      "The model keeps the weights (and optimizer state) from before this batch, and model.history "
                      "the completed epochs; fit can continue from here. Try a smaller learning rate, clipnorm=1.0, "
                      "or check the data for huge values.", RuntimeWarning, stacklevel=3)

    def _rejection_text(self, loss):
        reason = getattr(self, "_rejected", None)
        if not math.isfinite(loss):
            return f"the loss became {loss}, so this batch's update was not applied"
        if reason == "gradient":
            return "a gradient became NaN or infinite, so this batch's update was not applied"
        return "the update made a weight overflow to infinity, so it was undone"

    def _callback_list(self, cbs, verbose, **params):
        cbs = list(cbs or [])
        if verbose == "auto":
            verbose = 1
        if verbose == "dashboard":
            from tinynn.widgets import TrainingDashboard  # noqa: PLC0415

            cbs.append(TrainingDashboard())
        elif verbose:
            cbs.append(callbacks_module.ProgbarLogger(verbose))
        params["verbose"] = verbose
        return callbacks_module.CallbackList(cbs, model=self, **params)

    def _reset_metrics(self):
        for tracker in self._loss_trackers:
            tracker.reset_state()
        for m in self.compiled_metrics:
            m.reset_state()

    def _logs(self):
        logs = {"loss": self._loss_tracker.result()}
        if len(self._loss_trackers) > 1:
            for name, tracker in zip(self.output_names, self._loss_trackers[1:]):
                logs[f"{name}_loss"] = tracker.result()
        for _, m, key in self._metric_slots:
            logs[key] = float(m.result())
        return logs

    # --- evaluate / predict ---------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, _callbacks=None):
        """The loss (and metrics) on ``(x, y)``: a float, or ``[loss, *metrics]`` when metrics were compiled
        (Keras' order: the total loss, each output's loss, then the metrics)."""
        self._check_compiled("evaluate")
        source = data_module.adapt(self, x, y, sample_weight, None, batch_size, False, steps, "evaluate")
        cbs = _callbacks or callbacks_module.CallbackList(callbacks, model=self)
        logs = self._evaluate_source(source, cbs)
        if verbose not in (0, "auto") and verbose:
            print(callbacks_module.format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_source(self, source, cbs):
        self._reset_metrics()
        cbs.on_test_begin({})
        for step, (xs, ys, sws) in enumerate(source.epoch()):
            cbs.on_test_batch_begin(step)
            loss = self._test_batch(xs, ys, sws)
            self._track_losses(loss, len(xs[0]))
            cbs.on_test_batch_end(step)
        logs = self._logs()
        cbs.on_test_end(logs)
        return logs

    def _test_batch(self, xs, ys, sws):
        if self._single_io:
            return self.test_step(xs[0], ys[0], None if sws is None else sws[0])
        return self.test_step(xs, ys, sws)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, computed in batches; numpy arrays (copied from the GPU if needed):
        one array, or a list / dict of arrays for a model with several outputs."""
        source = data_module.adapt(self, x, None, None, None, batch_size, False, steps, "predict")
        parts = []
        for xs, _, _ in source.epoch():
            out = self._predict_batch(xs)
            parts.append([backend.to_cpu(o) for o in out])
        joined = [backend.concatenate_cpu([p[k] for p in parts], axis=0) for k in range(len(parts[0]))]
        return self._structure_outputs(joined)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (or ``[loss, *metrics]``)."""
        self._check_compiled("train_on_batch")
        xs, ys, sws = data_module.one_batch(self, x, y, sample_weight, class_weight, "train_on_batch")
        self._reset_metrics()
        self._rejected = None
        loss = self._train_batch(xs, ys, sws)
        if not math.isfinite(loss) or self._rejected:
            warnings.warn(f"train_on_batch: {self._rejection_text(loss)}; the weights are unchanged.",
                          RuntimeWarning, stacklevel=2)
        self._track_losses(loss, len(xs[0]))
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("test_on_batch")
        xs, ys, sws = data_module.one_batch(self, x, y, sample_weight, None, "test_on_batch")
        self._reset_metrics()
        loss = self._test_batch(xs, ys, sws)
        self._track_losses(loss, len(xs[0]))
        return self._batch_result(return_dict)

    def _batch_result(self, return_dict):
        logs = self._logs()
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    def predict_on_batch(self, x):
        xs, _, _ = data_module.one_batch(self, x, None, None, None, "predict_on_batch")
        return self._structure_outputs([backend.to_cpu(o) for o in self._predict_batch(xs)])


def _per_output(value, names, what):
    """``value`` for each output: one value for all, a list in output order, or a dict by output name."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not outputs of the model; "
                             f"the outputs are {names}.")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: {what} has {len(value)} entries but the model has {len(names)} outputs "
                             f"({names}).")
        return list(value)
    return [value] * len(names)


def _per_output_metrics(metrics, names):
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        per = _per_output(metrics, names, "metrics")
        return [[] if m is None else (list(m) if isinstance(m, (list, tuple)) else [m]) for m in per]
    metrics = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
    if len(names) > 1 and len(metrics) == len(names) and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
        return [[] if m is None else list(m) for m in metrics]
    if len(names) == 1:
        return [metrics]
    # one flat list for several outputs: every output gets the named metrics; a Metric object only the first
    return [list(metrics) if k == 0 else [m for m in metrics if isinstance(m, str)] for k in range(len(names))]


def _listens(callback, hook):
    """True when ``callback`` does something in ``hook`` (a method of its own or a LambdaCallback function)."""
    fn = getattr(callback, hook, None)
    if fn is None:
        return False
    base = getattr(callbacks_module.Callback, hook, None)
    return getattr(fn, "__func__", fn) is not base


class _LossTracker:
    """The running mean of the batch losses over an epoch, weighted by batch size."""

    def __init__(self):
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0

    def update(self, loss, n):
        self.total += float(loss) * n
        self.count += n

    def result(self):
        return self.total / max(self.count, 1)
