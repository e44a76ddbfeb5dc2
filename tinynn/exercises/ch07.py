"""Chapter 7 (custom layers, optimizers and losses): a hand-written backward, a ``get_updates`` optimizer,
a Huber loss with its gradient, an RMSprop ``update_step``.

Exercises 2-4 ask for a *class* (as Keras users write them: an ``Optimizer`` or ``Loss`` subclass). Their
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

__all__ = ["ClassChecker", "check_relu_dense_backward", "check_momentum_get_updates", "check_huber",
           "check_rmsprop_update_step", "CHECKERS"]


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


# --- 1. relu_dense_backward(x, W, b, dy) -> (dx, dW, db) for y = relu(xW + b) ---------------------------
def _relu_dense_bw(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


def _relu_dense_case(rng, i):
    n, d, u = _sizes(rng)
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, u)), "b": rng.normal(size=u),
            "dy": rng.normal(size=(n, u))}


def _relu_dense_dW_T(x, W, b, dy):
    dx, dW, db = _relu_dense_bw(x, W, b, dy)
    return dx, dW.T, db


def _relu_dense_no_mask(x, W, b, dy):
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _relu_dense_db_axis(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dz @ W.T, x.T @ dz, dz.sum(axis=1)


def _relu_dense_mask_dx_only(x, W, b, dy):
    dz = dy * (x @ W + b > 0)
    return dz @ W.T, x.T @ dy, dy.sum(axis=0)


check_relu_dense_backward = Checker(
    "relu_dense_backward", _relu_dense_bw, _relu_dense_case, outputs=("dx", "dW", "db"),
    mistakes=[
        Mistake("dW_transposed", _relu_dense_dW_T,
                "dW is transposed: it must have W's shape (D_in, units), so dW = xᵀ dz, not dzᵀ x."),
        Mistake("no_mask", _relu_dense_no_mask,
                "the relu mask is missing: backprop through relu first, dz = dy ⊙ [z > 0] with z = xW + b, "
                "then use dz (not dy) for dx, dW and db."),
        Mistake("mask_dx_only", _relu_dense_mask_dx_only,
                "dx is right but dW and db use dy: every gradient goes through the relu, so use the masked "
                "dz = dy ⊙ [z > 0] for dW and db too."),
        Mistake("db_axis", _relu_dense_db_axis,
                "db is summed over the wrong axis: sum dz over the batch (axis=0), so db has the bias' shape "
                "(units,)."),
    ],
    exception_hint="Shapes: x (N, D_in), W (D_in, units), b (units,), dy (N, units); dx = dz Wᵀ, dW = xᵀ dz.",
    doc="relu_dense_backward(x, W, b, dy) for y = relu(xW + b): return (dx, dW, db). Do not modify dy.",
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


# --- 2. SGD with momentum, the seeds' way: get_updates returns (param, new_value) pairs -----------------
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


# --- 4. RMSprop, the Keras 3 way: build (slots) + update_step ------------------------------------------
class _RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate=learning_rate)
        self.rho, self.epsilon = rho, epsilon

    def build(self, variables):
        super().build(variables)
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign(self.rho * v.value + (1 - self.rho) * gradient * gradient)
        variable.assign(variable.value - learning_rate * gradient / xp.sqrt(v.value + self.epsilon))


class _RMSNoEps(_RMSprop):
    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign(self.rho * v.value + (1 - self.rho) * gradient * gradient)
        variable.assign(variable.value - learning_rate * gradient / xp.sqrt(v.value))


class _RMSNoSqrt(_RMSprop):
    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign(self.rho * v.value + (1 - self.rho) * gradient * gradient)
        variable.assign(variable.value - learning_rate * gradient / (v.value + self.epsilon))


class _RMSEpsOutside(_RMSprop):
    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign(self.rho * v.value + (1 - self.rho) * gradient * gradient)
        variable.assign(variable.value - learning_rate * gradient / (xp.sqrt(v.value) + self.epsilon))


class _RMSRhoSwapped(_RMSprop):
    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign((1 - self.rho) * v.value + self.rho * gradient * gradient)
        variable.assign(variable.value - learning_rate * gradient / xp.sqrt(v.value + self.epsilon))


class _RMSNotStored(_RMSprop):
    def update_step(self, gradient, variable, learning_rate):
        v = (1 - self.rho) * gradient * gradient
        variable.assign(variable.value - learning_rate * gradient / xp.sqrt(v + self.epsilon))


check_rmsprop_update_step = ClassChecker(
    "rmsprop_update_step", _optimizer_runner(("rho", "epsilon")), _RMSprop,
    lambda rng, i: _optimizer_case(rng, {"rho": float(rng.uniform(0.5, 0.95)),
                                         "epsilon": float(rng.uniform(0.05, 0.5))}, scale=0.5),
    outputs=("kernel after each step", "bias after each step"),
    mistakes=[
        Mistake("no_eps", _RMSNoEps,
                "ε is missing: divide by √(v + ε) — without it a weight whose gradients were ~0 gets a huge step "
                "(or a division by zero)."),
        Mistake("no_sqrt", _RMSNoSqrt,
                "the square root is missing: v is a running mean of g², so √v is an RMS of g (same units as g); "
                "divide by √(v + ε), not by v + ε."),
        Mistake("eps_outside", _RMSEpsOutside,
                "ε is outside the root (PyTorch's convention): Keras divides by √(v + ε)."),
        Mistake("rho_swapped", _RMSRhoSwapped,
                "ρ and 1 − ρ are swapped: v ← ρ v + (1 − ρ) g² keeps most of the old average (ρ ≈ 0.9)."),
        Mistake("not_stored", _RMSNotStored,
                "v starts from zero at every step: keep it in a slot created in build() "
                "(self.add_variable_from_reference(v, 'velocity')) and update it in place with assign."),
    ],
    exception_hint="The optimizer is built as RMSprop(learning_rate=..., rho=..., epsilon=...); build(variables) "
                   "creates the slots, update_step(gradient, variable, learning_rate) changes one weight in place.",
    doc="RMSprop(learning_rate, rho, epsilon) with build + update_step: v ← ρv + (1 − ρ)g², "
        "w ← w − η g/√(v + ε).",
)

CHECKERS = collect(globals())
