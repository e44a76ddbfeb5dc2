"""Fixtures shared by several test modules (each opts in; nothing here is autouse)."""
import os

import pytest


@pytest.fixture
def isolated_data_env(tmp_path, monkeypatch):
    """The dataset tests' own world: a fresh cache, no local data dir, no downloads unless a test allows them."""
    monkeypatch.setenv("TINYNN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYNN_DATA", raising=False)
    monkeypatch.setenv("TINYNN_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


try:  # CI explores the same examples on every run (a property test that finds a new case fails locally first)
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # hypothesis is a dev extra
    pass
