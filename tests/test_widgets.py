"""TrainingDashboard without a browser: the text fallback, the widget object model, throttling, formulas."""
from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinynn.backend import xp
from tinynn.widgets import TrainingDashboard
from tinynn.widgets import frontend
from tinynn.widgets.plotting import CurvesFigure, batch_values_from_running_means, downsample, ema, is_png

REPO = Path(__file__).resolve().parents[1]


# --- a fake model: what the dashboard reads (layers' trainable_weights, optimizer, stop_training) ----------
class _Var:
    def __init__(self, value, grad):
        self.value, self.grad = xp.asarray(value, dtype="float32"), xp.asarray(grad, dtype="float32")


class _Layer:
    def __init__(self, name, w, g):
        self.name = name
        self.trainable_weights = [_Var(w, g)]


class _Opt:
    def __init__(self, lr):
        self.learning_rate, self.iterations = lr, 7


class _Model:
    def __init__(self, lr=0.01):
        self.layers = [_Layer("dense", [[3.0, 4.0]], [[0.6, 0.8]]), _Layer("dense_1", [[1.0]], [[0.0]])]
        self.optimizer = _Opt(lr)
        self.stop_training = False


def _run(d, epochs=2, steps=5, batch_size=10, samples=45, model=None, between=None):
    model = model or _Model()
    d.set_model(model)
    d.set_params(dict(epochs=epochs, steps=steps, batch_size=batch_size, samples=samples, verbose="dashboard"))
    d.on_train_begin()
    for e in range(epochs):
        d.on_epoch_begin(e)
        for b in range(steps):
            d.on_train_batch_end(b, {"loss": 1.0 / (b + 1 + e), "accuracy": 0.5 + 0.05 * b})
            if between:
                between(d, e, b)
            if model.stop_training:
                break
        d.on_epoch_end(e, {"loss": 0.5 - 0.1 * e, "accuracy": 0.6 + 0.1 * e,
                           "val_loss": 0.6 - 0.1 * e, "val_accuracy": 0.55 + 0.1 * e})
        if model.stop_training:
            break
    d.on_train_end()
    return model


# --- formulas ------------------------------------------------------------------------------------------
def test_ema_debiased_matches_formula():
    vals = [1.0, 0.0, 2.0]
    b = 0.9
    m, want = 0.0, []
    for t, x in enumerate(vals, 1):
        m = b * m + (1 - b) * x
        want.append(m / (1 - b ** t))
    assert ema(vals, b) == pytest.approx(want)
    assert ema(vals, 0.0) == vals
    assert ema([5.0, 5.0, 5.0], 0.99) == pytest.approx([5.0] * 3)  # debiased: no warm-up bias
    with pytest.raises(ValueError, match="smoothing"):
        ema(vals, 1.0)


def test_batch_values_recovered_from_running_means():
    losses, sizes = [2.0, 1.0, 4.0, 3.0], [10, 10, 10, 5]
    means, tot, n = [], 0.0, 0
    for l, s in zip(losses, sizes):
        tot += l * s
        n += s
        means.append(tot / n)
    assert batch_values_from_running_means(means, sizes) == pytest.approx(losses)


def test_downsample_keeps_ends_and_bounds_size():
    xs = list(range(1001))
    dx, dy = downsample(xs, xs, max_points=100)
    assert dx[0] == 0 and dx[-1] == 1000 and len(dx) <= 102 and dx == dy
    assert downsample([1, 2], [3, 4]) == ([1, 2], [3, 4])


def test_curves_figure_renders_png():
    f = CurvesFigure(["loss", "accuracy"], ["dense"])
    f.update({"loss": {"batch": [(0.1, 1.0), (0.2, float("nan")), (0.3, 0.5)], "epoch": [(1.0, 0.7)],
                       "val": [(1.0, 0.8)]}}, {"dense": [(0.1, 2.0, 0.5), (0.2, 2.1, 0.0)]})
    png = f.to_png()
    assert is_png(png) and len(png) > 1000
    assert list(f.lines["loss"]["batch"].get_xdata()) == [0.1, 0.3]  # NaN dropped
    assert list(f.norm_lines["dense"][1].get_xdata()) == [0.1]        # zero norm cannot be drawn on a log axis


# --- text fallback ---------------------------------------------------------------------------------------
def test_no_kernel_means_text_mode():
    assert frontend.get_kernel() is None
    assert not frontend.widget_mode_available()
    assert TrainingDashboard().mode_resolved == "text"


def test_text_fallback_prints_progress_and_final_epoch_lines():
    out = io.StringIO()
    d = TrainingDashboard(update_every=0.0, file=out)
    _run(d)
    text = out.getvalue()
    lines = [seg.rstrip() for seg in text.replace("\r", "\n").split("\n") if seg.strip()]
    assert "Epoch 1/2 [####################] 5/5" in text
    assert "val_loss: 0.5000" in lines[-1] and lines[-1].startswith("Epoch 2/2")
    assert "lr 0.01" in text
    assert d.view.draws_figure is False and d.redraws == 0  # no matplotlib work in a script


def test_text_fallback_in_a_plain_process_through_fit_shortcut():
    """``verbose='dashboard'`` in a script: the model's fit appends the dashboard; it prints and never fails."""
    pytest.importorskip("tinynn.optimizers")
    pytest.importorskip("tinynn.metrics")
    code = (
        "import numpy as np\n"
        "from tinynn.layers import Dense\n"
        "from tinynn.models import Sequential\n"
        "m = Sequential([Dense(4, activation='relu', input_shape=(3,)), Dense(2, activation='softmax')])\n"
        "m.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "x = np.random.default_rng(0).normal(size=(64, 3)).astype('float32'); y = (x[:, 0] > 0).astype('int64')\n"
        "h = m.fit(x, y, epochs=2, batch_size=16, verbose='dashboard')\n"
        "print('EPOCHS', len(h.history['loss']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    assert "Epoch 2/2 [####################] 4/4" in r.stdout and "EPOCHS 2" in r.stdout


def test_text_view_survives_a_closed_stream():
    out = io.StringIO()
    out.close()
    _run(TrainingDashboard(update_every=0.0, file=out))  # must not raise


# --- widget mode object model (no browser, no kernel) -----------------------------------------------------
def test_widget_mode_image_labels_progress_and_norms():
    pytest.importorskip("ipywidgets")
    d = TrainingDashboard(update_every=0.0, mode="widget", max_overhead=1.0, static_image=False)
    _run(d)
    v = d.view
    assert is_png(v.image.value) and len(v.image.value) > 1000
    assert v.epochs.value == v.epochs.max == 2
    assert v.batches.value == v.batches.max == 5
    assert "<span class='tinynn-loss'>0.4000</span>" in v.numbers.value
    assert "val_accuracy" in v.numbers.value and "tinynn-lr'>0.01<" in v.status.value
    assert v.stop_button.disabled and v.stop_button.description == "Done"
    # norms: ‖(3, 4)‖ = 5 and ‖(0.6, 0.8)‖ = 1, per layer, in model order
    assert d.norms["dense"][-1][1:] == pytest.approx((5.0, 1.0))
    assert list(d.figure.norm_lines) == ["dense", "dense_1"]
    # curves: train batch points (smoothed, fractional epochs), epoch and validation points
    assert [x for x, _ in d.curves["loss"]["batch"]][:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert d.curves["loss"]["epoch"] == [(1.0, 0.5), (2.0, pytest.approx(0.4))]
    assert d.curves["accuracy"]["val"][0] == (1.0, 0.55)


def test_stop_button_click_sets_stop_training_and_ends_early():
    pytest.importorskip("ipywidgets")
    d = TrainingDashboard(update_every=0.0, mode="widget", max_overhead=1.0, static_image=False)

    def click_at_epoch0_batch2(dash, e, b):
        if (e, b) == (0, 2):
            dash.view.stop_button.click()  # what the browser's click runs: the on_click handler

    model = _run(d, epochs=10, between=click_at_epoch0_batch2)
    assert model.stop_training is True and d.stopped_by_user
    assert d.epochs_done == 1 and len(d.curves["loss"]["batch"]) == 3
    assert d.view.stop_button.description == "Stopped" and "Stopped" in d.view.status.value


def test_learning_rate_schedule_is_called_with_iterations():
    d = TrainingDashboard(update_every=0.0, file=io.StringIO())
    model = _Model(lr=lambda step: 0.1 / (1 + step))
    _run(d, model=model)
    assert d.learning_rate == pytest.approx(0.1 / 8)


def test_throttling_many_batches_few_redraws():
    pytest.importorskip("ipywidgets")
    d = TrainingDashboard(update_every=0.5, mode="widget", max_overhead=1.0, static_image=False)
    model = _Model()
    d.set_model(model)
    d.set_params(dict(epochs=1, steps=10_000, batch_size=1, samples=10_000))
    d.on_train_begin()
    d.on_epoch_begin(0)
    t0 = time.perf_counter()
    b = 0
    while time.perf_counter() - t0 < 0.1:
        d.on_train_batch_end(b, {"loss": 1.0})
        b += 1
    assert b > 100                      # many batch ends...
    assert d.redraws <= 2               # ...at most a couple of redraws
    assert len(d.norms.get("dense", [])) <= 2  # norms are read only when updating


def test_render_budget_limits_redraws():
    pytest.importorskip("ipywidgets")
    d = TrainingDashboard(update_every=0.0, mode="widget", max_overhead=0.0, static_image=False)
    _run(d, epochs=3)
    assert d.redraws == 1  # only the final picture: no time budget for live redraws


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="smoothing"):
        TrainingDashboard(smoothing=1.5)
    with pytest.raises(ValueError, match="mode"):
        TrainingDashboard(mode="gui")
    with pytest.raises(ValueError, match="update_every"):
        TrainingDashboard(update_every=-1)


def test_ui_event_pump_without_kernel_is_inert():
    pump = frontend.UIEventPump(kernel=None)
    assert pump.enabled is False and pump.poll() == 0
    pump.close()


def test_norms_are_finite_floats():
    d = TrainingDashboard(update_every=0.0, file=io.StringIO())
    _run(d)
    assert all(isinstance(w, float) and math.isfinite(w) for _, w, _ in d.norms["dense"])


def test_figure_is_reused_for_a_model_with_other_layer_names():
    pytest.importorskip("ipywidgets")
    d1 = TrainingDashboard(update_every=0.0, mode="widget", static_image=False)
    _run(d1)
    m2 = _Model()
    m2.layers[0].name, m2.layers[1].name = "dense_7", "dense_8"
    d2 = TrainingDashboard(update_every=0.0, mode="widget", static_image=False)
    _run(d2, model=m2)
    assert d2.figure is d1.figure
    assert list(d2.figure.norm_lines) == ["dense_7", "dense_8"]
    assert [t.get_text() for t in d2.figure.norm_axes.get_legend().get_texts()] == ["dense_7", "dense_8"]
    assert d2.figure.norm_lines["dense_7"][0].get_ydata()[-1] == pytest.approx(5.0)


def test_ui_event_pump_hands_back_messages_the_kernel_still_accepts():
    """A deferred execute_request must not have its signature recorded, or the kernel rejects it later as a
    replay ('Duplicate Signature') and the cell never runs - what hung "Run all" in JupyterLab."""
    import types

    from jupyter_client.session import Session

    session = Session(key=b"secret")
    import zmq

    raw = session.serialize(session.msg("execute_request", content={"code": "1 + 1"}), ident=[b"client"])
    frames = [zmq.Frame(f) for f in raw]     # what recv_multipart(copy=False) gives
    kernel = types.SimpleNamespace(session=session)
    pump = frontend.UIEventPump(kernel=None)
    pump.kernel = kernel
    assert pump._handle(list(frames)) == 0 and len(pump._deferred) == 1
    idents, rest = session.feed_identities(pump._deferred[0], copy=False)
    msg = session.deserialize(rest, copy=False)   # what the kernel does with the handed-back message
    assert msg["header"]["msg_type"] == "execute_request" and msg["content"]["code"] == "1 + 1"
