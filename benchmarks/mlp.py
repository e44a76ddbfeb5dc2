"""Benchmark: the 784-128-10 MLP (Adam, float32) for one epoch over 60,000 samples, tinynn vs PyTorch eager.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/mlp.py [--repeats 3] [--batch-sizes 32 128]

Both libraries train the same model on the same data in the same process, alternating A B A B, and the
median seconds per epoch and the ratio tinynn / torch are printed. It also reports the machine's float32
GEMM throughput and the share of it the batch-128 epoch reaches (FLOPs of the forward and backward GEMMs
divided by the epoch time). Uses real MNIST when TINYNN_DATA (or the cache) has it, else random data of
the same shape (the timing does not depend on the values); it says which.

Read ../shared/notes/performance.md: pin one thread for comparisons. On the project's machines
OPENBLAS_CORETYPE=Haswell (and OPENBLAS_L2_SIZE) are set for old OpenBLAS builds and slow a current numpy;
measure with both unset in the benchmark command alone (``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...``)
and say which you used: the script prints the BLAS kernel it runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import tinynn  # noqa: E402
from tinynn.layers import Dense  # noqa: E402
from tinynn.models import Sequential  # noqa: E402


def load_data():
    try:
        from tinynn.datasets import mnist

        (x, y), _ = mnist.load_data()
        return x.reshape(-1, 784).astype("float32") / 255.0, y.astype("int64"), "real MNIST"
    except Exception as err:  # no data available offline
        rng = np.random.default_rng(0)
        return rng.random((60000, 784), dtype=np.float32), rng.integers(0, 10, 60000), f"random data ({err.__class__.__name__})"


def tinynn_epoch(x, y_onehot, batch_size):
    tinynn.utils.set_random_seed(0)
    model = Sequential([Dense(128, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    t = time.perf_counter()
    model.fit(x, y_onehot, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - t


def torch_epoch(torch, x_t, y_t, batch_size):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(x_t)

    def run(steps=None):
        perm = torch.randperm(n)
        for k, lo in enumerate(range(0, n, batch_size)):
            if steps is not None and k >= steps:
                break
            idx = perm[lo:lo + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_t[idx]), y_t[idx])
            loss.backward()
            opt.step()

    run(steps=100)  # warm-up
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


def gemm_gflops(repeats=20):
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * 1024**3 / min(times) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    args = parser.parse_args()

    x, y, source = load_data()
    y_onehot = tinynn.utils.to_categorical(y, 10)
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    except ImportError:
        torch = None
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"MLP 784-128-10, Adam, float32, {len(x)} samples of {source}; OMP_NUM_THREADS={threads}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    peak = gemm_gflops()
    print(f"float32 GEMM (1024x1024x1024): {peak:.0f} GFLOP/s")
    for bs in args.batch_sizes:
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(tinynn_epoch(x, y_onehot, bs))
            if torch is not None:
                theirs.append(torch_epoch(torch, x_t, y_t, bs))
        t_ours = statistics.median(ours)
        # forward 2 GEMMs + backward 3 (the first layer's dx is not needed): 2*N*(784*128 + 128*10) flops each
        flops = 2 * len(x) * (784 * 128 + 128 * 10) * 2 + 2 * len(x) * (784 * 128 + 2 * 128 * 10)
        line = f"batch {bs:4d}: tinynn {t_ours:.3f} s/epoch ({flops / t_ours / 1e9:.0f} GFLOP/s = {flops / t_ours / 1e9 / peak:.0%} of GEMM peak)"
        if theirs:
            t_theirs = statistics.median(theirs)
            line += f" | torch eager {t_theirs:.3f} s/epoch | ratio tinynn/torch {t_ours / t_theirs:.2f}"
        else:
            line += " | torch not installed"
        print(line, flush=True)


if __name__ == "__main__":
    main()
