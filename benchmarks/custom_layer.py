"""Benchmark: a Dense written with ``call`` only (backward by autograd) vs the built-in Dense (hand-written
backward), one training step of the layer: forward + backward, batch 32, 784 → 128, relu, float32.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/custom_layer.py [--batch 32] [--repeats 7]

Both layers get the same weights and inputs; the script alternates A B A B and prints the median
microseconds per step for the layer as a *first* layer (no dx needed, what a model sets) and as a *hidden*
layer (dx computed), and the ratio. With ``--model`` it also times ``Sequential.train_on_batch`` of a
784-128-10 model (SGD) with either layer first. This is the number behind "when to write your own
backward": the autograd version pays for recording the graph (a few Python objects per op) and for the
extra temporaries, not for different math.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tinynn import ops  # noqa: E402
from tinynn.layers import Dense, Layer  # noqa: E402


class CallDense(Layer):
    """The seeds' CustomLayer with Dense's initializer: ``relu(x @ kernel + bias)``, no backward."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), "glorot_uniform", name="kernel")
        self.bias = self.add_weight((self.units,), "zeros", name="bias")

    def call(self, inputs):
        return ops.nn.relu(ops.matmul(inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


def time_layer(layer, x, dy, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        layer(x, training=True)
        layer.backward(dy)
    return (time.perf_counter() - t0) / steps * 1e6


def time_model(first, x, y, steps):
    from tinynn.models import Sequential

    model = Sequential([first, Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - t0) / steps * 1e6


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--model", action="store_true", help="also time Sequential.train_on_batch")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 784), dtype=np.float32)
    dy = rng.standard_normal((args.batch, 128)).astype(np.float32)
    print(f"batch {args.batch}, 784 -> 128 relu, float32, {args.steps} steps x {args.repeats} repeats, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    for first in (True, False):
        builtin, custom = Dense(128, activation="relu"), CallDense(128)
        builtin(x)
        custom(x)
        custom.set_weights(builtin.get_weights())
        for layer in (builtin, custom):
            layer.compute_input_gradient = not first
        times = {"built-in Dense": [], "call-only (autograd)": []}
        for _ in range(args.repeats):
            times["built-in Dense"].append(time_layer(builtin, x, dy, args.steps))
            times["call-only (autograd)"].append(time_layer(custom, x, dy, args.steps))
        med = {k: statistics.median(v) for k, v in times.items()}
        role = "first layer (no dx)" if first else "hidden layer (with dx)"
        print(f"{role:<24} built-in {med['built-in Dense']:8.1f} us/step   call-only {med['call-only (autograd)']:8.1f}"
              f" us/step   ratio {med['call-only (autograd)'] / med['built-in Dense']:.2f}")
    if args.model:
        y = rng.integers(0, 10, args.batch)
        a, b = [], []
        for _ in range(args.repeats):
            a.append(time_model(Dense(128, activation="relu"), x, y, args.steps // 2))
            b.append(time_model(CallDense(128), x, y, args.steps // 2))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{'train_on_batch 784-128-10':<24} built-in {ma:8.1f} us/step   call-only {mb:8.1f} us/step   "
              f"ratio {mb / ma:.2f}")


if __name__ == "__main__":
    main()
