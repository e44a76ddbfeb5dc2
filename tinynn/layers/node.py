r"""A built-in layer inside autograd's graph: one node whose vector–Jacobian product is the layer's ``backward``.

This is how the three ways of building a model become one mechanism. When a model trains, its inputs are
:class:`~tinynn.autograd.Tensor` s; every layer called on a Tensor becomes a single node of the graph:

* a layer with a hand-written ``backward`` (``Dense``, ``LSTM``, ...) runs its ``call`` on the plain arrays,
  and the node's vector–Jacobian product is that ``backward``: the visible math stays exactly as it is;
* a layer that defines only ``call`` records its operations into the same graph (:mod:`tinynn.autograd`);
* any array math between layers (a subclassed model's ``call``) is recorded as autograd ops.

``autograd.backprop`` then walks the graph once, last node first, and *adds* the gradients where a value
or a weight is used more than once (a fork, a shared layer).

A layer keeps its forward cache in ``self`` (``self._x`` ...). A layer called twice in one forward pass (a
shared layer) would overwrite its first cache, so each node keeps a copy of the layer's attributes right
after its call, and puts it back before its backward when the layer was called again in between.
"""
from __future__ import annotations

import itertools

from tinynn.autograd import Tensor, _node
from tinynn.backend import xp

_SERIAL = itertools.count(1)
_WEIGHTS = Tensor(0.0, requires_grad=True, name="weights")  # a node of a layer with weights always runs backward


def layer_node(layer, inputs, call_kwargs):
    """Call ``layer`` on ``inputs`` (a Tensor, or a list of Tensors/arrays) and record one node for it.

    Returns a Tensor (a list of Tensors when the layer has several outputs, e.g. ``return_state=True``).
    """
    many_in = isinstance(inputs, (list, tuple))
    xs = list(inputs) if many_in else [inputs]
    raw = [x.value if isinstance(x, Tensor) else x for x in xs]
    y = layer.call(raw if many_in else raw[0], **call_kwargs)
    serial = next(_SERIAL)
    layer._node_serial = serial
    state = dict(layer.__dict__)  # this call's forward cache
    many_out = isinstance(y, (list, tuple))
    ys = list(y) if many_out else [y]
    needs = [isinstance(x, Tensor) and x.requires_grad for x in xs]
    weights = [w for w in layer.trainable_weights] if layer.trainable else []
    result = {}

    def run_backward(dys, from_logits=False):
        if layer._node_serial != serial:  # called again since: put this call's cache back
            layer.__dict__.update(state)
            layer._node_serial = serial
        if hasattr(layer, "compute_input_gradient"):
            layer.compute_input_gradient = any(needs)
        if from_logits:  # the loss handed dL/dz for the pre-activation z (fused softmax/sigmoid + cross-entropy)
            dx = layer.backward_from_logits(dys[0])
        elif many_out:
            dx = layer.backward(dys)
        else:
            dx = layer.backward(layer.activity_gradient(dys[0], ys[0]))
        result["dx"] = dx if many_in else [dx]

    def take(i):
        def vjp(_):
            dx = result["dx"][i] if result["dx"] is not None else None
            return xp.zeros_like(raw[i]) if dx is None else dx
        return vjp

    parents = [(x, take(i)) for i, x in enumerate(xs) if needs[i]]
    op = f"{layer.name}"
    if not many_out:
        def vjp_first(g):
            run_backward([g], from_logits=out._use_logits)
            return 0.0
        first = [(_WEIGHTS, vjp_first)] if weights or parents else []
        out = _node(ys[0], op, *(first + parents))
        out._writes = weights
        out._layer = layer
        out._use_logits = False  # set by a model's train_step when the loss gives the fused gradient
        return out
    # several outputs: a hidden head node runs the backward once all outputs' gradients have arrived
    pending = [None] * len(ys)

    def vjp_head(_):
        dys = [xp.zeros_like(v) if g is None else g for v, g in zip(ys, pending)]
        run_backward(dys)
        pending[:] = [None] * len(ys)
        return 0.0

    head = _node(None, op, *(([(_WEIGHTS, vjp_head)] if weights or parents else []) + parents))
    head._writes = weights

    def store(i):
        def vjp(g):
            pending[i] = g if pending[i] is None else pending[i] + g
            return 0.0
        return vjp

    outs = []
    for i, v in enumerate(ys):
        t = _node(v, f"{op}[{i}]", (head, store(i)))
        t._layer = layer
        outs.append(t)
    return outs
