"""Small helpers with Keras' names: ``to_categorical``, ``set_random_seed``, ``pad_sequences``."""
from __future__ import annotations

import numbers
import random

from tinynn import backend
from tinynn.backend import xp
from tinynn.pydataset import PyDataset

__all__ = ["to_categorical", "set_random_seed", "pad_sequences", "normalize", "PyDataset"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels (Keras semantics).

    ``y`` of shape (N,) (or (N, 1), which is squeezed) becomes (N, num_classes); other shapes get a new
    last axis. ``num_classes`` defaults to ``max(y) + 1``.

    >>> to_categorical([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    y = _labels_as_int(y)
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral)
                                    or num_classes < 1):
        raise ValueError(f"to_categorical: num_classes must be a positive integer or None, got {num_classes!r}.")
    shape = tuple(y.shape)
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1)
    if y.size and int(y.min()) < 0:
        raise ValueError(f"to_categorical: labels must be >= 0 (class indices), got {int(y.min())} at position "
                         f"{int(xp.argmin(y))}.")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and int(y.max()) >= num_classes:
        raise ValueError(
            f"to_categorical: label {int(y.max())} does not fit num_classes={num_classes} (labels must be < num_classes)."
        )
    out = xp.zeros((y.size, num_classes), dtype=dtype)
    out[xp.arange(y.size), y] = 1
    return backend.to_cpu(out.reshape(*shape, num_classes)) if backend.backend() == "numpy" else out.reshape(*shape, num_classes)


def _labels_as_int(y):
    """The labels as an int64 array; None, strings, objects and non-whole or non-finite floats are errors."""
    if y is None:
        raise TypeError("to_categorical: y is None; expected integer class labels such as [0, 2, 1].")
    if isinstance(y, (str, bytes)):
        raise TypeError(f"to_categorical: y must be integer class labels, got the string {y[:40]!r}.")
    try:
        y = backend.asarray(y)
    except (ValueError, TypeError):
        raise TypeError(f"to_categorical: y must be integer class labels forming one array, got a {type(y).__name__} "
                        "whose rows differ in length or type.") from None
    kind = y.dtype.kind
    if kind not in "biuf":
        flat = backend.to_cpu(y).reshape(-1)
        bad = next((i for i, v in enumerate(flat.tolist()) if isinstance(v, bool) or not isinstance(v, numbers.Integral)),
                   None)
        if bad is not None or kind in "US":
            at = 0 if bad is None else bad
            example = flat[at].item() if hasattr(flat[at], "item") else flat[at]
            hint = (" Map the names to integers first, e.g. classes, y = np.unique(y, return_inverse=True)."
                    if isinstance(example, (str, bytes)) else "")
            raise TypeError(f"to_categorical: y must be integer class labels, got {example!r} "
                            f"({type(example).__name__}) at position {at} (dtype {y.dtype}).{hint}")
    elif kind == "f":
        flat = y.reshape(-1)
        whole = xp.isfinite(flat) & (flat == xp.round(flat))
        if not bool(whole.all()):
            at = int(xp.argmin(whole))
            raise ValueError(f"to_categorical: labels must be whole numbers (class indices), got {float(flat[at])} "
                             f"at position {at}.")
    return y.astype("int64")


def set_random_seed(seed):
    """Seed Python's ``random`` and tinynn's generators (NumPy/CuPy), like ``keras.utils.set_random_seed``."""
    if not isinstance(seed, int):
        raise ValueError(f"set_random_seed: seed must be an integer, got {seed!r}.")
    random.seed(seed)
    backend.set_seed(seed)


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero)."""
    x = backend.asarray(x)
    norm = xp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / xp.where(norm == 0, 1, norm)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """See :func:`tinynn.preprocessing.sequence.pad_sequences` (also exported here, as in Keras 3)."""
    from tinynn.preprocessing.sequence import pad_sequences as _pad  # noqa: PLC0415

    return _pad(sequences, maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value)


def __getattr__(name):
    """``plot_model`` is imported on first use, so ``import tinynn`` does not import matplotlib."""
    if name == "plot_model":
        from tinynn.widgets.model_graph import plot_model  # noqa: PLC0415

        return plot_model
    raise AttributeError(f"module 'tinynn.utils' has no attribute {name!r}")
