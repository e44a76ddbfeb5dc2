"""Chapter 8 (beyond Sequential): the backward of ``Concatenate``, the gradient at a fork, a ``PyDataset`` over
a memory-mapped file.

Exercise 3 asks for a *class* (a ``PyDataset`` subclass). Its checker turns the class into a function of
arrays — build it on an array that counts the rows read, read every batch of one epoch — so reading the whole
file, a ``__len__`` that rounds down or a wrong slice each get their own hint.
"""
from __future__ import annotations

import copy
import math

from tinynn import backend
from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, _quiet, collect
from tinynn.pydataset import PyDataset

__all__ = ["check_concat_backward", "check_fork_backward", "check_memmap_dataset", "RowCounter", "ShowingChecker",
           "CHECKERS"]


class ShowingChecker(Checker):
    """A :class:`Checker` that, when a check fails, also prints the failing case: its arguments, and the expected
    and received values of every output that differs (``result.example``). Accepts a class when ``wrap`` is
    given (``wrap(cls)`` makes the function of arrays that is compared)."""

    def __init__(self, *args, wrap=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.wrap = wrap

    def __call__(self, fn, n_tests=None, seed=0, verbose=True, raise_on_failure=False):
        if isinstance(fn, type) and self.wrap is not None:
            fn = self.wrap(fn)
        if getattr(self, "accept_list", False):  # "one array per input": a list or a tuple both are right
            learner = fn

            def fn(*args):
                out = learner(*args)
                return tuple(out) if isinstance(out, list) else out
        result = super().__call__(fn, n_tests=n_tests, seed=seed, verbose=False)
        result.example = None
        if not result.passed and result.case is not None:
            result.example = self.example(fn, result.case, seed)
        if verbose:
            print(result.message + (f"\n{result.example}" if result.example else ""))
        if raise_on_failure and not result.passed:
            raise AssertionError(result.message)
        return result

    def example(self, fn, index, seed=0):
        """The failing case ``index`` as text: the arguments, then expected vs received (differing outputs)."""
        rng = xp.random.default_rng(seed)
        case = [self.make_case(rng, i) for i in range(index + 1)][index]
        lines = ["  the failing case: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in case.items())]
        expected = self.reference(*copy.deepcopy(case).values())
        try:
            with _quiet():
                got = fn(*copy.deepcopy(case).values())
        except Exception as err:  # noqa: BLE001 - the learner's code
            return "\n".join(lines + [f"  expected: {_fmt(expected)}", f"  received: {type(err).__name__}: {err}"])
        if isinstance(expected, tuple) and isinstance(got, (tuple, list)) and len(got) == len(expected):
            names = self.outputs or tuple(f"output {k}" for k in range(len(expected)))
            for name, e, g in zip(names, expected, got):
                if self._compare(g, e) is not None:
                    lines += [f"  {name}: expected {_fmt(e)}", f"  {' ' * len(name)}  received {_fmt(g)}"]
        else:
            lines += [f"  expected: {_fmt(expected)}", f"  received: {_fmt(got)}"]
        return "\n".join(lines)


def _fmt(v):
    """A short text for a value: small arrays in full, larger ones as their shape and a few entries."""
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_fmt(x) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner})"
    if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
        a = backend.to_cpu(xp.asarray(v))
        if a.size == 0:
            return f"an empty array of shape {tuple(a.shape)}"
        text = _np_text(a)
        return text if a.size <= 8 else f"array {tuple(a.shape)} {text}"
    if hasattr(v, "shape"):
        return f"{v.item():.4g}" if isinstance(v.item(), float) else str(v.item())
    return repr(v)


def _np_text(a):
    return " ".join(xp.array2string(a, precision=3, threshold=8, edgeitems=1, suppress_small=True).split())


# --- 1. concat_backward(dy, sizes) -> [dx_1, ..., dx_K] for y = concatenate([x_1, ..., x_K], axis=-1) -------
def _concat_bw(dy, sizes):
    ends = [int(e) for e in xp.cumsum(xp.asarray(sizes))]
    starts = [0] + ends[:-1]
    return tuple(dy[..., s:e] for s, e in zip(starts, ends))


def _concat_case(rng, i):
    if i == 0:  # a small first case: a failure is shown on it in full
        return {"dy": xp.round(rng.normal(size=(1, 1, 6)), 2), "sizes": [2, 1, 3]}
    k = int(rng.integers(2, 4))
    n, t = 2, 3
    sizes = [int(s) for s in rng.choice(xp.arange(4, 10), size=k, replace=False)]  # never equal to n or t
    return {"dy": rng.normal(size=(n, t, sum(sizes))), "sizes": sizes}


def _concat_sizes_as_offsets(dy, sizes):
    return tuple(xp.split(dy, sizes[:-1], axis=-1))


def _concat_reversed(dy, sizes):
    return _concat_bw(dy, sizes)[::-1]


def _concat_axis1(dy, sizes):
    return tuple(xp.split(dy, [int(e) for e in xp.cumsum(xp.asarray(sizes))[:-1]], axis=1))


def _concat_like_add(dy, sizes):
    return tuple(dy for _ in sizes)


def _concat_first_sizes(dy, sizes):
    return tuple(dy[..., :s] for s in sizes)


check_concat_backward = ShowingChecker(
    "concat_backward", _concat_bw, _concat_case,
    mistakes=[
        Mistake("sizes_as_offsets", _concat_sizes_as_offsets,
                "the pieces start at the wrong places: `sizes` are the widths of the inputs, not the places to cut. "
                "Input k starts at sizes[0] + ... + sizes[k-1] (a running sum, e.g. np.cumsum)."),
        Mistake("reversed", _concat_reversed,
                "the pieces are in reverse order: dx_1 is the first slice of dy (the first input was written "
                "first), and the list must follow the order of the inputs."),
        Mistake("axis1", _concat_axis1,
                "you cut dy along axis 1: Concatenate(axis=-1) joined the inputs along the last axis, so its backward "
                "cuts dy along the last axis (dy[..., start:end]); every piece keeps dy's other axes."),
        Mistake("like_add", _concat_like_add,
                "every input got the whole dy: that is Add's backward (y = x_1 + x_2, so each dx_k = dy). "
                "Concatenate copies each input to its own slice of y, so each input gets its own slice of dy."),
        Mistake("first_sizes", _concat_first_sizes,
                "every piece starts at 0: dx_k = dy[..., :sizes[k]] repeats the beginning of dy. Move the start: "
                "input k's slice begins where input k-1's slice ends."),
    ],
    exception_hint="Shapes: dy (N, T, sizes[0] + ... + sizes[K-1]); return K arrays, dx_k of shape (N, T, sizes[k]).",
    doc="concat_backward(dy, sizes) for y = concatenate([x_1, ..., x_K], axis=-1): return [dx_1, ..., dx_K].",
)
check_concat_backward.accept_list = True


# --- 2. fork_backward(W1, W2, dy1, dy2) -> dh for y1 = h W1 + b1, y2 = h W2 + b2 (h feeds both heads) -------
def _fork_bw(W1, W2, dy1, dy2):
    return dy1 @ W1.T + dy2 @ W2.T


def _fork_case(rng, i):
    if i == 0:  # a small first case: a failure is shown on it in full
        return {"W1": xp.round(rng.normal(size=(2, 3)), 2), "W2": xp.round(rng.normal(size=(2, 1)), 2),
                "dy1": xp.round(rng.normal(size=(1, 3)), 2), "dy2": xp.round(rng.normal(size=(1, 1)), 2)}
    n, h, u1, u2 = (int(k) for k in rng.choice(xp.arange(2, 10), size=4, replace=False))
    return {"W1": rng.normal(size=(h, u1)), "W2": rng.normal(size=(h, u2)),
            "dy1": rng.normal(size=(n, u1)), "dy2": rng.normal(size=(n, u2))}


check_fork_backward = ShowingChecker(
    "fork_backward", _fork_bw, _fork_case,
    mistakes=[
        Mistake("first_only", lambda W1, W2, dy1, dy2: dy1 @ W1.T,
                "only the first head's gradient: h is used by both heads, so L depends on h through both, and "
                "dL/dh = dy1 W1ᵀ + dy2 W2ᵀ (the two contributions add)."),
        Mistake("last_only", lambda W1, W2, dy1, dy2: dy2 @ W2.T,
                "only the second head's gradient: the second contribution replaced the first (`dh = ...` where "
                "`dh += ...` was needed). At a fork the gradients add: dL/dh = dy1 W1ᵀ + dy2 W2ᵀ."),
        Mistake("mean", lambda W1, W2, dy1, dy2: (dy1 @ W1.T + dy2 @ W2.T) / 2,
                "you averaged the two heads' gradients: the loss is L1 + L2 (a sum), so its derivative is the sum "
                "dy1 W1ᵀ + dy2 W2ᵀ, not half of it. (loss_weights already sit inside dy1 and dy2.)"),
        Mistake("product", lambda W1, W2, dy1, dy2: (dy1 @ W1.T) * (dy2 @ W2.T),
                "you multiplied the two heads' gradients: the chain rule multiplies along one path, but the "
                "contributions of different paths add: dL/dh = dy1 W1ᵀ + dy2 W2ᵀ."),
    ],
    exception_hint="Shapes: W1 (H, U1), W2 (H, U2), dy1 (N, U1), dy2 (N, U2); dh has h's shape (N, H): dy1 W1ᵀ is "
                   "(N, U1)(U1, H).",
    doc="fork_backward(W1, W2, dy1, dy2): dL/dh when h feeds y1 = h W1 + b1 and y2 = h W2 + b2.",
)


# --- 3. a PyDataset over a memory-mapped array ----------------------------------------------------------
class RowCounter:
    """An array that counts the rows read from it (a stand-in for a memory-mapped file): indexing returns a
    copy of the rows asked for; converting the whole of it (``np.asarray(a)``, ``a[:]``) reads every row."""

    def __init__(self, array):
        self._a = array
        self.rows_read = 0
        self.whole_reads = 0
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __len__(self):
        return len(self._a)

    def __getitem__(self, key):
        out = xp.array(self._a[key])
        self.rows_read += int(out.shape[0]) if out.ndim == self._a.ndim else 1
        if out.ndim == self._a.ndim and len(self._a) > 1 and out.shape[0] == len(self._a):
            self.whole_reads += 1  # x[:] or x[0:N]: every row at once
        return out

    def __array__(self, dtype=None, copy=None):
        self.rows_read += len(self._a)
        self.whole_reads += 1
        return self._a if dtype is None else self._a.astype(dtype)


class _MemmapDataset(PyDataset):
    def __init__(self, x, y, batch_size=32, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


class _FloorLen(_MemmapDataset):
    def __len__(self):
        return len(self.x) // self.batch_size


class _LoadAll(_MemmapDataset):
    def __init__(self, x, y, batch_size=32, **kwargs):
        super().__init__(xp.asarray(x), xp.asarray(y), batch_size, **kwargs)


class _LoadPerBatch(_MemmapDataset):
    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return xp.asarray(self.x)[rows], xp.asarray(self.y)[rows]


class _OffByOne(_MemmapDataset):
    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size - 1)
        return self.x[rows], self.y[rows]


class _BatchIndexAsRow(_MemmapDataset):
    def __getitem__(self, i):
        rows = slice(i, i + self.batch_size)
        return self.x[rows], self.y[rows]


def _dataset_runner(cls):
    """``run(x, y, batch_size)`` → (number of batches, every batch's x stacked, every batch's y stacked,
    rows read from x in one epoch, times the whole of x was read), for the class ``cls(x, y, batch_size)``."""
    def run(x, y, batch_size):
        xs, ys = RowCounter(x), RowCounter(y)
        ds = cls(xs, ys, batch_size=batch_size)
        n = len(ds)
        bx, by = [], []
        for i in range(n):
            a, b = ds[i]
            bx.append(xp.asarray(a))
            by.append(xp.asarray(b))
        return (xp.asarray(n), xp.concatenate(bx) if bx else x[:0], xp.concatenate(by) if by else y[:0],
                xp.asarray(xs.rows_read), xp.asarray(xs.whole_reads))

    run.__name__ = getattr(cls, "__name__", "run")
    return run


def _dataset_case(rng, i):
    if i == 0:  # a small first case: row r of x is r, so the rows read are visible
        return {"x": xp.arange(5.0)[:, None], "y": xp.arange(5), "batch_size": 2}
    batch_size = int(rng.integers(3, 8))
    n = batch_size * int(rng.integers(2, 5)) + int(rng.integers(1, batch_size))  # always a partial last batch
    return {"x": rng.normal(size=(n, 3)), "y": rng.integers(0, 10, size=n), "batch_size": batch_size}


_read_hint = ("you read the whole file: `np.asarray(x)`, `np.array(x)` or `x[:]` copies every row into memory, which "
              "is what a memory-mapped file avoids. Keep `x` as it is and slice only batch i's rows: "
              "`self.x[i * b:(i + 1) * b]`.")

check_memmap_dataset = ShowingChecker(
    "memmap_dataset", _dataset_runner(_MemmapDataset), _dataset_case, wrap=_dataset_runner,
    outputs=("len(dataset)", "the batches' x, stacked", "the batches' y, stacked", "rows read from x in one epoch",
             "times the whole of x was read"),
    mistakes=[
        Mistake("floor_len", _dataset_runner(_FloorLen),
                "__len__ rounds down: with N rows and batch size b there are ⌈N/b⌉ batches (math.ceil(N / b)); "
                "N // b drops the last, partial batch, so those samples are never trained on."),
        Mistake("load_all", _dataset_runner(_LoadAll), _read_hint),
        Mistake("load_per_batch", _dataset_runner(_LoadPerBatch), _read_hint),
        Mistake("off_by_one", _dataset_runner(_OffByOne),
                "each batch is one row short: a slice end is excluded, so batch i is rows "
                "i·b to (i+1)·b, written `x[i * b:(i + 1) * b]` (no −1)."),
        Mistake("index_as_row", _dataset_runner(_BatchIndexAsRow),
                "batch i starts at row i: `i` counts batches, so batch i starts at row i·b (`x[i * b:(i + 1) * b]`)."),
    ],
    exception_hint="The class is built as MemmapDataset(x, y, batch_size=...); dataset[i] returns (x_batch, y_batch) "
                   "for i in range(len(dataset)).",
    doc="MemmapDataset(x, y, batch_size): a PyDataset whose batch i is rows i·b to (i+1)·b of x and y (the last "
        "batch may be shorter), reading only those rows.",
)
check_memmap_dataset.reference_class = _MemmapDataset

CHECKERS = collect(globals())
