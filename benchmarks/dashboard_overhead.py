"""Benchmark: what TrainingDashboard costs, on the MNIST chapter's model.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TINYNN_DATA=/work/shared/data \\
        python benchmarks/dashboard_overhead.py [--repeats 5] [--batch-size 32]

Trains the 784-128-10 MLP (Adam, accuracy, 10,000 validation samples) for 1 epoch on real MNIST,
alternating: no callback (verbose=0), the dashboard's text mode (what a script shows), and its widget
mode headless (the picture rendered with matplotlib and pushed into the ipywidgets Image: everything a
notebook pays during fit except the transport to the browser). The final static PNG is drawn after the
notebook cell (an IPython post_execute hook), not inside fit; it is timed separately. Each run builds a fresh
model with the same seed. Prints the median seconds per run and the overhead in percent.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tinynn import backend  # noqa: E402
from tinynn.datasets import mnist  # noqa: E402
from tinynn.layers import Dense  # noqa: E402
from tinynn.models import Sequential  # noqa: E402
from tinynn.widgets import TrainingDashboard  # noqa: E402


def _deferred(dash):
    """Collect what the dashboard would run after the notebook cell (the final picture), to time it apart."""
    pending = []
    if dash is not None:
        dash._run_after_cell = pending.append
    return pending


def _timed_hooks(dash):
    """Wrap the dashboard's hooks to add up the time spent inside them: its exact cost, whatever the noise."""
    dash.hook_s = 0.0
    for name in ("on_train_begin", "on_epoch_begin", "on_train_batch_end", "on_epoch_end", "on_train_end"):
        fn = getattr(dash, name)

        def timed(*a, _fn=fn, **k):
            t = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                dash.hook_s += time.perf_counter() - t

        setattr(dash, name, timed)


def run(x, y, xv, yv, batch_size, callback):
    backend.set_seed(0)
    model = Sequential([Dense(128, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    pending = _deferred(callback)
    if callback is not None:
        _timed_hooks(callback)
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(x, y, epochs=1, batch_size=batch_size, validation_data=(xv, yv), verbose=0,
              callbacks=[callback] if callback else None)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    for fn in pending:
        fn()
    if callback is not None:
        callback.final_picture_s = time.perf_counter() - t1
        callback.fit_s = wall
    return (wall, cpu), callback


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    (x, y), (xv, yv) = mnist.load_data()
    x, xv = x.reshape(-1, 784).astype("float32") / 255, xv.reshape(-1, 784).astype("float32") / 255
    variants = {
        "none": lambda: None,
        "text": lambda: TrainingDashboard(mode="text", file=io.StringIO()),
        "widget": lambda: TrainingDashboard(mode="widget", static_image=True),
    }
    run(x[:2000], y[:2000], xv[:500], yv[:500], args.batch_size, variants["widget"]())  # warm-up: imports, fonts
    times = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    inside = {k: [] for k in variants if k != "none"}
    info = {}
    for _ in range(args.repeats):
        for name, make in variants.items():
            (t, c), cb = run(x, y, xv, yv, args.batch_size, make())
            times[name].append(t)
            cpu[name].append(c)
            if cb is not None:
                inside[name].append(100 * cb.hook_s / cb.fit_s)
            if cb is not None and name == "widget":
                info = {"redraws": cb.redraws, "render_s": cb.render_seconds, "final_s": cb.final_picture_s}
    print(f"MNIST 784-128-10, 1 epoch, batch {args.batch_size}, median of {args.repeats} "
          f"(wall clock, and CPU time of this process, which other load on the machine disturbs less):")
    for label, table in (("wall", times), ("cpu", cpu)):
        base = statistics.median(table["none"])
        for name, ts in table.items():
            med = statistics.median(ts)
            print(f"  {label:4s} {name:7s} {med:7.3f} s  overhead {100 * (med - base) / base:+6.2f} %   runs: "
                  + ", ".join(f"{t:.3f}" for t in ts))
    for name, shares in inside.items():
        print(f"  time inside the dashboard's hooks, {name} mode: median {statistics.median(shares):.2f} % of fit "
              f"(runs: {', '.join(f'{v:.2f}' for v in shares)})")
    print(f"  widget mode, last run: {info.get('redraws')} renders in all, {info.get('render_s', 0):.3f} s rendering; "
          f"the final picture (drawn after the cell, outside fit) took {info.get('final_s', 0):.3f} s")


if __name__ == "__main__":
    main()
