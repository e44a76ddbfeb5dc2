r"""The graph of a functional model: the recorded layer calls between its inputs and its outputs.

``Graph(model, inputs, outputs)`` walks back from the outputs through the :class:`~tinynn.layers.symbolic.Node`
s that made them, checks that every path ends at one of the given inputs, and orders the nodes so that each
comes after the nodes it reads from. Running the model runs the nodes in that order.
"""
from __future__ import annotations

from tinynn.autograd import Tensor
from tinynn.backend import xp
from tinynn.layers.base import _unique, shape_str
from tinynn.layers.symbolic import KerasTensor


def flatten(struct):
    if isinstance(struct, dict):
        return list(struct.values())
    if isinstance(struct, (list, tuple)):
        return list(struct)
    return [struct]


def zeros_like_symbolic(inputs):
    def z(t):
        return xp.zeros(tuple(2 if d is None else d for d in t.shape), dtype=t.dtype)
    if isinstance(inputs, dict):
        return {k: z(v) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return [z(v) for v in inputs]
    return z(inputs)


class Graph:
    def __init__(self, model, inputs, outputs):
        self.model = model
        self.input_struct, self.output_struct = inputs, outputs
        self.inputs, self.outputs = flatten(inputs), flatten(outputs)
        for what, tensors in (("inputs", self.inputs), ("outputs", self.outputs)):
            for i, t in enumerate(tensors):
                if not isinstance(t, KerasTensor):
                    raise TypeError(f"Model '{model.name}': {what}[{i}] is a {type(t).__name__}, not a symbolic tensor. "
                                    "inputs must come from tinynn.Input(...) and outputs from layers called on them.")
        for i, t in enumerate(self.inputs):
            if not getattr(t.node, "is_input", False):
                raise ValueError(f"Model '{model.name}': inputs[{i}] ({t.name}) is the output of layer "
                                 f"'{t.node.layer.name}', not an Input. Pass the tensors made by tinynn.Input(...).")
        self.nodes = self._ordered_nodes()
        self.input_names = list(inputs) if isinstance(inputs, dict) else [t.node.layer.name for t in self.inputs]
        if isinstance(outputs, dict):
            self.output_names = list(outputs)
        else:
            names, seen = [], {}
            for t in self.outputs:
                base = t.node.layer.name
                seen[base] = seen.get(base, 0) + 1
                names.append(base if seen[base] == 1 else f"{base}_{seen[base] - 1}")
            self.output_names = names
        self.input_shapes = [t.shape for t in self.inputs]
        self.layers = _unique([t.node.layer for t in self.inputs] + [n.layer for n in self.nodes])
        self.owned_layers = _unique([n.layer for n in self.nodes])
        self.consumers = {}
        for n in self.nodes:
            for t in n.input_tensors:
                self.consumers.setdefault(id(t), []).append(n)

    def _ordered_nodes(self):
        input_ids = {id(t) for t in self.inputs}
        order, state = [], {}
        for out in self.outputs:
            stack = [(out, False)]
            while stack:
                t, done = stack.pop()
                node = t.node
                if id(t) in input_ids:
                    continue
                if getattr(node, "is_input", False):
                    raise ValueError(
                        f"Model '{self.model.name}': the graph does not connect: an output depends on the Input "
                        f"'{node.layer.name}' {shape_str(t.shape)}, which is not among the model's inputs "
                        f"({', '.join(i.node.layer.name for i in self.inputs)}). Add it to inputs=[...].")
                if done:
                    if state.get(id(node)) != "done":
                        state[id(node)] = "done"
                        order.append(node)
                    continue
                if state.get(id(node)) == "done":
                    continue
                stack.append((t, True))
                stack.extend((i, False) for i in node.input_tensors)
        return order

    # --- running ----------------------------------------------------------------------------
    def run(self, inputs, training):
        if isinstance(inputs, dict):
            missing = [k for k in self.input_names if k not in inputs]
            if missing:
                raise ValueError(f"Model '{self.model.name}': inputs {missing} are missing; expected "
                                 f"{self.input_names}.")
            xs = [inputs[k] for k in self.input_names]
        else:
            xs = flatten(inputs)
        return self.structure_outputs(self.run_flat(xs, training))

    def run_flat(self, xs, training):
        if len(xs) != len(self.inputs):
            raise ValueError(f"Model '{self.model.name}' expects {len(self.inputs)} input(s) "
                             f"({', '.join(self.input_names)}), got {len(xs)}.")
        values = {id(t): x for t, x in zip(self.inputs, xs)}
        masks = {}
        for node in self.nodes:
            args = [values[id(t)] for t in node.input_tensors]
            kwargs = {k: v for k, v in node.kwargs.items() if k not in ("training", "mask")}
            mask = None if node.many_inputs else masks.get(id(node.input_tensors[0]))
            out = node.layer(args if node.many_inputs else args[0], training=training, mask=mask, **kwargs)
            outs = flatten(out) if isinstance(out, (list, tuple)) else [out]
            for t, o in zip(node.output_tensors, outs):
                values[id(t)] = o
            if not node.many_inputs and len(outs) == 1 and not isinstance(outs[0], Tensor):
                m = node.layer.compute_mask(args[0], mask)
                if m is not None:
                    masks[id(node.output_tensors[0])] = m
        return [values[id(t)] for t in self.outputs]

    def structure_outputs(self, flat):
        if isinstance(self.output_struct, dict):
            return dict(zip(self.output_struct, flat))
        if isinstance(self.output_struct, (list, tuple)):
            return list(flat)
        return flat[0]

    def fusable(self, k, activation_name):
        """Can output ``k`` use the fused softmax/sigmoid + cross-entropy gradient? Only when its layer ends in
        that activation, offers ``backward_from_logits``, and nothing else reads the output."""
        if activation_name is None:
            return False
        from tinynn import activations  # noqa: PLC0415

        t = self.outputs[k]
        layer = t.node.layer
        if len(t.node.output_tensors) != 1 or not hasattr(layer, "backward_from_logits") or \
                layer.__dict__.get("activity_regularizer") is not None:
            return False
        if getattr(layer, "activation", None) is not activations.get(activation_name):
            return False
        if self.consumers.get(id(t)) or sum(o is t for o in self.outputs) > 1:
            return False
        return sum(n.layer is layer for n in self.nodes) == 1

    # --- config (saving) ----------------------------------------------------------------------------
    def get_config(self):
        node_index = {}
        layers = []
        for layer in self.layers:
            layers.append({"class_name": type(layer).__name__, "name": layer.name, "config": layer.get_config(),
                           "inbound_nodes": []})
        by_name = {entry["name"]: entry for entry in layers}
        for t in self.inputs:
            node_index[id(t.node)] = 0
        for node in self.nodes:
            entry = by_name[node.layer.name]
            node_index[id(node)] = len(entry["inbound_nodes"])
            entry["inbound_nodes"].append({
                "args": [_ref(t, node_index) for t in node.input_tensors], "many": node.many_inputs,
                "kwargs": {k: v for k, v in node.kwargs.items() if isinstance(v, (int, float, str, bool, type(None)))}})
        return {"layers": layers,
                "input_layers": [_ref(t, node_index) for t in self.inputs],
                "output_layers": [_ref(t, node_index) for t in self.outputs],
                "input_keys": list(self.input_struct) if isinstance(self.input_struct, dict) else None,
                "output_keys": list(self.output_struct) if isinstance(self.output_struct, dict) else None,
                "input_is_list": isinstance(self.input_struct, (list, tuple)),
                "output_is_list": isinstance(self.output_struct, (list, tuple))}


def _ref(t, node_index):
    node, index = t._keras_history
    return [node.layer.name, node_index[id(node)], index]


def model_from_config(cls, config, custom_objects=None):
    """Re-create a functional model from :meth:`Graph.get_config` (layer classes from ``tinynn.layers`` or
    ``custom_objects``)."""
    from tinynn.layers import Input  # noqa: PLC0415
    from tinynn.models.saving import layer_class  # noqa: PLC0415

    made, outputs_of = {}, {}
    for entry in config["layers"]:
        if entry["class_name"] == "InputLayer":
            c = entry["config"]
            shape = c.get("batch_input_shape")
            t = Input(shape=tuple(shape[1:]), dtype=c.get("dtype"), name=entry["name"])
            made[entry["name"]] = t.node.layer
            outputs_of[(entry["name"], 0)] = [t]
        else:
            made[entry["name"]] = layer_class(entry["class_name"], custom_objects).from_config(entry["config"])
    pending = [(e, i) for e in config["layers"] for i in range(len(e["inbound_nodes"]))]
    while pending:
        progress = []
        for entry, i in pending:
            spec = entry["inbound_nodes"][i]
            refs = [tuple(r[:2]) for r in spec["args"]]
            if all(r in outputs_of for r in refs):
                args = [outputs_of[tuple(r[:2])][r[2]] for r in spec["args"]]
                out = made[entry["name"]](args if spec["many"] else args[0], **spec["kwargs"])
                outputs_of[(entry["name"], i)] = out if isinstance(out, list) else [out]
                progress.append((entry, i))
        if not progress:
            raise ValueError(f"load_model: the saved graph of model '{config.get('name')}' does not connect.")
        pending = [p for p in pending if p not in progress]

    def pick(refs, keys, is_list):
        ts = [outputs_of[(r[0], r[1])][r[2]] for r in refs]
        if keys is not None:
            return dict(zip(keys, ts))
        return ts if is_list or len(ts) > 1 else ts[0]

    inputs = pick(config["input_layers"], config.get("input_keys"), config.get("input_is_list"))
    outputs = pick(config["output_layers"], config.get("output_keys"), config.get("output_is_list"))
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


__all__ = ["Graph", "flatten", "model_from_config", "zeros_like_symbolic"]
