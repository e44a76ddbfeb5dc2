r"""The guard behind "a failed training keeps its last finite weights".

Before the optimizer touches the weights, one reduction per gradient array (on ``Sequential``'s packed
weights: one for all of them) tells whether every gradient is finite: :math:`g \cdot g` is finite exactly when
no entry is NaN or infinite, unless the entries are so large (:math:`|g| > 10^{19}` in float32) that the square
overflows. Then

* all finite: the step is applied as usual (the cost is that one dot product);
* some NaN or infinite: the step is **not** applied, so the weights and the optimizer state stay the pre-step
  ones, and the model is told why;
* finite but huge: the step is applied on trial, and undone (weights, optimizer slots, step count) if any
  weight or slot became non-finite.

No snapshot of non-finite weights is ever kept: the pre-step state is the state.
"""
from __future__ import annotations

import math

from tinynn.backend import xp


def _finite(a):
    """True (all finite), False (some NaN/inf) or None (finite, but large enough that a step may overflow)."""
    flat = a.reshape(-1)
    if math.isfinite(float(xp.dot(flat, flat))):
        return True
    return None if bool(xp.isfinite(flat).all()) else False


def guarded_step(optimizer, trainable):
    """Apply ``optimizer.step(trainable)`` unless it would make the weights non-finite.

    Returns None when the step was applied, else the reason it was not: ``'gradient'`` (a gradient was NaN
    or infinite) or ``'overflow'`` (the update itself overflowed and was undone).
    """
    packed = optimizer._packed_variable(trainable)
    grads = [packed.grad] if packed is not None else [w.grad for w in trainable]
    verdicts = [_finite(g) for g in grads if g is not None and g.size]
    if all(v is True for v in verdicts):
        optimizer.step(trainable)
        return None
    if any(v is False for v in verdicts):
        return "gradient"
    weights = [w.value.copy() for w in trainable]
    slots = [s.value.copy() for s in optimizer.variables]
    iterations = optimizer.iterations
    optimizer.step(trainable)
    if all(bool(xp.isfinite(w.value).all()) for w in trainable) and \
            all(bool(xp.isfinite(s.value).all()) for s in optimizer.variables):
        return None
    for w, saved in zip(trainable, weights):
        w.value[...] = saved
    for k, s in enumerate(optimizer.variables):
        s.value[...] = slots[k] if k < len(slots) else 0
    optimizer.iterations = iterations
    return "overflow"
