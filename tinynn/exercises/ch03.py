"""Chapter 3 (backprop): the chain rule on a small graph, a numerical gradient, Dense's backward, and a backward
sweep by hand through a graph in which two values are used twice."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_chain_rule", "check_numerical_gradient", "check_dense_backward", "check_expression_backward",
           "CHECKERS"]


# --- 1. L = tanh(a·b + c): return (dL/da, dL/db, dL/dc), elementwise --------------------------------
def _chain(a, b, c):
    t = xp.tanh(a * b + c)
    d = 1 - t * t
    return d * b, d * a, d


def _chain_case(rng, i):
    shape = (int(rng.integers(1, 6)),)
    return {"a": rng.normal(size=shape), "b": rng.normal(size=shape), "c": rng.normal(size=shape)}


def _chain_no_outer(a, b, c):
    return b, a, xp.ones_like(c)


def _chain_swapped(a, b, c):
    d = 1 - xp.tanh(a * b + c) ** 2
    return d * a, d * b, d


def _chain_no_square(a, b, c):
    d = 1 - xp.tanh(a * b + c)
    return d * b, d * a, d


check_chain_rule = Checker(
    "chain_rule", _chain, _chain_case, outputs=("dL/da", "dL/db", "dL/dc"),
    mistakes=[
        Mistake("no_outer", _chain_no_outer, "you stopped at the local derivatives (∂s/∂a = b, ...): the chain "
                "rule multiplies them by the upstream gradient dL/ds = 1 − tanh²(s), with s = a·b + c."),
        Mistake("swapped", _chain_swapped, "∂(a·b)/∂a = b and ∂(a·b)/∂b = a: each input's gradient is the "
                "*other* input times the upstream gradient."),
        Mistake("tanh_derivative", _chain_no_square, "tanh'(s) = 1 − tanh²(s): the tanh must be squared."),
    ],
    doc="chain_rule(a, b, c): for L = tanh(a·b + c) (elementwise arrays) return (dL/da, dL/db, dL/dc).",
)


# --- 2. numerical_gradient(f, x, h): centred differences, x restored ---------------------------------
def _numgrad(f, x, h):
    g = xp.zeros_like(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        plus = f(x)
        x.flat[i] = old - h
        minus = f(x)
        x.flat[i] = old
        g.flat[i] = (plus - minus) / (2 * h)
    return g


class _Cubic:
    """f(x) = Σ w ⊙ x³ + Σ sin(x): curved enough that a forward difference is visibly worse."""

    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return float((self.w * x**3).sum() + xp.sin(x).sum())

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return "f(x) = Σ w·x³ + Σ sin(x)"


def _numgrad_case(rng, i):
    ndim = (1, 2, 3)[i % 3]  # x can have any number of dimensions: a loop over rows only works for one
    shape = tuple(int(k) for k in rng.integers(2, 4, size=ndim))  # no axis of length 1: a row is never one entry
    return {"f": _Cubic(rng.normal(size=shape)), "x": rng.normal(size=shape), "h": 1e-3}


def _numgrad_forward(f, x, h):
    g, base = xp.zeros_like(x), f(x)
    for i in range(x.size):
        x2 = x.copy()
        x2.flat[i] += h
        g.flat[i] = (f(x2) - base) / h
    return g


def _numgrad_h(f, x, h):
    return 2 * _numgrad(f, x.copy(), h)


def _numgrad_alias(f, x, h):
    return xp.zeros_like(x)  # what x_plus = x; x_minus = x gives: both nudges land on one array


check_numerical_gradient = Checker(
    "numerical_gradient", _numgrad, _numgrad_case, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("forward", _numgrad_forward, "that is a forward difference (f(x+h) − f(x))/h, whose error "
                "is O(h); use the centred difference (f(x+h) − f(x−h))/(2h), error O(h²)."),
        Mistake("over_h", _numgrad_h, "the centred difference divides by 2h (the two points are 2h apart), "
                "not by h."),
        Mistake("alias", _numgrad_alias, "every difference came out 0: f(x + h e_i) and f(x − h e_i) were "
                "evaluated at the same point. If you wrote `x_plus = x` and `x_minus = x`, those are three names "
                "for ONE array, not copies: use `x.copy()`, or nudge, evaluate and restore x one step at a time."),
    ],
    in_place_hint="numerical_gradient left `{name}` changed: after nudging an entry by ±h, put its old value "
                  "back (or nudge a copy), otherwise every later entry is measured at the wrong point.",
    doc="numerical_gradient(f, x, h): array of ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / (2h), for x of any "
        "shape (1-D, 2-D, 3-D, ...); x unchanged.",
)


# --- 3. dense_backward(x, W, dy) -> (dx, dW, db) -----------------------------------------------------
def _dense_bw(x, W, dy):
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _dense_case(rng, i):
    n, d, u = int(rng.integers(2, 7)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    if u == d:
        u += 1
    if n == u:
        n += 1 if n + 1 != d else 2  # all three sizes differ: every axis mix-up shows in a shape
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, u)), "dy": rng.normal(size=(n, u))}


check_dense_backward = Checker(
    "dense_backward", _dense_bw, _dense_case, outputs=("dx", "dW", "db"),
    mistakes=[
        Mistake("dW_transposed", lambda x, W, dy: (dy @ W.T, dy.T @ x, dy.sum(axis=0)),
                "dW is transposed: it must have W's shape (D_in, units), so dW = xᵀ dy, not dyᵀ x."),
        Mistake("db_mean", lambda x, W, dy: (dy @ W.T, x.T @ dy, dy.mean(axis=0)),
                "db is the *sum* of dy over the batch (each sample adds its share); a mean divides by N a second "
                "time — the 1/N is already inside dy (it comes from the loss)."),
        Mistake("db_axis", lambda x, W, dy: (dy @ W.T, x.T @ dy, dy.sum(axis=1)),
                "db sums over the wrong axis: sum over the batch (axis=0), so db has shape (units,)."),
        Mistake("dW_mean", lambda x, W, dy: (dy @ W.T, x.T @ dy / len(x), dy.sum(axis=0)),
                "dW = xᵀ dy with no extra 1/N: the 1/N is already inside dy (it comes from the loss)."),
        Mistake("db_keepdims", lambda x, W, dy: (dy @ W.T, x.T @ dy, dy.sum(axis=0, keepdims=True)),
                "db must have the bias' shape (units,): sum without keepdims."),
    ],
    exception_hint="Check the shapes: dx = dy Wᵀ is (N, units)@(units, D_in); dW = xᵀ dy is (D_in, N)@(N, units).",
    doc="dense_backward(x, W, dy) for y = xW + b: return (dx, dW, db) = (dy Wᵀ, xᵀ dy, Σ_n dy_n).",
)


# --- 4. expression_backward(a, b, g): the sweep through c = a·b, d = c + a, e = d / b, L = tanh(e) ----------
def _expr_backward(a, b, g):
    c = a * b
    d = c + a
    e = d / b
    de = g * (1 - xp.tanh(e) ** 2)       # L = tanh(e)
    dd = de / b                          # e = d / b
    db = -de * d / b**2
    dc = dd                              # d = c + a
    da = dd
    da = da + dc * b                     # c = a·b: a's second use adds ...
    db = db + dc * a                     # ... and so does b's
    return da, db


def _expr_case(rng, i):
    shape = tuple(int(k) for k in rng.integers(1, 4, size=int(rng.integers(1, 3))))
    b = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)  # never near 0: e = d / b
    return {"a": rng.normal(size=shape), "b": b, "g": rng.normal(size=shape)}


def _expr_parts(a, b, g):
    d = a * b + a
    de = g * (1 - xp.tanh(d / b) ** 2)
    return d, de, de / b, -de * d / b**2


def _expr_a_once_add(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd, db_div + dd * a


def _expr_a_once_mul(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd * b, db_div + dd * a


def _expr_b_once_div(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd + dd * b, db_div


def _expr_b_once_mul(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd + dd * b, dd * a


def _expr_both_once_mul(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd * b, dd * a


def _expr_both_once_other(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd, db_div


def _expr_div_sign(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd + dd * b, -db_div + dd * a


def _expr_div_no_d(a, b, g):
    d, de, dd, db_div = _expr_parts(a, b, g)
    return dd + dd * b, -de / b**2 + dd * a


def _expr_tanh(a, b, g):
    d = a * b + a
    de = g * (1 - xp.tanh(d / b))
    dd = de / b
    return dd + dd * b, -de * d / b**2 + dd * a


def _expr_no_g(a, b, g):
    return _expr_backward(a, b, xp.ones_like(g))


_TWICE = ("is used twice — in c = a·b and in d = c + a{b} — so its gradient is the SUM of the two contributions "
          "(the engine's `+=`): ")

check_expression_backward = Checker(
    "expression_backward", _expr_backward, _expr_case, outputs=("dL/da", "dL/db"),
    mistakes=[
        Mistake("a_once_add", _expr_a_once_add, "`a` " + _TWICE.format(b="") + "dL/da = dL/dd · 1 + dL/dc · b. "
                "You kept only the path through d = c + a."),
        Mistake("a_once_mul", _expr_a_once_mul, "`a` " + _TWICE.format(b="") + "dL/da = dL/dd · 1 + dL/dc · b. "
                "You kept only the path through c = a·b."),
        Mistake("b_once_div", _expr_b_once_div, "`b` is used twice — in c = a·b and in e = d / b — so its "
                "gradient is the SUM of both contributions: dL/db = dL/de · (−d/b²) + dL/dc · a. You kept only "
                "the division's part (an `=` where the engine has `+=`?)."),
        Mistake("b_once_mul", _expr_b_once_mul, "`b` is used twice — in c = a·b and in e = d / b — so its "
                "gradient is the SUM of both contributions: dL/db = dL/de · (−d/b²) + dL/dc · a. You kept only "
                "the product's part (the second assignment overwrote the first?)."),
        Mistake("both_once_mul", _expr_both_once_mul, "`a` and `b` are each used twice, and both of your "
                "gradients keep only the path through c = a·b. Add the second use of each: dL/da also gets dL/dd · 1 "
                "(from d = c + a), dL/db also gets dL/de · (−d/b²) (from e = d / b)."),
        Mistake("both_once_other", _expr_both_once_other, "`a` and `b` are each used twice, and both of your "
                "gradients miss the path through c = a·b: add dL/dc · b to dL/da and dL/dc · a to dL/db "
                "(with dL/dc = dL/dd)."),
        Mistake("div_sign", _expr_div_sign, "the division's rule: ∂(d/b)/∂b = −d/b² — note the minus sign."),
        Mistake("div_no_d", _expr_div_no_d, "the division's rule: ∂(d/b)/∂b = −d/b², with the numerator d."),
        Mistake("tanh", _expr_tanh, "tanh'(e) = 1 − tanh²(e): the tanh must be squared."),
        Mistake("no_g", _expr_no_g, "start the sweep from the upstream gradient g: dL/de = g · (1 − tanh²(e)), "
                "not 1 − tanh²(e) alone."),
    ],
    exception_hint="a, b and g have the same shape; every step is elementwise (`*`, `/`, no matrix product).",
    doc="expression_backward(a, b, g): for c = a·b, d = c + a, e = d / b, L = tanh(e) (elementwise) and the "
        "upstream gradient g = ∂(loss)/∂L, return (dL/da, dL/db) times g, by a backward sweep node by node.",
)

CHECKERS = collect(globals())
