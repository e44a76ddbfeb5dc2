"""The fetch layer: local data directories, the cache, verified downloads, the offline error.

No test touches the network: downloads are served by a throw-away HTTP server on 127.0.0.1
(pooch's HTTP downloader does not accept file:// URLs).
"""
import hashlib

import pytest

from tinynn.datasets import _fetch
from tinynn.datasets._fetch import (DatasetFileError, DatasetNotFoundError, Loaded, RemoteFile, cache_dir,
                                    fetch_files)


pytestmark = pytest.mark.usefixtures("isolated_data_env")


@pytest.fixture
def server(local_server):
    """A local HTTP server for tmp_path/www; yields (root, base URL, list of requested paths)."""
    return local_server


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_cache_dir_honours_tinynn_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNN_HOME", str(tmp_path / "elsewhere"))
    assert cache_dir("mnist") == tmp_path / "elsewhere" / "datasets" / "mnist"
    monkeypatch.delenv("TINYNN_HOME")
    assert str(cache_dir("mnist")).endswith(".tinynn/datasets/mnist")


def test_local_file_found_directly_and_in_subfolder(tmp_path, monkeypatch):
    data = b"hello"
    remote = RemoteFile("a.bin", sha(data))
    direct, nested = tmp_path / "d1", tmp_path / "d2" / "demo"
    direct.mkdir()
    nested.mkdir(parents=True)
    (direct / "a.bin").write_bytes(data)
    (nested / "a.bin").write_bytes(data)
    assert fetch_files("demo", [remote], path=direct)["a.bin"] == direct / "a.bin"
    monkeypatch.setenv("TINYNN_DATA", str(tmp_path / "d2"))
    assert fetch_files("demo", [remote])["a.bin"] == nested / "a.bin"


def test_path_argument_searched_before_tinynn_data(tmp_path, monkeypatch):
    remote = RemoteFile("a.bin", None)
    for d in ("first", "second"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "a.bin").write_bytes(d.encode())
    monkeypatch.setenv("TINYNN_DATA", str(tmp_path / "second"))
    assert fetch_files("demo", [remote], path=tmp_path / "first")["a.bin"].read_bytes() == b"first"


def test_path_that_is_not_a_directory_is_an_error(tmp_path):
    with pytest.raises(NotADirectoryError, match="not a directory"):
        fetch_files("demo", [RemoteFile("a.bin", None)], path=tmp_path / "nope")


def test_local_file_with_wrong_hash_is_an_error_naming_it(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"tampered")
    remote = RemoteFile("a.bin", sha(b"original"))
    with pytest.raises(DatasetFileError) as err:
        fetch_files("demo", [remote], path=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "a.bin") in msg and sha(b"original") in msg and sha(b"tampered") in msg


def test_verification_is_memoised_but_notices_changes(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"one")
    remote = RemoteFile("a.bin", sha(b"one"))
    assert _fetch.verify(p, remote)
    p.write_bytes(b"two!")  # other size (and mtime): hashed again
    assert not _fetch.verify(p, remote)


def test_offline_missing_files_one_error_listing_all(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNN_DATA", str(tmp_path))
    remotes = [RemoteFile("x.gz", "ab" * 32, ("https://example.invalid/x.gz",)),
               RemoteFile("y.gz", "cd" * 32, ("https://example.invalid/y.gz",))]
    with pytest.raises(DatasetNotFoundError) as err:
        fetch_files("demo", remotes)
    msg = str(err.value)
    for needed in ("x.gz", "y.gz", "https://example.invalid/x.gz", "TINYNN_DATA", str(tmp_path), "demo/",
                   "TINYNN_OFFLINE"):
        assert needed in msg


def test_download_then_cache_hit(server):
    root, base, requests = server
    data = b"payload" * 100
    (root / "f.bin").write_bytes(data)
    remote = RemoteFile("f.bin", sha(data), (base + "f.bin",))
    got = fetch_files("demo", [remote], progressbar=False)["f.bin"]
    assert got == cache_dir("demo") / "f.bin" and got.read_bytes() == data
    assert requests == ["/f.bin"]
    again = fetch_files("demo", [remote], progressbar=False)["f.bin"]
    assert again == got and requests == ["/f.bin"]  # served from the cache


def test_second_mirror_used_when_first_fails(server):
    root, base, requests = server
    data = b"mirror"
    (root / "m2").mkdir()
    (root / "m2" / "f.bin").write_bytes(data)
    remote = RemoteFile("f.bin", sha(data), (base + "m1/f.bin", base + "m2/f.bin"))
    assert fetch_files("demo", [remote], progressbar=False)["f.bin"].read_bytes() == data
    assert requests == ["/m1/f.bin", "/m2/f.bin"]


def test_corrupted_cache_is_reported_and_refetched(server):
    root, base, requests = server
    data = b"good data"
    (root / "f.bin").write_bytes(data)
    remote = RemoteFile("f.bin", sha(data), (base + "f.bin",))
    cached = cache_dir("demo") / "f.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"bit rot")
    with pytest.warns(RuntimeWarning, match="expected " + sha(data)):
        got = fetch_files("demo", [remote], progressbar=False)["f.bin"]
    assert got.read_bytes() == data and requests == ["/f.bin"]


def test_corrupted_cache_offline_is_never_used(monkeypatch):
    remote = RemoteFile("f.bin", sha(b"good"), ("https://example.invalid/f.bin",))
    cached = cache_dir("demo") / "f.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"bad")
    with pytest.warns(RuntimeWarning, match="will not be used"), pytest.raises(DatasetNotFoundError):
        fetch_files("demo", [remote])


def test_download_with_wrong_hash_is_rejected(server):
    root, base, _ = server
    (root / "f.bin").write_bytes(b"not what we expect")
    remote = RemoteFile("f.bin", sha(b"expected"), (base + "f.bin",))
    with pytest.raises(DatasetNotFoundError, match="f.bin") as err:
        fetch_files("demo", [remote], progressbar=False)
    assert "hash" in str(err.value).lower()
    assert not (cache_dir("demo") / "f.bin").exists()  # pooch writes atomically


def test_unreachable_server_gives_the_missing_files_error(server):
    _, base, _ = server
    remote = RemoteFile("f.bin", sha(b"x"), ("http://127.0.0.1:9/f.bin",))  # port 9: discard, closed
    with pytest.raises(DatasetNotFoundError, match="Download attempts"):
        fetch_files("demo", [remote], progressbar=False)


def test_loaded_unpacks_like_keras():
    r = Loaded((("xa", "ya"), ("xb", "yb")), source="here")
    (xa, ya), (xb, yb) = r
    assert (xa, yb, r.source) == ("xa", "yb", "here")
