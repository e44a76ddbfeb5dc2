r"""``model.summary()``: Keras' table of layers, output shapes and parameter counts (and, for a functional
model, what each layer is connected to)."""
from __future__ import annotations

from tinynn.layers.base import shape_str


def _shape_text(shape):
    if isinstance(shape, list):
        return ", ".join(shape_str(s) for s in shape)
    return shape_str(shape) if shape is not None else "?"


def _rows(model):
    graph = getattr(model, "_graph", None)
    if graph is not None:
        rows = []
        for t in graph.inputs:
            rows.append((f"{t.node.layer.name} ({type(t.node.layer).__name__})", shape_str(t.shape), "0", "-"))
        seen = set()
        for node in graph.nodes:
            layer = node.layer
            outs = node.output_tensors
            shape = _shape_text([o.shape for o in outs] if len(outs) > 1 else outs[0].shape)
            params = f"{layer.count_params():,}" if id(layer) not in seen else "0 (shared)"
            seen.add(id(layer))
            links = ", ".join(f"{t.node.layer.name}[{t._keras_history[1]}]" for t in node.input_tensors)
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, params, links))
        return rows, True
    chain = getattr(model, "_chain", None)
    rows = []
    if chain is not None:
        shape = model.input_shape
        for layer in chain:
            shape = layer.compute_output_shape(shape)
            rows.append((f"{layer.name} ({type(layer).__name__})", _shape_text(tuple(shape) if not isinstance(shape, list)
                                                                               else shape),
                         f"{layer.count_params():,}", ""))
        return rows, False
    for layer in model.layers:
        shape = layer.output_shape if layer.built and layer.input_shape is not None else None
        rows.append((f"{layer.name} ({type(layer).__name__})", _shape_text(shape) if shape is not None else "?",
                     f"{layer.count_params():,}" if layer.built else "0 (unbuilt)", ""))
    return rows, False


def print_summary(model, print_fn):
    if not model.built:
        print_fn(f'Model: "{model.name}" (not built yet: give the first layer input_shape=..., call the model on '
                 'data, or call fit)')
        return
    rows, connected = _rows(model)
    heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    cols = len(heads)
    w = [max(31, *(len(r[0]) + 1 for r in rows)) if rows else 31,
         max(22, *(len(r[1]) + 1 for r in rows)) if rows else 22, 13]
    if connected:
        w.append(max(17, *(len(r[3]) + 1 for r in rows)))
    align = ["<", "<", ">", "<"]

    def line(l, m, r, f):
        return l + m.join(f * (k + 2) for k in w[:cols]) + r

    def cells(values):
        return " │ ".join(f"{v:{a}{k}}" for v, a, k in zip(values, align, w))

    print_fn(f'Model: "{model.name}"')
    print_fn(line("┏", "┳", "┓", "━"))
    print_fn("┃ " + " ┃ ".join(f"{h:{a}{k}}" for h, a, k in zip(heads, align, w)) + " ┃")
    print_fn(line("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        print_fn("│ " + cells(r[:cols]) + " │")
        if i < len(rows) - 1:
            print_fn(line("├", "┼", "┤", "─"))
    print_fn(line("└", "┴", "┘", "─"))
    trainable = sum(wt.size for wt in model.trainable_weights)
    total = sum(wt.size for wt in model.weights)

    def nbytes(ws):
        return sum(wt.size * wt.value.itemsize for wt in ws)

    print_fn(f" Total params: {total:,} ({_human_bytes(nbytes(model.weights))})")
    print_fn(f" Trainable params: {trainable:,} ({_human_bytes(nbytes(model.trainable_weights))})")
    print_fn(f" Non-trainable params: {total - trainable:,} ({_human_bytes(nbytes(model.non_trainable_weights))})")


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"
