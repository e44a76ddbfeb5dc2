"""Fixtures shared by several test modules (each opts in; nothing here is autouse)."""
import pytest


@pytest.fixture
def isolated_data_env(tmp_path, monkeypatch):
    """The dataset tests' own world: a fresh cache, no local data dir, no downloads unless a test allows them."""
    monkeypatch.setenv("TINYNN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYNN_DATA", raising=False)
    monkeypatch.setenv("TINYNN_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
