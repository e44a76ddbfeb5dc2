"""Chapter 4 (training): loss gradients (with a stable softmax), SGD with momentum, Adam's bias correction, Adam."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_mse_grad", "check_softmax_cross_entropy_grad", "check_momentum_step",
           "check_bias_corrected_average", "check_adam_step", "CHECKERS"]


def _softmax(z):
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- 1. mse_grad(y_true, y_pred): L = mean over batch and outputs of (ŷ − y)² --------------------------
def _mse_case(rng, i):
    n, d = int(rng.integers(2, 7)), int(rng.integers(2, 5))
    if n == d:
        d += 1
    return {"y_true": rng.normal(size=(n, d)), "y_pred": rng.normal(size=(n, d))}


check_mse_grad = Checker(
    "mse_grad", lambda y_true, y_pred: 2 * (y_pred - y_true) / y_pred.size, _mse_case,
    mistakes=[
        Mistake("no_two", lambda y_true, y_pred: (y_pred - y_true) / y_pred.size,
                "d(u²)/du = 2u: the factor 2 is missing."),
        Mistake("only_n", lambda y_true, y_pred: 2 * (y_pred - y_true) / len(y_pred),
                "L averages over the batch *and* the outputs (N·D numbers): divide by N·D = y_pred.size, not N."),
        Mistake("no_mean", lambda y_true, y_pred: 2 * (y_pred - y_true),
                "L is a mean: its gradient carries the factor 1/(N·D)."),
        Mistake("sign", lambda y_true, y_pred: 2 * (y_true - y_pred) / y_pred.size,
                "wrong sign: L grows when ŷ moves away from y, so ∂L/∂ŷ = 2(ŷ − y)/(N·D)."),
    ],
    doc="mse_grad(y_true, y_pred): ∂L/∂ŷ for L = mean((ŷ − y)²) over all N·D entries: 2(ŷ − y)/(N·D).",
)


# --- 2. softmax_cross_entropy_grad(logits, y_true): (softmax(z) − y)/N ----------------------------------
def _ce_case(rng, i):
    n, c = int(rng.integers(2, 7)), int(rng.integers(3, 6))
    if n == c:
        n += 1
    y = xp.zeros((n, c))
    y[xp.arange(n), rng.integers(0, c, size=n)] = 1.0
    scale = (2.0, 2.0, 1000.0)[i % 3]  # every third case has logits in the hundreds: a naive exp overflows
    return {"logits": rng.normal(size=(n, c)) * scale, "y_true": y}


def _ce_naive(logits, y_true):
    e = xp.exp(logits)
    return (e / e.sum(axis=-1, keepdims=True) - y_true) / len(logits)


check_softmax_cross_entropy_grad = Checker(
    "softmax_cross_entropy_grad", lambda logits, y_true: (_softmax(logits) - y_true) / len(logits), _ce_case,
    mistakes=[
        Mistake("naive_softmax", _ce_naive, "your softmax overflows: for logits like 1000, exp(1000) = inf and "
                "inf/inf = nan. Use the stable softmax: subtract each row's maximum before exp, "
                "e = exp(z − max(z, axis=-1, keepdims=True)); the probabilities are exactly the same."),
        Mistake("no_mean", lambda logits, y_true: _softmax(logits) - y_true,
                "the loss is the *mean* over the batch, so its gradient has a factor 1/N: (ŷ − y)/N."),
        Mistake("no_softmax", lambda logits, y_true: (logits - y_true) / len(logits),
                "ŷ is softmax(z), the probabilities — not the logits z themselves: (softmax(z) − y)/N."),
        Mistake("sign", lambda logits, y_true: (y_true - _softmax(logits)) / len(logits),
                "wrong sign: the gradient is ŷ − y (prediction minus target)."),
        Mistake("over_classes", lambda logits, y_true: (_softmax(logits) - y_true) / logits.size,
                "divide by the number of samples N only: cross-entropy sums over the classes and averages over "
                "the batch."),
    ],
    doc="softmax_cross_entropy_grad(logits, y_true): ∂L/∂z for L = mean_n(−Σ_c y log softmax(z)) = (ŷ − y)/N; "
        "finite for logits in the thousands (stable softmax).",
)


# --- 3. momentum_step(w, g, velocity, learning_rate, momentum) -> (w_new, velocity_new), Keras' SGD --------
def _momentum(w, g, velocity, learning_rate, momentum):
    v = momentum * velocity - learning_rate * g
    return w + v, v


def _momentum_case(rng, i):
    shape = (int(rng.integers(1, 6)),)
    return {"w": rng.normal(size=shape), "g": rng.normal(size=shape), "velocity": rng.normal(size=shape) * 0.1,
            "learning_rate": float(rng.choice([0.01, 0.1])), "momentum": float(rng.choice([0.5, 0.9]))}


def _momentum_torch(w, g, velocity, learning_rate, momentum):
    v = momentum * velocity + g
    return w - learning_rate * v, v


check_momentum_step = Checker(
    "momentum_step", _momentum, _momentum_case, outputs=("w_new", "velocity_new"),
    mistakes=[
        Mistake("torch", _momentum_torch, "that is PyTorch's convention (v = μv + g, w −= lr·v). This exercise "
                "uses Keras': v = μ·v − lr·g, then w = w + v."),
        Mistake("sign", lambda w, g, velocity, learning_rate, momentum: (
            w + momentum * velocity + learning_rate * g, momentum * velocity + learning_rate * g),
            "wrong sign: descend, v = μ·v − lr·g."),
        Mistake("old_velocity", lambda w, g, velocity, learning_rate, momentum: (
            w + velocity, momentum * velocity - learning_rate * g),
            "update the velocity first, then move w with the *new* velocity."),
        Mistake("no_momentum", lambda w, g, velocity, learning_rate, momentum: (
            w - learning_rate * g, -learning_rate * g),
            "the old velocity is missing: v = μ·v − lr·g keeps a fraction μ of the previous step."),
    ],
    doc="momentum_step(w, g, velocity, learning_rate, momentum): v = μv − lr·g; return (w + v, v).",
)


# --- 4. bias_corrected_average(grads, beta) -> (T, ...) of m̂_1 ... m̂_T ------------------------------------
def _bias_corrected(grads, beta):
    m = xp.zeros_like(grads[0])
    out = xp.empty_like(grads)
    for t in range(1, len(grads) + 1):
        m = beta * m + (1 - beta) * grads[t - 1]
        out[t - 1] = m / (1 - beta**t)
    return out


def _bias_case(rng, i):
    T = int(rng.integers(1, 7))
    shape = (T,) + tuple(int(k) for k in rng.integers(1, 4, size=int(rng.integers(0, 2))))
    g = rng.normal(size=shape) + (3.0 if i % 2 else 0.0)  # half the cases: a nearly constant gradient
    return {"grads": g, "beta": float(rng.choice([0.9, 0.99, 0.5]))}


def _bias_none(grads, beta):
    m, out = xp.zeros_like(grads[0]), xp.empty_like(grads)
    for t in range(len(grads)):
        m = beta * m + (1 - beta) * grads[t]
        out[t] = m
    return out


def _bias_t0(grads, beta):
    m, out = xp.zeros_like(grads[0]), xp.empty_like(grads)
    for t in range(len(grads)):  # 0-based t: the first division is by 1 - beta**0 = 0
        m = beta * m + (1 - beta) * grads[t]
        out[t] = m / (1 - beta**t)
    return out


def _bias_ahead(grads, beta):
    m, out = xp.zeros_like(grads[0]), xp.empty_like(grads)
    for t in range(1, len(grads) + 1):
        m = beta * m + (1 - beta) * grads[t - 1]
        out[t - 1] = m / (1 - beta ** (t + 1))
    return out


def _bias_feedback(grads, beta):
    m, out = xp.zeros_like(grads[0]), xp.empty_like(grads)
    for t in range(1, len(grads) + 1):
        m = (beta * m + (1 - beta) * grads[t - 1]) / (1 - beta**t)
        out[t - 1] = m
    return out


def _bias_swapped(grads, beta):
    m, out = xp.zeros_like(grads[0]), xp.empty_like(grads)
    for t in range(1, len(grads) + 1):
        m = (1 - beta) * m + beta * grads[t - 1]
        out[t - 1] = m / (1 - beta**t)
    return out


check_bias_corrected_average = Checker(
    "bias_corrected_average", _bias_corrected, _bias_case,
    mistakes=[
        Mistake("no_correction", _bias_none, "these are the raw averages m_t, which start near 0 because m_0 = 0; "
                "divide each by (1 − βᵗ): m̂_t = m_t / (1 − βᵗ)."),
        Mistake("t_from_zero", _bias_t0, "the first step is t = 1, not 0: with t = 0 you divide by 1 − β⁰ = 0 "
                "(inf, or nan for a zero gradient). With Python's 0-based loop index i, the step number is i + 1; "
                "then m̂_1 = m_1/(1 − β) = g_1."),
        Mistake("t_ahead", _bias_ahead, "one step ahead: step t divides by (1 − βᵗ), and the first step is t = 1 "
                "(so m̂_1 = m_1/(1 − β) = g_1 exactly)."),
        Mistake("feedback", _bias_feedback, "keep the corrected value out of the recursion: update the raw "
                "m_t = β m_(t−1) + (1 − β) g_t, and only divide the value you *return* by (1 − βᵗ)."),
        Mistake("swapped", _bias_swapped, "β weighs the old average, (1 − β) the new gradient: "
                "m_t = β m_(t−1) + (1 − β) g_t."),
    ],
    doc="bias_corrected_average(grads, beta): grads (T, ...) holds g_1 ... g_T; with m_0 = 0 and "
        "m_t = β m_(t−1) + (1 − β) g_t return the array (T, ...) of m̂_t = m_t / (1 − βᵗ), t = 1 ... T.",
)


# --- 5. adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon) -> (w, m, v) -----------------------
def _adam(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    m_hat = m / (1 - beta_1**t)
    v_hat = v / (1 - beta_2**t)
    return w - learning_rate * m_hat / (xp.sqrt(v_hat) + epsilon), m, v


def _adam_case(rng, i):
    shape = (int(rng.integers(1, 6)),)
    scale = (1.0, 1e-4)[i % 2]  # tiny gradients: where epsilon's place matters
    t = int(rng.integers(1, 6))
    g = rng.normal(size=shape) * scale
    m = rng.normal(size=shape) * scale * 0.5 * (t > 1)
    v = (rng.normal(size=shape) * scale) ** 2 * (t > 1)
    return {"w": rng.normal(size=shape), "g": g, "m": m, "v": v, "t": t, "learning_rate": 0.01,
            "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def _adam_no_correction(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    return w - learning_rate * m / (xp.sqrt(v) + epsilon), m, v


def _adam_eps_inside(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - learning_rate * m_hat / xp.sqrt(v_hat + epsilon), m, v


def _adam_g_not_squared(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * abs(g)
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - learning_rate * m_hat / (xp.sqrt(v_hat) + epsilon), m, v


def _adam_t_minus(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    m_hat, v_hat = m / (1 - beta_1 ** (t + 1)), v / (1 - beta_2 ** (t + 1))
    return w - learning_rate * m_hat / (xp.sqrt(v_hat) + epsilon), m, v


check_adam_step = Checker(
    "adam_step", _adam, _adam_case, outputs=("w_new", "m_new", "v_new"), rtol=1e-6, atol=1e-12,
    mistakes=[
        Mistake("no_bias_correction", _adam_no_correction, "the bias correction is missing: m and v start at 0, "
                "so early steps divide by (1 − β₁ᵗ) and (1 − β₂ᵗ): m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)."),
        Mistake("eps_inside", _adam_eps_inside, "ε goes outside the square root: w − lr·m̂/(√v̂ + ε). Inside, "
                "it dominates when gradients are tiny (√(v̂ + ε) ≥ √ε ≈ 3e-4)."),
        Mistake("g_not_squared", _adam_g_not_squared, "v tracks the *squared* gradient: v = β₂v + (1 − β₂)g²."),
        Mistake("t_off_by_one", _adam_t_minus, "t is the number of this step, starting at 1: use β₁ᵗ and β₂ᵗ "
                "with the t you were given."),
    ],
    doc="adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon): Adam's update (Kingma & Ba, "
        "Algorithm 1) at step t ≥ 1; return (w_new, m_new, v_new).",
)

CHECKERS = collect(globals())
