r"""``Model``: a graph of layers, built the functional way or by subclassing.

Functional::

    inputs  = tinynn.Input(shape=(784,))
    h       = Dense(64, activation="relu")(inputs)
    outputs = Dense(10, activation="softmax")(h)
    model   = tinynn.Model(inputs, outputs)

Subclassing::

    class Net(tinynn.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = Dense(64, activation="relu"), Dense(10, activation="softmax")

        def call(self, x, training=False):
            return self.out(self.hidden(x))

Both train the same way (:meth:`Model.train_step`): the forward pass runs on autograd Tensors, so every
layer becomes one node of one graph (its hand-written ``backward`` is the node's vector–Jacobian product;
see :mod:`tinynn.layers.node`), the math between layers is recorded by autograd, and one call of
``autograd.backprop`` from the outputs fills every weight's ``.grad``. ``Sequential`` is the chain case and
keeps its direct loop (:mod:`tinynn.models.sequential`).
"""
from __future__ import annotations

import inspect
import math

from tinynn import autograd, backend
from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.layers.base import Layer, _call_params
from tinynn.layers.symbolic import KerasTensor, is_symbolic, symbolic_call
from tinynn.models import graph, guard, inputs as inputs_module
from tinynn.models.saving import SavingMixin
from tinynn.models.training import Trainer


class Model(SavingMixin, Trainer, Layer):
    """Keras' ``keras.Model``: ``Model(inputs, outputs)`` (functional) or a subclass with its own ``call``."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._graph = None
        self._output_keys = None
        self._input_keys = None
        self._compiled = False
        self._fused = []
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError(f"Model '{self.name}': give both inputs and outputs (functional API), or neither "
                                 "(subclassing).")
            self._graph = graph.Graph(self, inputs, outputs)
            self._layers = self._graph.owned_layers
            self.built = True
            self.input_shape = self._graph.input_shapes if len(self._graph.inputs) > 1 else self._graph.inputs[0].shape
        elif type(self).call is Model.call:
            raise TypeError(f"Model '{self.name}': Model() needs inputs and outputs (tinynn.Model(inputs, outputs)), "
                            "or subclass Model and define call().")

    # --- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        if self._graph is not None:
            return list(self._graph.layers)
        return list(self._sublayers())

    def get_layer(self, name=None, index=None):
        """The layer called ``name`` (or at position ``index`` of ``model.layers``)."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range: model '{self.name}' has {len(layers)} "
                                 "layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r} in model '{self.name}'. Its layers are: "
                         f"{', '.join(l.name for l in layers)}.")

    @property
    def inputs(self):
        return list(self._graph.inputs) if self._graph is not None else None

    @property
    def outputs(self):
        return list(self._graph.outputs) if self._graph is not None else None

    @property
    def input(self):
        return self._graph.input_struct if self._graph is not None else None

    @property
    def output(self):
        return self._graph.output_struct if self._graph is not None else None

    @property
    def output_names(self):
        if self._graph is not None:
            return self._graph.output_names
        if self._output_keys is not None:
            return list(self._output_keys)
        return [f"output_{k}" for k in range(getattr(self, "_n_outputs", 1))]

    @property
    def input_names(self):
        return self._graph.input_names if self._graph is not None else ["input"]

    @property
    def _single_io(self):
        return len(self._flat_input_names()) == 1 and len(self.output_names) == 1

    def _flat_input_names(self):
        return self._graph.input_names if self._graph is not None else (self._input_keys or ["input"] * getattr(
            self, "_n_inputs", 1))

    def _output_shapes(self):
        if self._graph is not None:
            return [t.shape for t in self._graph.outputs]
        return list(getattr(self, "_out_shapes", [None] * len(self.output_names)))

    # --- forward ---------------------------------------------------------------------------------
    def call(self, inputs, training=False, mask=None):
        """The functional model's forward pass: every recorded layer call, in graph order."""
        return self._graph.run(inputs, training)

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        if is_symbolic(inputs):
            if not self.built:
                self._build_from_symbolic(inputs)
            return symbolic_call(self, inputs, kwargs)
        if isinstance(inputs, dict):
            x = {k: _to_input(v) for k, v in inputs.items()}
        elif isinstance(inputs, (list, tuple)):
            x = [_to_input(v) for v in inputs]
        else:
            x = _to_input(inputs)
        if self._graph is None:
            self._clear_losses()
        params = _call_params(type(self))
        call_kwargs = dict(kwargs)
        if "training" in params:
            call_kwargs["training"] = training
        if "mask" in params and mask is not None:
            call_kwargs["mask"] = mask
        out = self.call(x, **call_kwargs)
        if not self.built:
            self._note_structure(x, out)
        return out

    def _build_from_symbolic(self, inputs):
        arrays = graph.zeros_like_symbolic(inputs)
        self(arrays)

    def _note_structure(self, x, out):
        """A subclassed model learns its numbers of inputs and outputs (and their names) at its first call."""
        self._n_inputs = len(x) if isinstance(x, (list, tuple, dict)) else 1
        self._input_keys = list(x) if isinstance(x, dict) else None
        flat = graph.flatten(out)
        self._n_outputs = len(flat)
        self._output_keys = list(out) if isinstance(out, dict) else None
        self._out_shapes = [(None, *tuple(o.shape)[1:]) for o in flat]
        self._out_struct_kind = type(out)
        first = x[0] if isinstance(x, (list, tuple)) else next(iter(x.values())) if isinstance(x, dict) else x
        self.input_shape = (None, *tuple(first.shape)[1:])
        self.built = True
        self.__dict__.pop("_sublayer_cache", None)

    def build(self, input_shape=None):
        """Build a subclassed model by calling it once on zeros of ``input_shape`` (batch axis may be None)."""
        if self.built or input_shape is None:
            return self
        shape = tuple(2 if d is None else d for d in input_shape)
        self(xp.zeros(shape, dtype=backend.floatx()))
        return self

    def compute_output_shape(self, input_shape):
        if self._graph is not None:
            shapes = [t.shape for t in self._graph.outputs]
            return shapes if len(shapes) > 1 else shapes[0]
        if not self.built:
            self.build(input_shape)
        shapes = self._output_shapes()
        return shapes if len(shapes) > 1 else shapes[0]

    def _call_flat(self, xs, training):
        """Run the model on the list ``xs`` (one array or Tensor per input); a list of outputs."""
        self._clear_losses()
        if self._graph is not None:
            return self._graph.run_flat(xs, training)
        if self._input_keys is not None:
            x = dict(zip(self._input_keys, xs))
        else:
            x = xs[0] if len(xs) == 1 and getattr(self, "_n_inputs", 1) == 1 else list(xs)
        out = self(x, training=training)
        return graph.flatten(out)

    def _structure_outputs(self, flat):
        if self._graph is not None:
            return self._graph.structure_outputs(flat)
        if self._output_keys is not None:
            return dict(zip(self._output_keys, flat))
        return flat[0] if len(flat) == 1 and getattr(self, "_out_struct_kind", None) not in (list, tuple) else flat

    def _predict_batch(self, xs):
        return [autograd._raw(o) for o in self._call_flat(xs, training=False)]

    # --- one step ------------------------------------------------------------------------------
    def train_step(self, x, y, sample_weight=None):
        r"""Forward on Tensors, the losses, one backward pass through the whole graph, the update.

        .. math:: L = \sum_k w_k L_k(y_k, \hat y_k) + \sum \text{added losses} + \text{penalties}

        Returns the batch loss (a float). Each output's loss is kept in ``self._last_losses``.
        """
        xs, ys, sws = self._as_lists(x, y, sample_weight)
        self._clear_losses()
        scope = {"_layer": self}
        autograd._SCOPES.append(scope)
        try:
            outs = [autograd._lift(o) for o in self._call_flat([Tensor(v, requires_grad=False) for v in xs], True)]
        finally:
            autograd._SCOPES.pop()
        y_preds = [o.value for o in outs]
        total, parts = self._batch_losses(ys, y_preds, sws)
        added = self._added_losses_list()
        total += sum(float(autograd._raw(v)) for v in added)
        penalties = [w for w in self._all_weights() if w.regularizer is not None]
        if penalties:
            total += sum(float(w.regularizer(w.value)) for w in penalties)
        self._last_losses = parts
        if not math.isfinite(total):
            return total  # the caller stops training; the weights stay as they were before this batch
        roots, dys = [], []
        for k, (fn, out) in enumerate(zip(self._loss_fns, outs)):
            if fn is None:
                continue
            sw = None if sws is None else sws[k]
            fused = self._fused[k] and getattr(out, "_layer", None) is not None
            g = fn.logits_backward(ys[k], y_preds[k], sample_weight=sw) if fused else \
                fn.backward(ys[k], y_preds[k], sample_weight=sw)
            out._use_logits = fused
            roots.append(out)
            dys.append(g if self._loss_weights[k] == 1.0 else g * self._loss_weights[k])
        for v in added:
            if isinstance(v, Tensor) and v.requires_grad:
                roots.append(v)
                dys.append(xp.ones_like(v.value))
        written = autograd.backprop(roots, dys) if roots else set()
        trainable = self.trainable_weights
        for w in trainable:
            if id(w) not in written:
                w.grad[...] = 0  # not on any path to the loss (e.g. an unused branch)
        for w in penalties:
            w.grad += w.regularizer.gradient(w.value)
        self._rejected = guard.guarded_step(self.optimizer, trainable)  # None: applied
        self._update_metrics(ys, y_preds, sws)
        return total

    def test_step(self, x, y, sample_weight=None):
        xs, ys, sws = self._as_lists(x, y, sample_weight)
        y_preds = self._predict_batch(xs)
        total, parts = self._batch_losses(ys, y_preds, sws)
        self._last_losses = parts
        self._update_metrics(ys, y_preds, sws)
        return total

    def _as_lists(self, x, y, sample_weight):
        xs = x if isinstance(x, list) and not self._single_io else [x]
        ys = y if isinstance(y, list) and not self._single_io else [y]
        if sample_weight is None:
            sws = None
        else:
            sws = sample_weight if isinstance(sample_weight, list) and not self._single_io else [sample_weight]
        return xs, ys, sws

    def _added_losses_list(self):
        return [v for layer in [self, *self._all_sublayers()] for v in layer.__dict__.get("_added_losses", ())]

    def _has_add_loss(self):
        return self._graph is None  # a subclassed model may add its whole loss with add_loss (Keras allows loss=None)

    def _resolve_fused(self):
        self._fused = [False] * len(self.output_names)
        if self._graph is None:
            return
        for k, fn in enumerate(getattr(self, "_loss_fns", [])):
            self._fused[k] = fn is not None and self._graph.fusable(k, getattr(fn, "fused_activation", None))

    # --- data ---------------------------------------------------------------------------------------
    _prepare_inputs = inputs_module.prepare_inputs
    _prepare_targets = inputs_module.prepare_targets
    _sample_weights = inputs_module.sample_weights
    _check_input_shapes = inputs_module.check_input_shapes

    # --- description ----------------------------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None, expand_nested=False, show_trainable=False):
        """Print a table of the layers, their output shapes, parameter counts and (functional models) what
        each layer is connected to."""
        from tinynn.models.summary import print_summary  # noqa: PLC0415

        print_summary(self, print_fn or print)

    def get_config(self):
        if self._graph is None:
            base = {"name": self.name, "trainable": self.trainable}
            return base
        return {"name": self.name, "trainable": self.trainable, **self._graph.get_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "output_layers" in config:
            return graph.model_from_config(cls, config, custom_objects)
        return cls(**{k: v for k, v in config.items() if k in inspect.signature(cls.__init__).parameters or
                      k in ("name", "trainable")})

    def __repr__(self):
        kind = "functional" if self._graph is not None else "subclassed"
        return f"<{type(self).__name__} name={self.name!r} ({kind}) built={self.built}>"


def _to_input(v):
    if isinstance(v, (Tensor, KerasTensor)):
        return v
    return backend.to_backend(v) if hasattr(v, "shape") and hasattr(v, "dtype") else backend.asarray(v)


__all__ = ["Model"]
