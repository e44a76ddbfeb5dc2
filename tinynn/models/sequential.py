r"""``Sequential``: a chain of layers, the simplest graph, trained with the direct loop below.

One training step is the whole algorithm, in the order the math goes (see :meth:`Sequential.train_step`)::

    y_pred = model(x, training=True)                 # forward through the layers
    loss   = loss_fn(y, y_pred)                      # how wrong we are
    dy     = loss_fn.backward(y, y_pred)             # dL/dy_pred
    for layer in reversed(model.layers):             # backward, last layer first
        dy = layer.backward(dy)                      #   fills every weight's .grad
    optimizer.step(model.trainable_weights)          # w <- w - lr * dL/dw (or Adam, ...)

A chain needs no graph: each layer's ``backward`` takes the ``dy`` of the layer after it. (Functional and
subclassed models, :class:`~tinynn.models.Model`, run the same backward methods through one autograd graph.)
"""
from __future__ import annotations

import math
import warnings

from tinynn import activations, backend
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.layers.base import Layer
from tinynn.layers.core import InputLayer
from tinynn.layers.symbolic import KerasTensor, _traced_output_shape, is_symbolic, symbolic_call
from tinynn.models.inputs import _as_numbers
from tinynn.models import guard
from tinynn.models.model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Dense(128, activation='relu'), Dense(10, activation='softmax')])``."""

    def __init__(self, layers=None, name=None, trainable=True):
        Layer.__init__(self, name=name, trainable=trainable)
        self._graph = None
        self._output_keys = self._input_keys = None
        self._compiled = False
        self._input_layer = None
        self.compiled_metrics = []
        self._fused = [False]
        for layer in layers or []:
            self.add(layer)

    # --- structure --------------------------------------------------------------------------
    @property
    def layers(self):
        """The layers, without the ``InputLayer`` (as in Keras)."""
        return list(self._layers)

    @property
    def _chain(self):
        return self._layers

    @property
    def output_names(self):
        return [self._layers[-1].name] if self._layers else ["output"]

    @property
    def _single_io(self):
        return True

    def _flat_input_names(self):
        return [self._input_layer.name if self._input_layer is not None else "input"]

    def _output_shapes(self):
        return [self.compute_output_shape(self.input_shape)]

    def add(self, layer):
        """Append a layer; a first layer with ``input_shape=`` (or an ``Input``) builds the model at once."""
        if isinstance(layer, KerasTensor) and getattr(layer.node, "is_input", False):
            layer = layer.node.layer  # Sequential([Input(shape=...), ...]): its InputLayer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a tinynn Layer, got {type(layer).__name__} ({layer!r}).")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential: an Input/InputLayer can only be the first layer.")
            self._input_layer = layer
        else:
            if any(existing is layer for existing in self._layers):
                raise ValueError(f"Sequential: layer '{layer.name}' was already added to this model.")
            self._layers.append(layer)
        self.__dict__.pop("_sublayer_cache", None)
        shape = self._declared_input_shape()
        if shape is not None:
            self.build(shape)

    def pop(self):
        """Remove the last layer."""
        if not self._layers:
            raise TypeError("Sequential.pop: there are no layers in the model.")
        self.__dict__.pop("_sublayer_cache", None)
        return self._layers.pop()

    def _declared_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer._batch_input_shape
        if self._layers and self._layers[0]._batch_input_shape is not None:
            return self._layers[0]._batch_input_shape
        return None

    def build(self, input_shape=None):
        """Build every layer from the input shape, layer by layer, with ``compute_output_shape``."""
        input_shape = tuple(input_shape if input_shape is not None else self._declared_input_shape())
        shape = (None, *input_shape[1:])
        self.input_shape = shape
        for layer in self._layers:
            if layer.built:
                if layer.input_spec is not None:
                    layer.input_spec.check(layer, shape)
            else:
                if layer._batch_input_shape is not None and layer is not self._layers[0]:
                    warnings.warn(f"Sequential: input_shape= on layer '{layer.name}' is ignored: only the first layer's counts.",
                                  stacklevel=3)
                layer.build_from_shape(shape)
            if type(layer).compute_output_shape is Layer.compute_output_shape and type(layer).backward is Layer.backward:
                shape = _traced_output_shape(layer, [KerasTensor(shape, layer.dtype)], False, {})  # as Keras traces
            else:
                shape = tuple(layer.compute_output_shape(shape))
        if self._layers:
            self.built = True
            for i, layer in enumerate(self._layers):
                if hasattr(layer, "compute_input_gradient"):
                    layer.compute_input_gradient = i > 0
            self._pack_weights()
        return self

    def _pack_weights(self):
        """Lay the trainable weights one after another in one flat array, and their gradients in another.

        Nothing changes for the layers (each weight's ``.value`` and ``.grad`` are views of the right shape,
        written in place as always); a built-in optimizer then updates all weights in one pass
        (``Optimizer.step``): about 10 % of a batch-32 MLP step saved.
        """
        ws = self.trainable_weights
        if len(ws) < 2 or len({w.value.dtype for w in ws}) != 1 or backend.packed_base([w.value for w in ws]) is not None:
            return
        _, values = backend.pack([w.value for w in ws])
        _, grads = backend.pack([w.grad for w in ws])
        for w, value, grad in zip(ws, values, grads):
            w.value, w.grad = value, grad

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            if type(layer).compute_output_shape is Layer.compute_output_shape and type(layer).backward is Layer.backward \
                    and layer.built:
                shape = _traced_output_shape(layer, [KerasTensor(shape, layer.dtype)], False, {})
            else:
                shape = tuple(layer.compute_output_shape(shape))
        return shape

    # --- forward and backward -----------------------------------------------------------------
    def call(self, x, training=False, mask=None):
        """Run ``x`` through every layer (passing masks on, e.g. from ``Embedding(mask_zero=True)``)."""
        if self._input_layer is not None:
            if self._input_layer.built:
                self._input_layer.input_spec.check(self._input_layer, tuple(x.shape))
            else:
                self._input_layer(x)
        for layer in self._layers:
            x_in = x
            x = layer(x, training=training, mask=mask)
            mask = layer.compute_mask(x_in, mask)
        return x

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        if not self._layers:
            raise ValueError(f"Model '{self.name}' has no layers: add some before calling it.")
        if is_symbolic(inputs):  # used as a layer of a functional model
            if not self.built:
                self.build(inputs.shape)
            return symbolic_call(self, inputs, kwargs)
        if isinstance(inputs, Tensor):  # inside a bigger model's recorded forward pass: layer by layer
            if not self.built:
                self.build(inputs.shape)
            return self.call(inputs, training=training, mask=mask)
        x = backend.to_backend(inputs) if hasattr(inputs, "shape") and hasattr(inputs, "dtype") else backend.asarray(inputs)
        if not self.built:
            self.build(tuple(x.shape))
        return self.call(x, training=training, mask=mask)

    def backward(self, dy, from_logits=False):
        """Backprop ``dy`` = ∂L/∂output through the layers in reverse order; returns ∂L/∂input (or None).

        With ``from_logits=True``, ``dy`` is ∂L/∂z for the last layer's pre-activation ``z`` (the fused
        softmax/sigmoid + cross-entropy gradient).
        """
        layers = self._layers
        if from_logits:
            dy = layers[-1].backward_from_logits(dy)
            layers = layers[:-1]
        for layer in reversed(layers):
            if dy is None:
                break
            dy = layer.backward(layer.activity_gradient(dy))
        return dy

    def _resolve_fused(self):
        last = self._layers[-1]
        fn = self._loss_fns[0]
        fused = getattr(fn, "fused_activation", None)
        self._fused = [bool(fused) and getattr(last, "activation", None) is activations.get(fused) and
                       hasattr(last, "backward_from_logits") and last.__dict__.get("activity_regularizer") is None]

    # --- one step -------------------------------------------------------------------------
    def train_step(self, x, y, sample_weight=None):
        """Forward, loss, backward, update: one step of gradient descent on the batch ``(x, y)``.

        Returns the batch loss (a float, regularisation included). Metrics are updated in place.
        """
        loss_fn = self._loss_fns[0]
        trainable, penalties, activity = self._step_weights()
        if activity:
            self._clear_losses()
        y_pred = self(x, training=True)
        loss = loss_fn(y, y_pred) if sample_weight is None else loss_fn(y, y_pred, sample_weight=sample_weight)
        if activity:
            loss += sum(float(v) for layer in activity for v in layer._added_losses)
        if penalties:
            loss += sum(float(w.regularizer(w.value)) for w in penalties)
        if not math.isfinite(loss):
            return loss  # the caller stops training; the weights stay as they were before this batch
        if self._fused[0]:
            self.backward(loss_fn.logits_backward(y, y_pred, sample_weight=sample_weight), from_logits=True)
        else:
            self.backward(loss_fn.backward(y, y_pred, sample_weight=sample_weight))
        for w in penalties:
            w.grad += w.regularizer.gradient(w.value)
        self._rejected = guard.guarded_step(self.optimizer, trainable)  # None: applied
        for m in self.compiled_metrics:
            m.update_state(y, y_pred, sample_weight=sample_weight)
        return loss

    def _step_weights(self):
        """The trainable weights and the weights with a regulariser, recomputed only when a layer was frozen
        or unfrozen (or added): listing them costs more than a small batch's optimizer call."""
        key = (self.trainable, len(self._layers), *(layer.trainable for layer in self._layers))
        cached = self.__dict__.get("_step_weights_cache")
        if cached is None or cached[0] != key:
            penalties = [w for w in self._all_weights() if w.regularizer is not None]
            activity = [layer for layer in self._layers if layer.__dict__.get("activity_regularizer") is not None]
            cached = self._step_weights_cache = (key, self.trainable_weights, penalties, activity)
        return cached[1], cached[2], cached[3]

    def test_step(self, x, y, sample_weight=None):
        loss_fn = self._loss_fns[0]
        y_pred = self(x, training=False)
        loss = loss_fn(y, y_pred) if sample_weight is None else loss_fn(y, y_pred, sample_weight=sample_weight)
        for m in self.compiled_metrics:
            m.update_state(y, y_pred, sample_weight=sample_weight)
        return loss

    def _predict_batch(self, xs):
        return [self(xs[0], training=False)]

    def _structure_outputs(self, flat):
        return flat[0]

    def _has_add_loss(self):
        return False

    # --- input checks --------------------------------------------------------------------------
    def _prepare_inputs(self, x, where):
        return [self._prepare_x(x, where)]

    def _integer_input(self):
        first = self._layers[0] if self._layers else None
        return bool(getattr(first, "integer_input", False))

    def _prepare_x(self, x, where):
        if x is None:
            raise ValueError(f"{where}: x is None; pass the input data.")
        x = _as_numbers(x, where, "x")
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"{where}: x is empty (shape {tuple(x.shape)}); there is nothing to compute on.")
        if x.dtype.kind in "fiub" and not (x.dtype.kind in "iu" and self._integer_input()):
            x = x.astype(self._layers[0].dtype or backend.floatx(), copy=False)
        elif x.dtype.kind not in "fiub":
            raise ValueError(f"{where}: x must be numbers, got an array of dtype {x.dtype}.")
        if x.dtype.kind == "f" and not bool(xp.isfinite(x).all()):
            bad = int(xp.argwhere(~xp.isfinite(x))[0][0])
            raise ValueError(f"{where}: x contains NaN or infinite values (first in sample {bad}). Clean the data first.")
        if not self.built:
            self.build(tuple(x.shape))
        if self._input_layer is not None and self._input_layer.input_spec is not None:
            self._input_layer.input_spec.check(self._input_layer, tuple(x.shape))
        if self._layers[0].input_spec is not None:
            self._layers[0].input_spec.check(self._layers[0], tuple(x.shape))
        return x

    def get_config(self):
        return {"name": self.name, "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in ([self._input_layer] if self._input_layer else []) + self._layers]}
