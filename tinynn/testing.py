r"""Gradient checking: compare a backward pass with centred finite differences, in float64.

For a layer :math:`y = f(x; W)` and a random upstream gradient :math:`g`, the scalar
:math:`s = \sum g \odot f(x)` has :math:`\partial s/\partial x = ` ``layer.backward(g)``. Each entry is
estimated numerically by the centred difference

.. math:: \frac{\partial s}{\partial x_i} \approx \frac{s(x + h e_i) - s(x - h e_i)}{2h},

whose error is :math:`O(h^2)`. In float64 with :math:`h = 10^{-6}` a correct backward gives a relative
error around :math:`10^{-10}`; anything above :math:`10^{-6}` is a bug (a transposed matrix, a missing
:math:`1/N`, a wrong axis).
"""
from __future__ import annotations

import itertools

from tinynn import backend
from tinynn.backend import xp

__all__ = ["rel_error", "numerical_gradient", "gradcheck", "GradcheckResult"]

EXPECTED = 1e-6


def rel_error(a, b):
    r""":math:`\|a - b\|_2 / \max(10^{-12}, \|a\|_2 + \|b\|_2)` — 0 for equal arrays, 1 for opposite ones."""
    a = backend.to_cpu(a).astype("float64")
    b = backend.to_cpu(b).astype("float64")
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}.")
    num = float(((a - b) ** 2).sum()) ** 0.5
    den = float((a**2).sum()) ** 0.5 + float((b**2).sum()) ** 0.5
    return num / max(1e-12, den)


def numerical_gradient(f, x, h=1e-6):
    """Centred-difference gradient of the scalar function ``f()`` with respect to the array ``x``
    (changed in place and restored)."""
    grad = xp.zeros(x.shape, dtype="float64")
    for i in itertools.product(*(range(d) for d in x.shape)):  # indexes x itself, contiguous or not
        old = x[i].item()
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


class GradcheckResult:
    """The relative error of every gradient a gradcheck compared (``dx`` and each weight)."""

    def __init__(self, errors, analytic, numeric, tol, hints=None):
        self.errors, self.analytic, self.numeric, self.tol = errors, analytic, numeric, tol
        self.hints = dict(hints or {})  # gradient name -> what the error looks like

    @property
    def ok(self):
        return all(e < self.tol for e in self.errors.values())

    @property
    def worst(self):
        return max(self.errors, key=self.errors.get) if self.errors else None

    def __getitem__(self, key):
        return self.errors[key]

    def __bool__(self):
        return self.ok

    def __repr__(self):
        lines = [f"gradcheck (float64, centred differences; a correct backward gives ~1e-10, "
                 f"a bug gives > {self.tol:g}):"]
        for name, err in self.errors.items():
            verdict = "ok" if err < self.tol else "WRONG"
            lines.append(f"  {name:<28} rel. error {err:.2e}  {verdict}")
            if name in self.hints:
                lines.append(f"    ({self.hints[name]})")
        return "\n".join(lines)


def _as_float64(x):
    x = backend.asarray(x)
    return x.astype("float64") if x.dtype.kind == "f" else x


def _unique_weights(weights):
    """The weights, each once (compared by identity: two weights may share a name)."""
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def _weight_labels(weights):
    """A distinct label for each weight: its name, or ``name [weight k]`` when names repeat
    (two ``add_weight`` calls without ``name=`` are both called ``.../variable``)."""
    names = [w.name for w in weights]
    return [n if names.count(n) == 1 and n not in ("dx", "dx0", "dx1") else f"{n} [weight {k}]"
            for k, n in enumerate(names)]


def _layer_to_float64(layer, x):
    if not layer.built:
        old = backend.floatx()
        backend.set_floatx("float64")
        try:
            layer(x)
        finally:
            backend.set_floatx(old)
    for w in layer.weights:
        if w.value.dtype != xp.float64:
            w.value = w.value.astype("float64")
            w.grad = xp.zeros_like(w.value)


def gradcheck(layer_or_fn, *inputs, dy=None, h=1e-6, tol=EXPECTED, training=False, seed=0, backward=None,
              raise_on_failure=False, **call_kwargs):
    """Check the gradients of a layer (``dx`` and every weight) or of a function against finite differences.

    Args:
        layer_or_fn: a :class:`~tinynn.layers.Layer`, or a function of arrays returning an array.
        *inputs: the input array(s); float inputs are converted to float64.
        dy: the upstream gradient (default: random normal, which weights every output differently).
        backward: for a function, ``backward(dy, *inputs)`` returning the gradient of each input
            (default: :mod:`tinynn.autograd`).
        training: passed to the layer's call (use a fixed seed for stochastic layers).

    Returns:
        a :class:`GradcheckResult`; ``result.ok`` is True when every relative error is below ``tol``.

    >>> from tinynn.layers import Dense
    >>> from tinynn.backend import xp
    >>> r = gradcheck(Dense(3, activation='tanh'), xp.random.default_rng(0).normal(size=(4, 5)))
    >>> r.ok, len(r.errors)    # dx, kernel and bias
    (True, 3)
    """
    from tinynn.layers.base import Layer  # noqa: PLC0415

    inputs = [_as_float64(x) for x in inputs]
    rng = xp.random.default_rng(seed)
    analytic, numeric, errors, hints = {}, {}, {}, {}
    if isinstance(layer_or_fn, Layer):
        layer = layer_or_fn
        _layer_to_float64(layer, inputs[0])
        if hasattr(layer, "compute_input_gradient"):
            layer.compute_input_gradient = True

        def forward():
            return layer(*inputs, training=training, **call_kwargs)

        y = forward()
        g = rng.standard_normal(size=y.shape) if dy is None else _as_float64(dy)
        g_copy = g.copy()
        weights = _unique_weights(layer.trainable_weights)
        stale = [rng.standard_normal(size=w.grad.shape) for w in weights]
        for w, junk in zip(weights, stale):
            w.grad[...] = junk  # backward must overwrite .grad: adding onto stale values is caught
        dx = layer.backward(g)
        if not bool((g == g_copy).all()):
            raise AssertionError(f"Layer '{layer.name}'.backward modified its argument dy in place.")
        dxs = dx if isinstance(dx, (tuple, list)) else [dx]
        grads = [w.grad.copy() for w in weights]

        def s():
            return float((forward() * g).sum())

        for i, x in enumerate(inputs):
            if x.dtype.kind != "f":
                continue
            name = "dx" if len(inputs) == 1 else f"dx{i}"
            analytic[name] = dxs[i]
            numeric[name] = numerical_gradient(s, x, h)
        for label, w, grad, junk in zip(_weight_labels(weights), weights, grads, stale):
            analytic[label] = grad
            numeric[label] = numerical_gradient(s, w.value, h)
            if rel_error(grad, numeric[label]) >= tol and rel_error(grad - junk, numeric[label]) < tol:
                hints[label] = "backward added to .grad instead of overwriting it (use grad[...] = ... or out=)"
    else:
        fn = layer_or_fn
        y = fn(*inputs)
        g = rng.standard_normal(size=getattr(y, "shape", ())) if dy is None else _as_float64(dy)
        if backward is None:
            from tinynn import autograd  # noqa: PLC0415

            grads = autograd.grad(fn, *inputs, dy=g)
        else:
            grads = backward(g, *inputs)
        grads = grads if isinstance(grads, (tuple, list)) else [grads]
        for i, x in enumerate(inputs):
            if x.dtype.kind != "f":
                continue
            name = "dx" if len(inputs) == 1 else f"dx{i}"
            analytic[name] = grads[i]
            numeric[name] = numerical_gradient(lambda: float((fn(*inputs) * g).sum()), x, h)
    if not analytic:
        what = f"layer '{layer_or_fn.name}' has no trainable weights" if isinstance(layer_or_fn, Layer) else "nothing"
        raise ValueError(f"gradcheck: nothing to compare: no input is a float array and {what}.")
    for name in analytic:
        if analytic[name] is None:
            raise AssertionError(f"gradcheck: the backward returned no gradient for {name}.")
        errors[name] = rel_error(analytic[name], numeric[name])
    result = GradcheckResult(errors, analytic, numeric, tol, hints)
    if raise_on_failure and not result.ok:
        raise AssertionError(repr(result))
    return result
