"""MNIST and Fashion-MNIST: the IDX parser and the loaders, on generated IDX fixtures and the real files."""
import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from tinynn.datasets import DatasetFileError, DatasetNotFoundError, fashion_mnist, mnist
from tinynn.datasets._fetch import RemoteFile, cache_dir
from tinynn.datasets._idx import read_idx

REAL_DATA = os.environ.get("TINYNN_DATA")  # read before the autouse fixture clears it
NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


pytestmark = pytest.mark.usefixtures("isolated_data_env")


def idx_bytes(arr: np.ndarray, code: int = 0x08, dtype=">u1") -> bytes:
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=dtype).tobytes()


def write_gz(path: Path, data: bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(data)
    return path.read_bytes()


def make_mnist_fixture(folder: Path, n_train=12, n_test=5, seed=0):
    """Write the four IDX .gz files; return (arrays, RemoteFile registry with their hashes)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{prefix}-images-idx3-ubyte.gz"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{prefix}-labels-idx1-ubyte.gz"] = rng.integers(0, 10, n, dtype=np.uint8)
    registry = []
    for name in NAMES:
        raw = write_gz(folder / name, idx_bytes(arrays[name]))
        registry.append(RemoteFile(name, hashlib.sha256(raw).hexdigest()))
    return arrays, tuple(registry)


def check_arrays(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, name in zip((x_train, y_train, x_test, y_test), NAMES):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])


# --- the IDX parser -----------------------------------------------------------------------------

@pytest.mark.parametrize("code,dtype", [(0x08, ">u1"), (0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"),
                                        (0x0D, ">f4"), (0x0E, ">f8")])
def test_read_idx_every_type_code(tmp_path, code, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == ">u1":
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / "a.idx"
    p.write_bytes(idx_bytes(arr, code, dtype))
    got = read_idx(p)
    assert got.dtype.isnative and got.shape == (2, 3, 4) and got.flags.writeable
    np.testing.assert_array_equal(got, arr)


def test_read_idx_gz_with_expected_magic(tmp_path):
    labels = np.array([3, 1, 4], np.uint8)
    write_gz(tmp_path / "l.gz", idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(tmp_path / "l.gz", magic=2049), labels)


def test_wrong_magic_is_an_error(tmp_path):
    write_gz(tmp_path / "l.gz", idx_bytes(np.zeros(3, np.uint8)))  # magic 2049
    with pytest.raises(DatasetFileError, match=r"l\.gz: IDX magic number is 2049, expected 2051"):
        read_idx(tmp_path / "l.gz", magic=2051)


def test_not_an_idx_file(tmp_path):
    write_gz(tmp_path / "x.gz", b"<html>404 not found</html>")
    with pytest.raises(DatasetFileError, match="not an IDX file"):
        read_idx(tmp_path / "x.gz")


@pytest.mark.parametrize("cut", [1, 100, 784 * 2])
def test_truncated_idx_data_is_an_error_not_a_short_array(tmp_path, cut):
    data = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    write_gz(tmp_path / "i.gz", data[:-cut])
    with pytest.raises(DatasetFileError, match=r"truncated.*\(3, 28, 28\)"):
        read_idx(tmp_path / "i.gz", magic=2051)


def test_truncated_header(tmp_path):
    write_gz(tmp_path / "i.gz", idx_bytes(np.zeros((3, 28, 28), np.uint8))[:9])
    with pytest.raises(DatasetFileError, match="truncated IDX header"):
        read_idx(tmp_path / "i.gz")


def test_trailing_bytes_are_an_error(tmp_path):
    write_gz(tmp_path / "i.gz", idx_bytes(np.zeros(3, np.uint8)) + b"\0")
    with pytest.raises(DatasetFileError, match="trailing bytes"):
        read_idx(tmp_path / "i.gz")


def test_wrong_item_shape_is_an_error(tmp_path):
    write_gz(tmp_path / "i.gz", idx_bytes(np.zeros((2, 32, 32), np.uint8)))
    with pytest.raises(DatasetFileError, match=r"\(32, 32\), expected \(28, 28\)"):
        read_idx(tmp_path / "i.gz", shape_tail=(28, 28))


def test_truncated_gzip_stream_is_an_error(tmp_path):
    raw = write_gz(tmp_path / "i.gz", idx_bytes(np.arange(5000, dtype=np.uint8) % 7))
    (tmp_path / "i.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetFileError, match=r"i\.gz: truncated gzip"):
        read_idx(tmp_path / "i.gz")


def test_not_gzip_is_an_error(tmp_path):
    (tmp_path / "i.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(DatasetFileError, match="not a valid gzip"):
        read_idx(tmp_path / "i.gz")


# --- the loaders on fixtures --------------------------------------------------------------------

@pytest.mark.parametrize("module,subdir", [(mnist, "mnist"), (fashion_mnist, "fashion-mnist"),
                                           (fashion_mnist, "fashion_mnist")])
def test_local_directory_via_env_subfolder(tmp_path, monkeypatch, module, subdir):
    arrays, registry = make_mnist_fixture(tmp_path / "data" / subdir)
    monkeypatch.setattr(module, "FILES", registry)
    monkeypatch.setenv("TINYNN_DATA", str(tmp_path / "data"))
    result = module.load_data()
    check_arrays(result, arrays)
    assert str(tmp_path / "data" / subdir) in result.source


def test_local_directory_via_path_argument(tmp_path, monkeypatch):
    arrays, registry = make_mnist_fixture(tmp_path / "flat")
    monkeypatch.setattr(mnist, "FILES", registry)
    check_arrays(mnist.load_data(path=tmp_path / "flat"), arrays)


def test_local_file_with_wrong_hash_is_refused(tmp_path, monkeypatch):
    arrays, registry = make_mnist_fixture(tmp_path)
    monkeypatch.setattr(mnist, "FILES", registry)
    write_gz(tmp_path / NAMES[1], idx_bytes(arrays[NAMES[1]][::-1].copy()))
    with pytest.raises(DatasetFileError, match="train-labels-idx1-ubyte.gz: SHA-256"):
        mnist.load_data(path=tmp_path)


def test_truncated_local_file_without_known_hash_is_still_caught(tmp_path, monkeypatch):
    arrays, registry = make_mnist_fixture(tmp_path)
    monkeypatch.setattr(mnist, "FILES", tuple(RemoteFile(r.fname, None) for r in registry))
    data = idx_bytes(arrays[NAMES[0]])
    write_gz(tmp_path / NAMES[0], data[:-784])
    with pytest.raises(DatasetFileError, match="truncated"):
        mnist.load_data(path=tmp_path)


def test_image_and_label_counts_must_agree(tmp_path, monkeypatch):
    arrays, _ = make_mnist_fixture(tmp_path)
    write_gz(tmp_path / NAMES[3], idx_bytes(np.zeros(4, np.uint8)))  # 5 test images, 4 labels
    monkeypatch.setattr(mnist, "FILES", tuple(RemoteFile(n, None) for n in NAMES))
    with pytest.raises(DatasetFileError, match="5 images but .* 4 labels"):
        mnist.load_data(path=tmp_path)


def test_offline_without_files_names_all_four(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        mnist.load_data()
    msg = str(err.value)
    assert all(name in msg for name in NAMES)
    assert "storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz" in msg
    assert "ossci-datasets.s3.amazonaws.com" in msg and "TINYNN_DATA" in msg


def test_download_then_cache_hit_then_corrupted_cache(local_server, monkeypatch):
    www, base, requests = local_server
    arrays, registry = make_mnist_fixture(www)
    monkeypatch.setattr(mnist, "FILES", tuple(RemoteFile(r.fname, r.sha256, (base + "dead/" + r.fname, base + r.fname))
                                              for r in registry))
    first = mnist.load_data()
    check_arrays(first, arrays)
    assert str(cache_dir("mnist")) in first.source
    n = len(requests)
    assert n == 8  # each file: dead mirror, then the good one
    check_arrays(mnist.load_data(), arrays)
    assert len(requests) == n  # cache hit, no request
    (cache_dir("mnist") / NAMES[2]).write_bytes(b"corrupt")
    with pytest.warns(RuntimeWarning, match="t10k-images-idx3-ubyte.gz"):
        check_arrays(mnist.load_data(), arrays)
    assert requests[n:] == ["/dead/" + NAMES[2], "/" + NAMES[2]]


# --- the real files (CI sets TINYNN_DATA to the shared data folder) ------------------------------

def _real_dir(sub):
    if not REAL_DATA:
        pytest.skip("TINYNN_DATA is not set: the real-data checks need the shared data folder")
    folder = Path(REAL_DATA) / sub
    if not all((folder / n).is_file() or (Path(REAL_DATA) / n).is_file() for n in NAMES):
        pytest.skip(f"TINYNN_DATA={REAL_DATA} lacks the four {sub} IDX files")
    return REAL_DATA


def test_real_mnist(monkeypatch):
    monkeypatch.setenv("TINYNN_DATA", _real_dir("mnist"))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert x_train.max() == 255 and x_train.min() == 0


def test_real_fashion_mnist(monkeypatch):
    monkeypatch.setenv("TINYNN_DATA", _real_dir("fashion-mnist"))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert fashion_mnist.CLASS_NAMES[y_train[0]] == "Ankle boot"
