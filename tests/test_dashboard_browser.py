"""TrainingDashboard in a real JupyterLab, driven by headless Chromium (Playwright).

A throw-away JupyterLab is started on 127.0.0.1 (a free port, no token, a temporary root, settings and
runtime dir); Chromium opens a notebook, the kernel is restarted, all cells run, and the page's DOM and
the notebook model are checked. Screenshots go to ``test-artifacts/`` (git-ignored).

Needs Debian's ``chromium`` (``apt-get install chromium``) and PyPI ``playwright`` (never ``playwright
install``: the system browser is used). Missing either skips, unless ``TINYNN_REQUIRE_BROWSER=1`` (CI).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("TINYNN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
MNIST_CHAPTER = REPO / "chapters" / "05_mnist.ipynb"
TIMEOUT_S = 300  # a whole notebook on a 2-core CI machine


def _require_browser():
    """Skip (or fail under TINYNN_REQUIRE_BROWSER=1) without chromium, playwright or a trainable fit."""
    reasons = []
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        reasons.append(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        reasons.append("PyPI playwright is not installed")
    try:
        import ipywidgets  # noqa: F401, PLC0415
        import jupyterlab  # noqa: F401, PLC0415
    except ImportError as exc:
        reasons.append(f"JupyterLab/ipywidgets missing ({exc})")
    if reasons:
        msg = "browser test needs: " + "; ".join(reasons)
        if os.environ.get("TINYNN_REQUIRE_BROWSER") == "1":
            pytest.fail(msg + " (TINYNN_REQUIRE_BROWSER=1)")
        pytest.skip(msg)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- notebooks ---------------------------------------------------------------------------------------
def _notebook(cells):
    import nbformat  # noqa: PLC0415

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb)


SETUP = """\
import numpy as np
import tinynn
from tinynn.datasets import mnist
from tinynn.layers import Dense, Flatten
from tinynn.models import Sequential
from tinynn.widgets import TrainingDashboard
(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, y_train = x_train[:{n}].astype("float32") / 255, y_train[:{n}]
x_test, y_test = x_test[:500].astype("float32") / 255, y_test[:500]
model = Sequential([Flatten(input_shape=(28, 28)), Dense(128, activation="relu"), Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
w0 = [w.copy() for w in model.get_weights()]
"""

FIT = """\
history = model.fit(x_train, y_train, epochs={epochs}, batch_size=32, validation_data=(x_test, y_test),
                    verbose=0, callbacks=[TrainingDashboard(update_every={update_every})])
"""

REPORT = """\
ran = len(model.history.history["loss"])
finite = all(bool(np.isfinite(w).all()) for w in model.get_weights())
changed = any(not np.array_equal(a, b) for a, b in zip(w0, model.get_weights()))
print(f"RESULT ran={ran} finite={finite} changed={changed} stop={model.stop_training}")
"""


def small_mnist_notebook():
    """A few cells: an MNIST subset, the 784-128-10 MLP, fit with TrainingDashboard for 2 epochs."""
    return _notebook([SETUP.format(n=2000), FIT.format(epochs=2, update_every=0.5), REPORT])


def long_training_notebook(epochs=200):
    """The same model trained for many epochs, so that there is time to press Stop."""
    return _notebook([SETUP.format(n=2000), FIT.format(epochs=epochs, update_every=0.3), REPORT])


# --- the lab server -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab():
    """A JupyterLab on 127.0.0.1:<free port> serving a temporary directory; shut down by its PID."""
    _require_browser()
    tmp = Path(tempfile.mkdtemp(prefix="tinynn-lab-"))
    root, settings, runtime = tmp / "root", tmp / "settings", tmp / "runtime"
    for d in (root, settings / "@jupyterlab" / "apputils-extension", runtime):
        d.mkdir(parents=True)
    (settings / "overrides.json").write_text(json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}))
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    env = {**os.environ, "TINYNN_BOOK_SIZE": "ci", "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTER_RUNTIME_DIR": str(runtime), "PYTHONPATH": os.pathsep.join(
               [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    env.setdefault("TINYNN_DATA", "/work/shared/data")
    log = open(tmp / "lab.log", "wb")  # noqa: SIM115 - closed at teardown
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
           "--ServerApp.port_retries=0", "--ip=127.0.0.1", f"--ServerApp.root_dir={root}",
           "--IdentityProvider.token=", "--ServerApp.password=", "--LabApp.expose_app_in_browser=True",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start; log:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "root": root, "tmp": tmp}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started (same session)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def browser_page(lab, tmp_path):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_S * 1000)
            yield page
        finally:
            browser.close()


# --- driving the page ----------------------------------------------------------------------------------
JS_PANEL = "(() => { const w = window.jupyterapp.shell.currentWidget; return w && w.content && w.sessionContext ? w : null; })()"


def open_notebook(page, lab, name):
    page.goto(f"{lab['url']}/lab/tree/{name}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", polling=500)
    page.wait_for_function(f"""() => {{
        const w = {JS_PANEL};
        return w && w.context && w.context.isReady && w.sessionContext.session && w.sessionContext.session.kernel
            && w.sessionContext.session.kernel.connectionStatus === 'connected'; }}""", polling=500)
    # a fresh kernel: kernels outlive browsers, and the module's server is shared between tests
    page.evaluate(f"async () => {{ await {JS_PANEL}.sessionContext.session.kernel.restart(); }}")
    wait_kernel_idle(page)


def wait_kernel_idle(page, timeout_s=TIMEOUT_S):
    page.wait_for_function(f"""() => {{ const w = {JS_PANEL};
        return w && w.sessionContext.session && w.sessionContext.session.kernel
            && w.sessionContext.session.kernel.status === 'idle'; }}""", polling=500, timeout=timeout_s * 1000)


def run_all_cells(page):
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def wait_all_cells_done(page, timeout_s=TIMEOUT_S):
    """Every code cell has an execution count and none is queued or running ('[*]'), kernel idle."""
    page.wait_for_function(f"""() => {{
        const w = {JS_PANEL}; if (!w) return false;
        const cells = w.content.widgets.filter(c => c.model.type === 'code');
        const done = cells.every(c => c.model.executionCount !== null && c.model.executionState !== 'running'
                                        && !(c.promptNode && c.promptNode.textContent.includes('*')));
        return done && w.sessionContext.session.kernel.status === 'idle'; }}""", polling=1000, timeout=timeout_s * 1000)


def cell_outputs(page):
    """The notebook model's outputs, one list per code cell (JSON, as saved in the .ipynb)."""
    return page.evaluate(f"""() => {JS_PANEL}.content.widgets.filter(c => c.model.type === 'code')
                                   .map(c => c.model.outputs.toJSON())""")


def error_outputs(outputs):
    return [o for cell in outputs for o in cell if o.get("output_type") == "error"]


def text_of(outputs):
    parts = []
    for cell in outputs:
        for o in cell:
            t = o.get("text") or (o.get("data") or {}).get("text/plain") or ""
            parts.append("".join(t) if isinstance(t, list) else t)
    return "\n".join(parts)


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_dashboard_rendered(page, outputs):
    assert not error_outputs(outputs), error_outputs(outputs)
    # the live widget rendered (the ipywidgets front end is installed and the comm worked)
    assert page.locator(".tinynn-dashboard").count() >= 1
    # text_content, not inner_text: a cell scrolled out of view (or the live view hidden once the final
    # picture is shown) has no rendered text, but its DOM still holds the label
    loss_text = page.locator(".tinynn-dashboard .tinynn-loss").first.text_content()
    assert float(loss_text) == float(loss_text)  # a number, not NaN
    # progress complete: both bars at their maximum (the widget models say so in the DOM's style)
    for cls in ("tinynn-epochs", "tinynn-batches"):
        width = page.locator(f".{cls} .progress-bar").first.evaluate("e => e.style.width || getComputedStyle(e).width")
        assert width.strip() == "100%", (cls, width)
    # the curves: the static PNG output is in the DOM, decoded and non-empty; and in the saved model
    imgs = page.locator(".jp-OutputArea-output img")
    assert imgs.count() >= 1
    assert page.wait_for_function("""() => [...document.querySelectorAll('.jp-OutputArea-output img')]
        .some(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 50)""", polling=500)
    pngs = [o["data"]["image/png"] for cell in outputs for o in cell if "image/png" in (o.get("data") or {})]
    assert pngs and len(pngs[-1]) > 1000


# --- the tests -----------------------------------------------------------------------------------------
def _chapter_available():
    return MNIST_CHAPTER.exists() and "TrainingDashboard" in MNIST_CHAPTER.read_text(encoding="utf-8")


def test_dashboard_renders_in_generated_notebook(lab, browser_page):
    page = browser_page
    (lab["root"] / "dashboard_small.ipynb").write_text(small_mnist_notebook(), encoding="utf-8")
    open_notebook(page, lab, "dashboard_small.ipynb")
    run_all_cells(page)
    wait_all_cells_done(page)
    outputs = cell_outputs(page)
    shot = screenshot(page, "dashboard_generated.png")
    assert_dashboard_rendered(page, outputs)
    assert "RESULT ran=2 finite=True changed=True stop=False" in text_of(outputs), (text_of(outputs), shot)


@pytest.mark.skipif(not _chapter_available(), reason="chapters/05_mnist.ipynb with a TrainingDashboard not written yet")
def test_dashboard_renders_in_mnist_chapter(lab, browser_page):
    page = browser_page
    dest = lab["root"] / "chapters"
    shutil.copytree(REPO / "chapters", dest, dirs_exist_ok=True)
    open_notebook(page, lab, "chapters/05_mnist.ipynb")
    run_all_cells(page)
    wait_all_cells_done(page, timeout_s=2 * TIMEOUT_S)
    outputs = cell_outputs(page)
    screenshot(page, "dashboard_mnist_chapter.png")
    assert_dashboard_rendered(page, outputs)


def test_stop_button_ends_training_early_keeping_weights_and_history(lab, browser_page):
    page = browser_page
    epochs = 200
    (lab["root"] / "dashboard_stop.ipynb").write_text(long_training_notebook(epochs), encoding="utf-8")
    open_notebook(page, lab, "dashboard_stop.ipynb")
    run_all_cells(page)
    # training is under way: the dashboard is shown and at least one epoch has finished
    page.wait_for_selector(".tinynn-stop", state="visible")
    page.wait_for_function("""() => { const p = document.querySelector('.tinynn-epochs .progress-bar');
        return p && parseFloat(p.style.width) > 0; }""", polling=250)
    page.locator(".tinynn-stop").first.click()
    wait_all_cells_done(page)
    outputs = cell_outputs(page)
    screenshot(page, "dashboard_stopped.png")
    assert not error_outputs(outputs), error_outputs(outputs)
    text = text_of(outputs)
    line = next((ln for ln in text.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, text
    fields = dict(kv.split("=") for kv in line.split()[1:])
    assert 1 <= int(fields["ran"]) < epochs, line           # stopped early, history of the epochs run kept
    assert fields["finite"] == "True" and fields["changed"] == "True", line  # trained weights kept
    assert fields["stop"] == "True", line
    assert "Stopped" in page.locator(".tinynn-stop").first.inner_text()
