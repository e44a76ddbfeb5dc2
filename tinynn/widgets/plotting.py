"""The dashboard's picture: loss/metric curves and weight/gradient norms, rendered to PNG bytes.

Uses ``matplotlib.figure.Figure`` with the Agg canvas directly (no ``pyplot``): no global state, no GUI
backend, the same bytes in JupyterLab, a saved notebook, a built book and a headless test.
The figure is built once; each redraw only moves the lines' data (cheap), then renders.
"""
from __future__ import annotations

import io
import math

__all__ = ["CurvesFigure", "ema", "batch_values_from_running_means", "downsample", "is_png"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_png(data):
    """True when ``data`` are the bytes of a PNG file."""
    return isinstance(data, (bytes, bytearray, memoryview)) and bytes(data[:8]) == PNG_MAGIC


def ema(values, smoothing):
    r"""Debiased exponential moving average (TensorBoard's smoothing).

    .. math:: m_t = \beta m_{t-1} + (1-\beta) x_t,\quad s_t = m_t / (1 - \beta^t),\quad m_0 = 0

    ``values``: a list of floats (length T); ``smoothing`` = :math:`\beta \in [0, 1)`; returns a list of
    length T. Non-finite values are passed through and do not poison the average.
    """
    if not 0 <= smoothing < 1:
        raise ValueError(f"ema: smoothing must be in [0, 1), got {smoothing}.")
    out, m, t = [], 0.0, 0
    for x in values:
        if not math.isfinite(x):
            out.append(x)
            continue
        t += 1
        m = smoothing * m + (1 - smoothing) * x
        out.append(m / (1 - smoothing ** t))
    return out


def batch_values_from_running_means(means, sizes):
    r"""Per-batch values recovered from the running means that ``fit`` puts in the batch logs.

    The logs hold :math:`m_k = \frac{1}{N_k}\sum_{j\le k} n_j l_j` with :math:`N_k = \sum_{j\le k} n_j`, so

    .. math:: l_k = \frac{m_k N_k - m_{k-1} N_{k-1}}{n_k}

    ``means``, ``sizes``: lists of length K (the epoch's batches so far, in order); returns K floats.
    """
    out, prev_total, n_total = [], 0.0, 0
    for m, n in zip(means, sizes):
        n_total_new = n_total + n
        total = m * n_total_new
        out.append((total - prev_total) / n if n else m)
        prev_total, n_total = total, n_total_new
    return out


def downsample(xs, ys, max_points=400):
    """Every k-th point (plus the last) so that at most about ``max_points`` are drawn."""
    n = len(xs)
    if n <= max_points:
        return xs, ys
    step = math.ceil(n / max_points)
    idx = list(range(0, n, step))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


class CurvesFigure:
    """One panel per quantity (loss, then each metric), plus a panel of per-layer norms.

    Each quantity panel shows the smoothed per-batch training curve (thin), the per-epoch training
    values (dots) and the per-epoch validation values (squares), against the epoch (fractional for
    batches). The norms panel shows ``‖W‖`` (solid) and ``‖∇W‖`` (dashed) per layer on a log scale.
    """

    def __init__(self, names, layer_names=(), show_norms=True, width=3.2, height=2.6, dpi=72):
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415
        from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

        self.names = list(names)
        self.layer_names = list(layer_names) if show_norms else []
        panels = len(self.names) + (1 if self.layer_names else 0)
        self.figure = Figure(figsize=(width * panels, height), dpi=dpi)
        self.figure.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.88, wspace=0.28)
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(1, panels, squeeze=False)[0]
        self.axes, self.lines = {}, {}
        for i, (ax, name) in enumerate(zip(axes, self.names)):
            ax.set_title(name, fontsize=10, y=1.0)  # a fixed y skips matplotlib's title placement pass
            ax.set_xlabel("epoch", fontsize=10)
            ax.tick_params(labelsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.grid(True, alpha=0.3)
            self.axes[name] = ax
            self.lines[name] = {
                "batch": ax.plot([], [], lw=0.8, color="C0", alpha=0.6, label="train (batch)")[0],
                "epoch": ax.plot([], [], "o-", ms=3, lw=1.2, color="C0", label="train")[0],
                "val": ax.plot([], [], "s-", ms=3, lw=1.2, color="C1", label="validation")[0],
            }
            if i == 0:  # one legend: the colours mean the same in every panel
                ax.legend(fontsize=9, loc="upper right")
        if self.layer_names:
            ax = axes[-1]
            ax.set_title("norms: ‖W‖ solid, ‖∇W‖ dashed", fontsize=10, y=1.0)
            ax.set_xlabel("epoch", fontsize=10)
            ax.set_yscale("log")
            ax.tick_params(labelsize=9)
            ax.grid(True, alpha=0.3)
            self.norm_axes = ax
            self.norm_lines = {}
            for i, layer in enumerate(self.layer_names):
                color = f"C{i % 10}"
                self.norm_lines[layer] = (ax.plot([], [], lw=1.0, color=color, label=layer)[0],
                                          ax.plot([], [], "--", lw=1.0, color=color)[0])
            ax.legend(fontsize=9, loc="upper right")

    def rename_layers(self, layer_names):
        """Reuse this figure for a model whose layers have other names (same count): relabel the legend."""
        layer_names = list(layer_names)
        if len(layer_names) != len(self.layer_names):
            raise ValueError(f"CurvesFigure: expected {len(self.layer_names)} layer names, got {len(layer_names)}.")
        if layer_names == self.layer_names:
            return
        self.norm_lines = dict(zip(layer_names, self.norm_lines.values()))
        legend = self.norm_axes.get_legend()
        for text, name in zip(legend.get_texts() if legend else [], layer_names):
            text.set_text(name)
        for (wline, _), name in zip(self.norm_lines.values(), layer_names):
            wline.set_label(name)
        self.layer_names = layer_names

    def update(self, curves, norms=None):
        """Move the lines' data. ``curves[name]`` has ``batch``/``epoch``/``val`` lists of ``(x, y)``;
        ``norms[layer]`` is a list of ``(x, ‖W‖, ‖∇W‖)``."""
        for name, ax in self.axes.items():
            data = curves.get(name, {})
            for kind, line in self.lines[name].items():
                pts = [(x, y) for x, y in data.get(kind, ()) if math.isfinite(y)]
                xs, ys = downsample([p[0] for p in pts], [p[1] for p in pts])
                line.set_data(xs, ys)
            ax.relim()
            ax.autoscale_view()
        if self.layer_names and norms:
            for layer, (wline, gline) in self.norm_lines.items():
                pts = [p for p in norms.get(layer, ()) if p[1] > 0 and p[2] > 0
                       and math.isfinite(p[1]) and math.isfinite(p[2])]
                xs = [p[0] for p in pts]
                wl = downsample(xs, [p[1] for p in pts])
                gl = downsample(xs, [p[2] for p in pts])
                wline.set_data(*wl)
                gline.set_data(*gl)
            self.norm_axes.relim()
            self.norm_axes.autoscale_view()

    def to_png(self):
        """The figure as PNG bytes."""
        buf = io.BytesIO()
        self.canvas.print_png(buf, pil_kwargs={"compress_level": 1})  # fast zlib: 10 ms less, a bit bigger
        return buf.getvalue()
