"""Benchmark: the keras.io "Simple MNIST convnet" (Conv2D 32 → MaxPool → Conv2D 64 → MaxPool → Flatten →
Dropout → Dense 10, Adam, float32), one epoch at batch 128, tinynn vs PyTorch eager.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/conv.py [--repeats 3] [--samples 60000] [--batch-size 128]

Both libraries train the same architecture on the same data in the same process, alternating A B A B; the
median seconds per epoch (``--samples`` images) and the ratio tinynn / torch are printed, with the time per
batch. Torch is warmed up first (performance.md). Uses real MNIST when TINYNN_DATA (or the cache) has it, else
random data of the same shape (the timing does not depend on the values); it says which. It also prints the
size of the largest im2col buffer, to check that none is larger than one batch needs.

Read ../shared/notes/performance.md: pin one thread, and measure with OPENBLAS_CORETYPE unset.
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
from tinynn import layers  # noqa: E402
from tinynn.models import Sequential  # noqa: E402


def load_data(n):
    try:
        from tinynn.datasets import mnist

        (x, y), _ = mnist.load_data()
        source = "real MNIST"
    except Exception as err:  # no data available offline
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000)
        source = f"random data ({err.__class__.__name__})"
    x = (x[:n].astype("float32") / 255.0)[..., None]
    return x, y[:n].astype("int64"), source


def keras_io_convnet():
    return Sequential([
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def tinynn_epoch(x, y_onehot, batch_size, report):
    tinynn.utils.set_random_seed(0)
    model = keras_io_convnet()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    t = time.perf_counter()
    model.fit(x, y_onehot, batch_size=batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - t
    report["col_bytes"] = max(layer._col2.nbytes for layer in model.layers if hasattr(layer, "_col2"))
    return seconds


def torch_epoch(torch, x_t, y_t, batch_size):
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
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

    run(steps=30)  # warm-up
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    x, y, source = load_data(args.samples)
    y_onehot = tinynn.utils.to_categorical(y, 10)
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        x_t, y_t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(y)
    except ImportError:
        torch = None
    print(f"keras.io MNIST convnet, Adam, float32, {len(x)} samples of {source}, batch {args.batch_size}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    ours, theirs, report = [], [], {}
    for _ in range(args.repeats):
        ours.append(tinynn_epoch(x, y_onehot, args.batch_size, report))
        if torch is not None:
            theirs.append(torch_epoch(torch, x_t, y_t, args.batch_size))
    batches = -(-len(x) // args.batch_size)
    t_ours = statistics.median(ours)
    line = f"tinynn {t_ours:.2f} s/epoch ({t_ours / batches * 1e3:.0f} ms/batch)"
    if theirs:
        t_theirs = statistics.median(theirs)
        line += (f" | torch eager {t_theirs:.2f} s/epoch ({t_theirs / batches * 1e3:.0f} ms/batch)"
                 f" | ratio tinynn/torch {t_ours / t_theirs:.2f}")
    else:
        line += " | torch not installed"
    print(line)
    one_batch = args.batch_size * 26 * 26 * 9 * 1 * 4
    print(f"largest im2col buffer: {report['col_bytes'] / 1e6:.1f} MB (one batch of the second convolution's "
          f"windows: {args.batch_size * 11 * 11 * 9 * 32 * 4 / 1e6:.1f} MB; first: {one_batch / 1e6:.1f} MB)")
    print("times tinynn:", " ".join(f"{t:.2f}" for t in ours), "| torch:", " ".join(f"{t:.2f}" for t in theirs))


if __name__ == "__main__":
    main()
