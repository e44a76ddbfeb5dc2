"""plot_model: layers by depth, one arrow per recorded connection, readable text, and no matplotlib on import."""
from __future__ import annotations

import subprocess
import sys

import pytest

import tinynn
from tinynn.layers import Concatenate, Dense, Input
from tinynn.widgets.model_graph import layer_depths

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def _fork_model():
    inputs = Input(shape=(6,), name="image")
    h = Dense(4, activation="relu", name="shared")(inputs)
    d = Dense(3, activation="softmax", name="digit")(h)
    b = Dense(1, activation="sigmoid", name="big")(Concatenate(name="join")([h, d]))
    return tinynn.Model(inputs, {"digit": d, "big": b})


def test_depths_edges_and_shapes_follow_the_recorded_graph():
    layers, depth, edges, shapes = layer_depths(_fork_model())
    assert layers == ["image", "shared", "digit", "join", "big"]
    assert depth == {"image": 0, "shared": 1, "digit": 2, "join": 3, "big": 4}
    assert sorted(edges) == sorted([("image", "shared"), ("shared", "digit"), ("shared", "join"),
                                    ("digit", "join"), ("join", "big")])
    assert shapes["join"] == "(None, 7)" and shapes["image"] == "(None, 6)"


def test_shared_layer_is_one_box_at_its_deepest_call():
    inputs = Input(shape=(3,), name="x")
    shared = Dense(3, name="twice")
    out = Dense(1, name="out")(shared(shared(inputs)))
    layers, depth, edges, _ = layer_depths(tinynn.Model(inputs, out))
    assert layers == ["x", "twice", "out"] and depth["twice"] == 2 and ("twice", "twice") in edges


def test_plot_model_draws_one_labelled_box_per_layer_with_readable_text():
    fig = tinynn.utils.plot_model(_fork_model())
    texts = [t for t in fig.axes[0].texts if t.get_text()]
    assert sorted(t.get_text().split(" ")[0] for t in texts) == sorted(["image", "shared", "digit", "join", "big"])
    assert all(t.get_fontsize() >= 9 for t in texts)
    assert any("join (Concatenate)\n(None, 7)" == t.get_text() for t in texts)
    arrows = [c for c in fig.axes[0].texts if not c.get_text()]
    assert len(arrows) == 5
    matplotlib.pyplot.close(fig)


def test_a_subclassed_model_is_refused_with_a_reason():
    class Net(tinynn.Model):
        def __init__(self):
            super().__init__()
            self.d = Dense(2)

        def call(self, x):
            return self.d(x)

    with pytest.raises(ValueError, match="subclassed.*call"):
        tinynn.utils.plot_model(Net())


def test_import_tinynn_does_not_import_matplotlib():
    code = "import sys, tinynn, tinynn.utils; assert 'matplotlib' not in sys.modules; callable(tinynn.utils.plot_model); " \
           "assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
