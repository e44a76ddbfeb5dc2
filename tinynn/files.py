"""Files: atomic writes with the usual permissions, and readers that turn any damaged file into one clear error.

Writing (``atomic_write``, ``atomic_savez``): the data goes to a temporary file in the same folder, which
then replaces the requested path in one step (``os.replace``), so a crash or a full disk never leaves half a
file and the old file survives any failure. The new file gets the permissions a plain ``open(path, 'w')``
would give it (``0o666`` minus the umask; an existing file keeps its own), a read-only file is never
replaced, and every error names the path that was asked for, never the temporary one.

Reading (``read_npz``, ``read_json_config``): a missing, empty, truncated, corrupted, foreign or pickled
file raises one error (:class:`FileFormatError`, a ``ValueError``; or ``FileNotFoundError``) that names the
path and says what is wrong with it. Pickles are never loaded: unpickling can run any code.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
>>> atomic_savez(path, {"w0000": [1.0, 2.0]})
>>> read_npz(path)["w0000"].tolist()
[1.0, 2.0]
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
import zipfile
import zlib

import numpy as np  # file I/O only, as the dataset loaders

from tinynn import backend

__all__ = ["FileFormatError", "atomic_write", "atomic_savez", "read_npz", "read_json_config"]


class FileFormatError(ValueError):
    """A file exists but cannot be used: empty, truncated, corrupted, of another format, or pickled."""


# --- writing --------------------------------------------------------------------------------------------
def _umask():
    """The process's umask (read from /proc where possible: setting it to read it is not thread-safe)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _target(path, what):
    """The file a save should write (a symbolic link is followed), its folder, and its permissions."""
    if not path:
        raise ValueError(f"cannot save the {what}: the path is empty.")
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        problem = "is not a folder" if os.path.exists(directory) else "does not exist"
        err = NotADirectoryError if os.path.exists(directory) else FileNotFoundError
        raise err(f"cannot save the {what} {path!r}: its folder {os.path.dirname(os.path.abspath(path))!r} "
                  f"{problem}. Create it first (os.makedirs(folder, exist_ok=True)) or choose another path.")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, directory, 0o666 & ~_umask()
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"cannot save the {what} {path!r}: that path is a folder; give a file name inside it.")
    return target, directory, stat.S_IMODE(st.st_mode)


def atomic_write(path, write_fn, *, overwrite=True, what="file"):
    """Write a file atomically: ``write_fn(fh)`` writes to a temporary file (binary, in the same folder)
    that then replaces ``path``; on any error the temporary file is removed and ``path`` is untouched.

    Args:
        path: the file to write (str or path-like).
        write_fn: a function of one open binary file object.
        overwrite: False refuses to replace an existing file (``FileExistsError``).
        what: how error messages call the file (``'weights file'``, ``'model file'``, ...).

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist (the message names ``path``).
        FileExistsError: ``path`` exists and ``overwrite=False``.
        PermissionError: ``path`` is a read-only file, or its folder cannot be written to.
        IsADirectoryError: ``path`` is a folder.
    """
    path = os.fspath(path)
    target, directory, mode = _target(path, what)
    if os.path.exists(target):
        if not overwrite:
            raise FileExistsError(f"cannot save the {what} {path!r}: the file exists and overwrite=False.")
        if not mode & 0o222 or not os.access(target, os.W_OK):
            raise PermissionError(f"cannot save the {what} {path!r}: the file exists and is read-only, and tinynn "
                                  "does not replace a read-only file. Make it writable (os.chmod) or save elsewhere.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot save the {what} {path!r}: cannot create a file in its folder "
                                   f"{directory!r} ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                write_fn(fh)
                fh.flush()
                try:
                    os.fsync(fh.fileno())  # on disk before it replaces the old file
                except OSError as exc:
                    if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # a file system without fsync: go on
                        raise
            except OSError as exc:  # e.g. a full disk: name the requested path, not the temporary file
                reason = exc.strerror or str(exc)
                raise type(exc)(exc.errno, f"cannot save the {what} {path!r}: {reason}") from exc
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_savez(path, arrays, overwrite=True, *, what="weights file"):
    """Save a dict of arrays (NumPy or CuPy arrays, Variables, lists) as an uncompressed ``.npz`` at exactly
    ``path`` (no suffix added), atomically (see :func:`atomic_write`). Object arrays are refused: they would
    be stored as pickles."""
    arrays = {key: backend.to_cpu(value) for key, value in arrays.items()}  # GPU arrays and Variables too
    for key, value in arrays.items():
        if value.dtype.hasobject:
            raise TypeError(f"cannot save the {what} {os.fspath(path)!r}: the array {key!r} holds Python objects "
                            f"(dtype {value.dtype}), which would be stored as a pickle; tinynn saves numbers only.")
    atomic_write(path, lambda fh: np.savez(fh, **arrays), overwrite=overwrite, what=what)


# --- reading --------------------------------------------------------------------------------------------
def _open_checked(path, what):
    """Check that ``path`` is a non-empty file; return its first bytes."""
    if not os.path.exists(path):
        folder = os.path.dirname(os.path.abspath(path))
        hint = "" if os.path.isdir(folder) else f" (its folder {folder!r} does not exist either)"
        raise FileNotFoundError(f"the {what} {path!r} does not exist{hint}.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"the {what} {path!r} is a folder, not a file.")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if not head:
        raise FileFormatError(f"the {what} {path!r} is empty (0 bytes): it was never written completely. "
                              "Save it again.")
    return head


def _describe(head):
    """What a file that is not an .npz looks like, from its first bytes."""
    if head.startswith(b"\x93NUMPY"):
        return "it is a single NumPy array (.npy), not an .npz archive"
    if head.startswith(b"\x89HDF"):
        return "it is an HDF5 file (Keras' .h5 / .weights.h5); tinynn saves and reads .npz files"
    if head[:1] == b"\x80":
        return "it looks like a Python pickle, which tinynn never loads (unpickling can run any code)"
    if head.lstrip()[:1] in (b"{", b"["):
        return "it looks like JSON text"
    return f"it does not start like one (first bytes {head[:8]!r})"


def read_npz(path, what="weights file", *, required=()):
    """Read every array of an ``.npz`` file into a dict (the file is closed afterwards).

    Args:
        path: the file.
        what: how error messages call the file.
        required: keys that must be present.

    Raises:
        FileNotFoundError: no such file. IsADirectoryError: a folder.
        FileFormatError (a ValueError): empty, truncated, corrupted (checksum), not an .npz, an entry that is
            not a NumPy array, a pickled (object) array, or a ``required`` key missing; the message names
            ``path`` and the entry.
    """
    path = os.fspath(path)
    head = _open_checked(path, what)
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise FileFormatError(f"the {what} {path!r} is not an .npz file: {_describe(head)}.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise FileFormatError(f"the {what} {path!r} is truncated or damaged ({os.path.getsize(path)} bytes): its "
                              "table of contents is missing or unreadable. Save it again.") from None
    arrays = {}
    with archive:
        for info in archive.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            arrays[key] = _read_entry(archive, info, key, path, what)
    missing = [k for k in required if k not in arrays]
    if missing:
        raise FileFormatError(f"the {what} {path!r} has no entry {', '.join(map(repr, missing))} "
                              f"(it has {', '.join(map(repr, arrays)) or 'none'}).")
    return arrays


def _read_entry(archive, info, key, path, what):
    where = f"the {what} {path!r}"
    if not info.filename.endswith(".npy"):
        raise FileFormatError(f"{where} is not a NumPy .npz file: it holds {info.filename!r}, which is not an array.")
    try:
        with archive.open(info) as member:
            array = np.lib.format.read_array(member, allow_pickle=False)
            member.read()  # the checksum is verified once the entry is read to its end
    except zipfile.BadZipFile:
        raise FileFormatError(f"{where} is corrupted: the entry {key!r} fails its checksum (its bytes changed "
                              "after it was saved). Save it again.") from None
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "bject arrays" in str(exc):
            raise FileFormatError(f"{where} holds pickled Python objects in the entry {key!r}; tinynn never loads "
                                  "pickles (unpickling can run any code); it saves and loads numbers only.") from None
        raise FileFormatError(f"{where} is damaged: the entry {key!r} is not a readable array ({exc}).") from None
    except (EOFError, zlib.error, OSError) as exc:
        raise FileFormatError(f"{where} is damaged: the entry {key!r} cannot be read ({exc}).") from None
    return array


def read_json_config(source, what="architecture", *, where=None, required=()):
    """Parse a JSON object (a model's architecture) from a file path or from bytes, with clear errors.

    Args:
        source: a path, or the JSON as ``bytes``/``bytearray``/a ``uint8`` array (as stored in a model file).
        what: how error messages call the JSON.
        where: for bytes, where they come from (e.g. ``"model file 'm.npz', entry '__config__'"``).
        required: top-level keys that must be present.

    Raises:
        FileNotFoundError: no such file. FileFormatError (a ValueError): empty, not UTF-8, truncated or invalid
            JSON, not a JSON object, or a ``required`` key missing; the message names the path and position.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        _open_checked(path, f"{what} file")
        with open(path, "rb") as fh:
            data = fh.read()
        where = where or f"the {what} file {path!r}"
    else:
        data = source.tobytes() if hasattr(source, "tobytes") else bytes(source)
        where = where or f"the {what}"
        if not data:
            raise FileFormatError(f"{where} is empty.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{where} is not UTF-8 text (byte {exc.start} of {len(data)}): the file is "
                              "corrupted or not JSON.") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise FileFormatError(f"{where} is truncated: the JSON ends after {len(text)} characters "
                                  f"({exc.msg}). Save it again.") from None
        raise FileFormatError(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
                              f"(character {exc.pos}).") from None
    if not isinstance(config, dict):
        raise FileFormatError(f"{where} must be a JSON object {{...}}, got {type(config).__name__}.")
    missing = [k for k in required if k not in config]
    if missing:
        raise FileFormatError(f"{where} has no key {', '.join(map(repr, missing))} "
                              f"(it has {', '.join(map(repr, config)) or 'none'}).")
    return config
