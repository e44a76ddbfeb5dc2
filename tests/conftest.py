"""Fixtures shared by several test modules (each opts in; nothing here is autouse)."""
import functools
import http.server
import os
import threading

import pytest


@pytest.fixture
def isolated_data_env(tmp_path, monkeypatch):
    """The dataset tests' own world: a fresh cache, no local data dir, no downloads unless a test allows them."""
    monkeypatch.setenv("TINYNN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYNN_DATA", raising=False)
    monkeypatch.setenv("TINYNN_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")



class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def local_server(tmp_path, monkeypatch):
    """A throw-away HTTP server on 127.0.0.1 serving tmp_path/www, downloads allowed while it runs.

    Yields (root folder, base URL, list of requested paths). Used with ``isolated_data_env``.
    """
    root = tmp_path / "www"
    root.mkdir(exist_ok=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    httpd.requests = []
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.delenv("TINYNN_OFFLINE", raising=False)
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", httpd.requests
    httpd.shutdown()
    httpd.server_close()


try:  # CI explores the same examples on every run (a property test that finds a new case fails locally first)
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # hypothesis is a dev extra
    pass
