r"""Weight initializers, with Keras names and defaults.

An initializer is called as ``init(shape, dtype)`` and returns an array. The variance-scaling family
keeps the variance of activations roughly constant from layer to layer:

* Glorot (Xavier): :math:`\mathrm{Var}(W) = 2 / (\text{fan\_in} + \text{fan\_out})`
* He: :math:`\mathrm{Var}(W) = 2 / \text{fan\_in}` (for ReLU)
* LeCun: :math:`\mathrm{Var}(W) = 1 / \text{fan\_in}` (for SELU)

A uniform distribution on ``[-limit, limit]`` has variance ``limit**2 / 3``, hence
``limit = sqrt(3 * scale / fan)``.

>>> init = get('glorot_uniform')
>>> w = init((784, 128), 'float64')
>>> bool(abs(w).max() <= (6 / (784 + 128)) ** 0.5)
True
"""
from __future__ import annotations

import inspect
import math

from tinynn import backend
from tinynn.backend import xp


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight: ``(in, out)`` for a matrix; times the receptive field for conv."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _dtype(dtype):
    return dtype or backend.floatx()


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return xp.zeros(shape, dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return xp.ones(shape, dtype=_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return xp.full(shape, self.value, dtype=_dtype(dtype))


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval]`` (Keras default ``[-0.05, 0.05]``; the string ``'uniform'``)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return _rng(self.seed).uniform(self.minval, self.maxval, size=shape).astype(_dtype(dtype))


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return (self.mean + self.stddev * _rng(self.seed).standard_normal(size=shape)).astype(_dtype(dtype))


class TruncatedNormal(Initializer):
    """Normal, with values beyond two standard deviations redrawn (as in Keras)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return (self.mean + self.stddev * _truncated_standard_normal(shape, _rng(self.seed))).astype(_dtype(dtype))


class VarianceScaling(Initializer):
    """Draw with variance ``scale / n`` where ``n`` is fan_in, fan_out or their average."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}.")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: unknown distribution {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = _rng(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            w = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            # 0.879... is the stddev of a standard normal truncated to [-2, 2]
            w = math.sqrt(variance) / 0.87962566103423978 * _truncated_standard_normal(shape, rng)
        else:
            w = math.sqrt(variance) * rng.standard_normal(size=shape)
        return w.astype(_dtype(dtype))


class GlorotUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class HeNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class LecunUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


class LecunNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix (Keras' recurrent default)."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got {tuple(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _rng(self.seed).standard_normal(size=(max(rows, cols), min(rows, cols)))
        q, r = xp.linalg.qr(a)
        q = q * xp.sign(xp.diag(r))  # make the decomposition unique
        if rows < cols:
            q = q.T
        return xp.ascontiguousarray((self.gain * q.reshape(shape)).astype(_dtype(dtype)))


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {tuple(shape)}.")
        return (self.gain * xp.eye(*shape)).astype(_dtype(dtype))


def _rng(seed):
    return backend.rng() if seed is None else xp.random.default_rng(seed)


def _truncated_standard_normal(shape, rng):
    w = rng.standard_normal(size=shape)
    bad = abs(w) > 2
    while bad.any():
        w[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = abs(w) > 2
    return w


_ALIASES = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "uniform": RandomUniform, "random_uniform": RandomUniform,
    "normal": RandomNormal, "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity, "variance_scaling": VarianceScaling,
}


def get(identifier):
    """An initializer from a Keras name (``'glorot_uniform'``), an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _ALIASES:
            raise ValueError(
                f"Unknown initializer {identifier!r}. Known names: {', '.join(sorted(_ALIASES))}."
            )
        return _ALIASES[key]()
    if isinstance(identifier, dict) and "class_name" in identifier:  # what a layer's get_config holds
        return _from_config(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer {identifier!r}.")


def _from_config(spec):
    classes = {cls.__name__: cls for cls in _ALIASES.values()}
    cls = classes.get(spec["class_name"]) or _ALIASES.get(str(spec["class_name"]).lower())
    if cls is None:
        raise ValueError(f"Unknown initializer {spec['class_name']!r}. Known classes: {', '.join(sorted(classes))}.")
    config = spec["config"] if "config" in spec else {k: v for k, v in spec.items() if k != "class_name"}
    accepted = inspect.signature(cls.__init__).parameters  # GlorotUniform(seed) stores VarianceScaling's config
    return cls(**{k: v for k, v in (config or {}).items() if k in accepted})
