"""What the dashboard shows: a widget box in Jupyter, or one text progress line anywhere else.

Both views get the same calls from :class:`~tinynn.widgets.TrainingDashboard`: ``update_numbers(progress)``,
``update_image(png)`` (widget only: ``draws_figure``), ``stopping()``, ``finish(png_or_None)``.
"""
from __future__ import annotations

import html
import sys

from tinynn.callbacks import format_logs

__all__ = ["WidgetView", "TextView", "progress_line"]


def _fmt_time(seconds):
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def _fmt_lr(lr):
    return "?" if lr is None else f"{lr:.3g}"


def progress_line(p, width=20):
    """``Epoch 2/5 [#######.............] 120/469 - ETA 0:03 - lr 0.001 - accuracy: 0.9120 - loss: 0.3001``."""
    steps, batch = p["steps"], p["batch"]
    frac = batch / steps if steps else 0.0
    bar = "#" * int(round(width * frac)) + "." * (width - int(round(width * frac)))
    parts = [f"Epoch {p['epoch']}/{p['epochs']} [{bar}] {batch}/{steps or '?'}",
             f"ETA {_fmt_time(p['epoch_eta'])}", f"lr {_fmt_lr(p['learning_rate'])}"]
    if p["logs"]:
        parts.append(format_logs(p["logs"]))
    return " - ".join(parts)


class TextView:
    r"""One progress line, rewritten in place (``\r``); a new line after each epoch."""

    draws_figure = False

    def __init__(self, file=None):
        self.file = file
        self._epochs_printed = 0
        self._width = 0
        self._open = False

    def _write(self, s):
        f = self.file or sys.stdout
        try:
            f.write(s)
            f.flush()
        except Exception:  # noqa: BLE001 - a closed or odd stream never breaks training
            pass

    def update_numbers(self, p):
        if p["epochs_done"] > self._epochs_printed:  # an epoch just ended: its final line, kept
            self._epochs_printed = p["epochs_done"]
            q = dict(p, epoch=p["epochs_done"], batch=p["steps"] or p["batch"], epoch_eta=0.0)
            self._line(progress_line(q))
            self._write("\n")
            self._open = False
            return
        if p["batch"] > 0 and p["epoch"] > self._epochs_printed:
            self._line(progress_line(p))

    def _line(self, text):
        pad = max(self._width - len(text), 0)
        self._width = len(text)
        self._write("\r" + text + " " * pad)
        self._open = True

    def update_image(self, png):  # noqa: ARG002 - the text view has no picture
        pass

    def stopping(self):
        pass

    def finish(self, png=None, stopped=False):
        if self._open:
            self._write("\n")
            self._open = False
        if stopped:
            self._write("Training stopped by the dashboard's Stop button.\n")
        if png is not None:
            _display_png(png)


def _display_png(png):
    from tinynn.widgets.frontend import get_kernel  # noqa: PLC0415

    if get_kernel() is None:  # a script: nothing to show the picture in
        return
    try:
        from IPython.display import Image, display  # noqa: PLC0415

        display(Image(data=png, format="png"))
    except Exception:  # noqa: BLE001
        pass


class WidgetView:
    """An ipywidgets box: status line, epoch and batch progress, the numbers, Stop, and the curves image.

    Each part has a CSS class (``tinynn-dashboard``, ``tinynn-status``, ``tinynn-epochs``, ``tinynn-batches``,
    ``tinynn-numbers``, ``tinynn-stop``, ``tinynn-curves``); the loss is in ``<span class="tinynn-loss">``.
    """

    draws_figure = True

    def __init__(self, on_stop):
        import ipywidgets as w  # noqa: PLC0415

        self.status = w.HTML("Starting…").add_class("tinynn-status")
        self.epochs = w.IntProgress(value=0, min=0, max=1, description="epochs",
                                    layout=w.Layout(width="420px")).add_class("tinynn-epochs")
        self.batches = w.IntProgress(value=0, min=0, max=1, description="batches",
                                     layout=w.Layout(width="420px")).add_class("tinynn-batches")
        self.numbers = w.HTML("").add_class("tinynn-numbers")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop",
                                    tooltip="End training after the current batch (weights and history are kept)")
        self.stop_button.add_class("tinynn-stop")
        self.stop_button.on_click(on_stop)
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%")).add_class("tinynn-curves")
        self.box = w.VBox([w.HBox([w.VBox([self.epochs, self.batches]), self.stop_button]),
                           self.status, self.numbers, self.image]).add_class("tinynn-dashboard")

    def show(self):
        """Display the box (only inside a kernel: a forced widget mode in a script shows nothing)."""
        from tinynn.widgets.frontend import get_kernel  # noqa: PLC0415

        if get_kernel() is not None:
            from IPython.display import display  # noqa: PLC0415

            display(self.box)

    def update_numbers(self, p):
        self.epochs.max = max(p["epochs"], 1)
        self.epochs.value = min(p["epochs_done"], self.epochs.max)
        steps = p["steps"] or max(p["batch"], 1)
        self.batches.max = max(steps, 1)
        self.batches.value = min(p["batch"], self.batches.max)
        self.status.value = (f"Epoch {p['epoch']}/{p['epochs']} · batch {p['batch']}/{p['steps'] or '?'} · "
                             f"elapsed {_fmt_time(p['elapsed'])} · epoch ETA {_fmt_time(p['epoch_eta'])} · "
                             f"total ETA {_fmt_time(p['eta'])} · learning rate "
                             f"<span class='tinynn-lr'>{_fmt_lr(p['learning_rate'])}</span>")
        cells = []
        for k, v in sorted(p["logs"].items(), key=lambda kv: (kv[0] != "loss", kv[0])):
            cls = "tinynn-" + k.replace("_", "-")
            val = f"{v:.4f}" if isinstance(v, float) else html.escape(str(v))
            cells.append(f"<b>{html.escape(k)}</b>: <span class='{cls}'>{val}</span>")
        self.numbers.value = " &nbsp; ".join(cells)

    def update_image(self, png):
        self.image.value = png

    def stopping(self):
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping…"

    def finish(self, png=None, stopped=False):
        self.stop_button.disabled = True
        self.stop_button.button_style = ""
        self.stop_button.description = "Stopped" if stopped else "Done"
        self.status.value = ("Stopped by the Stop button. " if stopped else "Done. ") + self.status.value
        if png is not None:
            self.image.layout.display = "none"  # the static PNG below replaces the live picture
            _display_png(png)
