"""Issue group 5: files. Every damaged, foreign or pickled file gives one clear error naming the path and
what is wrong (never numpy's BadZipFile, "Bad CRC-32" or advice about allow_pickle); saving names the
requested path, refuses read-only files, and ModelCheckpoint names a log its path needs but fit lacks."""
import json
import os
import zipfile

import numpy as np
import pytest

from tinynn import callbacks, layers
from tinynn.files import FileFormatError, atomic_savez, atomic_write, read_json_config, read_npz
from tinynn.models import Sequential

NUMPY_WORDS = ("BadZipFile", "CRC-32", "allow_pickle", "zipfile", "Errno", ".tmp")


def assert_clear(err, path, *words):
    """The message names the path and each word, and none of numpy's or zipfile's own words."""
    msg = str(err)
    assert os.fspath(path) in msg, msg
    for w in words:
        assert w in msg, msg
    for w in NUMPY_WORDS:
        assert w not in msg, msg


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "model.weights.npz"
    atomic_savez(path, {"w0000": np.arange(12.0).reshape(3, 4), "w0001": np.ones(4), "__names__": np.array(["k", "b"])})
    return path


# --- reading an .npz ------------------------------------------------------------------------------------
def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        read_npz(tmp_path / "nope.npz")
    assert_clear(info.value, tmp_path / "nope.npz", "does not exist")


def test_missing_folder_is_said(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        read_npz(tmp_path / "no_dir" / "w.npz", what="model file")
    assert_clear(info.value, tmp_path / "no_dir" / "w.npz", "model file", "folder")


def test_a_folder_is_not_a_weights_file(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        read_npz(tmp_path)
    assert_clear(info.value, tmp_path, "folder")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError) as info:
        read_npz(path)
    assert isinstance(info.value, ValueError)
    assert_clear(info.value, path, "empty")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, -1])
def test_truncated_file(weights_file, keep):
    data = weights_file.read_bytes()
    cut = len(data) - 1 if keep == -1 else int(len(data) * keep)
    weights_file.write_bytes(data[:cut])
    with pytest.raises(FileFormatError) as info:
        read_npz(weights_file)
    assert_clear(info.value, weights_file, "truncated")


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _data_offset(path, member):
    """Where the raw bytes of ``member`` start in the file."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    raw = path.read_bytes()
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    return info.header_offset + 30 + name_len + extra_len


def test_one_flipped_byte_in_the_values_fails_the_checksum(weights_file):
    _flip(weights_file, _data_offset(weights_file, "w0000.npy") + 128 + 8)  # inside the float values
    with pytest.raises(FileFormatError) as info:
        read_npz(weights_file)
    assert_clear(info.value, weights_file, "corrupted", "'w0000'", "checksum")


def test_a_damaged_array_header_is_named(weights_file):
    _flip(weights_file, _data_offset(weights_file, "w0001.npy") + 2)  # inside b'\x93NUMPY'
    with pytest.raises(FileFormatError) as info:
        read_npz(weights_file)
    assert_clear(info.value, weights_file, "'w0001'")


def test_random_bytes(tmp_path):
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(FileFormatError) as info:
        read_npz(path)
    assert_clear(info.value, path, "not an .npz file")


def test_pickled_object_array_is_refused_without_allow_pickle_advice(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, w0000=np.array([{"evil": 1}, None], dtype=object))
    with pytest.raises(FileFormatError) as info:
        read_npz(path)
    assert_clear(info.value, path, "pickle", "'w0000'")


@pytest.mark.parametrize("content,words", [
    (b"\x93NUMPY\x01\x00" + b"\x00" * 100, ".npy"),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 100, "HDF5"),
    (b"\x80\x04\x95" + b"\x00" * 100, "pickle"),
    (b'{"config": {}}', "JSON"),
])
def test_a_file_of_another_format_is_named(tmp_path, content, words):
    path = tmp_path / "weights.npz"
    path.write_bytes(content)
    with pytest.raises(FileFormatError) as info:
        read_npz(path)
    assert_clear(info.value, path, "not an .npz file", words)


def test_a_zip_that_is_not_an_npz(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(FileFormatError) as info:
        read_npz(path, what="model file")
    assert_clear(info.value, path, "model file", "'config.json'")


def test_compressed_npz_with_damaged_stream(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, w0000=np.arange(1000.0))
    _flip(path, _data_offset(path, "w0000.npy") + 40)
    with pytest.raises(FileFormatError) as info:
        read_npz(path)
    assert_clear(info.value, path, "'w0000'")


def test_a_required_entry_missing_is_named(weights_file):
    with pytest.raises(FileFormatError) as info:
        read_npz(weights_file, required=("__config__",))
    assert_clear(info.value, weights_file, "'__config__'", "'w0000'")


# --- the architecture JSON --------------------------------------------------------------------------------
CONFIG = json.dumps({"config": {"name": "sequential", "layers": [{"class_name": "Dense", "config": {"units": 3}}]},
                     "input_shape": [None, 4]}).encode()


@pytest.mark.parametrize("cut", [1, 10, len(CONFIG) // 2, len(CONFIG) - 1])
def test_truncated_architecture_json(cut):
    where = "the model file 'm.npz', entry '__config__'"
    with pytest.raises(FileFormatError) as info:
        read_json_config(np.frombuffer(CONFIG[:cut], dtype=np.uint8), where=where)
    assert_clear(info.value, "'m.npz'", "truncated", "__config__")


@pytest.mark.parametrize("content,words", [
    (b'{"config": {"name": "x",, }}', "not valid JSON"),
    (b"[1, 2, 3]", "JSON object"),
    (b"\xff\xfe{}", "UTF-8"),
    (b"", "empty"),
])
def test_invalid_architecture_json_file(tmp_path, content, words):
    path = tmp_path / "architecture.json"
    path.write_bytes(content)
    with pytest.raises(FileFormatError) as info:
        read_json_config(path)
    assert_clear(info.value, path, words)


def test_architecture_json_missing_a_key(tmp_path):
    path = tmp_path / "architecture.json"
    path.write_bytes(b'{"config": {}}')
    with pytest.raises(FileFormatError) as info:
        read_json_config(path, required=("config", "input_shape"))
    assert_clear(info.value, path, "'input_shape'")


def test_missing_architecture_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        read_json_config(tmp_path / "a.json")
    assert_clear(info.value, tmp_path / "a.json", "does not exist")


# --- saving ---------------------------------------------------------------------------------------------
def test_saving_into_a_missing_folder_names_the_requested_path(tmp_path):
    path = tmp_path / "missing" / "w.npz"
    with pytest.raises(FileNotFoundError) as info:
        atomic_savez(path, {"a": np.ones(2)})
    assert_clear(info.value, path, "does not exist")


def test_saving_over_a_read_only_file_fails_and_keeps_it(weights_file):
    before = weights_file.read_bytes()
    os.chmod(weights_file, 0o444)
    with pytest.raises(PermissionError) as info:
        atomic_savez(weights_file, {"a": np.zeros(2)})
    assert_clear(info.value, weights_file, "read-only")
    assert weights_file.read_bytes() == before and sorted(os.listdir(weights_file.parent)) == [weights_file.name]


def test_overwrite_false_names_the_path(weights_file):
    with pytest.raises(FileExistsError) as info:
        atomic_savez(weights_file, {"a": np.zeros(2)}, overwrite=False)
    assert_clear(info.value, weights_file, "overwrite=False")


def test_saving_onto_a_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        atomic_savez(tmp_path / "sub", {"a": np.zeros(2)})
    assert_clear(info.value, tmp_path / "sub", "folder")


def test_saving_below_a_file_names_the_path(weights_file):
    with pytest.raises(NotADirectoryError) as info:
        atomic_savez(weights_file / "w.npz", {"a": np.zeros(2)})
    assert_clear(info.value, weights_file / "w.npz", "not a folder")


def test_object_arrays_are_refused_at_save(tmp_path):
    path = tmp_path / "w.npz"
    with pytest.raises(TypeError) as info:
        atomic_savez(path, {"w0003": np.array([None, 1], dtype=object)})
    assert_clear(info.value, path, "'w0003'", "pickle")
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_write_error_names_the_requested_path_and_leaves_nothing(weights_file):
    before = weights_file.read_bytes()

    def disk_full(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as info:
        atomic_write(weights_file, disk_full, what="weights file")
    assert os.fspath(weights_file) in str(info.value) and "No space left" in str(info.value)
    assert ".tmp" not in str(info.value)
    assert weights_file.read_bytes() == before and os.listdir(weights_file.parent) == [weights_file.name]


def test_an_exception_while_writing_keeps_the_old_file(weights_file):
    before = weights_file.read_bytes()

    def boom(fh):
        fh.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(weights_file, boom)
    assert weights_file.read_bytes() == before and os.listdir(weights_file.parent) == [weights_file.name]


# --- ModelCheckpoint ------------------------------------------------------------------------------------
def _model():
    model = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_checkpoint_needing_val_loss_without_validation_fails_at_train_begin(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.npz"))
    cb.set_params({"epochs": 2, "steps": 1, "do_validation": False})
    with pytest.raises(ValueError) as info:
        cb.on_train_begin()
    assert "{val_loss}" in str(info.value) and "validation_data=" in str(info.value)
    assert "ckpt-{epoch:02d}-{val_loss:.2f}.npz" in str(info.value)


def test_checkpoint_needing_val_loss_in_fit_is_a_clear_error_not_a_keyerror(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{val_loss:.2f}.npz"))
    with pytest.raises(ValueError) as info:
        _model().fit(np.ones((4, 3)), np.ones((4, 2)), epochs=2, verbose=0, callbacks=[cb])
    assert not isinstance(info.value, KeyError)
    assert "{val_loss}" in str(info.value) and "validation" in str(info.value) and "loss" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_checkpoint_with_validation_still_saves(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}-{val_loss:.2f}.npz"))
    cb.set_params({"do_validation": True})
    cb.on_train_begin()
    _model().fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, callbacks=[cb],
                 validation_data=(np.ones((2, 3)), np.ones((2, 2))))
    assert len(os.listdir(tmp_path)) == 1


@pytest.mark.parametrize("path,words", [
    ("ckpt-{epoch", "not a valid format string"),
    ("ckpt-}.npz", "not a valid format string"),
])
def test_checkpoint_with_a_malformed_path_fails_at_once(path, words):
    with pytest.raises(ValueError) as info:
        callbacks.ModelCheckpoint(path)
    assert path in str(info.value) and words in str(info.value)


@pytest.mark.parametrize("path,words", [
    ("ckpt-{}.npz", "positional field"),
    ("ckpt-{loss:02d}.npz", "cannot fill"),
    ("ckpt-{accuracy}.npz", "{accuracy}"),
])
def test_checkpoint_path_that_the_logs_cannot_fill(tmp_path, path, words):
    cb = callbacks.ModelCheckpoint(str(tmp_path / path))
    with pytest.raises(ValueError) as info:
        _model().fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, callbacks=[cb])
    assert path in str(info.value) and words in str(info.value)

