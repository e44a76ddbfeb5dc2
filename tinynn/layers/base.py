r"""The layer contract: Keras' ``build`` / ``call`` plus the ``backward`` that Keras hides.

A layer

* creates its weights in ``build(input_shape)`` with ``add_weight`` (each a :class:`~tinynn.variables.Variable`
  holding ``.value`` and a preallocated ``.grad``);
* computes its output in ``call(x, training=False)`` and keeps in ``self`` what backward needs;
* in ``backward(dy)`` receives :math:`\partial L/\partial y`, **writes** the parameter gradients into the
  weights' ``.grad`` buffers (overwriting them) and **returns** :math:`\partial L/\partial x`. It never
  modifies ``dy`` in place.

Calling a layer (``layer(x)``) builds it on first use from ``x.shape`` and checks later inputs against
the shape it was built for, so a wrong input gives an error naming the layer and both shapes.
"""
from __future__ import annotations

import re
from collections import defaultdict

from tinynn import backend, initializers
from tinynn.autograd import Tensor
from tinynn.layers import node, symbolic
from tinynn.layers.entry import (InputSpec, _call_params, _Declared, _is_array, _is_list_of_inputs, _shape_hint,  # noqa: F401
                                 _to_input, shape_str)
from tinynn.variables import Variable

_NAME_COUNTS: defaultdict = defaultdict(int)


def _snake_case(name):
    """Keras' rule: ``Dense`` → ``dense``, ``SimpleRNN`` → ``simple_rnn``, ``LSTM`` → ``lstm``."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix):
    """``dense``, ``dense_1``, ``dense_2``, ... like Keras' automatic layer names."""
    n = _NAME_COUNTS[prefix]
    _NAME_COUNTS[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


class Layer:
    """Base class of all layers (Keras' ``keras.layers.Layer``), with a visible ``backward``."""

    compute_input_gradient = True  # a model sets it False on its first layer: nothing needs that dx

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None,
                 batch_input_shape=None, batch_size=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(map(repr, kwargs))}."
            )
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype
        self.built = False
        self.supports_masking = False
        self.input_spec = None
        self.input_shape = None  # the shape the layer was built for, with None for the batch axis
        self._weights: list[Variable] = []
        self._layers: list[Layer] = []  # sub-layers (e.g. a Bidirectional's two RNNs)
        for arg, value in (("input_shape", input_shape), ("batch_input_shape", batch_input_shape)):
            if value is not None and (not isinstance(value, (tuple, list)) or
                                      not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                                              for d in value)):
                raise TypeError(f"{type(self).__name__} '{self.name}': {arg} must be a tuple of positive sizes, e.g. "
                                f"{arg}=(8,), got {value!r}.")
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size, *tuple(input_shape))
        else:
            self._batch_input_shape = None

    # --- weights ---------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None):
        """Create a :class:`Variable`, initialise it, and register it with this layer."""
        shape = tuple(int(d) for d in (shape or ()))
        dtype = dtype or self.dtype or backend.floatx()
        value = initializers.get(initializer)(shape, dtype)
        if regularizer is not None:
            from tinynn import regularizers  # noqa: PLC0415 - avoid a cycle

            regularizer = regularizers.get(regularizer)
        var = Variable(value, name=f"{self.name}/{name or 'variable'}", trainable=trainable, dtype=dtype,
                       regularizer=regularizer, constraint=constraint)
        self._weights.append(var)
        return var

    @property
    def weights(self):
        """All weights: the trainable ones first, as in Keras."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        return _unique(own + [w for layer in self._sublayers() for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        own = [w for w in self._weights if not w.trainable or not self.trainable]
        subs = [w for layer in self._sublayers() for w in
                (layer.non_trainable_weights if self.trainable else layer.weights)]
        return _unique(own + subs)

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def _sublayers(self):
        """The layers this layer owns: ``self._layers`` plus every layer held in an attribute, a list, a tuple
        or a dict (a custom layer's ``self.dense1 = Dense(64)``), found once the layer is built."""
        cached = self.__dict__.get("_sublayer_cache")
        if cached is not None:
            return cached
        found = list(self._layers)
        for key, value in self.__dict__.items():
            if key in _NOT_OWNED:
                continue
            for v in (value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple))
                      else (value,)):
                if isinstance(v, Layer) and v is not self and not any(v is f for f in found):
                    found.append(v)
        if self.built:
            self._sublayer_cache = found
        return found

    @property
    def variables(self):
        return self.weights

    def get_weights(self):
        """The weights' values as a list of numpy arrays (copies)."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays, in the order of ``get_weights()``."""
        params = self.weights
        if len(weights) != len(params):
            raise ValueError(
                f"Layer '{self.name}' expects {len(params)} weight arrays "
                f"({', '.join(shape_str(p.shape) for p in params)}), got {len(weights)}."
            )
        for p, w in zip(params, weights):
            if tuple(w.shape) != p.shape:
                raise ValueError(
                    f"Layer '{self.name}': weight '{p.name}' has shape {shape_str(p.shape)}, "
                    f"the value given has shape {shape_str(tuple(w.shape))}."
                )
        for p, w in zip(params, weights):
            p.assign(backend.asarray(w, dtype=p.dtype))

    def count_params(self):
        """The number of scalars in all weights."""
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet, so it has no weights to count.")
        return sum(w.size for w in self.weights)

    @property
    def losses(self):
        """What this layer and the layers it owns add to the training loss: the regularisation penalties of
        their weights, and the values given to :meth:`add_loss` during the last call."""
        penalties = [w.regularizer(w.value) for w in self._all_weights() if w.regularizer is not None]
        added = [v for layer in [self, *self._all_sublayers()] for v in layer.__dict__.get("_added_losses", ())]
        return penalties + added

    def add_loss(self, value):
        """Add ``value`` (a number computed in ``call``, e.g. an activity penalty) to the training loss.

        Inside a model's training step the value is part of the graph, so its gradient flows back into the
        weights it depends on. The list is emptied at the start of each call of the model.
        """
        self.__dict__.setdefault("_added_losses", []).append(value)

    def _add_activity_loss(self, y):
        r"""Keras' activity regularization: add :math:`R(y)/N` for this call's output ``y`` (N samples). Its
        gradient :math:`\partial R/\partial y / N` is added to ``dy`` before this layer's backward
        (:meth:`activity_gradient`)."""
        self._activity_output = y
        self.add_loss(self.activity_regularizer(y) / y.shape[0])

    def activity_gradient(self, dy, y=None):
        r""":math:`dy + \partial (R(y)/N)/\partial y` when the layer has an ``activity_regularizer``, else ``dy``."""
        reg = self.__dict__.get("activity_regularizer")
        if reg is None:
            return dy
        y = self._activity_output if y is None else y
        return dy + reg.gradient(y) * (1.0 / y.shape[0])

    def _clear_losses(self):
        for layer in [self, *self._all_sublayers()]:
            if layer.__dict__.get("_added_losses"):
                layer._added_losses = []

    def _all_sublayers(self):
        out = []
        for layer in self._sublayers():
            if not any(layer is o for o in out):
                out.append(layer)
                out.extend(s for s in layer._all_sublayers() if not any(s is o for o in out))
        return out

    def _all_weights(self):
        return _unique(self._weights + [w for layer in self._sublayers() for w in layer._all_weights()])

    # --- build / call ----------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""
        self.built = True

    def call(self, inputs, training=False):
        """The forward pass. Subclasses implement it."""
        raise NotImplementedError(f"Layer '{self.name}' ({type(self).__name__}) does not implement call().")

    def backward(self, dy):
        r""":math:`\partial L/\partial x` from :math:`\partial L/\partial y`; fills the weights' ``.grad``.

        A layer that defines only ``call`` gets its backward from :mod:`tinynn.autograd`: ``Layer.__call__`` ran
        ``call`` once, on tensors that recorded each operation (the tape); this method walks that record
        backwards and does not run ``call`` again.
        """
        from tinynn import autograd  # noqa: PLC0415 - optional engine, loaded on demand

        return autograd.layer_backward(self, dy)

    def compute_output_shape(self, input_shape):
        """The output shape for an input shape (batch axis may be None). Default: unchanged."""
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        """The mask to pass on to the next layer (``None`` unless the layer supports masking)."""
        return mask if self.supports_masking else None

    def build_from_shape(self, input_shape):
        """Build for ``input_shape`` if not built yet, and remember the shape the layer accepts.

        A layer with several inputs (``Concatenate``, ``Add`` ...) gets the list of their shapes."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            if not self.built:
                shapes = [tuple(s) for s in input_shape]
                self.build(shapes)
                self.built = True
                self.input_shape = [(None, *s[1:]) for s in shapes]
                self.__dict__.pop("_sublayer_cache", None)
            return self
        input_shape = tuple(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            self.input_shape = (None, *input_shape[1:])
            self.__dict__.pop("_sublayer_cache", None)
            if self.input_spec is None:
                self.input_spec = InputSpec(min_ndim=len(input_shape) if len(input_shape) > 1 else None,
                                            axes={-1: input_shape[-1]} if len(input_shape) > 1 else {})
        return self

    def _check_declared(self, shape):
        declared = self._batch_input_shape
        if len(declared) != len(shape) or any(d is not None and d != s for d, s in zip(declared[1:], shape[1:])):
            raise ValueError(
                f"Input of layer '{self.name}' ({type(self).__name__}) has the wrong shape: the layer was "
                f"declared with input_shape={shape_str(declared[1:])}, so it expects "
                f"{shape_str((None, *declared[1:]))}, got {shape_str(shape)}." + _shape_hint(_Declared(declared), shape)
            )

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        """Build on first use, check the input shape, then ``call``.

        On symbolic tensors (``Input(...)``) the call is recorded as a node of a functional graph. On
        :class:`~tinynn.autograd.Tensor` s (a model's recorded forward pass) the layer becomes one node of
        autograd's graph (:mod:`tinynn.layers.node`). On arrays it simply computes.
        """
        if symbolic.is_symbolic(inputs):
            return symbolic.symbolic_call(self, inputs, {**kwargs, **({"mask": mask} if mask is not None else {})})
        many = isinstance(inputs, (list, tuple)) and _is_list_of_inputs(inputs)
        xs = [_to_input(v, self) for v in inputs] if many else None
        x = xs if many else _to_input(inputs, self)
        recording = any(isinstance(v, Tensor) for v in xs) if many else isinstance(x, Tensor)
        if mask is None and recording and not many:
            mask = getattr(x, "_keras_mask", None)
        shape = [tuple(v.shape) for v in xs] if many else tuple(x.shape)
        if not self.built:
            if not many and self._batch_input_shape is not None:
                self._check_declared(shape)
            self.build_from_shape(shape)
        elif not many and self.input_spec is not None:
            self.input_spec.check(self, shape)
        call_kwargs = dict(kwargs)
        params = _call_params(type(self))
        if "training" in params:
            call_kwargs["training"] = training
        if "mask" in params and mask is not None:
            call_kwargs["mask"] = mask
        if type(self).backward is Layer.backward:  # no hand-written backward: record call() for autograd
            from tinynn import autograd  # noqa: PLC0415

            y = autograd.layer_forward(self, x, call_kwargs)
        elif recording:
            y = node.layer_node(self, x, call_kwargs)
        else:
            y = self.call(x, **call_kwargs)
            if self.__dict__.get("activity_regularizer") is not None:
                self._add_activity_loss(y)
            return y
        if self.__dict__.get("activity_regularizer") is not None:
            self._add_activity_loss(y.value if isinstance(y, Tensor) else y)
        if recording and isinstance(y, Tensor) and not many and (mask is not None or self.supports_masking):
            y._keras_mask = self.compute_mask(x.value if isinstance(x, Tensor) else x, mask)
        return y

    # --- description -------------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments, so a layer can be re-created with ``from_config``."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def output(self):
        """The symbolic output of this layer's first call in a functional graph (Keras' ``layer.output``)."""
        return self._first_node("output").outputs

    @property
    def input(self):
        """The symbolic input of this layer's first call in a functional graph (Keras' ``layer.input``)."""
        node = self._first_node("input")
        return node.outputs if getattr(node, "is_input", False) else node.inputs

    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic input (tinynn.Input), so "
                                 f"it has no {what} tensor.")
        return nodes[0]

    @property
    def output_shape(self):
        if self.input_shape is None:
            raise AttributeError(f"Layer '{self.name}' is not built: it has no output shape yet.")
        return self.compute_output_shape(self.input_shape)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _unique(items):
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


_NOT_OWNED = frozenset({"_sublayer_cache", "_node_serial", "_step_weights_cache", "_inbound_nodes"})
