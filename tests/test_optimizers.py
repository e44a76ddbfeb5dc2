"""Optimizers: first steps against the formulas computed by hand, clipping, decay, schedules, dtypes."""
import math

import numpy as np
import pytest

from tinynn import optimizers
from tinynn.optimizers import schedules
from tinynn.variables import Variable

W0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.5, -1.0, 2.0])
G2 = np.array([-0.3, 0.2, 1.0])


def run(opt, grads, w0=W0):
    """Apply the gradients one step at a time to a float64 Variable; return the weights after each step."""
    w = Variable(w0.copy(), name="w", dtype="float64")
    out = []
    for g in grads:
        w.grad[...] = g
        opt.step([w])
        out.append(w.numpy())
    return out


def test_sgd_plain():
    (w1,) = run(optimizers.SGD(learning_rate=0.1), [G1])
    np.testing.assert_allclose(w1, W0 - 0.1 * G1)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    lr, mu = 0.1, 0.9
    w1, w2 = run(optimizers.SGD(lr, momentum=mu, nesterov=nesterov), [G1, G2])
    m1 = -lr * G1
    m2 = mu * m1 - lr * G2
    if nesterov:
        e1 = W0 + mu * m1 - lr * G1
        e2 = e1 + mu * m2 - lr * G2
    else:
        e1, e2 = W0 + m1, W0 + m1 + m2
    np.testing.assert_allclose(w1, e1)
    np.testing.assert_allclose(w2, e2)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7
    w1, w2 = run(optimizers.RMSprop(lr, rho=rho, momentum=momentum, centered=centered), [G1, G2])
    w, v, gbar, s = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    expected = []
    for g in (G1, G2):
        v = rho * v + (1 - rho) * g**2
        if centered:
            gbar = rho * gbar + (1 - rho) * g
            delta = lr * g / np.sqrt(v - gbar**2 + eps)
        else:
            delta = lr * g / np.sqrt(v + eps)
        if momentum:
            s = momentum * s + delta
            w = w - s
        else:
            w = w - delta
        expected.append(w)
    np.testing.assert_allclose(w1, expected[0])
    np.testing.assert_allclose(w2, expected[1])


def adam_reference(grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    w, m, v, vhat = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    out = []
    for t, g in enumerate(grads, start=1):
        w = w - w * wd * lr
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vhat = np.maximum(vhat, v)
        w = w - lr_t * m / (np.sqrt(vhat if amsgrad else v) + eps)
        out.append(w)
    return out


def test_adam_first_step_is_lr_times_sign():
    """At t = 1, m/sqrt(v) = g/|g|: the first Adam step moves every weight by about lr."""
    (w1,) = run(optimizers.Adam(learning_rate=0.01), [G1])
    np.testing.assert_allclose(w1, W0 - 0.01 * np.sign(G1), rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_two_steps(amsgrad):
    got = run(optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad), [G1, G2, 0.1 * G1])
    for g, e in zip(got, adam_reference([G1, G2, 0.1 * G1], lr=0.01, amsgrad=amsgrad)):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_adamw_decays_before_the_adam_step():
    got = run(optimizers.AdamW(learning_rate=0.01, weight_decay=0.1), [G1, G2])
    for g, e in zip(got, adam_reference([G1, G2], lr=0.01, wd=0.1)):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    with pytest.raises(ValueError, match="AdamW"):
        optimizers.AdamW(weight_decay=None)


def test_weight_decay_exclusion():
    w = Variable(W0.copy(), name="dense/kernel", dtype="float64")
    b = Variable(W0.copy(), name="dense/bias", dtype="float64")
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.step([w, b])  # zero gradients: only the decay acts
    np.testing.assert_allclose(w.value, W0 * (1 - 0.1 * 0.5))
    np.testing.assert_allclose(b.value, W0)


def test_adagrad():
    lr, a0, eps = 0.1, 0.1, 1e-7
    w1, w2 = run(optimizers.Adagrad(lr, initial_accumulator_value=a0), [G1, G2])
    a1 = a0 + G1**2
    e1 = W0 - lr * G1 / np.sqrt(a1 + eps)
    a2 = a1 + G2**2
    np.testing.assert_allclose(w1, e1)
    np.testing.assert_allclose(w2, e1 - lr * G2 / np.sqrt(a2 + eps))


# --- clipping ------------------------------------------------------------------------------------
def two_vars():
    a = Variable(np.zeros(2), name="a", dtype="float64")
    b = Variable(np.zeros(2), name="b", dtype="float64")
    a.grad[...] = [3.0, 4.0]     # norm 5
    b.grad[...] = [0.0, 0.5]     # norm 0.5
    return a, b


def test_clipvalue():
    a, b = two_vars()
    optimizers.SGD(1.0, clipvalue=1.0).step([a, b])
    np.testing.assert_allclose(a.value, [-1.0, -1.0])
    np.testing.assert_allclose(b.value, [0.0, -0.5])
    np.testing.assert_allclose(a.grad, [3.0, 4.0])  # the gradient buffers are not modified


def test_clipnorm_is_per_variable():
    a, b = two_vars()
    optimizers.SGD(1.0, clipnorm=1.0).step([a, b])
    np.testing.assert_allclose(a.value, [-0.6, -0.8])
    np.testing.assert_allclose(b.value, [0.0, -0.5])  # already shorter than 1: unchanged


def test_global_clipnorm_scales_all_together():
    a, b = two_vars()
    optimizers.SGD(1.0, global_clipnorm=1.0).step([a, b])
    norm = math.sqrt(25 + 0.25)
    np.testing.assert_allclose(a.value, -np.array([3.0, 4.0]) / norm)
    np.testing.assert_allclose(b.value, -np.array([0.0, 0.5]) / norm)


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="only one of clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match="clipnorm must be positive"):
        optimizers.Adam(clipnorm=0.0)


# --- API shape --------------------------------------------------------------------------------------
def test_apply_gradients_and_iterations():
    w = Variable(W0.copy(), dtype="float64")
    opt = optimizers.SGD(0.1)
    opt.apply_gradients([(G1, w)])
    opt.apply([G2], [w])
    opt.apply([None], [w])  # a missing gradient is skipped
    np.testing.assert_allclose(w.value, W0 - 0.1 * (G1 + G2))
    assert opt.iterations == 3
    with pytest.raises(ValueError, match="shape"):
        opt.apply([np.zeros(4)], [w])


def test_new_variables_get_slots_later():
    a, b = Variable(W0.copy(), dtype="float64"), Variable(W0.copy(), dtype="float64")
    opt = optimizers.Adam(0.01)
    opt.apply([G1], [a])
    opt.apply([G1, G1], [a, b])
    assert len(opt.variables) == 4  # m and v for each
    # fresh slots, but the bias correction uses the optimizer's step count (t = 2), as in Keras
    m, v = 0.1 * G1, 0.001 * G1**2
    lr_t = 0.01 * math.sqrt(1 - 0.999**2) / (1 - 0.9**2)
    np.testing.assert_allclose(b.value, W0 - lr_t * m / (np.sqrt(v) + 1e-7))


def test_slots_are_variables_named_after_the_weight():
    w = Variable(np.zeros((2, 3)), name="kernel", dtype="float32")
    opt = optimizers.Adam()
    opt.step([w])
    names = sorted(v.name for v in opt.variables)
    assert names == ["kernel_momentum", "kernel_velocity"]
    assert all(v.shape == (2, 3) and v.dtype == np.float32 and not v.trainable for v in opt.variables)


@pytest.mark.parametrize("opt", [optimizers.SGD(0.1), optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                                 optimizers.RMSprop(centered=True, momentum=0.5), optimizers.Adam(amsgrad=True),
                                 optimizers.AdamW(), optimizers.Adagrad(), optimizers.Adam(clipnorm=1.0),
                                 optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.01, 10, 0.9))],
                         ids=lambda o: repr(o))
def test_float32_stays_float32(opt):
    w = Variable(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"), name="w")
    w.grad[...] = 0.1
    value_before = w.value
    for _ in range(3):
        opt.step([w])
    assert w.value is value_before and w.value.dtype == np.float32  # updated in place, still float32
    assert all(s.dtype == np.float32 for s in opt.variables)
    assert all(b.dtype == np.float32 for b in getattr(opt, "_buffers", []))


@pytest.mark.parametrize("opt", [optimizers.SGD(0.1), optimizers.SGD(0.05, momentum=0.9),
                                 optimizers.SGD(0.05, momentum=0.9, nesterov=True), optimizers.Adam(0.1),
                                 optimizers.RMSprop(0.05), optimizers.Adagrad(0.5), optimizers.AdamW(0.1)],
                         ids=lambda o: type(o).__name__)
def test_minimises_a_quadratic(opt):
    """f(w) = 1/2 (w - c)^T A (w - c), A diagonal with condition number 10."""
    a, c = np.array([1.0, 10.0]), np.array([3.0, -2.0])
    w = Variable(np.zeros(2), dtype="float64")
    for _ in range(500):
        w.grad[...] = a * (w.value - c)
        opt.step([w])
    tol = 0.1 if isinstance(opt, optimizers.AdamW) else 1e-2  # weight decay pulls towards 0
    np.testing.assert_allclose(w.value, c, atol=tol)


# --- the seeds' get_updates optimizer ------------------------------------------------------------------
class CustomOptimizer(optimizers.Optimizer):
    def __init__(self, learning_rate):
        super(CustomOptimizer, self).__init__()
        self.learning_rate = learning_rate

    def get_updates(self, loss, params):
        return [(param, param - self.learning_rate * param.grad) for param in params]


def test_seed_custom_optimizer():
    w = Variable(W0.copy(), name="w", dtype="float64")
    opt = CustomOptimizer(0.1)
    assert opt.learning_rate == 0.1
    value = w.value
    w.grad[...] = G1
    opt.step([w])
    assert w.value is value
    np.testing.assert_allclose(w.value, W0 - 0.1 * G1)
    opt.apply([G2], [w])  # explicit gradients are written into .grad for get_updates
    np.testing.assert_allclose(w.value, W0 - 0.1 * (G1 + G2))
    assert opt.iterations == 2


def test_keras3_style_subclass():
    class SignSGD(optimizers.Optimizer):
        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self.counts = [self.add_variable_from_reference(v, "count") for v in var_list]

        def update_step(self, gradient, variable, learning_rate):
            self.counts[self._get_variable_index(variable)].assign_add(1.0)
            variable.assign_sub(learning_rate * np.sign(gradient))

    w = Variable(W0.copy(), dtype="float64")
    opt = SignSGD(learning_rate=0.5)
    opt.apply([G1], [w])
    opt.apply([G1], [w])
    np.testing.assert_allclose(w.value, W0 - np.sign(G1))
    np.testing.assert_allclose(opt.counts[0].value, 2.0)


# --- learning rate and schedules ----------------------------------------------------------------------
def test_learning_rate_property():
    opt = optimizers.Adam()
    assert opt.learning_rate == 0.001 and isinstance(opt.learning_rate, float)
    opt.learning_rate = np.float32(0.5)
    assert opt.learning_rate == 0.5 and type(opt.learning_rate) is float
    assert opt.lr == 0.5
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = "fast"
    assert optimizers.SGD(lr=0.3).learning_rate == 0.3


def test_exponential_decay():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == 0.1 and s(10) == pytest.approx(0.05) and s(20) == pytest.approx(0.025)
    assert s(5) == pytest.approx(0.1 * 0.5**0.5)
    st = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert st(9) == 0.1 and st(10) == pytest.approx(0.05)


def test_other_schedules():
    p = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [p(0), p(10), p(11), p(20), p(21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    with pytest.raises(ValueError, match="len"):
        schedules.PiecewiseConstantDecay([10], [1.0])
    assert schedules.InverseTimeDecay(1.0, 10, 1.0)(10) == pytest.approx(0.5)
    c = schedules.CosineDecay(1.0, 100, alpha=0.1)
    assert c(0) == pytest.approx(1.0) and c(50) == pytest.approx(0.55) and c(200) == pytest.approx(0.1)


def test_optimizer_follows_its_schedule():
    opt = optimizers.SGD(learning_rate=schedules.PiecewiseConstantDecay([0], [1.0, 0.1]))
    w1, w2 = run(opt, [G1, G1])
    np.testing.assert_allclose(w1, W0 - 1.0 * G1)       # step 0 uses values[0]
    np.testing.assert_allclose(w2, W0 - 1.1 * G1)       # step 1 uses values[1]
    assert opt.learning_rate == 0.1
    from tinynn.optimizers.schedules import ExponentialDecay  # the Keras import path
    assert ExponentialDecay is schedules.ExponentialDecay


# --- names -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [("sgd", optimizers.SGD), ("rmsprop", optimizers.RMSprop), ("adam", optimizers.Adam),
                                      ("adamw", optimizers.AdamW), ("adagrad", optimizers.Adagrad),
                                      ("Adam", optimizers.Adam)])
def test_get_strings(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls


def test_get_other_identifiers():
    opt = optimizers.Adam(0.5)
    assert optimizers.get(opt) is opt
    assert type(optimizers.get(optimizers.SGD)) is optimizers.SGD
    restored = optimizers.get(optimizers.serialize(optimizers.SGD(0.2, momentum=0.5)))
    assert restored.learning_rate == 0.2 and restored.momentum == 0.5
    sched = optimizers.get(optimizers.serialize(optimizers.Adam(schedules.ExponentialDecay(0.1, 5, 0.5))))
    assert sched.learning_rate == 0.1
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'.*adam"):
        optimizers.get("adamm")
    with pytest.raises(TypeError, match="unexpected"):
        optimizers.Adam(beta1=0.9)


# --- packed weights: one update over one flat array equals one update per weight -----------------------
import pytest as _pytest  # noqa: E402

from tinynn import backend as _backend  # noqa: E402
from tinynn import optimizers as _optimizers  # noqa: E402
from tinynn.variables import Variable as _Variable  # noqa: E402


def _weights(packed, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(6, 4), (4,), (4, 3), (3,)]
    ws = [_Variable(rng.normal(size=s), dtype="float64") for s in shapes]
    if packed:
        _, values = _backend.pack([w.value for w in ws])
        _, grads = _backend.pack([w.grad for w in ws])
        for w, v, g in zip(ws, values, grads):
            w.value, w.grad = v, g
    return ws


@_pytest.mark.parametrize("make", [
    lambda: _optimizers.SGD(0.1), lambda: _optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: _optimizers.RMSprop(0.01, momentum=0.5, centered=True), lambda: _optimizers.Adam(0.01, amsgrad=True),
    lambda: _optimizers.AdamW(0.01), lambda: _optimizers.Adagrad(0.1), lambda: _optimizers.Adam(0.01, clipvalue=0.5),
    lambda: _optimizers.Adam(0.01, global_clipnorm=1.0),
])
def test_packed_step_equals_per_weight_steps(make):
    results = []
    for packed in (False, True):
        ws, opt = _weights(packed), make()
        rng = np.random.default_rng(1)
        for _ in range(5):
            for w in ws:
                w.grad[...] = rng.normal(size=w.shape)
            opt.step(ws)
        assert (opt._packed is not None) == packed if hasattr(opt, "_packed") else not packed
        results.append([w.numpy() for w in ws])
    for a, b in zip(*results):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_packing_is_only_used_when_it_is_safe():
    ws = _weights(True)
    for w in ws:
        w.grad[...] = 1.0
    opt = _optimizers.Adam(clipnorm=1.0)                 # per-weight clipping: one weight at a time
    opt.step(ws)
    assert getattr(opt, "_packed", None) is None

    class MyAdam(_optimizers.Adam):                      # a learner's subclass may not be elementwise
        pass

    opt = MyAdam()
    opt.step(ws)
    assert getattr(opt, "_packed", None) is None
    opt = _optimizers.Adam()
    opt.step(ws)
    assert opt._packed is not None
    ws[0].value = ws[0].value.copy()                     # someone replaced an array: no longer packed
    before = ws[0].numpy()
    opt.step(ws)
    assert not np.allclose(ws[0].numpy(), before)        # still updated, one weight at a time
