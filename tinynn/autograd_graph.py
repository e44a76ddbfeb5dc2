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


FONT_SIZE = 11  # points; at the book's 72 dpi a point is a pixel of the displayed figure, so ≥ 9 stays legible


def _short_label(v):
    """The box text in two lines, ``name = data`` then ``grad g``: narrow boxes leave room for the arrows."""
    parts = [p[len("data "):] if p.startswith("data ") else p[len("shape "):] if p.startswith("shape ") else p
             for p in _label(v).split(" | ")]
    grad = [p for p in parts if p.startswith("grad")]
    rest = " = ".join(p for p in parts if not p.startswith("grad"))
    return rest + ("\n" + grad[0] if grad else "")


def draw_graph(root, ax=None, figsize=None):
    """Draw the graph that produced ``root`` with matplotlib, left (inputs) to right (result).

    Returns the matplotlib ``Figure``. Boxes are values (``name = data``, then its gradient once ``backward``
    ran; an array shows its shape, e.g. ``4×3``), rounded boxes are operations, and the arrows point the way
    the forward pass goes. Text is ``FONT_SIZE`` points and the layout is measured in inches, so a bigger
    graph gives a bigger figure, never smaller text.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415 - only needed for drawing

    order, depth = _nodes(root)
    columns: dict = {}
    for v in order:
        columns.setdefault(depth[id(v)], []).append(v)
    step, row, margin = 1.9, 0.75, 0.65  # inches: one value column + its operation, one row, the border
    pos = {id(v): (margin + step * d, -(i - (len(vs) - 1) / 2) * row)
           for d, vs in columns.items() for i, v in enumerate(vs)}
    ndepth, nrow = max(columns) + 1, max(len(vs) for vs in columns.values())
    width, height = 2 * margin + step * (ndepth - 1), max(1.2, row * nrow + 0.5)
    if ax is None:
        fig = plt.figure(figsize=figsize or (width, height))
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.figure
    ax.set_xlim(0, width)
    ax.set_ylim(-height / 2, height / 2)
    ax.axis("off")
    texts = {}
    for v in order:
        texts[id(v)] = ax.text(*pos[id(v)], _short_label(v), ha="center", va="center", fontsize=FONT_SIZE,
                               zorder=3, linespacing=1.3,
                               bbox=dict(boxstyle="round,pad=0.3", fc="#e8f0fe" if v is root else "white", ec="0.3"))
    # arrows start and end at the edges of the text they join (the box padding is ~0.3 em: shrink past it)
    arrow = dict(arrowstyle="-|>", color="0.3", lw=1.2, mutation_scale=13, shrinkA=6, shrinkB=6)
    for v in order:
        if not v._op:
            continue
        x, y = pos[id(v)]
        op = ax.text(x - step / 2, y, v._op, ha="center", va="center", fontsize=FONT_SIZE, zorder=3,
                     bbox=dict(boxstyle="round,pad=0.25", fc="#fff3d6", ec="0.3"))
        ax.annotate("", xy=(0, 0.5), xycoords=texts[id(v)], xytext=(1, 0.5), textcoords=op,
                    arrowprops=arrow, zorder=2)
        kids = list(_children(v))
        for k, c in enumerate(kids):
            uses = [j for j, u in enumerate(kids) if u is c]  # x * x: one arrow per use, bent apart
            rad = 0.0 if len(uses) == 1 else 0.4 * (2 * uses.index(k) / (len(uses) - 1) - 1)
            ax.annotate("", xy=(0, 0.5), xycoords=op, xytext=(1, 0.5), textcoords=texts[id(c)],
                        arrowprops=dict(arrow, connectionstyle=f"arc3,rad={rad}"), zorder=2)
    return fig
