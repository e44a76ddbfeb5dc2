r"""Optimizers with Keras 3's shape: ``build`` creates the slots, ``update_step`` changes one weight in place.

One step, ``apply(grads, variables)``:

1. on first use, ``build(variables)`` creates each optimizer's slots (momentum, moments, ...) with
   ``add_variable_from_reference``;
2. the gradients are clipped if asked (``clipvalue`` per element, ``clipnorm`` per weight,
   ``global_clipnorm`` over all the weights together);
3. decoupled weight decay :math:`w \leftarrow w(1 - \eta\lambda)` if ``weight_decay`` is set;
4. ``update_step(gradient, variable, learning_rate)`` for each weight;
5. ``iterations += 1``.

The updates run in place, with preallocated scratch buffers and Python-float scalars: in a small MLP the
optimizer is about half of the training step, and a NumPy float64 scalar would silently turn every float32
update into a float64 one.

>>> from tinynn.variables import Variable
>>> from tinynn.backend import xp
>>> w = Variable(xp.array([1.0, -2.0]))
>>> w.grad[...] = xp.array([0.5, 0.5])
>>> opt = SGD(learning_rate=0.1)
>>> opt.step([w]); w.value.tolist(), opt.iterations
([0.95, -2.05], 1)
"""
from __future__ import annotations

import math
import sys

from tinynn import backend, constraints
from tinynn import optimizers_schedules as schedules
from tinynn.backend import xp
from tinynn.variables import Variable

# ``from tinynn.optimizers.schedules import ExponentialDecay`` works as in Keras
sys.modules.setdefault(__name__ + ".schedules", schedules)

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "schedules", "get", "serialize"]


def _is_schedule(value):
    return isinstance(value, schedules.LearningRateSchedule)


class Optimizer:
    r"""Base class of the optimizers (Keras' ``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a float or a :class:`~tinynn.optimizers.schedules.LearningRateSchedule`.
        weight_decay: decoupled weight decay :math:`\lambda`: before each update
            :math:`w \leftarrow w - \eta\lambda w`.
        clipnorm: rescale each gradient whose norm exceeds it: :math:`g \leftarrow g\,c/\max(\|g\|, c)`.
        clipvalue: clip each gradient element to :math:`[-c, c]`.
        global_clipnorm: rescale all gradients together: :math:`g \leftarrow g\,c/\max(\|(g_1,\dots)\|, c)`.

    A subclass defines ``build(variables)`` (slots) and ``update_step(gradient, variable, learning_rate)``;
    or, in the older Keras style of the tutorials, ``get_updates(loss, params)`` returning
    ``(param, new_value)`` pairs computed from ``param.grad``.
    """

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        if "lr" in kwargs:  # Keras 2 spelling, still common in tutorials
            learning_rate = kwargs.pop("lr")
        for key in ("use_ema", "loss_scale_factor", "gradient_accumulation_steps"):
            if kwargs.get(key):
                raise NotImplementedError(f"{type(self).__name__}: {key} is not supported by tinynn.")
            kwargs.pop(key, None)
        kwargs.pop("ema_momentum", None)
        kwargs.pop("ema_overwrite_frequency", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {', '.join(sorted(kwargs))}.")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{type(self).__name__}: only one of clipnorm, clipvalue and global_clipnorm can be set, got "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}."
            )
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            if value is not None and value <= 0:
                raise ValueError(f"{type(self).__name__}: {arg} must be positive, got {value!r}.")
        self.name = name or _snake(type(self).__name__)
        self.learning_rate = learning_rate
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.iterations = 0
        self.built = False
        self._variables = []       # the weights this optimizer updates (kept alive so their ids stay unique)
        self._var_index = {}       # id(weight) -> its position in _variables and in every slot list
        self._slot_variables = []
        self._exclude_ids, self._exclude_names = set(), ()

    # --- the learning rate ---------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate as a float (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return float(lr(self.iterations)) if _is_schedule(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if _is_schedule(value):
            self._learning_rate = value
            return
        value = getattr(value, "value", value)
        try:
            self._learning_rate = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(self).__name__}: learning_rate must be a float or a LearningRateSchedule, got {value!r}."
            ) from None

    lr = learning_rate  # Keras 2 name

    # --- slots -------------------------------------------------------------------------------------
    def build(self, variables):
        """Register the weights (those not seen before) and return them; subclasses add their slots."""
        new = []
        for v in variables:
            if id(v) not in self._var_index:
                self._var_index[id(v)] = len(self._variables)
                self._variables.append(v)
                new.append(v)
        self.built = True
        return new

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A new slot: a non-trainable Variable of the reference's shape and dtype, filled with
        ``initializer`` (``'zeros'``, ``'ones'`` or a number)."""
        ref = getattr(reference_variable, "value", reference_variable)
        fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
        value = xp.full(ref.shape, float(fill), dtype=ref.dtype)
        slot = Variable(value, name=f"{getattr(reference_variable, 'name', 'variable')}_{name or 'slot'}",
                        trainable=False, dtype=ref.dtype)
        self._slot_variables.append(slot)
        return slot

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A new slot of the given shape (Keras' ``add_variable``)."""
        fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
        slot = Variable(xp.full(tuple(shape), float(fill), dtype=dtype or "float32"), name=name or "slot",
                        trainable=False, dtype=dtype)
        self._slot_variables.append(slot)
        return slot

    def _get_variable_index(self, variable):
        try:
            return self._var_index[id(variable)]
        except KeyError:
            raise _UnregisteredWeight(_unregistered(self, variable)) from None

    @property
    def variables(self):
        """The optimizer's own state (its slots)."""
        return list(self._slot_variables)

    # --- one step ----------------------------------------------------------------------------------
    def update_step(self, gradient, variable, learning_rate):
        """Update ``variable.value`` in place from ``gradient`` (an array of the same shape)."""
        raise NotImplementedError(f"{type(self).__name__} must define update_step(gradient, variable, learning_rate).")

    def get_updates(self, loss, params):
        """Keras 2's way: return ``[(param, new_value), ...]``; override it instead of ``update_step``."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_updates; it uses update_step.")

    def step(self, variables):
        """One update of ``variables`` from their ``.grad`` buffers: ``apply([v.grad for v in variables], variables)``.

        A built-in optimizer updates every element by the same formula with the same scalars, so when the
        weights (and their gradients) lie one after another in one flat array — ``Sequential`` packs them
        so — it runs ``update_step`` once on that array instead of once per weight: the same numbers, with
        one NumPy call per operation instead of one per operation and weight.
        """
        variables = list(variables)
        packed = self._packed_variable(variables)
        if packed is not None:
            self.apply([packed.grad], [packed])
            constraints.apply_constraints(variables)  # per weight, as Keras: w <- constraint(w)
            return None
        return self.apply([v.grad for v in variables], variables)

    def _packed_variable(self, variables):
        """A Variable whose value and grad are the flat arrays holding all ``variables`` (or None)."""
        if type(self) not in _PACKABLE or self.clipnorm is not None or self._exclude_ids or self._exclude_names:
            return None
        key = tuple(id(v.value) for v in variables) + tuple(id(v.grad) for v in variables)
        cached = getattr(self, "_packed", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if cached is not None or any(id(v) in self._var_index for v in variables):
            return None  # these weights already have per-weight state: keep updating them one by one
        value = backend.packed_base([v.value for v in variables])
        grad = backend.packed_base([v.grad for v in variables])
        if value is None or grad is None or len(variables) < 2:
            return None
        packed = Variable(value, name="packed_weights", dtype=value.dtype)
        packed.grad = grad
        self._packed = (key, packed, list(variables))  # keeps the arrays alive, so their ids stay unique
        return packed

    def apply_gradients(self, grads_and_vars):
        """Keras' ``apply_gradients([(grad, variable), ...])``."""
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, variables=None):
        """Clip, decay and update every ``(grad, variable)`` pair; gradients that are ``None`` are skipped."""
        if variables is None:
            variables = self._variables
        grads, variables = list(grads), list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}: got {len(grads)} gradients for {len(variables)} variables.")
        if any(g is None for g in grads):
            pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
            grads, variables = [g for g, _ in pairs], [v for _, v in pairs]
        for g, v in zip(grads, variables):
            if g.shape != v.value.shape:
                raise ValueError(
                    f"{type(self).__name__}: the gradient of '{getattr(v, 'name', '?')}' has shape {tuple(g.shape)}, "
                    f"the variable has shape {tuple(v.value.shape)}."
                )
        if self.clipnorm is not None or self.clipvalue is not None or self.global_clipnorm is not None:
            grads = self._clip_gradients(grads)
        if type(self).get_updates is not Optimizer.get_updates:
            return self._apply_get_updates(grads, variables)
        idx = self._var_index
        if not self.built or any(id(v) not in idx for v in variables):
            self.build(variables)
            missing = [v for v in variables if id(v) not in idx]
            if missing:
                raise RuntimeError(_unregistered(self, missing[0]))
        lr = self.learning_rate
        if self.weight_decay:
            self._apply_weight_decay(variables, lr)
        for g, v in zip(grads, variables):
            self.update_step(g, v, lr)
        constraints.apply_constraints(variables)
        self.iterations += 1

    def _apply_get_updates(self, grads, variables):
        for g, v in zip(grads, variables):
            if g is not v.grad:
                v.grad[...] = g
        for param, new_value in self.get_updates(None, variables):
            param.assign(new_value)
        constraints.apply_constraints(variables)
        self.iterations += 1

    def _clip_gradients(self, grads):
        """New arrays (the ``.grad`` buffers are left as the backward pass wrote them)."""
        if self.clipvalue is not None:
            c = self.clipvalue
            return [xp.clip(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            c = self.clipnorm
            return [g * (c / max(float(xp.sqrt((g * g).sum())), c)) for g in grads]
        c = self.global_clipnorm
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        return [g * (c / max(norm, c)) for g in grads]

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt some weights from weight decay (by object, or by a substring of their name, e.g. 'bias')."""
        self._exclude_ids |= {id(v) for v in var_list or ()}
        self._exclude_names = tuple(self._exclude_names) + tuple(var_names or ())

    def _apply_weight_decay(self, variables, learning_rate):
        r"""Decoupled weight decay: :math:`w \leftarrow w(1 - \eta\lambda)`."""
        factor = 1.0 - learning_rate * self.weight_decay
        for v in variables:
            if id(v) in self._exclude_ids or any(n in getattr(v, "name", "") for n in self._exclude_names):
                continue
            v.value *= factor

    # --- config ---------------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": schedules.serialize(lr) if _is_schedule(lr) else lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate
        return f"<{type(self).__name__} learning_rate={lr if _is_schedule(lr) else round(lr, 8)} iterations={self.iterations}>"


class _UnregisteredWeight(KeyError):
    def __str__(self):  # a KeyError would print its message in quotes
        return str(self.args[0])


def _unregistered(optimizer, variable):
    name = type(optimizer).__name__
    return (f"{name}: the weight '{getattr(variable, 'name', '?')}' was not registered by {name}.build(variables). "
            f"A custom optimizer's build must call super().build(variables) first: it records every weight, "
            f"so that self._get_variable_index(variable) finds its slots.")


def _snake(name):
    return {"SGD": "sgd", "RMSprop": "rmsprop", "AdamW": "adamw"}.get(name, name.lower())


class SGD(Optimizer):
    r"""Gradient descent, optionally with momentum (Keras' formulas):

    .. math:: m \leftarrow \mu m - \eta g,\qquad w \leftarrow w + m
              \quad(\text{Nesterov: } w \leftarrow w + \mu m - \eta g)

    and without momentum simply :math:`w \leftarrow w - \eta g`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum!r}.")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self._momentums, self._buffers = [], []

    def build(self, variables):
        new = super().build(variables)
        for v in new:
            self._momentums.append(self.add_variable_from_reference(v, "momentum").value if self.momentum else None)
            self._buffers.append(xp.empty_like(v.value))

    def update_step(self, gradient, variable, learning_rate):
        i = self._var_index[id(variable)]
        w, t = variable.value, self._buffers[i]
        xp.multiply(gradient, learning_rate, out=t)          # t = lr g
        if not self.momentum:
            w -= t
            return
        m, mu = self._momentums[i], self.momentum
        m *= mu
        m -= t                                               # m = mu m - lr g
        if self.nesterov:
            w -= t
            xp.multiply(m, mu, out=t)
            w += t                                           # w += mu m - lr g
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    r"""Divide the step by a running RMS of the gradients (Keras' formulas):

    .. math:: v \leftarrow \rho v + (1 - \rho) g^2,\qquad \Delta = \frac{\eta\, g}{\sqrt{v + \epsilon}},
              \qquad w \leftarrow w - \Delta

    ``centered=True`` uses :math:`v - \bar g^2` with :math:`\bar g \leftarrow \rho\bar g + (1 - \rho) g`;
    ``momentum`` :math:`\mu > 0`: :math:`s \leftarrow \mu s + \Delta`, :math:`w \leftarrow w - s`.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), bool(centered)
        self._velocities, self._momentums, self._average_gradients, self._buffers = [], [], [], []

    def build(self, variables):
        new = super().build(variables)
        for v in new:
            self._velocities.append(self.add_variable_from_reference(v, "velocity").value)
            self._momentums.append(self.add_variable_from_reference(v, "momentum").value if self.momentum > 0 else None)
            self._average_gradients.append(
                self.add_variable_from_reference(v, "average_gradient").value if self.centered else None)
            self._buffers.append(xp.empty_like(v.value))

    def update_step(self, gradient, variable, learning_rate):
        i = self._var_index[id(variable)]
        w, vel, t, rho = variable.value, self._velocities[i], self._buffers[i], self.rho
        xp.multiply(gradient, gradient, out=t)
        t *= 1.0 - rho
        vel *= rho
        vel += t                                             # v = rho v + (1 - rho) g^2
        if self.centered:
            avg = self._average_gradients[i]
            avg *= rho
            xp.multiply(gradient, 1.0 - rho, out=t)
            avg += t                                         # gbar = rho gbar + (1 - rho) g
            xp.multiply(avg, avg, out=t)
            xp.subtract(vel, t, out=t)
            t += self.epsilon
        else:
            xp.add(vel, self.epsilon, out=t)
        xp.sqrt(t, out=t)
        xp.divide(gradient, t, out=t)
        t *= learning_rate                                   # delta = lr g / sqrt(v + eps)
        if self.momentum > 0:
            s = self._momentums[i]
            s *= self.momentum
            s += t
            w -= s
        else:
            w -= t

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), in Keras 3's form. At step :math:`t = 1, 2, \dots`:

    .. math:: m \leftarrow m + (g - m)(1 - \beta_1),\qquad v \leftarrow v + (g^2 - v)(1 - \beta_2)

    .. math:: \eta_t = \eta\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t},\qquad
              w \leftarrow w - \eta_t\,\frac{m}{\sqrt{v} + \epsilon}

    ``amsgrad=True`` divides by :math:`\sqrt{\hat v}` with :math:`\hat v = \max(\hat v, v)`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), bool(amsgrad)
        self._momentums, self._velocities, self._velocity_hats, self._buffers = [], [], [], []

    def build(self, variables):
        new = super().build(variables)
        for v in new:
            self._momentums.append(self.add_variable_from_reference(v, "momentum").value)
            self._velocities.append(self.add_variable_from_reference(v, "velocity").value)
            self._velocity_hats.append(
                self.add_variable_from_reference(v, "velocity_hat").value if self.amsgrad else None)
            self._buffers.append(xp.empty_like(v.value))

    def update_step(self, gradient, variable, learning_rate):
        i = self._var_index[id(variable)]
        w, m, v, t = variable.value, self._momentums[i], self._velocities[i], self._buffers[i]
        b1, b2 = self.beta_1, self.beta_2
        step = self.iterations + 1                           # Python floats only: see the module docstring
        alpha = learning_rate * math.sqrt(1.0 - b2**step) / (1.0 - b1**step)
        xp.subtract(gradient, m, out=t)
        t *= 1.0 - b1
        m += t                                               # m += (g - m)(1 - b1)
        xp.multiply(gradient, gradient, out=t)
        t -= v
        t *= 1.0 - b2
        v += t                                               # v += (g^2 - v)(1 - b2)
        if self.amsgrad:
            v = xp.maximum(self._velocity_hats[i], v, out=self._velocity_hats[i])
        xp.sqrt(v, out=t)
        t += self.epsilon
        xp.divide(m, t, out=t)
        t *= alpha
        w -= t                                               # w -= alpha m / (sqrt(v) + eps)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): before each Adam step
    :math:`w \leftarrow w(1 - \eta\lambda)`, with :math:`\lambda` = ``weight_decay`` (0.004, as in Keras)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number (use Adam for no weight decay).")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name=name, **kwargs)


class Adagrad(Optimizer):
    r"""Per-weight learning rates shrinking with the accumulated squared gradients (Keras' formulas):

    .. math:: a \leftarrow a + g^2,\qquad w \leftarrow w - \frac{\eta\, g}{\sqrt{a + \epsilon}},
              \qquad a_0 = \text{initial\_accumulator\_value}
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)
        self._accumulators, self._buffers = [], []

    def build(self, variables):
        new = super().build(variables)
        for v in new:
            self._accumulators.append(
                self.add_variable_from_reference(v, "accumulator", self.initial_accumulator_value).value)
            self._buffers.append(xp.empty_like(v.value))

    def update_step(self, gradient, variable, learning_rate):
        i = self._var_index[id(variable)]
        w, a, t = variable.value, self._accumulators[i], self._buffers[i]
        xp.multiply(gradient, gradient, out=t)
        a += t                                               # a += g^2
        xp.add(a, self.epsilon, out=t)
        xp.sqrt(t, out=t)
        xp.divide(gradient, t, out=t)
        t *= learning_rate
        w -= t                                               # w -= lr g / sqrt(a + eps)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a Keras name (``'adam'``, ``'sgd'``, ``'rmsprop'``, ``'adamw'``, ``'adagrad'``,
    with default settings), an instance, a class, or a ``{'class_name': ..., 'config': ...}`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}. Known optimizers: {', '.join(_OPTIMIZERS)}.")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _OPTIMIZERS.get(identifier["class_name"].lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier['class_name']!r}. Known optimizers: {', '.join(_OPTIMIZERS)}.")
        return cls.from_config(identifier.get("config", {}))
    raise ValueError(f"Could not interpret optimizer {identifier!r}: expected a name like 'adam' or an Optimizer.")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


#: the optimizers whose update_step is elementwise, so that Optimizer.step may run it on packed weights
_PACKABLE = (SGD, RMSprop, Adam, AdamW, Adagrad)
