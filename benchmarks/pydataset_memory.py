"""Benchmark: the memory a training run needs when it reads its data from a memory-mapped file.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TINYNN_DATA=/work/shared/data \\
        python benchmarks/pydataset_memory.py [--copies 2] [--batch-size 128]

Writes the MNIST training images ``--copies`` times over (60,000 × copies rows of 784 float32, real data) to a
``.npy`` file in a temporary folder, then trains a 784-64-10 MLP for one epoch in two *fresh* processes:

* ``memmap``: ``np.load(path, mmap_mode="r")`` and a ``PyDataset`` that reads batch i's rows;
* ``memory``: ``np.load(path)`` (the whole file read into memory) and ``fit`` on the arrays.

Each process samples ``/proc/self/status`` after every batch and prints, in MB, the growth over its start of

* ``RssAnon`` — the process' own memory (what it allocated; cannot be given back without freeing it);
* ``RssFile`` — pages of mapped files held in memory (the operating system's cache of the file; clean pages it
  may drop whenever memory runs short);
* ``VmHWM`` — the kernel's peak resident size (both kinds together).

The claim to check: the memmap run's own memory (RssAnon) does not grow with the file; its RssFile may (pages
read are cached), the in-memory run's RssAnon grows by at least the file size. Linux only.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def _status():
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024  # kB -> MB
    return out


def child(mode, x_path, y_path, batch_size):
    import numpy as np  # noqa: PLC0415

    import tinynn  # noqa: PLC0415
    from tinynn.callbacks import Callback  # noqa: PLC0415
    from tinynn.layers import Dense  # noqa: PLC0415
    from tinynn.utils import PyDataset, set_random_seed  # noqa: PLC0415

    class Batches(PyDataset):
        def __init__(self, x, y, batch_size):
            super().__init__()
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, i):
            rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
            return np.asarray(self.x[rows]), np.asarray(self.y[rows])

    class Sample(Callback):
        def __init__(self):
            super().__init__()
            self.peak = {}

        def on_train_batch_end(self, batch, logs=None):
            for k, v in _status().items():
                self.peak[k] = max(self.peak.get(k, 0.0), v)

    set_random_seed(0)
    inputs = tinynn.Input(shape=(784,))
    model = tinynn.Model(inputs, Dense(10, activation="softmax")(Dense(64, activation="relu")(inputs)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.train_on_batch(np.zeros((batch_size, 784), "float32"), np.zeros(batch_size, "int64"))  # warm up
    start = _status()
    sample = Sample()
    if mode == "memmap":
        data = Batches(np.load(x_path, mmap_mode="r"), np.load(y_path, mmap_mode="r"), batch_size)
        model.fit(data, epochs=1, verbose=0, callbacks=[sample])
    else:
        model.fit(np.load(x_path), np.load(y_path), epochs=1, batch_size=batch_size, verbose=0, callbacks=[sample])
    print(json.dumps({k: sample.peak[k] - start[k] for k in start}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "X", "Y"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child, args.batch_size)
    import numpy as np  # noqa: PLC0415

    from tinynn.datasets import mnist  # noqa: PLC0415

    (x, y), _ = mnist.load_data()
    with tempfile.TemporaryDirectory() as folder:
        x_path, y_path = os.path.join(folder, "x.npy"), os.path.join(folder, "y.npy")
        x = np.tile(x.reshape(-1, 784).astype("float32") / 255.0, (args.copies, 1))
        np.save(x_path, x)
        np.save(y_path, np.tile(y, args.copies))
        file_mb = os.path.getsize(x_path) / 2**20
        del x
        print(f"file: {file_mb:.0f} MB ({60000 * args.copies} MNIST images), batch {args.batch_size} "
              f"({args.batch_size * 784 * 4 / 2**20:.2f} MB); growth during one epoch, MB:")
        print(f"{'':8} {'RssAnon':>9} {'RssFile':>9} {'VmHWM':>9}   RssAnon / file")
        for mode in ("memmap", "memory"):
            out = subprocess.run([sys.executable, __file__, "--batch-size", str(args.batch_size), "--child", mode,
                                  x_path, y_path], check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{mode:8} {r['RssAnon']:9.1f} {r['RssFile']:9.1f} {r['VmHWM']:9.1f}   {r['RssAnon'] / file_mb:.3f}")


if __name__ == "__main__":
    main()
