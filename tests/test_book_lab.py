"""``make lab``: it honours ``TINYNN_BOOK_SIZE``, makes the working copies, and serves a root where the
learner sees the working copies, the README and the library, but not the shipped chapters.

The Makefile's own command (``make -n lab``) is started on a copy of the book, on 127.0.0.1 and a free port.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab")

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


def _lab_commands(size=None):
    if not shutil.which("make"):
        pytest.skip("no make")
    env = {k: v for k, v in os.environ.items() if k != "TINYNN_BOOK_SIZE"}
    if size:
        env["TINYNN_BOOK_SIZE"] = size
    if not (VENV / ".installed").exists():
        pytest.skip("not running in the Makefile's virtual environment")
    r = subprocess.run(["make", "-n", "-s", "lab", f"VENV={VENV}"], cwd=ROOT, env=env, capture_output=True,
                       text=True, check=True)
    return [shlex.split(line) for line in r.stdout.replace("\\\n", " ").splitlines() if line.strip()]


def test_lab_size_follows_the_environment():
    assert _lab_commands()[1][0] == "TINYNN_BOOK_SIZE=full"
    assert _lab_commands("ci")[1][0] == "TINYNN_BOOK_SIZE=ci"


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_lab_serves_working_copies_and_hides_the_shipped_chapters(tmp_path):
    sync, lab = _lab_commands("ci")
    book = tmp_path / "book"
    shutil.copytree(ROOT / "chapters", book / "chapters")
    for name in ("book.yml", "README.md"):
        shutil.copy(ROOT / name, book / name)
    (book / "tinynn").mkdir()
    (book / "tinynn" / "layers.py").write_text("# the library\n")
    assert sync[-1] == "sync"
    subprocess.run(sync, cwd=book, check=True, capture_output=True)
    assert sorted(p.name for p in (book / "my-chapters").glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env_prefix, cmd = lab[0], lab[1:]
    assert f"--ServerApp.root_dir={ROOT}" in cmd
    cmd = [f"--ServerApp.root_dir={book}" if a.startswith("--ServerApp.root_dir=") else a for a in cmd]
    assert "--LabApp.default_url=/lab/tree/my-chapters" in cmd
    cmd += ["--no-browser", f"--port={port}", "--ServerApp.port_retries=0", "--ip=127.0.0.1",
            "--IdentityProvider.token=", "--ServerApp.password=", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    env = {**os.environ, env_prefix.split("=")[0]: env_prefix.split("=")[1],
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=book, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"{url}/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        top = {item["name"] for item in _get(f"{url}/api/contents")["content"]}
        assert {"my-chapters", "README.md", "tinynn", "book.yml"} <= top
        assert "chapters" not in top, "the shipped chapters are not listed"
        mine = {item["name"] for item in _get(f"{url}/api/contents/my-chapters")["content"]}
        assert "01_neurons.ipynb" in mine and "intro.md" in mine
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
