"""``Sequential``: a stack of layers with Keras' ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

One training step is the whole algorithm, in the order the math goes (see :meth:`Sequential.train_step`)::

    y_pred = model(x, training=True)                 # forward through the layers
    loss   = loss_fn(y, y_pred)                      # how wrong we are
    dy     = loss_fn.backward(y, y_pred)             # dL/dy_pred
    for layer in reversed(model.layers):             # backward, last layer first
        dy = layer.backward(dy)                      #   fills every weight's .grad
    optimizer.apply([w.grad for w in ws], ws)        # w <- w - lr * dL/dw (or Adam, ...)
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import warnings

import numpy as _np  # only for the .npz file format (saving/loading), never for math

from tinynn import activations, backend, callbacks as callbacks_module, losses, metrics as metrics_module, optimizers
from tinynn.backend import xp
from tinynn.layers.base import Layer, shape_str
from tinynn.layers.core import InputLayer

__all__ = ["Sequential", "load_model"]


class Sequential(Layer):
    """A linear stack of layers: ``Sequential([Dense(128, activation='relu'), Dense(10, activation='softmax')])``."""

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._input_layer = None
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self._fused = False
        for layer in layers or []:
            self.add(layer)

    # --- structure --------------------------------------------------------------------------
    @property
    def layers(self):
        """The layers, without the ``InputLayer`` (as in Keras)."""
        return list(self._layers)

    def add(self, layer):
        """Append a layer; a first layer with ``input_shape=`` (or an ``Input``) builds the model at once."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a tinynn Layer, got {type(layer).__name__} ({layer!r}).")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential: an Input/InputLayer can only be the first layer.")
            self._input_layer = layer
        else:
            if any(existing is layer for existing in self._layers):
                raise ValueError(f"Sequential: layer '{layer.name}' was already added to this model.")
            self._layers.append(layer)
        self.__dict__.pop("_sublayer_cache", None)
        shape = self._declared_input_shape()
        if shape is not None:
            self.build(shape)

    def pop(self):
        """Remove the last layer."""
        if not self._layers:
            raise TypeError("Sequential.pop: there are no layers in the model.")
        self.__dict__.pop("_sublayer_cache", None)
        return self._layers.pop()

    def _declared_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer._batch_input_shape
        if self._layers and self._layers[0]._batch_input_shape is not None:
            return self._layers[0]._batch_input_shape
        return None

    def build(self, input_shape=None):
        """Build every layer from the input shape, layer by layer, with ``compute_output_shape``."""
        input_shape = tuple(input_shape if input_shape is not None else self._declared_input_shape())
        shape = (None, *input_shape[1:])
        self.input_shape = shape
        for layer in self._layers:
            if layer.built:
                if layer.input_spec is not None:
                    layer.input_spec.check(layer, shape)
            else:
                if layer._batch_input_shape is not None and layer is not self._layers[0]:
                    warnings.warn(f"Sequential: input_shape= on layer '{layer.name}' is ignored: only the first layer's counts.",
                                  stacklevel=3)
                layer.build_from_shape(shape)
            shape = tuple(layer.compute_output_shape(shape))
        if self._layers:
            self.built = True
            for i, layer in enumerate(self._layers):
                if hasattr(layer, "compute_input_gradient"):
                    layer.compute_input_gradient = i > 0
            self._pack_weights()
        return self

    def _pack_weights(self):
        """Lay the trainable weights one after another in one flat array, and their gradients in another.

        Nothing changes for the layers (each weight's ``.value`` and ``.grad`` are views of the right shape,
        written in place as always); a built-in optimizer then updates all weights in one pass
        (``Optimizer.step``): about 10 % of a batch-32 MLP step saved.
        """
        ws = self.trainable_weights
        if len(ws) < 2 or len({w.value.dtype for w in ws}) != 1 or backend.packed_base([w.value for w in ws]) is not None:
            return
        _, values = backend.pack([w.value for w in ws])
        _, grads = backend.pack([w.grad for w in ws])
        for w, value, grad in zip(ws, values, grads):
            w.value, w.grad = value, grad

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    # --- forward and backward -----------------------------------------------------------------
    def call(self, x, training=False, mask=None):
        """Run ``x`` through every layer (passing masks on, e.g. from ``Embedding(mask_zero=True)``)."""
        if self._input_layer is not None:
            if self._input_layer.built:
                self._input_layer.input_spec.check(self._input_layer, tuple(x.shape))
            else:
                self._input_layer(x)
        for layer in self._layers:
            x_in = x
            x = layer(x, training=training, mask=mask)
            mask = layer.compute_mask(x_in, mask)
        return x

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        if not self._layers:
            raise ValueError(f"Model '{self.name}' has no layers: add some before calling it.")
        x = backend.to_backend(inputs) if hasattr(inputs, "shape") and hasattr(inputs, "dtype") else backend.asarray(inputs)
        if not self.built:
            self.build(tuple(x.shape))
        return self.call(x, training=training, mask=mask)

    def backward(self, dy, from_logits=False):
        """Backprop ``dy`` = ∂L/∂output through the layers in reverse order; returns ∂L/∂input (or None).

        With ``from_logits=True``, ``dy`` is ∂L/∂z for the last layer's pre-activation ``z`` (the fused
        softmax/sigmoid + cross-entropy gradient).
        """
        layers = self._layers
        if from_logits:
            dy = layers[-1].backward_from_logits(dy)
            layers = layers[:-1]
        for layer in reversed(layers):
            if dy is None:
                break
            dy = layer.backward(dy)
        return dy

    # --- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, jit_compile=None, **kwargs):
        """Choose the optimizer, the loss and the metrics (names like Keras: ``'adam'``,
        ``'categorical_crossentropy'``, ``['accuracy']``)."""
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(map(repr, kwargs))}.")
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. loss='categorical_crossentropy'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self._metric_ids = list(metrics or [])
        self.compiled_metrics = []
        self._loss_tracker = _LossTracker()
        self._fused = False
        self.stop_training = False
        if self.built:
            self._resolve_compiled()

    def _resolve_compiled(self):
        out_shape = self.compute_output_shape(self.input_shape)
        if not self.compiled_metrics and self._metric_ids:
            self.compiled_metrics = [metrics_module.get(m, loss=self.loss, output_shape=out_shape)
                                     for m in self._metric_ids]
        last = self._layers[-1]
        fused = getattr(self.loss, "fused_activation", None)
        self._fused = bool(fused) and getattr(last, "activation", None) is activations.get(fused) and \
            hasattr(last, "backward_from_logits")

    def _check_compiled(self, what):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"You must call compile() before {what}(): e.g. "
                               "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']).")

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self.compiled_metrics]

    # --- one step -------------------------------------------------------------------------
    def train_step(self, x, y, sample_weight=None):
        """Forward, loss, backward, update: one step of gradient descent on the batch ``(x, y)``.

        Returns the batch loss (a float, regularisation included). Metrics are updated in place.
        """
        y_pred = self(x, training=True)
        loss = self.loss(y, y_pred) if sample_weight is None else self.loss(y, y_pred, sample_weight=sample_weight)
        penalties = [w for layer in self._layers for w in layer._all_weights() if w.regularizer is not None]
        if penalties:
            loss += sum(float(w.regularizer(w.value)) for w in penalties)
        if not math.isfinite(loss):
            return loss  # the caller stops training; the weights stay as they were before this batch
        if self._fused:
            self.backward(self.loss.logits_backward(y, y_pred, sample_weight=sample_weight), from_logits=True)
        else:
            self.backward(self.loss.backward(y, y_pred, sample_weight=sample_weight))
        for w in penalties:
            w.grad += w.regularizer.gradient(w.value)
        self.optimizer.step(self.trainable_weights)
        for m in self.compiled_metrics:
            m.update_state(y, y_pred, sample_weight=sample_weight)
        return loss

    def test_step(self, x, y, sample_weight=None):
        y_pred = self(x, training=False)
        loss = self.loss(y, y_pred) if sample_weight is None else self.loss(y, y_pred, sample_weight=sample_weight)
        for m in self.compiled_metrics:
            m.update_state(y, y_pred, sample_weight=sample_weight)
        return loss

    # --- fit ------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over ``(x, y)``; returns a :class:`~tinynn.callbacks.History`.

        ``validation_split`` holds out the *last* fraction of the data (before shuffling), as in Keras.
        Training stops cleanly (weights and history kept) when a callback sets ``model.stop_training``,
        when the loss becomes NaN/inf, or on Ctrl-C.
        """
        self._check_compiled("fit")
        batch_size = _check_batch_size(32 if batch_size is None else batch_size)
        x, y = self._prepare(x, y, "fit")
        sample_weight = self._sample_weights(y, sample_weight, class_weight, len(x))
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split}.")
            split = int(len(x) * (1 - validation_split))
            if split == 0 or split == len(x):
                raise ValueError(f"fit: validation_split={validation_split} leaves no training or no validation samples "
                                 f"from {len(x)} samples.")
            validation_data = (x[split:], y[split:]) + ((sample_weight[split:],) if sample_weight is not None else ())
            x, y = x[:split], y[:split]
            sample_weight = sample_weight[:split] if sample_weight is not None else None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight).")
            vx, vy = self._prepare(validation_data[0], validation_data[1], "fit (validation_data)")
            vsw = validation_data[2] if len(validation_data) == 3 else None
            validation_data = (vx, vy, vsw)

        n = len(x)
        steps = math.ceil(n / batch_size) if steps_per_epoch is None else int(steps_per_epoch)
        self.history = callbacks_module.History()
        cbs = self._callback_list(callbacks, verbose, epochs=epochs, steps=steps, samples=n, batch_size=batch_size)
        cbs.append(self.history)
        cbs.set_model(self)
        self.stop_training = False
        self._stop_reason = None
        cbs.on_train_begin()
        # per-batch logs cost a few microseconds a step: build them only when a callback listens to batches
        batch_hooks = any(_listens(c, hook) for c in cbs for hook in ("on_train_batch_begin", "on_train_batch_end"))
        epoch = initial_epoch
        try:
            for epoch in range(initial_epoch, epochs):
                self._last_good_weights = self.get_weights()
                self._reset_metrics()
                cbs.on_epoch_begin(epoch)
                order = backend.permutation(n) if shuffle else None
                for step in range(steps):
                    lo = (step * batch_size) % n
                    idx = order[lo:lo + batch_size] if order is not None else slice(lo, lo + batch_size)
                    if batch_hooks:
                        cbs.on_train_batch_begin(step)
                    xb, yb = x[idx], y[idx]
                    swb = sample_weight[idx] if sample_weight is not None else None
                    loss = self.train_step(xb, yb, swb)
                    if not math.isfinite(loss):
                        self._stop_on_nan(epoch, step, loss)
                        break
                    self._loss_tracker.update(loss, len(xb))
                    if batch_hooks:
                        cbs.on_train_batch_end(step, self._logs())
                    if self.stop_training:
                        break
                if self._stop_reason == "nan":
                    break
                logs = self._logs() if self._loss_tracker.count else {}
                if validation_data is not None and (epoch + 1) % validation_freq == 0:
                    val = self.evaluate(*validation_data[:2], sample_weight=validation_data[2],
                                        batch_size=validation_batch_size or batch_size, verbose=0,
                                        return_dict=True, _callbacks=cbs)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            warnings.warn(f"fit: interrupted during epoch {epoch + 1}; the model keeps its current weights and "
                          "model.history keeps the completed epochs.", stacklevel=2)
        cbs.on_train_end()
        return self.history

    def _stop_on_nan(self, epoch, step, loss):
        self.stop_training = True
        self._stop_reason = "nan"
        if not all(bool(xp.isfinite(w.value).all()) for w in self.weights):
            self.set_weights(self._last_good_weights)  # an earlier step overflowed: back to the epoch's start
        msg = (f"fit: the loss became {loss} at epoch {epoch + 1}, batch {step + 1}; training stopped. "
               "The model keeps the last finite weights (this batch's update was not applied). "
               "Try a smaller learning rate, clipnorm=1.0, or check the data for huge values.")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)

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
        self._loss_tracker.reset_state()
        for m in self.compiled_metrics:
            m.reset_state()

    def _logs(self):
        logs = {"loss": self._loss_tracker.result()}
        for m in self.compiled_metrics:
            logs[m.name] = m.result()
        return logs

    # --- evaluate / predict ---------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, _callbacks=None):
        """The loss (and metrics) on ``(x, y)``: a float, or ``[loss, *metrics]`` when metrics were compiled."""
        self._check_compiled("evaluate")
        batch_size = _check_batch_size(32 if batch_size is None else batch_size)
        x, y = self._prepare(x, y, "evaluate")
        sample_weight = self._sample_weights(y, sample_weight, None, len(x))
        self._reset_metrics()
        cbs = _callbacks or callbacks_module.CallbackList(callbacks, model=self)
        cbs.on_test_begin()
        for step, lo in enumerate(range(0, len(x), batch_size)):
            cbs.on_test_batch_begin(step)
            sl = slice(lo, lo + batch_size)
            loss = self.test_step(x[sl], y[sl], sample_weight[sl] if sample_weight is not None else None)
            self._loss_tracker.update(loss, len(x[sl]))
            cbs.on_test_batch_end(step)
        logs = self._logs()
        cbs.on_test_end(logs)
        if verbose not in (0, "auto") and verbose:
            print(callbacks_module.format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, computed in batches; a numpy array (copied from the GPU if needed)."""
        batch_size = _check_batch_size(32 if batch_size is None else batch_size)
        x = self._prepare_x(x, "predict")
        outs = [backend.to_cpu(self(x[lo:lo + batch_size], training=False)) for lo in range(0, len(x), batch_size)]
        return _np.concatenate(outs, axis=0)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (or ``[loss, *metrics]``)."""
        self._check_compiled("train_on_batch")
        x, y = self._prepare(x, y, "train_on_batch")
        sw = self._sample_weights(y, sample_weight, class_weight, len(x))
        self._reset_metrics()
        loss = self.train_step(x, y, sw)
        self._loss_tracker.update(loss, len(x))
        logs = self._logs()
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("test_on_batch")
        x, y = self._prepare(x, y, "test_on_batch")
        self._reset_metrics()
        loss = self.test_step(x, y, self._sample_weights(y, sample_weight, None, len(x)))
        self._loss_tracker.update(loss, len(x))
        logs = self._logs()
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    def predict_on_batch(self, x):
        return backend.to_cpu(self(self._prepare_x(x, "predict_on_batch"), training=False))

    # --- input checks --------------------------------------------------------------------------
    def _integer_input(self):
        first = self._layers[0] if self._layers else None
        return bool(getattr(first, "integer_input", False))

    def _prepare_x(self, x, where):
        if x is None:
            raise ValueError(f"{where}: x is None; pass the input data.")
        x = backend.asarray(x)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"{where}: x is empty (shape {tuple(x.shape)}); there is nothing to compute on.")
        if x.dtype.kind in "fiub" and not (x.dtype.kind in "iu" and self._integer_input()):
            x = x.astype(self._layers[0].dtype or backend.floatx(), copy=False)
        elif x.dtype.kind not in "fiub":
            raise ValueError(f"{where}: x must be numbers, got an array of dtype {x.dtype}.")
        if x.dtype.kind == "f" and not bool(xp.isfinite(x).all()):
            bad = int(xp.argwhere(~xp.isfinite(x))[0][0])
            raise ValueError(f"{where}: x contains NaN or infinite values (first in sample {bad}). Clean the data first.")
        if not self.built:
            self.build(tuple(x.shape))
        if self._input_layer is not None and self._input_layer.input_spec is not None:
            self._input_layer.input_spec.check(self._input_layer, tuple(x.shape))
        if self._layers[0].input_spec is not None:
            self._layers[0].input_spec.check(self._layers[0], tuple(x.shape))
        return x

    def _prepare(self, x, y, where):
        x = self._prepare_x(x, where)
        if y is None:
            raise ValueError(f"{where}: y is None; pass the targets (labels).")
        y = backend.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"{where}: x and y have different numbers of samples: x has {len(x)}, y has {len(y)}.")
        if not isinstance(self.loss, losses.SparseCategoricalCrossentropy) and y.dtype.kind in "fiub":
            y = y.astype(backend.floatx(), copy=False)
        if y.dtype.kind == "f" and not bool(xp.isfinite(y).all()):
            raise ValueError(f"{where}: y contains NaN or infinite values.")
        self._resolve_compiled()
        self.loss.validate_targets(y, self.compute_output_shape(self.input_shape)[-1])
        return x, y

    def _sample_weights(self, y, sample_weight, class_weight, n):
        sw = None
        if sample_weight is not None:
            sw = backend.asarray(sample_weight, dtype=backend.floatx())
            if sw.shape != (n,):
                raise ValueError(f"sample_weight must have shape ({n},) (one weight per sample), got {tuple(sw.shape)}.")
        if class_weight:
            labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(n, -1)[:, 0].round()
            labels = labels.astype("int64")
            table = xp.ones(max(int(labels.max()) + 1, max(class_weight) + 1), dtype=backend.floatx())
            for c, w in class_weight.items():
                table[int(c)] = w
            cw = table[labels]
            sw = cw if sw is None else sw * cw
        return sw

    # --- description --------------------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None):
        """Print a table of the layers, their output shapes and parameter counts (like Keras)."""
        print_fn = print_fn or print
        if not self.built:
            print_fn(f'Model: "{self.name}" (not built yet: give the first layer input_shape=... or call fit)')
            return
        rows, shape = [], self.input_shape
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
            rows.append((f"{layer.name} ({type(layer).__name__})", shape_str(shape), f"{layer.count_params():,}"))
        w = [max(31, *(len(r[0]) + 1 for r in rows)), max(22, *(len(r[1]) + 1 for r in rows)), 13]
        line = lambda l, m, r, f: l + m.join(f * (k + 2) for k in w) + r  # noqa: E731
        print_fn(f'Model: "{self.name}"')
        print_fn(line("┏", "┳", "┓", "━"))
        print_fn("┃ " + " ┃ ".join([f"{'Layer (type)':<{w[0]}}", f"{'Output Shape':<{w[1]}}", f"{'Param #':>{w[2]}}"]) + " ┃")
        print_fn(line("┡", "╇", "┩", "━"))
        for i, r in enumerate(rows):
            print_fn("│ " + " │ ".join([f"{r[0]:<{w[0]}}", f"{r[1]:<{w[1]}}", f"{r[2]:>{w[2]}}"]) + " │")
            if i < len(rows) - 1:
                print_fn(line("├", "┼", "┤", "─"))
        print_fn(line("└", "┴", "┘", "─"))
        trainable = sum(wt.size for wt in self.trainable_weights)
        total = sum(wt.size for wt in self.weights)
        nbytes = lambda ws: sum(wt.size * wt.value.itemsize for wt in ws)  # noqa: E731
        print_fn(f" Total params: {total:,} ({_human_bytes(nbytes(self.weights))})")
        print_fn(f" Trainable params: {trainable:,} ({_human_bytes(nbytes(self.trainable_weights))})")
        print_fn(f" Non-trainable params: {total - trainable:,} ({_human_bytes(nbytes(self.non_trainable_weights))})")

    def get_config(self):
        return {"name": self.name, "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in ([self._input_layer] if self._input_layer else []) + self._layers]}

    # --- saving ---------------------------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True):
        """Save the weights to an ``.npz`` file (no pickle), atomically: a crash never leaves half a file."""
        if not self.built:
            raise ValueError(f"save_weights: model '{self.name}' is not built, so it has no weights yet.")
        arrays = {f"w{i:04d}": w.numpy() for i, w in enumerate(self.weights)}
        arrays["__names__"] = _np.array([w.name for w in self.weights])
        _atomic_savez(filepath, arrays, overwrite)

    def load_weights(self, filepath):
        """Load weights saved by :meth:`save_weights`; a different architecture is a clear error."""
        with _np.load(os.fspath(filepath), allow_pickle=False) as f:
            keys = sorted(k for k in f.files if k.startswith("w"))
            values = [f[k] for k in keys]
            names = list(f["__names__"]) if "__names__" in f.files else ["?"] * len(values)
        if not self.built:
            raise ValueError(f"load_weights: build model '{self.name}' first (give input_shape= or call it on data).")
        ws = self.weights
        mismatch = len(values) != len(ws) or any(tuple(v.shape) != w.shape for v, w in zip(values, ws))
        if mismatch:
            have = ", ".join(f"{w.name} {shape_str(w.shape)}" for w in ws)
            got = ", ".join(f"{n} {shape_str(v.shape)}" for n, v in zip(names, values))
            raise ValueError(f"load_weights: the file {os.fspath(filepath)!r} does not fit model '{self.name}'.\n"
                             f"  model has {len(ws)} weights: {have}\n  file has {len(values)} weights: {got}")
        self.set_weights(values)

    def save(self, filepath, overwrite=True):
        """Save architecture (JSON) and weights in one ``.npz`` file, loadable with :func:`load_model` (no pickle)."""
        if not self.built:
            raise ValueError(f"save: model '{self.name}' is not built yet.")
        arrays = {f"w{i:04d}": w.numpy() for i, w in enumerate(self.weights)}
        arrays["__names__"] = _np.array([w.name for w in self.weights])
        config = {"config": self.get_config(), "input_shape": list(self.input_shape),
                  "compile": self._compile_config()}
        arrays["__config__"] = _np.frombuffer(json.dumps(config).encode("utf-8"), dtype=_np.uint8)
        _atomic_savez(filepath, arrays, overwrite)

    def _compile_config(self):
        if self.optimizer is None:
            return None
        return {"optimizer": type(self.optimizer).__name__.lower(), "learning_rate": float(self.optimizer.learning_rate),
                "loss": getattr(self.loss, "name", None), "metrics": [m if isinstance(m, str) else getattr(m, "name", None)
                                                                     for m in self._metric_ids]}


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 - Keras' name
    """Re-create a model saved with ``model.save(path)``."""
    import tinynn.layers as layers_module  # noqa: PLC0415

    with _np.load(os.fspath(filepath), allow_pickle=False) as f:
        if "__config__" not in f.files:
            raise ValueError(f"load_model: {os.fspath(filepath)!r} holds only weights (save_weights); "
                             "build the model in code and call model.load_weights(path).")
        config = json.loads(f["__config__"].tobytes().decode("utf-8"))
        values = [f[k] for k in sorted(k for k in f.files if k.startswith("w"))]
    registry = {**{k: getattr(layers_module, k) for k in dir(layers_module)}, **(custom_objects or {})}
    model = Sequential(name=config["config"]["name"])
    for spec in config["config"]["layers"]:
        cls = registry.get(spec["class_name"])
        if cls is None:
            raise ValueError(f"load_model: unknown layer class {spec['class_name']!r}; pass it in custom_objects.")
        model.add(cls.from_config(spec["config"]))
    model.build(tuple(config["input_shape"]))
    model.set_weights(values)
    comp = config.get("compile")
    if compile and comp and comp.get("loss"):
        opt = optimizers.get(comp["optimizer"])
        opt.learning_rate = comp["learning_rate"]
        model.compile(optimizer=opt, loss=comp["loss"], metrics=[m for m in comp["metrics"] if m])
    return model


def _listens(callback, hook):
    """True when ``callback`` does something in ``hook`` (a method of its own or a LambdaCallback function)."""
    fn = getattr(callback, hook)
    return getattr(fn, "__func__", fn) is not getattr(callbacks_module.Callback, hook)


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


def _atomic_savez(filepath, arrays, overwrite):
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False.")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return batch_size


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"
