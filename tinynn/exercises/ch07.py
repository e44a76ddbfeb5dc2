"""Chapter 7 (custom layers, optimizers and losses): the backward of a residual layer, a ``get_updates``
optimizer, a Huber loss with its gradient, global-norm gradient clipping.

Exercises 2 and 3 ask for a *class* (as Keras users write them: an ``Optimizer`` or ``Loss`` subclass). Their
checkers are :class:`ClassChecker` s: they turn the class into a function of arrays (run the optimizer for a
few steps, or evaluate the loss and its gradient) and compare that with the reference class, so every
typical mistake still gets its own hint.
"""
from __future__ import annotations

from tinynn import losses
from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect
from tinynn.optimizers import Optimizer
from tinynn.variables import Variable

__all__ = ["ClassChecker", "check_residual_backward", "check_momentum_get_updates", "check_huber",
           "check_clip_by_global_norm", "CHECKERS"]


class ClassChecker(Checker):
    """A :class:`Checker` for a class: ``wrap(cls)`` makes the function of arrays that is compared.

    ``reference`` and every mistake are given as classes; the checker accepts the learner's class (or an
    already wrapped function).
    """

    def __init__(self, name, wrap, reference, make_case, mistakes=(), **kwargs):
        self.wrap = wrap
        self.reference_class = reference
        super().__init__(name, wrap(reference), make_case,
                         [Mistake(m.key, wrap(m.fn), m.hint) for m in mistakes], **kwargs)

    def __call__(self, fn, n_tests=None, seed=0, verbose=True, raise_on_failure=False):
        if isinstance(fn, type):
            fn = self.wrap(fn)
        return super().__call__(fn, n_tests=n_tests, seed=seed, verbose=verbose, raise_on_failure=raise_on_failure)


def _sizes(rng):
    """(N, D, U), all different, so an axis mix-up always shows in a shape."""
    n, d, u = (int(k) for k in rng.choice(xp.arange(2, 9), size=3, replace=False))
    return n, d, u


# --- 1. residual_backward(x, W, b, dy) -> (dx, dW, db) for y = x + relu(xW + b) ---------------------------
def _residual_bw(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dy + dz @ W.T, x.T @ dz, dz.sum(axis=0)


def _residual_case(rng, i):
    n, d = (int(k) for k in rng.choice(xp.arange(2, 9), size=2, replace=False))     # N ≠ D; W is (D, D)
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, d)), "b": rng.normal(size=d),
            "dy": rng.normal(size=(n, d))}


def _residual_no_skip(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


def _residual_dW_T(x, W, b, dy):
    dx, dW, db = _residual_bw(x, W, b, dy)
    return dx, dW.T, db


def _residual_mask_y(x, W, b, dy):
    y = x + xp.maximum(x @ W + b, 0)
    dz = dy * (y > 0)
    return dy + dz @ W.T, x.T @ dz, dz.sum(axis=0)


def _residual_no_mask(x, W, b, dy):
    return dy + dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _residual_dx_W(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dy + dz @ W, x.T @ dz, dz.sum(axis=0)


def _residual_db_mean(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dy + dz @ W.T, x.T @ dz, dz.mean(axis=0)


check_residual_backward = Checker(
    "residual_backward", _residual_bw, _residual_case, outputs=("dx", "dW", "db"),
    mistakes=[
        Mistake("no_skip", _residual_no_skip,
                "dW and db are right, dx misses the skip connection: x reaches y twice, through relu(xW + b) and "
                "directly (y = x + ...), so dx = dy + dz Wᵀ — the gradients of the two paths add."),
        Mistake("dW_T", _residual_dW_T,
                "dW is transposed (W is square, so the shape cannot tell): dW = xᵀ dz, entry (j, k) = Σ_n x_nj dz_nk."),
        Mistake("mask_y", _residual_mask_y,
                "the relu mask comes from the wrong array: relu's derivative is [z > 0] with z = xW + b, its own "
                "input, not [y > 0] of the layer's output y = x + relu(z)."),
        Mistake("no_mask", _residual_no_mask,
                "the relu mask is missing on the relu path: dz = dy ⊙ [z > 0] with z = xW + b; then dW = xᵀ dz, "
                "db = Σ_n dz_n, and dx = dy + dz Wᵀ."),
        Mistake("dx_W", _residual_dx_W,
                "dx uses W instead of Wᵀ (W is square, so the shapes agree anyway): z = xW + b gives "
                "∂L/∂x = dz Wᵀ on the relu path."),
        Mistake("db_mean", _residual_db_mean,
                "db is a mean: the bias is added to every sample, so its gradient is the *sum* of dz over the batch."),
    ],
    exception_hint="Shapes: x (N, D), W (D, D), b (D,), dy (N, D); dx, dW, db have the shapes of x, W, b.",
    doc="residual_backward(x, W, b, dy) for y = x + relu(xW + b): return (dx, dW, db). Do not modify dy.",
)


# --- optimizers as functions of arrays: run a class for a few steps on a kernel and a bias -------------
def _optimizer_runner(hyper):
    """``wrap(cls)`` → ``run(kernel, bias, grads_kernel, grads_bias, learning_rate, *hyper)``: the weights
    after every step (two trajectories), the optimizer built as ``cls(learning_rate=..., **hyper)`` and
    stepped as ``fit`` does (``optimizer.step(weights)`` after the backward pass filled ``.grad``)."""
    def wrap(cls):
        def run(kernel, bias, grads_kernel, grads_bias, learning_rate, *values):
            opt = cls(learning_rate=learning_rate, **dict(zip(hyper, values)))
            k, b = Variable(kernel.copy(), name="kernel"), Variable(bias.copy(), name="bias")
            traj_k, traj_b = [], []
            for gk, gb in zip(grads_kernel, grads_bias):
                k.grad[...] = gk
                b.grad[...] = gb
                opt.step([k, b])
                traj_k.append(k.value.copy())
                traj_b.append(b.value.copy())
            return xp.stack(traj_k), xp.stack(traj_b)

        run.__name__ = getattr(cls, "__name__", "run")
        return run
    return wrap


def _optimizer_case(rng, extra, scale=1.0):
    n_steps = int(rng.integers(3, 6))
    d, u = (int(k) for k in rng.choice(xp.arange(2, 6), size=2, replace=False))
    case = {"kernel": rng.normal(size=(d, u)), "bias": rng.normal(size=u),
            "grads_kernel": scale * rng.normal(size=(n_steps, d, u)), "grads_bias": scale * rng.normal(size=(n_steps, u)),
            "learning_rate": float(rng.uniform(0.01, 0.2))}
    case.update(extra)
    return case


# --- 2. SGD with momentum, the tutorial's way: get_updates returns (param, new_value) pairs -----------------
class _MomentumSGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.9):
        super().__init__(learning_rate=learning_rate)
        self.momentum = momentum
        self.velocities = {}

    def get_updates(self, loss, params):
        updates = []
        for p in params:
            v = self.momentum * self.velocities.get(p.name, 0.0) - self.learning_rate * p.grad
            self.velocities[p.name] = v
            updates.append((p, p + v))
        return updates


class _MomentumSign(_MomentumSGD):
    def get_updates(self, loss, params):
        updates = []
        for p in params:
            v = self.momentum * self.velocities.get(p.name, 0.0) - self.learning_rate * p.grad
            self.velocities[p.name] = v
            updates.append((p, p - v))
        return updates


class _MomentumNotStored(_MomentumSGD):
    def get_updates(self, loss, params):
        updates = []
        for p in params:
            v = self.momentum * 0.0 - self.learning_rate * p.grad
            updates.append((p, p + v))
        return updates


class _MomentumStale(_MomentumSGD):
    def get_updates(self, loss, params):
        updates = []
        for p in params:
            old = self.velocities.get(p.name, 0.0)
            self.velocities[p.name] = self.momentum * old - self.learning_rate * p.grad
            updates.append((p, p + old))
        return updates


check_momentum_get_updates = ClassChecker(
    "momentum_get_updates", _optimizer_runner(("momentum",)), _MomentumSGD,
    lambda rng, i: _optimizer_case(rng, {"momentum": float(rng.uniform(0.5, 0.95))}),
    outputs=("kernel after each step", "bias after each step"),
    mistakes=[
        Mistake("sign", _MomentumSign,
                "the weights move uphill: with v ← μv − ηg the update is w ← w + v (or, with v ← μv + ηg, "
                "w ← w − v); one of the two signs is flipped."),
        Mistake("not_stored", _MomentumNotStored,
                "your steps are plain SGD's: the velocity is not stored between calls. Keep v in the optimizer "
                "(e.g. a dict keyed by param.name, or add_variable_from_reference) and update it every step."),
        Mistake("stale", _MomentumStale,
                "the first step does not move the weights: update the velocity first (v ← μv − ηg), then move "
                "the weights with the *new* velocity (w ← w + v)."),
    ],
    exception_hint="The optimizer is built as MomentumSGD(learning_rate=..., momentum=...); get_updates(loss, "
                   "params) returns [(param, new_value), ...] computed from param.grad. Each parameter needs its own "
                   "velocity, of its own shape (key them by param.name).",
    doc="MomentumSGD(learning_rate, momentum) with get_updates(loss, params) → [(param, new_value)]: "
        "v ← μv − ηg, w ← w + v (Keras' SGD with momentum).",
)


# --- 3. Huber: call (per-sample loss) and gradient (per sample, ∂l_i/∂ŷ_i) -----------------------------
class _Huber(losses.Loss):
    def __init__(self, delta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.delta = delta

    def call(self, y_true, y_pred):
        e = xp.abs(y_pred - y_true)
        d = self.delta
        return xp.where(e <= d, 0.5 * e * e, d * e - 0.5 * d * d).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        return xp.clip(y_pred - y_true, -self.delta, self.delta) / y_pred.shape[-1]


class _HuberLinearBranch(_Huber):
    def call(self, y_true, y_pred):
        e = xp.abs(y_pred - y_true)
        return xp.where(e <= self.delta, 0.5 * e * e, self.delta * e).mean(axis=-1)


class _HuberGradBranch(_Huber):
    def gradient(self, y_true, y_pred):
        return (y_pred - y_true) / y_pred.shape[-1]


class _HuberGradSign(_Huber):
    def gradient(self, y_true, y_pred):
        return xp.clip(y_true - y_pred, -self.delta, self.delta) / y_pred.shape[-1]


class _HuberNoMean(_Huber):
    def gradient(self, y_true, y_pred):
        return xp.clip(y_pred - y_true, -self.delta, self.delta)


class _HuberOverN(_Huber):
    def gradient(self, y_true, y_pred):
        return xp.clip(y_pred - y_true, -self.delta, self.delta) / y_pred.size


class _HuberReduced(_Huber):
    def call(self, y_true, y_pred):
        return super().call(y_true, y_pred).mean()


def _loss_runner(cls):
    def run(y_true, y_pred, delta):
        loss = cls(delta=delta)
        return loss.call(y_true, y_pred), loss.gradient(y_true, y_pred)

    run.__name__ = getattr(cls, "__name__", "run")
    return run


def _huber_case(rng, i):
    n, d, _ = _sizes(rng)
    return {"y_true": rng.normal(size=(n, d)), "y_pred": 2.0 * rng.normal(size=(n, d)),
            "delta": float(rng.uniform(0.5, 1.5))}


check_huber = ClassChecker(
    "huber", _loss_runner, _Huber, _huber_case, outputs=("call (per-sample loss)", "gradient"),
    mistakes=[
        Mistake("reduced", _HuberReduced,
                "call returns one number: in Keras call gives the loss of every sample, l_i (shape (N,), the mean "
                "over the last axis); the reduction to one number (÷N) is done by Loss.__call__."),
        Mistake("linear_branch", _HuberLinearBranch,
                "wrong branch for |e| > δ: the linear part is δ(|e| − δ/2), so that it meets ½e² at |e| = δ "
                "(value and slope both continuous); you forgot the −δ²/2."),
        Mistake("grad_branch", _HuberGradBranch,
                "the gradient is MSE's for |e| > δ: there the loss is linear, its slope is δ·sign(e) — the "
                "gradient is clip(e, −δ, δ)/D."),
        Mistake("grad_sign", _HuberGradSign,
                "the gradient has the wrong sign: e = ŷ − y and ∂l/∂ŷ = +clip(e, −δ, δ)/D (the loss grows as ŷ "
                "moves away from y)."),
        Mistake("no_mean", _HuberNoMean,
                "the gradient misses the 1/D of call's mean over the last axis: ∂l_i/∂ŷ_ij = clip(e_ij, −δ, δ)/D. "
                "(Per-sample convention: no 1/N here — Loss.backward multiplies by 1/N.)"),
        Mistake("over_N", _HuberOverN,
                "the gradient is divided by N·D: gradient() is per sample, ∂l_i/∂ŷ_i, so divide by D only — the "
                "1/N of the batch mean is applied once, by Loss.backward."),
    ],
    exception_hint="Shapes: y_true, y_pred (N, D); call returns (N,), gradient returns (N, D). The loss is built "
                   "as Huber(delta=...).",
    doc="Huber(delta) with call(y_true, y_pred) → l_i (N,) and gradient(y_true, y_pred) → ∂l_i/∂ŷ_i (N, D).",
)


# --- 4. clip_by_global_norm(grads, clipnorm) -> a new list of arrays ---------------------------------------
def _clip_global(grads, clipnorm):
    norm = float(xp.sqrt(sum(float((g * g).sum()) for g in grads)))
    return [g * (clipnorm / max(norm, clipnorm)) for g in grads]


def _clip_case(rng, i):
    k = int(rng.integers(2, 5))
    shapes = [(int(rng.integers(2, 5)), int(rng.integers(2, 5))) if j % 2 == 0 else (int(rng.integers(2, 5)),)
              for j in range(k)]
    grads = [rng.normal(size=s) for s in shapes]
    norm = float(xp.sqrt(sum(float((g * g).sum()) for g in grads)))
    # most cases are above the threshold; every third is below it and must come back unchanged
    clipnorm = norm * float(rng.uniform(1.2, 2.0) if i % 3 == 2 else rng.uniform(0.2, 0.8))
    if i == 0:       # one gradient alone is below clipnorm: per-tensor clipping would leave it alone
        grads[0] = grads[0] * 0.1
        norm = float(xp.sqrt(sum(float((g * g).sum()) for g in grads)))
        clipnorm = norm * 0.5
    return {"grads": grads, "clipnorm": clipnorm}


def _clip_per_tensor(grads, clipnorm):
    return [g * (clipnorm / max(float(xp.sqrt((g * g).sum())), clipnorm)) for g in grads]


def _clip_always(grads, clipnorm):
    norm = float(xp.sqrt(sum(float((g * g).sum()) for g in grads)))
    return [g * (clipnorm / norm) for g in grads]


def _clip_no_sqrt(grads, clipnorm):
    sq = sum(float((g * g).sum()) for g in grads)
    return [g * (clipnorm / max(sq, clipnorm)) for g in grads]


def _clip_mean_norm(grads, clipnorm):
    norm = float(xp.sqrt(sum(float((g * g).sum()) for g in grads) / len(grads)))
    return [g * (clipnorm / max(norm, clipnorm)) for g in grads]


class _ListOfArraysChecker(Checker):
    """Compares a list of arrays of different shapes, one by one."""

    def _compare(self, got, expected, equal_nan=False):
        if got is None:
            return f"{self.name} returned None: did you forget the `return` statement?"
        if hasattr(got, "shape") or not isinstance(got, (list, tuple)):
            return (f"{self.name} must return a list with one array per gradient, in the same order and shapes "
                    f"(the optimizer pairs them with its variables); got {type(got).__name__}"
                    + (f" of shape {tuple(got.shape)}" if hasattr(got, "shape") else "") + ".")
        if len(got) != len(expected):
            return f"{self.name} returned {len(got)} arrays for {len(expected)} gradients."
        for k, (g, e) in enumerate(zip(got, expected)):
            msg = Checker("", None, None, rtol=self.rtol, atol=self.atol)._compare(g, e, equal_nan)
            if msg is not None:
                return f"gradient {k} (shape {tuple(e.shape)}): {msg}"
        return None


check_clip_by_global_norm = _ListOfArraysChecker(
    "clip_by_global_norm", _clip_global, _clip_case,
    mistakes=[
        Mistake("per_tensor", _clip_per_tensor,
                "each gradient was clipped by its own norm (that is Keras' clipnorm=). global_clipnorm uses one "
                "norm for all of them together, ‖g‖ = √(Σ_k Σ g_k²), and scales every gradient by the same "
                "factor, so their directions relative to each other stay as they were."),
        Mistake("always", _clip_always,
                "gradients whose global norm is already ≤ clipnorm must come back unchanged: scale by "
                "clipnorm / max(‖g‖, clipnorm), never up."),
        Mistake("no_sqrt", _clip_no_sqrt,
                "the norm misses its square root: ‖g‖ = √(Σ g²); Σ g² is its square."),
        Mistake("mean_norm", _clip_mean_norm,
                "the global norm is the norm of all entries together, √(Σ_k Σ g_k²), not an average over the "
                "gradients."),
    ],
    exception_hint="`grads` is a list of arrays of different shapes (a kernel, a bias, ...), clipnorm a number; "
                   "return a list of new arrays with the same shapes.",
    in_place_hint="clip_by_global_norm changed the array `{name}` holds in place: those arrays are the weights' "
                  ".grad buffers, which the backward pass wrote and callbacks may still read. Return new arrays "
                  "(g * scale), do not write into them (g *= scale).",
    doc="clip_by_global_norm(grads, clipnorm): [g * clipnorm / max(‖g‖, clipnorm) for g in grads] with "
        "‖g‖ = √(Σ over all gradients of Σ g²) — Keras' global_clipnorm; new arrays, inputs unchanged.",
)

CHECKERS = collect(globals())
