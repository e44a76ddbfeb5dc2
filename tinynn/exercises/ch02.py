"""Chapter 2 (activations): ReLU's and sigmoid's backward, a numerically stable softmax and log-softmax."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_relu_backward", "check_sigmoid_backward", "check_softmax", "check_log_softmax", "CHECKERS"]


def _sig(x):
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def _xdy_case(rng, i):
    shape = tuple(int(k) for k in rng.integers(1, 6, size=int(rng.integers(1, 3))))
    x = rng.normal(size=shape) * 3
    if i % 4 == 0:
        x.reshape(-1)[::2] = 0.0  # exact zeros: the kink of ReLU
    return {"x": x, "dy": rng.normal(size=shape)}


# --- 1. relu_backward(x, dy) = dy ⊙ [x > 0] ----------------------------------------------------------
check_relu_backward = Checker(
    "relu_backward", lambda x, dy: dy * (x > 0), _xdy_case,
    mistakes=[
        Mistake("no_dy", lambda x, dy: (x > 0).astype(x.dtype),
                "you returned ReLU's derivative f'(x) alone; backward multiplies it with the upstream gradient: "
                "dx = dy ⊙ f'(x)."),
        Mistake("times_x", lambda x, dy: dy * xp.maximum(x, 0),
                "you multiplied dy by ReLU(x) — the *output* — instead of by the derivative [x > 0]."),
        Mistake("ge_zero", lambda x, dy: dy * (x >= 0),
                "at x = 0 the derivative is taken as 0 (as in Keras): use x > 0, not x >= 0."),
        Mistake("inverted", lambda x, dy: dy * (x <= 0),
                "the mask is inverted: the gradient flows where x > 0 and is blocked where x ≤ 0."),
    ],
    doc="relu_backward(x, dy): dx = dy ⊙ [x > 0], same shape as x; dy must not be modified.",
)


# --- 2. sigmoid_backward(x, dy) = dy ⊙ σ(x)(1 − σ(x)) ----------------------------------------------
check_sigmoid_backward = Checker(
    "sigmoid_backward", lambda x, dy: dy * _sig(x) * (1 - _sig(x)), _xdy_case,
    mistakes=[
        Mistake("no_dy", lambda x, dy: _sig(x) * (1 - _sig(x)),
                "you returned σ'(x) alone; multiply with the upstream gradient: dx = dy ⊙ σ(x)(1 − σ(x))."),
        Mistake("x_not_y", lambda x, dy: dy * x * (1 - x),
                "the formula y(1 − y) uses the *output* y = σ(x), not the input x: compute s = σ(x) first."),
        Mistake("no_one_minus", lambda x, dy: dy * _sig(x),
                "σ'(x) = σ(x)(1 − σ(x)): the factor (1 − σ(x)) is missing."),
        Mistake("sigma_of_sigma", lambda x, dy: dy * _sig(_sig(x)) * (1 - _sig(_sig(x))),
                "you applied σ twice: with s = σ(x), the derivative is s(1 − s)."),
    ],
    doc="sigmoid_backward(x, dy): dx = dy ⊙ σ(x)(1 − σ(x)), same shape as x.",
)


# --- 3. softmax(x) over the last axis, stable for large inputs ------------------------------------
def _softmax(x):
    e = xp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_case(rng, i):
    n, c = int(rng.integers(2, 6)), int(rng.integers(3, 7))
    scale = (1.0, 10.0, 1000.0)[i % 3]  # every third case has logits in the hundreds: naive exp overflows
    return {"x": rng.normal(size=(n, c)) * scale}


def _naive(x):
    e = xp.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _axis0(x):
    e = xp.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _whole(x):
    e = xp.exp(x - x.max())
    return e / e.sum()


def _no_keepdims(x):
    e = xp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum()


check_softmax = Checker(
    "softmax", _softmax, _softmax_case,
    mistakes=[
        Mistake("naive", _naive, "exp overflows for large logits (e^1000 = inf, inf/inf = nan): subtract each "
                "row's maximum first, x − max(x, axis=-1, keepdims=True). The result is mathematically the same."),
        Mistake("axis0", _axis0, "wrong axis: each *row* (sample) is a distribution over the classes, so take "
                "max and sum over the last axis (axis=-1), with keepdims=True."),
        Mistake("whole", _whole, "you normalised over the whole array: each row must sum to 1 — sum over "
                "axis=-1 with keepdims=True."),
        Mistake("row_max_whole_sum", _no_keepdims, "each row must sum to 1: the sum must be per row "
                "(axis=-1, keepdims=True), not over the whole batch."),
    ],
    doc="softmax(x): x (N, C) → (N, C), each row e^{x_i − m} / Σ_j e^{x_j − m}, finite for any finite x.",
)


# --- 4. log_softmax(x): log of softmax, finite where softmax underflows to 0 ---------------------------------
def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def _log_of_softmax(x):
    return xp.log(_softmax(x))


def _log_naive(x):
    return x - xp.log(xp.exp(x).sum(axis=-1, keepdims=True))


def _log_no_shift_back(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return x - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


check_log_softmax = Checker(
    "log_softmax", _log_softmax, _softmax_case,
    mistakes=[
        Mistake("log_of_softmax", _log_of_softmax, "log(softmax(x)) is -inf where a probability underflows to 0 "
                "(e^(−1000) = 0 in floating point, and log 0 = −inf). Never form the probability: "
                "log softmax(x)_i = (x_i − m) − log Σ_j e^(x_j − m), with m the row's maximum."),
        Mistake("naive", _log_naive, "exp overflows for large logits (e^1000 = inf): subtract the row maximum m "
                "inside the exp and add it back outside, log Σ e^(x_j) = m + log Σ e^(x_j − m)."),
        Mistake("lost_max", _log_no_shift_back, "you subtracted the maximum inside the exp but did not subtract it "
                "from x_i: log softmax(x)_i = (x_i − m) − log Σ_j e^(x_j − m)."),
    ],
    doc="log_softmax(x): x (N, C) → (N, C), log softmax over the last axis, finite for any finite x.",
)

CHECKERS = collect(globals())
