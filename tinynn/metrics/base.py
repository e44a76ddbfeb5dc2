"""The :class:`Metric` base class (Keras' ``keras.metrics.Metric``) and the array helpers metrics share.

A metric written like Keras 3's guide keeps its state in variables made with ``add_variable``::

    class BinaryTruePositives(Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            values = ops.logical_and(ops.cast(y_true, "bool"), ops.cast(y_pred, "bool"))
            self.true_positives.assign(self.true_positives + ops.sum(ops.cast(values, self.dtype)))

        def result(self):
            return self.true_positives

``reset_state()`` then puts every variable back to its initializer, and ``result()`` hands ``fit``'s logs a
Python float.
"""
from __future__ import annotations

import functools

from tinynn import backend, initializers
from tinynn.backend import xp
from tinynn.variables import Variable

__all__ = ["Metric"]


def _arr(a):
    if isinstance(a, xp.ndarray):
        return a
    a = getattr(a, "value", a)
    return backend.asarray(a, dtype=None if hasattr(a, "dtype") else backend.floatx())


def _same_shape(y_true, y_pred):
    """Reshape ``y_true`` (N,) ↔ (N, 1) to ``y_pred``'s shape when only a trailing 1 differs."""
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size and (
            y_true.shape == y_pred.shape[:-1] or y_true.shape[:-1] == y_pred.shape):
        y_true = y_true.reshape(y_pred.shape)
    return y_true


def _labels(y_true, y_pred):
    """Integer labels with the shape ``y_pred.shape[:-1]`` (from (N,) or (N, 1))."""
    y = _arr(y_true)
    lead = y_pred.shape[:-1]
    if y.shape != lead:
        if y.shape == (*lead, 1):
            y = y.reshape(lead)
        else:
            raise ValueError(
                f"Sparse metric: y_true has shape {tuple(y.shape)}, expected integer labels of shape {tuple(lead)} "
                f"for y_pred of shape {tuple(y_pred.shape)}. For one-hot targets use 'categorical_accuracy'."
            )
    return y if y.dtype.kind in "iu" else y.astype("int64")


def _as_float(value):
    """A Python float for a one-element array, Variable or number (a dict: each of its values); else unchanged."""
    if isinstance(value, dict):
        return {k: _as_float(v) for k, v in value.items()}
    v = getattr(value, "value", value)
    if isinstance(v, (int, float)):
        return float(v)
    if getattr(v, "size", None) == 1 and hasattr(v, "reshape"):
        return float(v.reshape(()))
    return value


class Metric:
    """Base class (Keras' ``keras.metrics.Metric``): ``update_state``, ``result``, ``reset_state``, ``name``.

    State lives in variables made by :meth:`add_variable` (or Python attributes set in ``reset_state``);
    the default :meth:`reset_state` puts every added variable back to its initializer. A ``result()`` that
    returns a one-element array or Variable is handed out as a Python float (what ``fit`` puts in its logs).
    """

    _default_name = "metric"
    _reset_on_init = False  # True for the built-in metrics that keep their state in attributes set by reset_state

    def __init__(self, name=None, dtype=None):
        self.name = name or self._default_name
        self.dtype = dtype or backend.floatx()
        self._variables: list = []
        self._initializers: list = []
        if self._reset_on_init:
            self.reset_state()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "result" in vars(cls) and not getattr(cls.result, "_returns_float", False):
            result = cls.result

            @functools.wraps(result)
            def result_as_float(self):
                return _as_float(result(self))

            result_as_float._returns_float = True
            cls.result = result_as_float

    # --- state variables -------------------------------------------------------------------
    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A non-trainable :class:`~tinynn.variables.Variable` of ``shape`` holding part of the state
        (``self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")``); update it with
        ``assign``, ``assign_add`` or ``assign_sub``."""
        if not hasattr(self, "_variables"):
            raise RuntimeError(f"{type(self).__name__}: call super().__init__(name=name, **kwargs) in __init__ "
                               f"before add_variable.")
        if aggregation not in ("sum", "mean", "only_first_replica", "none", None):
            raise ValueError(f"Metric '{self.name}': unknown aggregation {aggregation!r}.")
        shape = tuple(int(d) for d in (shape or ()))
        dtype = dtype or self.dtype
        init = initializers.get(initializer if initializer is not None else "zeros")
        var = Variable(init(shape, dtype), name=f"{self.name}/{name or 'variable'}", trainable=False, dtype=dtype)
        self._variables.append(var)
        self._initializers.append(init)
        return var

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras' older name of :meth:`add_variable` (``initializer`` defaults to zeros)."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        """The variables added with ``add_variable``, then those of metrics held as attributes."""
        own = list(getattr(self, "_variables", []))
        return own + [v for m in vars(self).values() if isinstance(m, Metric) for v in m.variables]

    # --- the metric protocol -----------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define update_state.")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result.")

    def reset_state(self):
        """Forget every batch seen so far: each added variable gets its initial value again (and each metric
        held as an attribute is reset)."""
        for var, init in zip(getattr(self, "_variables", []), getattr(self, "_initializers", [])):
            var.assign(init(var.shape, var.dtype))
        for m in vars(self).values():
            if isinstance(m, Metric):
                m.reset_state()

    def reset_states(self):
        """Keras 2's name of :meth:`reset_state`."""
        self.reset_state()

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result (as Keras' ``metric(y_true, y_pred)``)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            r = self.result()
            r = round(r, 4) if isinstance(r, float) else r
        except Exception:  # noqa: BLE001 - a repr must not fail
            r = "?"
        return f"<{type(self).__name__} name={self.name!r} result={r}>"
