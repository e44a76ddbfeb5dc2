"""How long one Adam update of the 784×128 float32 kernel of an MNIST MLP takes.

Compares tinynn's in-place ``Adam.update_step`` with two naive versions written the obvious way
(temporaries for every operation): one with Python-float scalars, one whose bias-corrected learning rate
is a NumPy float64 scalar, which under NumPy 2 silently turns the float32 update into a float64 one.
Also SGD (momentum) and, if installed, ``torch.optim.Adam`` (foreach, single tensor).

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/optimizers.py
The implementations alternate (A B C A B C ...) and the medians are printed with ratios.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tinynn import optimizers  # noqa: E402
from tinynn.variables import Variable  # noqa: E402

SHAPE = (784, 128)
REPEATS, INNER = 31, 50


class NaiveAdam:
    """Adam as one writes it first: new arrays for every intermediate."""

    def __init__(self, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, numpy_scalars=False):
        self.lr, self.b1, self.b2, self.eps, self.t, self.numpy_scalars = lr, b1, b2, eps, 0, numpy_scalars
        self.m = self.v = None

    def update(self, w, g):
        if self.m is None:
            self.m, self.v = np.zeros_like(w), np.zeros_like(w)
        self.t += 1
        if self.numpy_scalars:  # the pitfall: np.float64 scalars promote float32 arrays
            lr_t = np.float64(self.lr) * np.sqrt(1 - np.float64(self.b2) ** self.t) / (1 - np.float64(self.b1) ** self.t)
        else:
            lr_t = self.lr * math.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        self.m = self.m + (g - self.m) * (1 - self.b1)
        self.v = self.v + (g * g - self.v) * (1 - self.b2)
        w[...] = w - lr_t * self.m / (np.sqrt(self.v) + self.eps)


def timer(fn):
    def timed():
        t0 = time.perf_counter()
        for _ in range(INNER):
            fn()
        return (time.perf_counter() - t0) / INNER * 1e6  # µs per update
    return timed


def main():
    rng = np.random.default_rng(0)
    g = (rng.standard_normal(SHAPE) * 0.01).astype("float32")

    def tinynn_case(opt):
        w = Variable(rng.standard_normal(SHAPE).astype("float32"), name="kernel")
        w.grad[...] = g
        opt.apply([w.grad], [w])  # build the slots outside the timing

        def step():
            opt.update_step(w.grad, w, 0.001)
            opt.iterations += 1
        return step

    def naive_case(numpy_scalars):
        w = rng.standard_normal(SHAPE).astype("float32")
        opt = NaiveAdam(numpy_scalars=numpy_scalars)
        return lambda: opt.update(w, g)

    cases = {
        "tinynn Adam.update_step (in place)": tinynn_case(optimizers.Adam()),
        "naive Adam, Python-float scalars": naive_case(False),
        "naive Adam, np.float64 lr_t": naive_case(True),
        "tinynn SGD(momentum=0.9).update_step": tinynn_case(optimizers.SGD(0.01, momentum=0.9)),
    }
    try:
        import torch

        torch.set_num_threads(1)
        p = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(SHAPE).astype("float32")))
        p.grad = torch.from_numpy(g.copy())
        topt = torch.optim.Adam([p], lr=0.001, eps=1e-7)
        for _ in range(100):
            topt.step()
        cases["torch.optim.Adam.step"] = topt.step
    except ImportError:
        pass

    timed = {name: timer(fn) for name, fn in cases.items()}
    for fn in timed.values():  # warm up
        fn()
    samples = {name: [] for name in timed}
    for _ in range(REPEATS):
        for name, fn in timed.items():
            samples[name].append(fn())
    base = statistics.median(samples["tinynn Adam.update_step (in place)"])
    print(f"One update of a {SHAPE[0]}×{SHAPE[1]} float32 kernel, median of {REPEATS}×{INNER}, 1 thread:")
    for name, s in samples.items():
        med = statistics.median(s)
        print(f"  {name:<40} {med:8.1f} µs   {med / base:5.2f}× tinynn Adam")


if __name__ == "__main__":
    main()
