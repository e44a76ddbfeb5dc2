import sys

import numpy as np
import pytest

from tinynn import backend
from tinynn.backend import xp


def test_xp_follows_numpy_backend():
    backend.set_backend("numpy")
    assert backend.backend() == "numpy"
    assert isinstance(xp.zeros(2), np.ndarray)
    assert repr(xp) == "<tinynn xp -> numpy>"


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown backend 'torch'"):
        backend.set_backend("torch")


def test_cupy_without_gpu_is_a_clear_error(monkeypatch):
    try:
        import cupy  # noqa: F401
        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        has_gpu = False
    if has_gpu:
        pytest.skip("a GPU is present")
    monkeypatch.setitem(sys.modules, "cupy", None)  # make "import cupy" fail even if installed
    with pytest.raises(RuntimeError, match="CuPy"):
        backend.set_backend("cupy")
    assert backend.backend() == "numpy"


def test_import_tinynn_does_not_import_cupy():
    import subprocess

    code = "import sys, tinynn, tinynn.models, tinynn.layers; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_floatx_default_and_set():
    assert backend.floatx() == "float32"
    backend.set_floatx("float64")
    try:
        assert backend.floatx() == "float64"
        assert backend.cast([1, 2]).dtype == np.float64
    finally:
        backend.set_floatx("float32")
    with pytest.raises(ValueError, match="floatx"):
        backend.set_floatx("int8")


def test_seeded_rng_is_reproducible():
    backend.set_seed(123)
    a = backend.rng().random(5)
    backend.set_seed(123)
    b = backend.rng().random(5)
    assert np.array_equal(a, b)
    backend.set_seed(124)
    assert not np.array_equal(a, backend.rng().random(5))


def test_to_cpu_and_get_array_module():
    a = np.arange(3.0)
    assert backend.get_array_module(a) is np
    assert backend.to_cpu(a) is a or np.array_equal(backend.to_cpu(a), a)


def test_erf_matches_math_erf():
    import math

    x = np.linspace(-3, 3, 13)
    assert np.allclose(backend.erf(x), [math.erf(v) for v in x], atol=1e-15)
    assert backend.erf(x.astype(np.float32)).dtype == np.float32


def test_only_backend_imports_numpy_for_math():
    """The house rule: array math goes through tinynn.backend.xp (data loaders and file formats excepted)."""
    import pathlib
    import re

    root = pathlib.Path(backend.__file__).parent
    allowed = {"backend.py", "saving.py", "files.py"}  # models/saving.py, files.py: the .npz file format only
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if path.name in allowed or rel.parts[0] in ("datasets", "preprocessing", "widgets", "exercises"):
            continue
        if re.search(r"^\s*(import numpy|from numpy|import cupy|from cupy)", path.read_text(), re.M):
            offenders.append(str(rel))
    assert offenders == [], f"these modules import numpy/cupy directly: {offenders}"
