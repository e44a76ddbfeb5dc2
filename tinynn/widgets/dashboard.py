"""``TrainingDashboard``: live training curves, progress, norms, learning rate and a Stop button.

>>> model.fit(x, y, epochs=5, validation_split=0.1, callbacks=[TrainingDashboard()])   # doctest: +SKIP
>>> model.fit(x, y, epochs=5, verbose="dashboard")                                    # doctest: +SKIP

In a Jupyter kernel with ipywidgets it shows a widget (a PNG ``Image`` of the curves rendered by
matplotlib's Agg canvas, progress bars, an HTML line of numbers, a **Stop** button); anywhere else
(a script, a terminal) it prints one text progress line. After training it displays the final curves as
a plain PNG output, so a saved notebook and the book keep the picture without widget state.

Cost: the per-batch work is appending a few floats; the picture is redrawn at most every
``update_every`` seconds *and* only while the rendering time stays under ``max_overhead`` of the
elapsed training time, so the dashboard never costs more than a few percent of training.
"""
from __future__ import annotations

import math
import time
import warnings

from tinynn.callbacks import Callback
from tinynn.widgets import frontend
from tinynn.widgets.plotting import CurvesFigure, batch_values_from_running_means

__all__ = ["TrainingDashboard"]

#: metrics whose batch logs are running means of per-sample values, so per-batch values can be recovered
_MEAN_LIKE = ("loss", "accuracy", "acc", "crossentropy", "mae", "mse", "mean", "error", "hinge", "kl")


def _is_mean_like(name):
    return any(s in name for s in _MEAN_LIKE) and "auc" not in name


_FIGURES = {}  # the last few figures, reused by the next dashboard of the same model (a fresh figure's first draw is slow)


def _figure_for(names, layers, show_norms):
    key = (tuple(names), len(layers), bool(show_norms))  # layer names change with every new model
    fig = _FIGURES.pop(key, None)
    if fig is None:
        fig = CurvesFigure(names, layers, show_norms=show_norms)
    elif show_norms:
        fig.rename_layers(layers)
    _FIGURES[key] = fig
    while len(_FIGURES) > 4:
        _FIGURES.pop(next(iter(_FIGURES)))
    return fig


class TrainingDashboard(Callback):
    r"""A live view of ``fit``: curves of the loss and every compiled metric (train per batch, smoothed,
    and per epoch; validation per epoch), epoch and batch progress with ETA, per-layer weight and gradient
    norms, the learning rate, and a **Stop** button that ends training after the current batch.

    Args:
        update_every: seconds between two updates of the numbers and progress (the picture may wait longer).
        smoothing: EMA factor :math:`\beta \in [0, 1)` of the per-batch curves (0 = raw).
        show_norms: record and plot ``‖W‖`` and ``‖∇W‖`` per layer.
        mode: ``'auto'`` (a widget in a Jupyter kernel with ipywidgets, else text), ``'widget'`` or ``'text'``.
        max_overhead: the share of the training time the picture may take (adapts the redraw rate).
        static_image: display the final curves as a PNG output at the end of training (``'auto'``: in a kernel).
        file: where the text mode writes (``sys.stdout`` by default).
    """

    def __init__(self, update_every=0.5, smoothing=0.9, show_norms=True, mode="auto", max_overhead=0.03,
                 static_image="auto", file=None):
        super().__init__()
        if update_every < 0:
            raise ValueError(f"TrainingDashboard: update_every must be >= 0 seconds, got {update_every}.")
        if not 0 <= smoothing < 1:
            raise ValueError(f"TrainingDashboard: smoothing must be in [0, 1), got {smoothing}.")
        if mode not in ("auto", "widget", "text"):
            raise ValueError(f"TrainingDashboard: mode must be 'auto', 'widget' or 'text', got {mode!r}.")
        self.update_every, self.smoothing, self.show_norms = float(update_every), float(smoothing), show_norms
        self.mode, self.max_overhead, self.static_image, self.file = mode, float(max_overhead), static_image, file
        self.view = None
        self.figure = None
        self.stopped_by_user = False
        self.redraws = 0
        self.render_seconds = 0.0
        self._pump = None

    # --- state --------------------------------------------------------------------------------
    def _reset(self):
        self.epochs = int(self.params.get("epochs") or 1)
        self.steps = self.params.get("steps")
        self.batch_size = self.params.get("batch_size")
        self.samples = self.params.get("samples")
        self.curves = {}          # name -> {"batch": [(x, y)], "epoch": [(x, y)], "val": [(x, y)]}
        self.norms = {}           # layer name -> [(x, ‖W‖, ‖∇W‖)]
        self.names = []           # loss first, then the metrics, in log order
        self.logs = {}
        self.epoch, self.batch = 0, -1
        self.epochs_done = 0
        self.learning_rate = None
        self._epoch_means, self._epoch_sizes, self._done, self._ema_state = {}, [], {}, {}
        self.redraws, self.render_seconds = 0, 0.0
        self._last_render_cost = 0.06  # a prior guess (seconds) until the first render is timed
        self._render_failed = False
        self._finished = False
        self.stopped_by_user = False
        now = time.perf_counter()
        self._t_train = self._t_epoch = now
        self._last_update = self._last_redraw = now

    @property
    def mode_resolved(self):
        """``'widget'`` or ``'text'``: what this dashboard shows."""
        if self.mode != "auto":
            return self.mode
        return "widget" if frontend.widget_mode_available() else "text"

    # --- hooks --------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._reset()
        self.figure = None
        if self.mode_resolved == "widget":
            from tinynn.widgets.views import WidgetView  # noqa: PLC0415

            self.view = WidgetView(on_stop=self.stop)
            self.view.show()
            if frontend.get_kernel() is not None:
                self._pump = frontend.UIEventPump()
        else:
            from tinynn.widgets.views import TextView  # noqa: PLC0415

            self.view = TextView(self.file)
        self._update_view(numbers_only=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, -1
        self._t_epoch = time.perf_counter()
        self._epoch_means, self._epoch_sizes, self._done = {}, [], {}
        self.learning_rate = self._read_learning_rate()

    def on_train_batch_end(self, batch, logs=None):
        self.batch = batch
        logs = logs or {}
        self.logs = logs
        self._epoch_sizes.append(self._batch_len(batch))
        for k, v in logs.items():
            self._epoch_means.setdefault(k, []).append(float(v))
        now = time.perf_counter()
        if now - self._last_update < self.update_every:
            return
        self._record_batches()
        if self.show_norms:
            self._record_norms()
        self.learning_rate = self._read_learning_rate()
        self._update_view()
        if self._pump is not None:
            self._pump.poll()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self._record_batches()
        if self.show_norms:
            self._record_norms()
        x = epoch + 1.0
        for k, v in logs.items():
            if k.startswith("val_"):
                self._curve(k[4:])["val"].append((x, float(v)))
            else:
                self._curve(k)["epoch"].append((x, float(v)))
        self.logs = {**self.logs, **logs}
        self.epochs_done = epoch + 1
        last = epoch + 1 >= self.epochs or getattr(self.model, "stop_training", False)
        self._update_view(force=not last)  # after the last epoch, on_train_end draws the final picture
        if self._pump is not None:
            self._pump.poll()

    def on_train_end(self, logs=None):
        self._finished = True
        self._update_view(numbers_only=True)
        if self._pump is not None:
            self._pump.poll()
            self._pump.close()
            self._pump = None
        if self.view is None:
            return
        static = self.static_image
        if static == "auto":
            static = frontend.get_kernel() is not None
        stopped = self.stopped_by_user
        view = self.view

        def final_picture():
            png = self._safe_render() if (static or view.draws_figure) else None
            if png is not None and view.draws_figure and not static:
                view.update_image(png)  # one render serves both the live image and the static output
            view.finish(png if static else None, stopped=stopped)

        self._run_after_cell(final_picture)

    def _run_after_cell(self, fn):
        """Run ``fn`` once the notebook cell has finished (so ``fit`` does not pay for the final picture);
        at once when there is no IPython kernel. Its output still belongs to the cell."""
        ip = getattr(frontend.get_kernel(), "shell", None)
        if ip is None:
            fn()
            return

        def once(*_):
            ip.events.unregister("post_execute", once)
            fn()

        ip.events.register("post_execute", once)

    def stop(self, *_):
        """Ask ``fit`` to stop after the current batch (what the **Stop** button does)."""
        self.stopped_by_user = True
        if self.model is not None:
            self.model.stop_training = True
        if self.view is not None:
            self.view.stopping()

    # --- recording ----------------------------------------------------------------------------
    def _curve(self, name):
        if name not in self.curves:
            self.curves[name] = {"batch": [], "epoch": [], "val": []}
            self.names.append(name)
        return self.curves[name]

    def _batch_len(self, batch):
        if not self.batch_size or not self.samples:
            return 1
        lo = (batch * self.batch_size) % self.samples
        return min(self.batch_size, self.samples - lo)

    def _record_batches(self):
        """Turn the batch logs seen since the last call into smoothed per-batch points."""
        steps = self.steps or max(len(self._epoch_sizes), 1)
        b = self.smoothing
        for name, means in self._epoch_means.items():
            done = self._done.get(name, 0)  # batches of this epoch already turned into points
            if done >= len(means):
                continue
            if _is_mean_like(name):
                values = batch_values_from_running_means(means, self._epoch_sizes[:len(means)])
            else:
                values = means
            m, t = self._ema_state.get(name, (0.0, 0))
            points = self._curve(name)["batch"]
            for i in range(done, len(means)):
                v = values[i]
                if math.isfinite(v):  # the debiased EMA of tinynn.widgets.plotting.ema, one step at a time
                    t += 1
                    m = b * m + (1 - b) * v
                    v = m / (1 - b ** t)
                points.append((self.epoch + (i + 1) / steps, v))
            self._ema_state[name] = (m, t)
            self._done[name] = len(means)

    def _record_norms(self):
        from tinynn.backend import xp  # noqa: PLC0415

        steps = self.steps or max(len(self._epoch_sizes), 1)
        x = self.epoch + (self.batch + 1) / steps
        for layer in getattr(self.model, "layers", None) or []:
            ws = [w for w in getattr(layer, "trainable_weights", []) or [] if getattr(w, "grad", None) is not None]
            if not ws:
                continue
            wsq = sum(float(xp.vdot(w.value.ravel(), w.value.ravel())) for w in ws)
            gsq = sum(float(xp.vdot(w.grad.ravel(), w.grad.ravel())) for w in ws)
            self.norms.setdefault(layer.name, []).append((x, math.sqrt(max(wsq, 0.0)), math.sqrt(max(gsq, 0.0))))

    def _read_learning_rate(self):
        opt = getattr(self.model, "optimizer", None)
        lr = getattr(opt, "learning_rate", None)
        if lr is None:
            return None
        try:
            return float(lr)
        except (TypeError, ValueError):
            pass
        try:
            it = getattr(opt, "iterations", 0)
            it = getattr(it, "value", it)
            return float(lr(int(it)))
        except Exception:  # noqa: BLE001 - the LR is information, never a reason to fail
            return None

    # --- showing ------------------------------------------------------------------------------
    def _progress(self):
        now = time.perf_counter()
        steps = self.steps or 0
        done_batches = self.batch + 1
        epoch_elapsed = now - self._t_epoch
        per_batch = epoch_elapsed / done_batches if done_batches > 0 else None
        epoch_eta = per_batch * (steps - done_batches) if per_batch is not None and steps else None
        total_done = self.epoch * steps + done_batches if steps else None
        train_elapsed = now - self._t_train
        if self._finished:
            epoch_eta = total_eta = 0.0
        elif total_done:
            total_eta = train_elapsed / total_done * (self.epochs * steps - total_done)
        else:
            total_eta = None
        return {"epoch": min(self.epoch + 1, self.epochs),
                "epochs": self.epochs, "epochs_done": self.epochs_done, "batch": max(done_batches, 0),
                "steps": steps, "elapsed": train_elapsed, "epoch_eta": epoch_eta, "eta": total_eta,
                "learning_rate": self.learning_rate, "logs": dict(self.logs)}

    def _update_view(self, force=False, numbers_only=False):
        now = time.perf_counter()
        self._last_update = now
        if self.view is None:
            return
        self.view.update_numbers(self._progress())
        if numbers_only or not self.view.draws_figure:
            return
        elapsed = now - self._t_train
        # render only if, after this render, the picture's total cost stays within max_overhead of the time
        affordable = (self.max_overhead > 0
                      and self.render_seconds + self._last_render_cost <= self.max_overhead * elapsed)
        due = now - self._last_redraw >= self.update_every
        if affordable and (force or due):
            png = self._safe_render()
            if png is not None:
                self.view.update_image(png)

    def _safe_render(self):
        if self._render_failed:
            return None
        try:
            return self._render()
        except Exception as exc:  # noqa: BLE001 - e.g. no matplotlib: numbers and progress still work
            self._render_failed = True
            warnings.warn(f"TrainingDashboard: cannot draw the curves ({type(exc).__name__}: {exc}).",
                          RuntimeWarning, stacklevel=2)
            return None

    def _render(self):
        t0 = time.perf_counter()
        names = self.names or ["loss"]
        layers = []
        if self.show_norms:
            in_model = [getattr(layer, "name", None) for layer in getattr(self.model, "layers", None) or []]
            layers = [n for n in in_model if n in self.norms] + sorted(n for n in self.norms if n not in in_model)
        if self.figure is None or self.figure.names != names or self.figure.layer_names != layers:
            self.figure = _figure_for(names, layers, self.show_norms)
        self.figure.update(self.curves, self.norms)
        png = self.figure.to_png()
        t1 = time.perf_counter()
        self._last_render_cost = t1 - t0
        self.render_seconds += t1 - t0
        self._last_redraw = t1
        self.redraws += 1
        return png

    def __repr__(self):
        return (f"TrainingDashboard(update_every={self.update_every}, smoothing={self.smoothing}, "
                f"show_norms={self.show_norms}, mode={self.mode!r})")

