"""Benchmark: the seeds' IMDB model, Embedding(10000, 32) -> LSTM(32) -> Dense(1) + sigmoid BCE + Adam,
on 500-token sequences, tinynn (NumPy) against PyTorch eager (torch.nn.LSTM, same shapes), in one process.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/lstm.py [--batches 60] [--reps 3] [--profile]
    TINYNN_DATA=/work/shared/data python benchmarks/lstm.py --imdb [--epochs 4]   # real training, minutes

* The data are random token ids of the right shape (timing does not depend on the values).
* Each measurement trains ``--batches`` batches; the epoch time (25,000 reviews) is extrapolated from the
  median per-batch time, and the output says so. Implementations alternate A B A B; torch is warmed up.
* ``--profile`` splits one tinynn step into its phases, and times the embedding-gradient alternatives.
* On the project's machines OPENBLAS_CORETYPE=Haswell is set for old OpenBLAS builds; it slows a current
  numpy (performance.md): benchmark with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`` and say so.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402  (benchmarks may use numpy directly, like the dataset loaders)

from tinynn.layers import LSTM, Dense, Embedding  # noqa: E402

VOCAB, EMB, UNITS, MAXLEN, N_TRAIN = 10000, 32, 32, 500, 25000


class TinynnModel:
    """Embedding -> LSTM -> Dense(1); loss = BCE with logits; Adam (Keras defaults), all in float32."""

    def __init__(self):
        self.layers = [Embedding(VOCAB, EMB), LSTM(UNITS), Dense(1)]
        x = np.zeros((2, MAXLEN), dtype=np.int64)
        for layer in self.layers:
            x = layer(x)
        self.layers[0].compute_input_gradient = False
        self.params = [w for layer in self.layers for w in layer.trainable_weights]
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]
        self.tmp = [np.zeros_like(p.value) for p in self.params]
        self.t = 0
        self.times = {}

    def _tick(self, name, t0):
        t1 = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + t1 - t0
        return t1

    def step(self, x, y):
        t0 = time.perf_counter()
        emb, lstm, dense = self.layers
        e = emb(x, training=True)
        t0 = self._tick("embedding forward", t0)
        h = lstm(e, training=True)
        t0 = self._tick("lstm forward", t0)
        z = dense(h, training=True)
        p = 0.5 * (np.tanh(0.5 * z) + 1.0)
        dz = (p - y) * (1.0 / len(y))  # d(mean BCE)/dz, the fused sigmoid + cross-entropy gradient
        dh = dense.backward_from_logits(dz)
        t0 = self._tick("dense + loss", t0)
        de = lstm.backward(dh)
        t0 = self._tick("lstm backward", t0)
        emb.backward(de)
        t0 = self._tick("embedding backward", t0)
        self._adam()
        self._tick("adam", t0)

    def _adam(self, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
        self.t += 1
        a = lr * (1 - b2 ** self.t) ** 0.5 / (1 - b1 ** self.t)  # a Python float: no float64 promotion
        for p, m, v, tmp in zip(self.params, self.m, self.v, self.tmp):
            g = p.grad
            m *= b1
            m += (1 - b1) * g
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v *= b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= a
            p.value -= tmp


def make_torch(torch):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(VOCAB, EMB)
            self.lstm = torch.nn.LSTM(EMB, UNITS, batch_first=True)
            self.out = torch.nn.Linear(UNITS, 1)

        def forward(self, x):
            _, (h, _) = self.lstm(self.emb(x))
            return self.out(h[-1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    return step


def time_batches(step, batches):
    t0 = time.perf_counter()
    for x, y in batches:
        step(x, y)
    return (time.perf_counter() - t0) / len(batches)


def embedding_grad_alternatives(batch, reps=20):
    """Time the ways to accumulate the embedding gradient for repeated ids (the fastest is in the layer)."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, size=batch * MAXLEN)
    dy = rng.normal(size=(batch * MAXLEN, EMB)).astype(np.float32)
    out = np.zeros((VOCAB, EMB), dtype=np.float32)

    def add_at():
        out[...] = 0
        np.add.at(out, ids, dy)

    def bincount_flat():
        flat = (ids[:, None] * EMB + np.arange(EMB)).ravel()
        out[...] = np.bincount(flat, weights=dy.reshape(-1), minlength=VOCAB * EMB).reshape(VOCAB, EMB)

    def bincount_per_column():
        for j in range(EMB):
            out[:, j] = np.bincount(ids, weights=dy[:, j], minlength=VOCAB)

    def sort_reduceat():
        order = np.argsort(ids, kind="stable")
        s = ids[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        out[...] = 0
        out[s[starts]] = np.add.reduceat(dy[order], starts, axis=0)

    from tinynn.layers.embedding import embedding_backward

    def layer_function():
        embedding_backward(ids, dy, out)

    results = {}
    ref = None
    for name, fn in [("np.add.at", add_at), ("bincount, flat (row*E+col)", bincount_flat),
                     ("bincount per column", bincount_per_column), ("argsort + add.reduceat", sort_reduceat),
                     ("tinynn embedding_backward", layer_function)]:
        fn()
        if ref is None:
            ref = out.copy()
        assert np.allclose(out, ref, atol=1e-4), name
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        results[name] = statistics.median(ts)
    return results


def train_imdb(epochs, batch_size=32, maxlen=MAXLEN, n_train=None):
    """The seeds' program on the real IMDB data: prints per-epoch time and test accuracy after each epoch."""
    from tinynn.datasets import imdb
    from tinynn.models import Sequential
    from tinynn.preprocessing.sequence import pad_sequences

    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=VOCAB)
    if n_train:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_train, x_test = pad_sequences(x_train, maxlen=maxlen), pad_sequences(x_test, maxlen=maxlen)
    print(f"IMDB (real data): train {x_train.shape}, test {x_test.shape}, batch {batch_size}", flush=True)
    model = Sequential()
    model.add(Embedding(VOCAB, EMB))
    model.add(LSTM(UNITS))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        hist = model.fit(x_train, y_train, epochs=1, batch_size=batch_size, verbose=0)
        dt = time.perf_counter() - t0
        loss, acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
        train_acc = hist.history["accuracy"][-1]
        print(f"epoch {epoch}: train time {dt:6.1f} s, train loss {hist.history['loss'][-1]:.4f}, "
              f"train acc {train_acc:.4f}, TEST acc {acc:.4f} (test loss {loss:.4f})", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--batches", type=int, default=60, help="batches per timed run (extrapolated to an epoch)")
    ap.add_argument("--reps", type=int, default=3, help="alternating runs per implementation")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--imdb", action="store_true", help="train on the real IMDB data instead of timing")
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    if args.imdb:
        return train_imdb(args.epochs)

    import torch

    torch.set_num_threads(1)
    print(f"threads: OMP={os.environ.get('OMP_NUM_THREADS')} OPENBLAS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"torch={torch.get_num_threads()}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
          f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"data: RANDOM token ids, shape (batch, {MAXLEN}), vocabulary {VOCAB} (timing does not depend on values)")
    print(f"each run: {args.batches} batches; epoch = {N_TRAIN} reviews, EXTRAPOLATED from the median per-batch time")
    rng = np.random.default_rng(0)
    for bs in args.batch_sizes:
        batches = [(rng.integers(1, VOCAB, size=(bs, MAXLEN)), rng.integers(0, 2, size=(bs, 1)).astype(np.float32))
                   for _ in range(args.batches)]
        tbatches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]
        tiny = TinynnModel()
        tstep = make_torch(torch)
        time_batches(tstep, tbatches[:max(10, min(100, 3000 // bs))])  # warm torch up
        time_batches(tiny.step, batches[:3])
        tn, tt = [], []
        for _ in range(args.reps):  # A B A B ...
            tn.append(time_batches(tiny.step, batches))
            tt.append(time_batches(tstep, tbatches))
        n_batches = -(-N_TRAIN // bs)
        mn, mt = statistics.median(tn), statistics.median(tt)
        print(f"batch {bs:4d}: tinynn {mn * 1e3:7.2f} ms/batch (epoch ~{mn * n_batches:6.1f} s)   "
              f"torch {mt * 1e3:7.2f} ms/batch (epoch ~{mt * n_batches:6.1f} s)   ratio tinynn/torch = {mn / mt:.2f}"
              f"   [runs tinynn {', '.join(f'{v * 1e3:.1f}' for v in tn)}; torch {', '.join(f'{v * 1e3:.1f}' for v in tt)}]")
        if args.profile:
            tiny.times.clear()
            time_batches(tiny.step, batches)
            total = sum(tiny.times.values())
            print(f"  where tinynn's time goes at batch {bs} ({total / len(batches) * 1e3:.2f} ms/batch):")
            for name, v in sorted(tiny.times.items(), key=lambda kv: -kv[1]):
                print(f"    {name:<22} {v / len(batches) * 1e3:7.2f} ms  {100 * v / total:5.1f} %")
            print(f"  embedding-gradient alternatives at batch {bs} (median ms):")
            for name, v in embedding_grad_alternatives(bs).items():
                print(f"    {name:<28} {v * 1e3:7.2f}")


if __name__ == "__main__":
    main()
