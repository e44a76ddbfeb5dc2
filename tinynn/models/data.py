r"""Where ``fit`` / ``evaluate`` / ``predict`` get their batches: arrays in memory, a Python generator, or a
:class:`~tinynn.utils.PyDataset` (Keras 3's ``__len__`` / ``__getitem__`` / ``on_epoch_end``), for data that
does not fit in memory (e.g. a memory-mapped ``.npy`` file: only one batch is read at a time).

Every source yields ``(xs, ys, sws)``: lists of arrays, one per model input / output (``sws`` may be None).
"""
from __future__ import annotations

import math

from tinynn import backend


def _check_positive(name, value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}.")
    return value


class ArraySource:
    """Batches of arrays already in memory (shuffled each epoch when ``shuffle``)."""

    def __init__(self, model, xs, ys, sws, batch_size, shuffle, steps):
        self.model, self.xs, self.ys, self.sws = model, xs, ys, sws
        self.batch_size, self.shuffle = batch_size, shuffle
        self.samples = len(xs[0])
        self.steps = math.ceil(self.samples / batch_size) if steps is None else steps

    def split(self, fraction):
        """Hold out the *last* ``fraction`` of the samples for validation (Keras' ``validation_split``)."""
        if not 0 < fraction < 1:
            raise ValueError(f"fit: validation_split must be in (0, 1), got {fraction}.")
        n = self.samples
        cut = int(n * (1 - fraction))
        if cut == 0 or cut == n:
            raise ValueError(f"fit: validation_split={fraction} leaves no training or no validation samples from {n} "
                             "samples.")
        head = lambda arrays: None if arrays is None else [a[:cut] for a in arrays]  # noqa: E731
        tail = lambda arrays: None if arrays is None else [a[cut:] for a in arrays]  # noqa: E731
        train = ArraySource(self.model, head(self.xs), head(self.ys), head(self.sws), self.batch_size, self.shuffle,
                            None)
        val = ArraySource(self.model, tail(self.xs), tail(self.ys), tail(self.sws), self.batch_size, False, None)
        return train, val

    def epoch(self):
        n, b = self.samples, self.batch_size
        order = backend.permutation(n) if self.shuffle else None
        for step in range(self.steps):
            lo = (step * b) % n
            idx = order[lo:lo + b] if order is not None else slice(lo, lo + b)
            yield ([a[idx] for a in self.xs], None if self.ys is None else [a[idx] for a in self.ys],
                   None if self.sws is None else [a[idx] for a in self.sws])


class IterSource:
    """Batches from a generator / iterator / PyDataset of ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""

    def __init__(self, model, data, steps, where, needs_y):
        self.model, self.data, self.where, self.needs_y = model, data, where, needs_y
        self.is_dataset = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        if steps is not None:
            _check_positive("steps_per_epoch" if where == "fit" else "steps", steps, where)
        if self.is_dataset:
            self.steps = len(data) if steps is None else min(steps, len(data))
        elif steps is None and where == "fit":
            self.steps = None  # a generator: one epoch = until it is exhausted (Keras: needs steps_per_epoch)
        else:
            self.steps = steps
        self.samples, self.batch_size = None, None
        self._iterator = None

    def split(self, fraction):
        raise ValueError(f"{self.where}: validation_split works only with arrays; give a generator or PyDataset "
                         "as validation_data instead.")

    def _batches(self):
        if self.is_dataset:
            for i in range(self.steps):
                yield self.data[i]
            if hasattr(self.data, "on_epoch_end"):
                self.data.on_epoch_end()
            return
        if self._iterator is None:
            self._iterator = iter(self.data)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                yield next(self._iterator)
            except StopIteration:
                self._iterator = None
                return
            count += 1

    def epoch(self):
        for batch in self._batches():
            yield self._unpack(batch)

    def _unpack(self, batch):
        if isinstance(batch, tuple) and len(batch) in (1, 2, 3):
            x, y, sw = (list(batch) + [None, None])[:3]
        else:
            x, y, sw = batch, None, None
        if self.needs_y and y is None:
            raise ValueError(f"{self.where}: each batch from the generator/PyDataset must be (x, y) or "
                             f"(x, y, sample_weight); got {type(batch).__name__}.")
        xs = self.model._prepare_inputs(x, self.where)
        ys = self.model._prepare_targets(y, len(xs[0]), self.where) if y is not None else None
        sws = self.model._sample_weights(ys, sw, None, len(xs[0]), self.where) if ys is not None else None
        return xs, ys, sws


def _is_iterable_source(x):
    if x is None or hasattr(x, "shape") or isinstance(x, (list, tuple, dict, str, bytes)):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def adapt(model, x, y, sample_weight, class_weight, batch_size, shuffle, steps, where):
    """The data source for ``fit`` / ``evaluate`` / ``predict``."""
    needs_y = where != "predict"
    if _is_iterable_source(x):
        if y is not None:
            raise ValueError(f"{where}: y must not be given when x is a generator or PyDataset (it yields (x, y)).")
        return IterSource(model, x, steps, where, needs_y)
    batch_size = _check_positive("batch_size", 32 if batch_size is None else batch_size, where)
    if steps is not None:
        _check_positive("steps_per_epoch" if where == "fit" else "steps", steps, where)
    xs = model._prepare_inputs(x, where)
    ys = sws = None
    if needs_y:
        ys = model._prepare_targets(y, len(xs[0]), where)
        sws = model._sample_weights(ys, sample_weight, class_weight, len(xs[0]), where)
    if where != "fit":
        steps = None if steps is None else min(steps, math.ceil(len(xs[0]) / batch_size))
    return ArraySource(model, xs, ys, sws, batch_size, shuffle, steps)


def adapt_validation(model, validation_data, batch_size, steps):
    if _is_iterable_source(validation_data):
        return IterSource(model, validation_data, steps, "fit (validation_data)", True)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight), or a "
                         f"generator / PyDataset; got {type(validation_data).__name__}.")
    vx, vy = validation_data[0], validation_data[1]
    vsw = validation_data[2] if len(validation_data) == 3 else None
    return adapt(model, vx, vy, vsw, None, batch_size, False, steps, "fit (validation_data)")


def one_batch(model, x, y, sample_weight, class_weight, where):
    xs = model._prepare_inputs(x, where)
    if y is None and where == "predict_on_batch":
        return xs, None, None
    ys = model._prepare_targets(y, len(xs[0]), where)
    return xs, ys, model._sample_weights(ys, sample_weight, class_weight, len(xs[0]), where)
