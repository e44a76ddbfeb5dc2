r"""``plot_model(model)``: a functional model drawn as a graph, with matplotlib (Keras' ``keras.utils.plot_model``
needs pydot and graphviz; this draws the same picture with what the book already uses).

One box per layer — its name, its class and its output shape — and one arrow per recorded connection (a layer
call reading another layer's output). Layers are placed in rows by *depth*: an ``Input`` has depth 0, a layer
has depth :math:`1 + \max` of the depths of the layers it reads from, so every arrow points down.
"""
from __future__ import annotations

__all__ = ["plot_model", "layer_depths"]


def _shape_text(shape):
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def layer_depths(model):
    """``(layers, depth, edges, shapes)`` of a functional model: its layers in graph order, ``depth[name]``,
    the connections ``[(from_name, to_name), ...]`` (once each) and each layer's output shape text."""
    g = getattr(model, "_graph", None)
    if g is None:
        raise ValueError(f"plot_model: model '{model.name}' is a subclassed model: its connections are Python code "
                         "in call(), not a recorded graph. Draw a functional model (tinynn.Model(inputs, outputs)).")
    depth, shapes, edges, layers = {}, {}, [], []
    for t in g.inputs:
        name = t.node.layer.name
        depth[name] = 0
        shapes[name] = _shape_text(t.shape)
        layers.append(name)
    for node in g.nodes:  # in graph order: every producer comes before its consumers
        name = node.layer.name
        sources = [t.node.layer.name for t in node.input_tensors]
        d = 1 + max(depth[s] for s in sources)
        depth[name] = max(depth.get(name, 0), d)
        outs = node.output_tensors
        shapes.setdefault(name, _shape_text([t.shape for t in outs] if len(outs) > 1 else outs[0].shape))
        if name not in layers:
            layers.append(name)
        for s in sources:
            if (s, name) not in edges:
                edges.append((s, name))
    return layers, depth, edges, shapes


def plot_model(model, show_shapes=True, show_layer_names=True, fontsize=10, ax=None):
    """Draw a functional model as a graph: one box per layer (name, class, output shape), arrows along the
    recorded connections, one row per depth. Returns the matplotlib ``Figure``.

    Args:
        model: a functional ``tinynn.Model`` (``Model(inputs, outputs)``).
        show_shapes: write each layer's output shape in its box (batch axis ``None``).
        show_layer_names: write each layer's name above its class.
        fontsize: text size in points (at the figure's own size).
        ax: a matplotlib Axes to draw into (a new figure when None).
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib only when drawing

    layers, depth, edges, shapes = layer_depths(model)
    classes = {layer.name: type(layer).__name__ for layer in model.layers}
    rows = {}
    for name in layers:
        rows.setdefault(depth[name], []).append(name)
    labels = {}
    for name in layers:
        parts = [f"{name} ({classes.get(name, '?')})" if show_layer_names else classes.get(name, "?")]
        if show_shapes:
            parts.append(shapes[name])
        labels[name] = "\n".join(parts)
    width = max(len(r) for r in rows.values())
    longest = max(max(len(line) for line in lab.split("\n")) for lab in labels.values())
    box_w = longest * fontsize * 0.62 / 72 + 0.4  # inches a label needs
    pos = {}
    for d, names in rows.items():
        for i, name in enumerate(names):
            pos[name] = ((i - (len(names) - 1) / 2) * (box_w + 0.4), -d * 1.0)
    n_rows = max(rows) + 1
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(3.0, width * (box_w + 0.4) + 1.0), max(1.5, 1.0 * n_rows)))
    else:
        fig = ax.figure
    arrow = dict(arrowstyle="-|>", color="0.35", shrinkA=14, shrinkB=14, lw=1.2)
    for src, dst in edges:
        skip = depth[dst] - depth[src] > 1 and pos[src][0] == pos[dst][0]  # would run behind the boxes between
        style = dict(arrow, connectionstyle="arc3,rad=0.45" if skip else "arc3")
        ax.annotate("", xy=pos[dst], xytext=pos[src], arrowprops=style, zorder=1)
    outputs = {t.node.layer.name for t in model._graph.outputs}
    for name in layers:
        color = "#e3f2e1" if depth[name] == 0 else "#e8f0fe" if name in outputs else "white"
        ax.text(*pos[name], labels[name], ha="center", va="center", fontsize=fontsize, zorder=3,
                bbox=dict(boxstyle="round,pad=0.35", fc=color, ec="0.3"))
    half = width * (box_w + 0.4) / 2 + (0.5 if any(depth[b] - depth[a] > 1 for a, b in edges) else 0)
    ax.set_xlim(-half, half)
    ax.set_ylim(-(n_rows - 1) - 0.5, 0.5)
    ax.axis("off")
    return fig
