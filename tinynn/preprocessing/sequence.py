"""Padding variable-length sequences into one array, as ``keras.preprocessing.sequence``.

>>> pad_sequences([[1, 2, 3], [4, 5], [6]]).tolist()
[[1, 2, 3], [0, 4, 5], [0, 0, 6]]
>>> pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post").tolist()
[[1, 2], [4, 5]]
"""
from __future__ import annotations

import math
import numbers

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
        ValueError: A non-iterable sequence or a string given as a sequence, an unknown
            ``padding``/``truncating`` mode, a ``maxlen`` that is not a non-negative integer, a string
            ``value`` with a non-string ``dtype``, items whose shapes differ, or (integer ``dtype``)
            values that are not whole numbers or do not fit the ``dtype``.

    Example:
        >>> pad_sequences([[1], [2, 3, 4]], maxlen=2, value=-1).tolist()
        [[-1, 1], [3, 4]]
    """
    if not hasattr(sequences, "__len__") or isinstance(sequences, (str, bytes)):
        raise ValueError(f"`sequences` must be iterable (a list of sequences), got {type(sequences).__name__}.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood (padding must be "pre" or "post")')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood (truncating must be "pre" or "post")')
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral) or maxlen < 0):
        raise ValueError(f"`maxlen` must be None or a non-negative integer, got {maxlen!r} ({type(maxlen).__name__})")
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"`dtype` {dtype!r} is not a NumPy dtype (e.g. 'int32', 'float32' or object)") from None
    check_ints = target.kind in "iu"
    if check_ints:
        _check_int_value(value, target)
    elif value is None and target.kind != "O":
        raise ValueError(f"`value` (the padding) must be a number for dtype {target}, got None")

    lengths, sample_shape, found_first = [], (), False
    for i, x in enumerate(sequences):
        if isinstance(x, (str, bytes)):
            raise ValueError(f"`sequences` must be a list of sequences of token ids, but the item at position {i} is "
                             f"a string ({x[:40]!r}). Turn each text into a list of ids first, e.g. with "
                             "tinynn.preprocessing.text.text_to_word_sequence and a word index.")
        try:
            lengths.append(len(x))
        except TypeError as exc:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x!s} "
                             f"(at position {i})") from exc
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
        part = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = _as_int(part, target, idx) if check_ints else _as_dtype(part, target, idx)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            out[idx, :len(trunc)] = trunc
        else:
            out[idx, -len(trunc):] = trunc
    return out


_NONE = object()


def _as_dtype(part, target, idx):
    try:
        return np.asarray(part, dtype=target)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"pad_sequences: the sequence at position {idx} cannot be stored as dtype {target} "
                         f"({exc}).") from None


def _py(v):
    """A NumPy scalar as the Python value it holds (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _flatten(items):
    for v in items:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            yield v


def _check_int_value(value, target):
    if value is None:
        raise ValueError(f"`value` (the padding) must be a number for the integer dtype {target}, got None")
    if isinstance(value, (str, bytes)):
        return  # refused below with Keras' message
    if not isinstance(value, numbers.Real) or not math.isfinite(value) or value != int(value):
        raise ValueError(f"`value` (the padding) must be a whole number for the integer dtype {target}, got {value!r}")
    info = np.iinfo(target)
    if not info.min <= value <= info.max:
        raise ValueError(f"`value` (the padding) {value!r} does not fit dtype {target} (range {info.min}..{info.max})")


def _as_int(part, target, idx):
    """The values of one sequence as the integer ``target`` dtype, refusing what a cast would silently
    change (a fraction, a value out of range) or cannot do (a string, None), naming the sequence."""
    if isinstance(part, np.ndarray):
        arr = part
    else:
        try:
            if isinstance(sum(part), int):  # only ints (a float or a string would show in the sum)
                return np.asarray(part, dtype=target)  # NumPy itself refuses ints out of range: see below
        except (TypeError, OverflowError, ValueError):
            pass
        try:
            arr = np.asarray(part)
        except ValueError as exc:  # ragged items: the caller names the shape problem
            raise ValueError(f"pad_sequences: the sequence at position {idx} cannot be made an array ({exc})") from None
    if arr.dtype == target or arr.dtype.kind == "b":
        return arr
    kind = arr.dtype.kind
    if kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(f"pad_sequences: dtype {target} needs whole numbers, but the sequence at position {idx} "
                             f"holds {_py(arr[bad].flat[0])!r}. Pass dtype='float32' to keep fractional values.")
    elif kind not in "iu":
        items = arr.flat if isinstance(part, np.ndarray) else _flatten(part)
        example = next((v for v in items if not isinstance(v, numbers.Integral)), _NONE)
        if example is not _NONE:
            raise ValueError(f"pad_sequences: dtype {target} needs integer values, but the sequence at position {idx} "
                             f"holds {_py(example)!r} ({type(_py(example)).__name__}). Map tokens to integer ids first, or "
                             "pass dtype=object to pad strings.")
    if arr.size and not np.can_cast(arr.dtype, target):
        info = np.iinfo(target)
        out_of_range = [_py(v) for v in (arr.min(), arr.max()) if v < info.min or v > info.max]
        if out_of_range:
            raise ValueError(f"pad_sequences: the sequence at position {idx} holds {out_of_range[0]!r}, which does "
                             f"not fit dtype {target} (range {info.min}..{info.max}). Pass dtype='int64'.")
    return arr.astype(target)
