r"""``PyDataset``: Keras 3's base class for data that is read one batch at a time.

Subclass it and define ``__len__`` (the number of batches in an epoch) and ``__getitem__(i)`` (batch ``i`` as
``(x, y)`` or ``(x, y, sample_weight)``); ``on_epoch_end`` is called after every epoch (e.g. to reshuffle).
``fit``, ``evaluate`` and ``predict`` take it instead of arrays, so a data set larger than memory (a
memory-mapped ``.npy`` file, images read from disk) trains with one batch in memory at a time.
"""
from __future__ import annotations


class PyDataset:
    """Base class: define ``__len__`` and ``__getitem__``."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if workers not in (0, 1) or use_multiprocessing:
            raise NotImplementedError("PyDataset: tinynn reads batches in the training process (workers=1, "
                                      "use_multiprocessing=False).")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of batches).")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) returning a batch (x, y).")

    def on_epoch_end(self):
        """Called at the end of every epoch (override it, e.g. to shuffle)."""

    @property
    def num_batches(self):
        return len(self)
