r"""Weight constraints, as ``keras.constraints``: after every optimizer update, :math:`w \leftarrow c(w)`.

A constraint is given to a layer (``Dense(64, kernel_constraint=MaxNorm(3))``) or to ``add_weight``
(``constraint=``); the optimizer applies it to the weight right after each update step, as Keras does
(``variable.assign(variable.constraint(variable))``). With :math:`n = \|w\|_2` taken along ``axis``
(``axis=0``: over the inputs of each unit of a Dense kernel of shape (D_in, units)):

* ``MaxNorm(m)``: :math:`w \leftarrow w\,\min(n, m)/(\epsilon + n)` — norms above :math:`m` are cut to :math:`m`;
* ``NonNeg()``: :math:`w \leftarrow \max(w, 0)`;
* ``UnitNorm()``: :math:`w \leftarrow w/(\epsilon + n)`;
* ``MinMaxNorm(a, b, r)``: :math:`w \leftarrow w\,\big(r\,\mathrm{clip}(n, a, b) + (1 - r)\,n\big)/(\epsilon + n)`.

:math:`\epsilon` is ``backend.epsilon()`` (1e-7), as in Keras.

>>> from tinynn.backend import xp
>>> w = xp.array([[3.0, 0.1], [4.0, -0.1]])           # column norms 5 and 0.14
>>> MaxNorm(max_value=2)(w).round(4).tolist()
[[1.2, 0.1], [1.6, -0.1]]
>>> NonNeg()(w).tolist()
[[3.0, 0.1], [4.0, 0.0]]
"""
from __future__ import annotations

import numbers

from tinynn import backend
from tinynn.backend import xp

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "get", "serialize", "deserialize",
           "apply_constraints"]


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained weight (same shape); the identity here."""

    def __call__(self, w):
        return getattr(w, "value", w)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def _check_number(owner, arg, value, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{owner}: {arg} must be a number, got {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{owner}: {arg} must be {bounds}, got {value!r}.")
    return float(value)


def _check_axis(owner, axis):
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
        raise ValueError(f"{owner}: axis must be an integer or a tuple of integers, got {axis!r}.")
    return tuple(int(a) for a in axes) if isinstance(axis, (tuple, list)) else int(axis)


def _norms(constraint, w, axis):
    r""":math:`n = \sqrt{\sum w^2}` along ``axis``, kept as size-1 axes so that it broadcasts against ``w``."""
    value = getattr(w, "value", w)
    axes = axis if isinstance(axis, tuple) else (axis,)
    if any(not -value.ndim <= a < value.ndim for a in axes):
        name = getattr(w, "name", None)
        raise ValueError(f"{constraint!r}: axis={axis!r} does not exist in the weight"
                         f"{f' {name!r}' if name else ''} of shape {tuple(value.shape)} ({value.ndim} axes).")
    return value, xp.sqrt((value * value).sum(axis=axis, keepdims=True))


class MaxNorm(Constraint):
    r"""Cut the norm of each slice along ``axis`` to at most ``max_value``:
    :math:`w \leftarrow w\,\min(n, m)/(\epsilon + n)`.

    For a Dense kernel (D_in, units) ``axis=0`` constrains each unit's incoming weight vector
    (the max-norm of the dropout paper, with ``max_value`` 3 or 4).
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_number("MaxNorm", "max_value", max_value, low=0)
        self.axis = _check_axis("MaxNorm", axis)

    def __call__(self, w):
        value, n = _norms(self, w, self.axis)
        desired = xp.clip(n, 0.0, self.max_value)
        return value * (desired / (backend.epsilon() + n))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    r"""Set negative weights to zero: :math:`w \leftarrow \max(w, 0)` (Keras: :math:`w\,[w \ge 0]`)."""

    def __call__(self, w):
        return xp.maximum(getattr(w, "value", w), 0.0)


class UnitNorm(Constraint):
    r"""Scale each slice along ``axis`` to norm 1: :math:`w \leftarrow w/(\epsilon + n)`."""

    def __init__(self, axis=0):
        self.axis = _check_axis("UnitNorm", axis)

    def __call__(self, w):
        value, n = _norms(self, w, self.axis)
        return value / (backend.epsilon() + n)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    r"""Keep each slice's norm in [``min_value``, ``max_value``], moving it by the fraction ``rate``:
    :math:`w \leftarrow w\,\big(r\,\mathrm{clip}(n, a, b) + (1 - r)\,n\big)/(\epsilon + n)`
    (``rate=1``: strictly; smaller rates move the norm gradually).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_number("MinMaxNorm", "min_value", min_value, low=0)
        self.max_value = _check_number("MinMaxNorm", "max_value", max_value, low=0)
        if self.min_value > self.max_value:
            raise ValueError(f"MinMaxNorm: min_value must be <= max_value, got min_value={min_value!r}, "
                             f"max_value={max_value!r}.")
        self.rate = _check_number("MinMaxNorm", "rate", rate, low=0, high=1)
        self.axis = _check_axis("MinMaxNorm", axis)

    def __call__(self, w):
        value, n = _norms(self, w, self.axis)
        desired = self.rate * xp.clip(n, self.min_value, self.max_value) + (1.0 - self.rate) * n
        return value * (desired / (backend.epsilon() + n))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras 3's names (class and snake_case) and Keras 2's lower-case aliases
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_CLASSES = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
            "MinMaxNorm": MinMaxNorm}
_NAMES = {**{k.lower(): v for k, v in _CLASSES.items()}, "max_norm": MaxNorm, "non_neg": NonNeg,
          "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}


def serialize(constraint):
    """``{'class_name': ..., 'config': ...}`` (None stays None)."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise ValueError(f"serialize: {constraint!r} is not a tinynn Constraint; a plain function cannot be saved.")
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def serialize_or_none(constraint):
    """For a layer's ``get_config``: :func:`serialize`, or None for no constraint or a plain function."""
    return serialize(constraint) if isinstance(constraint, Constraint) else None


def deserialize(config):
    """The constraint a :func:`serialize` dict describes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected {{'class_name': ..., 'config': {{...}}}}, got {config!r}.")
    cls = _CLASSES.get(config["class_name"]) or _NAMES.get(str(config["class_name"]).lower())
    if cls is None:
        raise ValueError(f"Unknown constraint {config['class_name']!r}. Known constraints: {', '.join(_CLASSES)}.")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A constraint from ``None``, a name (``'max_norm'``, ``'NonNeg'``, ...; default settings), a
    :func:`serialize` dict, a class, an instance or any function ``w -> w``."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown constraint {identifier!r}. Known constraints: "
                             f"{', '.join(sorted(set(_NAMES) - {'constraint'}))}.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise ValueError(f"Could not interpret constraint {identifier!r}: expected a name like 'max_norm', "
                     "a Constraint or a function w -> w.")


def apply_constraints(variables):
    r"""What the optimizers do right after each update, as Keras: :math:`w \leftarrow c(w)` for every weight
    with a ``constraint`` (a name or config given to ``add_weight`` is resolved with :func:`get` on first use)."""
    for v in variables:
        c = getattr(v, "constraint", None)
        if c is not None:
            if not callable(c):
                c = v.constraint = get(c)
            v.assign(c(v))
