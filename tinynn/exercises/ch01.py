"""Chapter 1 (neurons): a perceptron's prediction, the perceptron learning rule, a dense layer's forward, and the
margin of a decision boundary."""
from __future__ import annotations

from tinynn import activations
from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_perceptron_predict", "check_perceptron_update", "check_dense_forward", "check_margin", "CHECKERS"]


# --- 1. perceptron_predict(X, w, b) -> (N,) of 0/1: fires where x·w + b > 0 ---------------------------
def _predict(X, w, b):
    return (X @ w + b > 0).astype(X.dtype)


def _predict_case(rng, i):
    n, d = int(rng.integers(1, 12)), int(rng.integers(1, 5))
    return {"X": rng.normal(size=(n, d)), "w": rng.normal(size=(d,)), "b": float(rng.normal())}


check_perceptron_predict = Checker(
    "perceptron_predict", _predict, _predict_case,
    mistakes=[
        Mistake("no_bias", lambda X, w, b: (X @ w > 0).astype(X.dtype),
                "the bias is missing: the neuron fires when x·w + b > 0 (the bias moves the threshold)."),
        Mistake("threshold_sign", lambda X, w, b: (X @ w - b > 0).astype(X.dtype),
                "the bias has the wrong sign: the neuron fires when x·w + b > 0, i.e. when x·w exceeds the "
                "threshold −b. The bias is *minus* the threshold."),
        Mistake("inverted", lambda X, w, b: (X @ w + b <= 0).astype(X.dtype),
                "the classes are inverted: predict 1 where x·w + b > 0, 0 elsewhere."),
        Mistake("no_step", lambda X, w, b: X @ w + b,
                "return the class (0 or 1), not the weighted sum: apply the step function to x·w + b."),
    ],
    doc="perceptron_predict(X, w, b): X (N, D), w (D,), b a number → (N,) array of 0/1, 1 where x·w + b > 0.",
)


# --- 2. perceptron_update(w, b, x, y, lr) -> (w_new, b_new) ------------------------------------------
def _update(w, b, x, y, lr):
    err = y - float(x @ w + b > 0)
    return w + lr * err * x, b + lr * err


def _update_case(rng, i):
    d = int(rng.integers(1, 5))
    return {"w": rng.normal(size=(d,)), "b": float(rng.normal()), "x": rng.normal(size=(d,)),
            "y": int(rng.integers(0, 2)), "lr": float(rng.choice([0.1, 0.5, 1.0]))}


def _update_sign(w, b, x, y, lr):
    err = float(x @ w + b > 0) - y
    return w + lr * err * x, b + lr * err


def _update_no_bias(w, b, x, y, lr):
    err = y - float(x @ w + b > 0)
    return w + lr * err * x, b


def _update_always(w, b, x, y, lr):
    s = 1.0 if y == 1 else -1.0
    return w + lr * s * x, b + lr * s


check_perceptron_update = Checker(
    "perceptron_update", _update, _update_case, outputs=("w_new", "b_new"),
    mistakes=[
        Mistake("sign", _update_sign, "the update goes the wrong way: use the error y − ŷ (target minus "
                "prediction), so a missed 1 pulls w towards x and a false 1 pushes it away."),
        Mistake("no_bias", _update_no_bias, "the bias must learn too: b_new = b + lr·(y − ŷ)."),
        Mistake("always", _update_always, "a perceptron only learns from its mistakes: when ŷ = y the error "
                "y − ŷ is 0 and nothing changes."),
    ],
    doc="perceptron_update(w, b, x, y, lr): one sample x (D,), label y ∈ {0, 1}; ŷ = [x·w + b > 0]; "
        "returns (w + lr (y − ŷ) x, b + lr (y − ŷ)) without modifying w.",
)


# --- 3. dense_forward(X, W, b, activation) -> f(XW + b) ---------------------------------------------
_ACTS = (activations.tanh, activations.relu, activations.sigmoid)


def _dense(X, W, b, activation):
    return activation(X @ W + b)


def _dense_case(rng, i):
    n, d, u = int(rng.integers(1, 8)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    if d == u:
        u += 1  # never square, so a transposed W cannot go unnoticed
    return {"X": rng.normal(size=(n, d)), "W": rng.normal(size=(d, u)), "b": rng.normal(size=(u,)),
            "activation": _ACTS[i % 3]}


check_dense_forward = Checker(
    "dense_forward", _dense, _dense_case,
    mistakes=[
        Mistake("no_activation", lambda X, W, b, activation: X @ W + b,
                "the activation is missing: y = f(XW + b), apply `activation` to the weighted sum."),
        Mistake("bias_outside", lambda X, W, b, activation: activation(X @ W) + b,
                "the bias goes inside the activation: f(XW + b), not f(XW) + b."),
        Mistake("no_bias", lambda X, W, b, activation: activation(X @ W),
                "the bias is missing: y = f(XW + b)."),
    ],
    doc="dense_forward(X, W, b, activation): X (N, D_in), W (D_in, units), b (units,) → f(XW + b), (N, units).",
    exception_hint="The shapes must chain: X (N, D_in) @ W (D_in, units) gives (N, units); no transpose needed.",
)


# --- 4. margin(X, y, w, b): the smallest signed distance of a sample from the boundary -------------------------
def _margin(X, y, w, b):
    s = 2 * y - 1                                   # labels 0/1 -> -1/+1: the side each sample belongs on
    dist = (X @ w + b) / xp.sqrt((w * w).sum())     # signed distance of each sample from x·w + b = 0
    return float((s * dist).min())


def _margin_case(rng, i):
    n, d = int(rng.integers(2, 9)), int(rng.integers(2, 4))
    y = rng.integers(0, 2, size=n).astype(float)
    y[0], y[-1] = 0.0, 1.0                          # both classes present
    return {"X": rng.normal(size=(n, d)), "y": y, "w": rng.normal(size=(d,)) * 3, "b": float(rng.normal())}


check_margin = Checker(
    "margin", _margin, _margin_case,
    mistakes=[
        Mistake("no_norm", lambda X, y, w, b: float(((2 * y - 1) * (X @ w + b)).min()),
                "x·w + b is not a distance yet: it grows when you scale w. Divide by the length ‖w‖ = √(Σ w_i²)."),
        Mistake("abs", lambda X, y, w, b: float((abs(X @ w + b) / xp.sqrt((w * w).sum())).min()),
                "|x·w + b| / ‖w‖ is how far a sample is from the line, but not on which side: a sample on the wrong "
                "side must count as negative. Multiply by the label as ±1: (2y − 1)(x·w + b)/‖w‖."),
        Mistake("no_labels", lambda X, y, w, b: float(((X @ w + b) / xp.sqrt((w * w).sum())).min()),
                "the class decides which side is right: class 1 belongs where x·w + b > 0, class 0 where it is < 0. "
                "Multiply each distance by (2y − 1), +1 for class 1 and −1 for class 0."),
        Mistake("max", lambda X, y, w, b: float(((2 * y - 1) * (X @ w + b) / xp.sqrt((w * w).sum())).max()),
                "the margin is the *smallest* signed distance (the sample closest to the wrong side), not the largest."),
    ],
    doc="margin(X, y, w, b): X (N, D), y (N,) of 0/1, w (D,), b a number → min over n of "
        "(2y_n − 1)(x_n·w + b)/‖w‖, a float: positive iff every sample is on its own side of the boundary.",
)

CHECKERS = collect(globals())
