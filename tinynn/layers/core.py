"""Dense, Activation, Flatten, Reshape, Dropout and Input: the layers of a multi-layer perceptron."""
from __future__ import annotations

import math

from tinynn import activations, backend, constraints, initializers, regularizers
from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer, shape_str


class Dense(Layer):
    """A fully connected layer: :math:`y = f(xW + b)`.

    Shapes: ``x`` (N, D_in) → ``y`` (N, units); ``kernel`` W (D_in, units), ``bias`` b (units,).
    Inputs with more axes, (N, ..., D_in), are transformed along the last axis.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense '{self.name}': units must be a positive integer, got {units!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if self.activity_regularizer is not None and not hasattr(self.activity_regularizer, "gradient"):
            raise NotImplementedError(f"Dense '{self.name}': activity_regularizer must be a tinynn regularizer "
                                      "(L1, L2, L1L2: they know their gradient), not a plain function.")
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)  # applied by the optimizer after each update
        self.bias_constraint = constraints.get(bias_constraint)
        self.compute_input_gradient = True

    def build(self, input_shape):
        d_in = input_shape[-1]
        if d_in is None:
            raise ValueError(f"Dense '{self.name}': the last axis of the input must be known, got {shape_str(input_shape)}.")
        self.kernel = self.add_weight((d_in, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias", regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: d_in})

    def call(self, x, training=False):
        """:math:`z = xW + b`, :math:`y = f(z)`; keeps ``x``, ``z`` and ``y`` for backward."""
        self._x_shape = x.shape
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        z = x2 @ self.kernel.value
        if self.use_bias:
            z += self.bias.value
        if self.activation is activations.relu:
            y = xp.maximum(z, 0, out=z)  # z itself is not needed for relu's backward
        else:
            y = self.activation(z)
        self._x, self._z, self._y = x2, z, y
        return y.reshape(*x.shape[:-1], self.units) if x.ndim != 2 else y

    def backward(self, dy):
        r"""Backprop through the activation, then through :math:`z = xW + b`:

        .. math:: dz = dy \odot f'(z),\quad dW = x^\top dz,\quad db = \textstyle\sum_n dz_n,\quad dx = dz\,W^\top

        Shapes: dy, dz (N, units); dW (D_in, units); db (units,); dx (N, D_in).
        """
        dy = dy.reshape(-1, self.units) if dy.ndim != 2 else dy
        return self.backward_from_logits(activations.backward(self.activation, self._z, self._y, dy))

    def backward_from_logits(self, dz):
        r"""The same backward, starting from :math:`dz = \partial L/\partial z` (the fused
        softmax/sigmoid + cross-entropy gradient skips :math:`f'`)."""
        xp.matmul(self._x.T, dz, out=self.kernel.grad)
        if self.use_bias:
            dz.sum(axis=0, out=self.bias.grad)
        if not self.compute_input_gradient:
            return None
        dx = dz @ self.kernel.value.T
        return dx.reshape(self._x_shape) if len(self._x_shape) != 2 else dx

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias, "kernel_constraint": constraints.serialize_or_none(self.kernel_constraint),
                "bias_constraint": constraints.serialize_or_none(self.bias_constraint),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)
                if self.activity_regularizer is not None else None}


class Activation(Layer):
    """Applies an activation function: :math:`y = f(x)`, same shape in and out."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, x, training=False):
        self._x, self._y = x, self.activation(x)
        return self._y

    def backward(self, dy):
        r""":math:`dx = dy \odot f'(x)` (softmax: :math:`y \odot (dy - \sum dy\,y)`)."""
        return activations.backward(self.activation, self._x, self._y, dy)

    def backward_from_logits(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Flatten(Layer):
    """Flattens every sample: (N, d1, d2, ...) → (N, d1·d2·...)."""

    def build(self, input_shape):
        self.input_spec = InputSpec(shape=(None, *input_shape[1:]))

    def call(self, x, training=False):
        self._x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        """:math:`dx` = ``dy`` reshaped back to the input's shape."""
        return dy.reshape(self._x_shape)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def build(self, input_shape):
        self.input_spec = InputSpec(shape=(None, *input_shape[1:]))
        self.compute_output_shape(input_shape)  # validates the sizes now, with a clear error

    def call(self, x, training=False):
        self._x_shape = x.shape
        return x.reshape(x.shape[0], *self.target_shape)

    def backward(self, dy):
        return dy.reshape(self._x_shape)

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape[1:]) if all(d is not None for d in input_shape[1:]) else None
        target = list(self.target_shape)
        if -1 in target and size is not None:
            known = math.prod(d for d in target if d != -1)
            if size % known:
                raise ValueError(f"Reshape '{self.name}': cannot reshape {shape_str(input_shape)} to {shape_str(self.target_shape)}.")
            target[target.index(-1)] = size // known
        elif size is not None and math.prod(target) != size:
            raise ValueError(
                f"Reshape '{self.name}': an input of shape {shape_str(input_shape)} has {size} values per sample, "
                f"the target shape {shape_str(self.target_shape)} has {math.prod(target)}."
            )
        return (input_shape[0], *target)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    r"""Inverted dropout: while training, zero each value with probability ``rate`` and scale the rest
    by :math:`1/(1 - \text{rate})`, so nothing changes at inference time.

    :math:`y = x \odot m`, :math:`m_i = \mathbb{1}[u_i \ge \text{rate}] / (1 - \text{rate})`, :math:`u_i \sim U(0, 1)`.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout '{self.name}': rate must be in [0, 1), got {rate!r}.")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self.supports_masking = True
        self._rng = None

    def call(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        if self._rng is None:
            self._rng = backend.rng() if self.seed is None else xp.random.default_rng(self.seed)
        shape = self.noise_shape or x.shape
        keep = self._rng.random(size=shape, dtype=x.dtype) >= self.rate
        self._mask = keep * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, dy):
        r""":math:`dx = dy \odot m` (the same mask as the forward pass)."""
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class InputLayer(Layer):
    """Declares the shape of the model's input (what ``Input(shape=...)`` creates); passes data through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, input_shape=None, name=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None and "batch_input_shape" not in kwargs:
            raise ValueError("InputLayer needs shape=(...), the shape of one sample.")
        super().__init__(input_shape=shape, batch_size=batch_size, dtype=dtype, name=name, **kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        self.input_spec = InputSpec(shape=self._batch_input_shape)

    def call(self, x, training=False):
        return x

    def backward(self, dy):
        return dy


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, sparse=None, tensor=None,  # noqa: N802
          optional=False):
    """A model's input, as a symbolic tensor (Keras' ``keras.Input``): ``inputs = Input(shape=(784,))``.

    It has a ``shape`` (batch axis ``None``), a ``dtype`` and a ``name``; calling layers on it builds a
    functional model's graph (``Model(inputs, outputs)``). ``Sequential([Input(shape=(784,)), ...])`` uses
    it to declare the input shape.
    """
    from tinynn.layers.symbolic import KerasTensor, Node  # noqa: PLC0415

    for arg, value in (("sparse", sparse), ("tensor", tensor)):
        if value:
            raise NotImplementedError(f"Input: {arg}= is not supported by tinynn.")
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if shape is None:
        raise ValueError("Input needs shape=(...), the shape of one sample, e.g. Input(shape=(784,)).")
    if isinstance(shape, int):
        shape = (shape,)
    layer = InputLayer(shape=tuple(shape), batch_size=batch_size, dtype=dtype, name=name)
    layer.build_from_shape((batch_size, *tuple(shape)))
    node = Node(layer, [], None, {})
    node.is_input = True
    layer._inbound_nodes = [node]
    tensor = KerasTensor((None, *tuple(shape)), dtype or backend.floatx(), name=layer.name, history=(node, 0))
    node.outputs = tensor
    return tensor
