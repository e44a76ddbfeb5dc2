"""The array backend: the one module of tinynn that imports numpy or cupy for array math.

Every other module writes ``from tinynn.backend import xp`` and calls ``xp.dot``, ``xp.exp``, ...
``xp`` is a small proxy that forwards to the module of the *current* backend, so
``set_backend('cupy')`` switches every layer at once, even in modules imported earlier.

>>> from tinynn import backend
>>> backend.set_backend('numpy')
>>> backend.xp.zeros(3).tolist()
[0.0, 0.0, 0.0]
>>> backend.floatx()
'float32'
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "xp", "set_backend", "backend", "get_array_module", "to_cpu", "to_gpu",
    "floatx", "set_floatx", "epsilon", "set_epsilon", "rng", "set_seed", "cast", "asarray", "erf",
]

_BACKENDS = ("numpy", "cupy")
_state = {"name": "numpy", "module": np, "floatx": "float32", "epsilon": 1e-7, "seed": None}
_rngs: dict = {}


class _ArrayModule:
    """Forwards attribute access to numpy or cupy, whichever backend is current."""

    __slots__ = ()

    def __getattr__(self, name):
        return getattr(_state["module"], name)

    def __repr__(self):
        return f"<tinynn xp -> {_state['name']}>"


xp = _ArrayModule()


def _import_cupy():
    try:
        import cupy  # noqa: PLC0415 - optional dependency
    except ImportError as err:
        raise RuntimeError(
            "set_backend('cupy') needs CuPy, which is not installed. Install the GPU extra "
            "(pip install 'tinynn[gpu]', i.e. cupy-cuda12x) on a machine with an NVIDIA GPU."
        ) from err
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # cupy raises CUDARuntimeError when the driver is missing
        raise RuntimeError(
            f"set_backend('cupy'): CuPy is installed but no CUDA device is usable ({err}). "
            "Use set_backend('numpy') on this machine."
        ) from err
    if n < 1:
        raise RuntimeError("set_backend('cupy'): CuPy found no CUDA device. Use set_backend('numpy').")
    return cupy


def set_backend(name: str) -> None:
    """Choose the array library: ``'numpy'`` (CPU, the default) or ``'cupy'`` (NVIDIA GPU)."""
    if name not in _BACKENDS:
        raise ValueError(f"Unknown backend {name!r}; expected one of {_BACKENDS}.")
    module = np if name == "numpy" else _import_cupy()
    _state["name"], _state["module"] = name, module


def backend() -> str:
    """The name of the current backend, ``'numpy'`` or ``'cupy'`` (like ``keras.backend.backend()``)."""
    return _state["name"]


def get_array_module(*arrays):
    """numpy or cupy, whichever owns ``arrays`` (numpy for plain Python values)."""
    for a in arrays:
        a = getattr(a, "value", a)  # a Variable holds its array in .value
        if type(a).__module__.split(".")[0] == "cupy":
            return _state["module"] if _state["name"] == "cupy" else _import_cupy()
    return np


def to_cpu(a):
    """A numpy array with the values of ``a`` (a cupy array is copied from the GPU)."""
    a = getattr(a, "value", a)
    if hasattr(a, "get") and type(a).__module__.split(".")[0] == "cupy":
        return a.get()
    return np.asarray(a)


def concatenate_cpu(arrays, axis=0):
    """The numpy arrays ``arrays`` (already on the CPU) joined along ``axis`` (predict's batches)."""
    return np.concatenate(arrays, axis=axis)


def to_gpu(a):
    """A cupy array with the values of ``a`` (needs CuPy and a GPU)."""
    cupy = _import_cupy()
    return cupy.asarray(getattr(a, "value", a))


def asarray(a, dtype=None):
    """``a`` as an array of the current backend (moving it to the GPU if needed)."""
    a = getattr(a, "value", a)
    if _state["name"] == "cupy":
        return _state["module"].asarray(a, dtype=dtype)
    return np.asarray(to_cpu(a) if get_array_module(a) is not np else a, dtype=dtype)


def floatx() -> str:
    """The default float dtype as a string, ``'float32'`` unless changed (as in Keras)."""
    return _state["floatx"]


def set_floatx(value: str) -> None:
    """Set the default float dtype: ``'float16'``, ``'float32'`` or ``'float64'``."""
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"Unknown floatx {value!r}; expected 'float16', 'float32' or 'float64'.")
    _state["floatx"] = value


def epsilon() -> float:
    """The fuzz factor used to keep logs and divisions finite (1e-7, as in Keras)."""
    return _state["epsilon"]


def set_epsilon(value: float) -> None:
    _state["epsilon"] = float(value)


def cast(a, dtype=None):
    """``a`` as an array of ``dtype`` (default ``floatx()``) on the current backend."""
    return asarray(a, dtype=dtype or floatx())


def set_seed(seed) -> None:
    """Seed one random generator per backend (``tinynn.utils.set_random_seed`` calls this)."""
    _state["seed"] = seed
    _rngs.clear()


def rng():
    """The seeded random generator of the current backend (``xp.random.default_rng``)."""
    name = _state["name"]
    if name not in _rngs:
        _rngs[name] = _state["module"].random.default_rng(_state["seed"])
    return _rngs[name]


def is_float_array(a) -> bool:
    return np.issubdtype(np.dtype(a.dtype), np.floating)


def dtype_name(a) -> str:
    return np.dtype(a.dtype).name


def erf(a):
    """The error function, elementwise (numpy has none: Python's ``math.erf`` per element; cupyx on GPU)."""
    if _state["name"] == "cupy":
        from cupyx.scipy.special import erf as _erf  # noqa: PLC0415

        return _erf(a)
    a = np.asarray(a)
    out = np.asarray(np.frompyfunc(math.erf, 1, 1)(a), dtype=a.dtype if a.dtype.kind == "f" else floatx())
    return out


def to_backend(a):
    """A numpy array moved to the GPU when the backend is cupy; anything else (a cupy array, an autograd
    Tensor) unchanged. Layers call it on their inputs so a learner can pass numpy data on either backend."""
    if _state["name"] == "cupy" and isinstance(a, np.ndarray):
        return _state["module"].asarray(a)
    return a


def as_strided(a, shape, strides):
    """A read-only view of ``a`` with other shape and strides (no copy): how im2col sees every window."""
    if _state["name"] == "cupy" and not isinstance(a, np.ndarray):
        return _state["module"].lib.stride_tricks.as_strided(a, shape=shape, strides=strides)
    return np.lib.stride_tricks.as_strided(a, shape=shape, strides=strides, writeable=False)


def permutation(n):
    """A random ordering of ``0 .. n-1`` from the seeded generator (CuPy's Generator has no ``permutation``)."""
    g = rng()
    if hasattr(g, "permutation"):
        return g.permutation(n)
    return _state["module"].argsort(g.random(n))


def _address(a):
    return a.data.ptr if _state["name"] == "cupy" and not isinstance(a, np.ndarray) else a.__array_interface__["data"][0]


def pack(arrays):
    """Copy ``arrays`` (one dtype) into one new flat array; return it and views of it shaped like each.

    A model keeps its trainable weights (and their gradients) packed like this, so that an optimizer whose
    update is elementwise can update all of them with one pass over one array (see ``Optimizer.step``).
    """
    arrays = list(arrays)
    flat = _state["module"].empty(sum(int(a.size) for a in arrays), dtype=arrays[0].dtype)
    views, offset = [], 0
    for a in arrays:
        view = flat[offset:offset + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        offset += a.size
    return flat, views


def packed_base(arrays):
    """The flat array that ``arrays`` are consecutive views of, in order and covering all of it; else None."""
    arrays = list(arrays)
    if not arrays:
        return None
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address, end = _address(base), 0
    for a in arrays:
        if a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous:
            return None
        if _address(a) != address + end * base.itemsize:
            return None
        end += a.size
    return base if end == base.size else None
