"""The README's "Beyond Sequential" example runs as printed and trains."""
import pathlib
import re

import numpy as np


def test_readme_graph_model_example_runs():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    block = re.search(r"### Beyond `Sequential`.*?```python\n(.*?)```", readme, re.S).group(1)
    ns = {}
    exec(block, ns)  # noqa: S102 - the README's own code
    rng = np.random.default_rng(0)
    x = rng.random((64, 784)).astype("float32")
    y = x[:, :10].argmax(axis=1)  # learnable labels
    hist = ns["model"].fit(x, [y, (y >= 5).astype("float32")], epochs=2, verbose=0)
    assert {"loss", "digit_loss", "big_loss", "digit_accuracy"} <= set(hist.history)
    net = ns["Net"]()
    net.compile(optimizer="adam", loss=ns["tinynn"].losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = net.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
