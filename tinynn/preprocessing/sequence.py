"""Padding variable-length sequences into one array, as ``keras.preprocessing.sequence``.

>>> pad_sequences([[1, 2, 3], [4, 5], [6]]).tolist()
[[1, 2, 3], [0, 4, 5], [0, 0, 6]]
>>> pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post").tolist()
[[1, 2], [4, 5]]
"""
from __future__ import annotations

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads sequences to the same length (Keras semantics).

    Each sequence longer than ``maxlen`` is truncated, keeping its end (``truncating='pre'``) or
    its start (``'post'``); each shorter one is filled with ``value`` before it
    (``padding='pre'``, the default, so the real data sits next to the last time step an RNN sees)
    or after it (``'post'``).

    Args:
        sequences: A list of sequences (lists or arrays). Items may themselves be arrays of a
            fixed shape (e.g. word vectors); the shape is taken from the first non-empty one.
        maxlen: Length of the output. Default: the length of the longest sequence.
        dtype: Output dtype, ``'int32'`` by default; use ``object`` for strings.
        padding: ``'pre'`` or ``'post'``: where to pad.
        truncating: ``'pre'`` or ``'post'``: where to cut sequences longer than ``maxlen``.
        value: The padding value.

    Returns:
        A NumPy array of shape ``(len(sequences), maxlen) + item_shape``.

    Raises:
        ValueError: A non-iterable sequence, an unknown ``padding``/``truncating`` mode, a string
            ``value`` with a non-string ``dtype``, or items whose shapes differ.

    Example:
        >>> pad_sequences([[1], [2, 3, 4]], maxlen=2, value=-1).tolist()
        [[-1, 1], [3, 4]]
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if maxlen is not None and maxlen < 0:
        raise ValueError(f"`maxlen` must be None or a non-negative integer, got {maxlen}")

    lengths, sample_shape, found_first = [], (), False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as exc:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x!s}") from exc
        if not found_first and len(x):
            sample_shape, found_first = np.asarray(x).shape[1:], True
    if maxlen is None:
        maxlen = max(lengths, default=0)

    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")

    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            out[idx, :len(trunc)] = trunc
        else:
            out[idx, -len(trunc):] = trunc
    return out
