"""Draw the graph autograd recorded: TensorFlow 1's "graph" made visible, without system graphviz.

Each value is a box (its label, its data or shape, its gradient once ``backward`` ran); each operation a
circle between its inputs and its result, as in micrograd's drawings. Works for the scalar
:class:`~tinynn.autograd.Value` and for :class:`~tinynn.autograd.Tensor`.

>>> from tinynn.autograd import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b; c.label = "c"
>>> print(to_dot(c).splitlines()[0])
digraph G { rankdir=LR;
"""
from __future__ import annotations

from tinynn.autograd import Tensor, Value

__all__ = ["draw_graph", "to_dot", "to_graphviz"]

MAX_NODES = 200


def _children(v):
    return v._prev if isinstance(v, Value) else v._inputs


def _label(v):
    if isinstance(v, Value):
        return f"{v.label + ' | ' if v.label else ''}data {v.data:.4g} | grad {v.grad:.4g}"
    value = v.value
    name = v.name or ("const" if not v.requires_grad and not v._op else "")
    size = getattr(value, "size", 1)
    if size <= 4:
        data = ("%.4g" % float(value)) if size == 1 and not getattr(value, "shape", ()) else \
            "[" + ", ".join("%.3g" % float(u) for u in value.reshape(-1).tolist()) + "]"
    else:
        data = "shape " + "×".join(str(d) for d in v.shape)
    text = f"{name + ' | ' if name else ''}{data}"
    if v.grad is not None:
        g = v.grad
        text += (" | grad " + ("%.4g" % float(g)) if getattr(g, "size", 1) == 1 else " | grad ✓")
    return text


def _nodes(root):
    """Every node reachable from ``root``, inputs first, and each node's depth (longest path from a leaf)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            if len(seen) > MAX_NODES:
                raise ValueError(f"draw_graph: the graph has more than {MAX_NODES} nodes; draw a smaller expression.")
            stack.append((v, True))
            stack.extend((c, False) for c in _children(v))
    depth = {}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(c)] for c in _children(v)), default=-1)
    return order, depth


def to_dot(root):
    """The graph as Graphviz DOT text (render it with any graphviz tool, or paste it in an online viewer)."""
    order, _ = _nodes(root)
    lines = ["digraph G { rankdir=LR;"]
    for v in order:
        lines.append(f'  n{id(v)} [shape=record, label="{{ {_label(v)} }}"];')
        if v._op:
            lines.append(f'  n{id(v)}op [shape=circle, label="{v._op}"];')
            lines.append(f"  n{id(v)}op -> n{id(v)};")
            lines.extend(f"  n{id(c)} -> n{id(v)}op;" for c in _children(v))
    lines.append("}")
    return "\n".join(lines)


to_graphviz = to_dot


def draw_graph(root, ax=None, figsize=None):
    """Draw the graph that produced ``root`` with matplotlib, left (inputs) to right (result).

    Returns the matplotlib ``Figure``. Boxes are values, circles operations.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415 - only needed for drawing

    order, depth = _nodes(root)
    columns: dict = {}
    pos = {}
    for v in order:
        col = 2 * depth[id(v)]
        columns.setdefault(col, []).append(v)
    for col, vs in columns.items():
        for i, v in enumerate(vs):
            pos[id(v)] = (col, -(i - (len(vs) - 1) / 2))
    ncol, nrow = max(columns) + 1, max(len(vs) for vs in columns.values())
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (max(4.0, 2.2 * ncol), max(2.0, 1.1 * nrow)))
    else:
        fig = ax.figure
    arrow = dict(arrowstyle="->", color="0.4", shrinkA=4, shrinkB=4)
    for v in order:
        x, y = pos[id(v)]
        ax.text(x, y, _label(v), ha="center", va="center", fontsize=8, zorder=3,
                bbox=dict(boxstyle="round,pad=0.3", fc="#e8f0fe" if v is root else "white", ec="0.3"))
        if v._op:
            ox, oy = x - 1, y
            ax.text(ox, oy, v._op, ha="center", va="center", fontsize=9, zorder=3,
                    bbox=dict(boxstyle="circle,pad=0.3", fc="#fff3d6", ec="0.3"))
            ax.annotate("", xy=(x, y), xytext=(ox, oy), arrowprops=arrow, zorder=2)
            for c in _children(v):
                ax.annotate("", xy=(ox, oy), xytext=pos[id(c)], arrowprops=arrow, zorder=2)
    ax.set_xlim(-1, ncol)
    ax.set_ylim(-nrow / 2 - 0.5, nrow / 2 + 0.5)
    ax.axis("off")
    return fig
