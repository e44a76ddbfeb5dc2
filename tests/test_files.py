"""tinynn.files when all goes well: exact paths, round trips, the usual permissions, atomic replacement.
(The damaged-file and bad-path cases are in tests/faults/test_5_files.py.)"""
import json
import os
import stat

import numpy as np
import pytest

from tinynn.files import atomic_savez, atomic_write, read_json_config, read_npz


def test_round_trip_at_exactly_the_requested_path(tmp_path):
    path = tmp_path / "model.weights"  # no .npz added, unlike np.savez(path)
    arrays = {"w0000": np.arange(6, dtype=np.float32).reshape(2, 3), "__names__": np.array(["dense/kernel"])}
    atomic_savez(path, arrays)
    assert os.listdir(tmp_path) == ["model.weights"]
    back = read_npz(path)
    assert back.keys() == arrays.keys()
    np.testing.assert_array_equal(back["w0000"], arrays["w0000"])
    assert back["w0000"].dtype == np.float32 and back["__names__"].tolist() == ["dense/kernel"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_savez(tmp_path / "w.npz", {"a": np.ones(2)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "w.npz").st_mode) == 0o666 & ~umask


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "w.npz"
    atomic_savez(path, {"a": np.ones(2)})
    os.chmod(path, 0o640)
    atomic_savez(path, {"a": np.zeros(2)})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and read_npz(path)["a"].tolist() == [0, 0]


def test_saving_through_a_symbolic_link_keeps_the_link(tmp_path):
    real = tmp_path / "real.npz"
    atomic_savez(real, {"a": np.ones(2)})
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    atomic_savez(link, {"a": np.full(2, 7.0)})
    assert link.is_symlink() and read_npz(real)["a"].tolist() == [7, 7]


def test_the_old_file_stays_whole_until_the_new_one_is_complete(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"old")
    seen = {}

    def write(fh):
        fh.write(b"new content")
        seen["during"] = path.read_bytes()
        seen["others"] = sorted(p for p in os.listdir(tmp_path) if p != "w.bin")

    atomic_write(path, write)
    assert seen["during"] == b"old" and len(seen["others"]) == 1  # the temporary file, beside the target
    assert path.read_bytes() == b"new content" and os.listdir(tmp_path) == ["w.bin"]


def test_read_json_config_from_bytes_and_from_a_file(tmp_path):
    config = {"config": {"name": "m", "layers": []}, "input_shape": [None, 3]}
    data = json.dumps(config).encode()
    assert read_json_config(np.frombuffer(data, dtype=np.uint8), required=("config",)) == config
    (tmp_path / "a.json").write_bytes(data)
    assert read_json_config(tmp_path / "a.json") == config


def test_variables_and_lists_are_saved_as_their_values(tmp_path):
    from tinynn.variables import Variable

    atomic_savez(tmp_path / "w.npz", {"w0000": Variable(np.ones((2, 2)), dtype="float64"), "w0001": [1, 2]})
    back = read_npz(tmp_path / "w.npz")
    assert back["w0000"].tolist() == [[1, 1], [1, 1]] and back["w0001"].tolist() == [1, 2]
