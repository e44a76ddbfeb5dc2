r"""Random draws with Keras 3's ``keras.random`` names: ``normal``, ``uniform``, ``randint``,
``truncated_normal``, ``categorical``, ``dropout``, ``shuffle`` and the :class:`SeedGenerator`.

``seed`` works as in Keras:

* an **int**: the same draw every time (``normal((2,), seed=1)`` twice gives the same numbers);
* a :class:`SeedGenerator`: a new draw each time, and the same sequence of draws for the same starting seed;
* **None**: tinynn's global generator (``backend.rng()``), reproducible after
  ``tinynn.utils.set_random_seed(s)``.

The values are plain arrays: inside a recorded ``call`` they are constants to autograd. ``dropout`` and
``shuffle`` on an autograd Tensor return Tensors (a multiplication by a constant mask, a reordering), so
the gradient flows through them.

>>> gen = SeedGenerator(42)
>>> bool((uniform((3,), seed=gen) != uniform((3,), seed=gen)).all())
True
>>> bool((normal((2,), seed=7) == normal((2,), seed=7)).all())
True
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp

__all__ = ["SeedGenerator", "normal", "uniform", "randint", "truncated_normal", "categorical", "dropout", "shuffle"]

_MIX = 0x9E3779B97F4A7C15  # an odd 64-bit constant: seed and counter give well-separated generator seeds


class SeedGenerator:
    """A source of seeds: each :meth:`next` returns a new one, so two draws differ, while the same starting
    ``seed`` gives the same sequence (None: a starting seed from tinynn's global generator)."""

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator: unexpected keyword argument(s) {', '.join(map(repr, kwargs))}.")
        if seed is None:
            seed = int(backend.rng().integers(0, 2**31 - 1))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r}.")
        self.seed, self.name, self.counter = seed, name or "seed_generator", 0

    def next(self, ordered=True):
        """A new seed (an int) derived from the starting seed and the number of seeds given so far."""
        self.counter += 1
        return (self.seed * _MIX + self.counter) % 2**63

    def __repr__(self):
        return f"<SeedGenerator seed={self.seed} draws={self.counter}>"


def _rng(seed, fn):
    """The generator for one draw: a fresh one for an int seed or a SeedGenerator's next seed, else the global."""
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        seed = seed.next()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"random.{fn}: seed must be an int, a SeedGenerator or None, got {seed!r}.")
    return xp.random.default_rng(seed)


def _float_dtype(dtype, fn):
    dtype = dtype or backend.floatx()
    if xp.dtype(dtype).kind != "f":
        raise ValueError(f"random.{fn}: dtype must be a float type, got {dtype!r}.")
    return dtype


def _shape(shape):
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    r"""Draws from :math:`\mathcal N(\text{mean}, \text{stddev}^2)`."""
    dtype = _float_dtype(dtype, "normal")
    return (mean + stddev * _rng(seed, "normal").standard_normal(_shape(shape))).astype(dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    r"""Draws from :math:`U[\text{minval}, \text{maxval})`."""
    dtype = _float_dtype(dtype, "uniform")
    return (minval + (maxval - minval) * _rng(seed, "uniform").random(_shape(shape))).astype(dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``minval .. maxval - 1``."""
    if xp.dtype(dtype).kind not in "iu":
        raise ValueError(f"random.randint: dtype must be an integer type, got {dtype!r}.")
    if maxval <= minval:
        raise ValueError(f"random.randint: maxval ({maxval}) must be larger than minval ({minval}).")
    return _rng(seed, "randint").integers(minval, maxval, size=_shape(shape)).astype(dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    r"""Draws from :math:`\mathcal N(\text{mean}, \text{stddev}^2)`, redrawing those more than two standard
    deviations from the mean (as Keras)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    g = _rng(seed, "truncated_normal")
    z = g.standard_normal(_shape(shape))
    while True:
        bad = xp.abs(z) > 2.0
        n = int(bad.sum())
        if n == 0:
            break
        z[bad] = g.standard_normal(n)
    return (mean + stddev * z).astype(dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    r"""For each row of ``logits`` (batch, classes), ``num_samples`` class indices drawn with probabilities
    :math:`\mathrm{softmax}(\text{logits})`: shape (batch, num_samples). Inverse-CDF sampling: the index
    is the number of cumulative probabilities below a uniform draw."""
    z = xp.asarray(getattr(logits, "value", logits), dtype="float64")
    if z.ndim != 2:
        raise ValueError(f"random.categorical: logits must have shape (batch, classes), got {tuple(z.shape)}.")
    p = xp.exp(z - z.max(axis=1, keepdims=True))
    cdf = xp.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = _rng(seed, "categorical").random((z.shape[0], int(num_samples)))
    idx = (u[:, :, None] >= cdf[:, None, :]).sum(axis=-1)
    return xp.minimum(idx, z.shape[1] - 1).astype(dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    r"""Zero each entry with probability ``rate`` and scale the others by :math:`1/(1 - \text{rate})`, so the
    mean is unchanged: :math:`y = x \odot m / (1 - \text{rate})`, :math:`m_i \sim \text{Bernoulli}(1 - \text{rate})`.
    ``noise_shape`` (``None`` entries taken from the input) shares one mask entry along axes of size 1.
    On a Tensor, :math:`y` is a recorded multiplication: :math:`dx = dy \odot m / (1 - \text{rate})`."""
    if not 0 <= rate < 1:
        raise ValueError(f"random.dropout: rate must be in [0, 1), got {rate!r}.")
    if not hasattr(inputs, "shape"):
        inputs = backend.asarray(inputs, dtype=backend.floatx())
    shape = tuple(inputs.shape)
    if noise_shape is None:
        noise_shape = shape
    else:
        noise_shape = tuple(s if n is None else int(n) for n, s in zip(noise_shape, shape))
        if len(noise_shape) != len(shape) or any(n not in (1, s) for n, s in zip(noise_shape, shape)):
            raise ValueError(f"random.dropout: noise_shape {noise_shape} does not broadcast to the inputs' "
                             f"shape {shape}.")
    value = getattr(inputs, "value", inputs)
    keep = 1.0 - rate
    scale = (_rng(seed, "dropout").random(noise_shape) < keep).astype(value.dtype) * value.dtype.type(1.0 / keep)
    return inputs * scale


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries along ``axis`` in a random order (a Tensor stays in the graph)."""
    n = tuple(x.shape)[axis]
    g = _rng(seed, "shuffle")
    order = g.permutation(n) if hasattr(g, "permutation") else xp.argsort(g.random(n))
    index = (slice(None),) * (axis % len(x.shape)) + (order,)
    return x[index]
