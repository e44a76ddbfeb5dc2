r"""Symbolic tensors: what ``Input(shape=...)`` returns and what calling a layer on one gives back.

A :class:`KerasTensor` holds no numbers, only a ``shape`` (batch axis ``None``), a ``dtype`` and the call that
made it (``_keras_history``: the :class:`Node` and the output index). Calling a layer on symbolic tensors
builds the layer, checks the input shapes *now* (a mismatch names the layer, the expected and the received
shape), computes the output shape and records a :class:`Node`. ``Model(inputs, outputs)`` walks these nodes
back from the outputs to find the graph.
"""
from __future__ import annotations

from tinynn import backend
from tinynn.backend import xp


class KerasTensor:
    """A symbolic tensor: ``shape``, ``dtype``, ``name``, and the layer call that produced it."""

    def __init__(self, shape, dtype=None, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype or backend.floatx()
        self.name = name
        self._keras_history = history  # (node, index) or None for an Input
        self._keras_mask = None

    ndim = property(lambda self: len(self.shape))

    @property
    def node(self):
        return self._keras_history[0]

    def __repr__(self):
        from tinynn.layers.base import shape_str  # noqa: PLC0415

        return f"<KerasTensor shape={shape_str(self.shape)}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"{self!r} is symbolic: it has a shape but no values. It describes the input of a model; "
                        "build the model with tinynn.Model(inputs, outputs) and call the model on arrays.")

    def _math(self, op, *others):
        raise TypeError(f"{self!r}: '{op}' on a symbolic tensor. Between layers of a functional model, use a layer "
                        "(layers.Add, layers.Multiply, layers.Lambda ...), or write a subclassed Model whose "
                        "call() does the math on real arrays.")

    __add__ = __radd__ = lambda self, o: self._math("+", o)  # noqa: E731
    __sub__ = __rsub__ = lambda self, o: self._math("-", o)  # noqa: E731
    __mul__ = __rmul__ = lambda self, o: self._math("*", o)  # noqa: E731
    __truediv__ = __matmul__ = lambda self, o: self._math("/ or @", o)  # noqa: E731


class Node:
    """One call of ``layer``: its input tensors, output tensors and keyword arguments."""

    def __init__(self, layer, inputs, outputs, kwargs):
        self.layer, self.inputs, self.outputs, self.kwargs = layer, inputs, outputs, kwargs
        self.many_inputs = isinstance(inputs, (list, tuple))

    @property
    def input_tensors(self):
        return list(self.inputs) if self.many_inputs else [self.inputs]

    @property
    def output_tensors(self):
        return list(self.outputs) if isinstance(self.outputs, (list, tuple)) else [self.outputs]


def is_symbolic(x):
    if isinstance(x, (list, tuple)):
        return bool(x) and any(isinstance(v, KerasTensor) for v in x)
    return isinstance(x, KerasTensor)


def symbolic_call(layer, inputs, kwargs):
    """Record ``layer(inputs)`` on symbolic tensors: build, check shapes, return symbolic outputs."""
    from tinynn.layers.base import Layer  # noqa: PLC0415 - base imports this module

    many = isinstance(inputs, (list, tuple))
    xs = list(inputs) if many else [inputs]
    for i, x in enumerate(xs):
        if not isinstance(x, KerasTensor):
            raise TypeError(f"Layer '{layer.name}' ({type(layer).__name__}) was called on a mix of symbolic tensors "
                            f"and {type(x).__name__} (input {i}). In a functional model every input of a layer must "
                            f"come from Input(...) or from another layer.")
    shapes = [x.shape for x in xs]
    shape = shapes if many else shapes[0]
    if not layer.built:
        if not many and layer._batch_input_shape is not None:
            layer._check_declared(shape)
        layer.build_from_shape(shape)
    elif not many and layer.input_spec is not None:
        layer.input_spec.check(layer, shape)
    if type(layer).compute_output_shape is not Layer.compute_output_shape:
        out_shape = layer.compute_output_shape(shape)
    else:  # not declared: run call() once on zeros of the right shape, as Keras traces it
        out_shape = _traced_output_shape(layer, xs, many, kwargs)
    many_out = isinstance(out_shape, list)
    out_shapes = out_shape if many_out else [out_shape]
    node = Node(layer, inputs, None, dict(kwargs))
    dtype = layer.dtype or backend.floatx()
    outs = [KerasTensor(s, dtype, name=f"{layer.name}" if len(out_shapes) == 1 else f"{layer.name}_{i}",
                        history=(node, i)) for i, s in enumerate(out_shapes)]
    node.outputs = outs if many_out else outs[0]
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    return node.outputs


def _traced_output_shape(layer, xs, many, kwargs):
    arrays = [xp.zeros(tuple(2 if d is None else d for d in x.shape),
                       dtype=x.dtype if str(x.dtype).startswith(("int", "uint")) else (layer.dtype or backend.floatx()))
              for x in xs]
    y = layer(arrays if many else arrays[0], **{k: v for k, v in kwargs.items() if k != "training"}, training=False)
    layer._clear_losses()  # what the trace added is not a loss of any real call
    if isinstance(y, (list, tuple)):
        return [(None, *tuple(v.shape)[1:]) for v in y]
    return (None, *tuple(y.shape)[1:])
