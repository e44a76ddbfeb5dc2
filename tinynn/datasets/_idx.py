"""The IDX file format of MNIST and Fashion-MNIST, parsed strictly.

An IDX file is a big-endian header followed by the raw array:

* 4 bytes of *magic*: two zero bytes, a type code (``0x08`` = uint8, ...) and the number of
  dimensions ``ndim``. MNIST images have magic ``0x00000803`` = 2051, labels ``0x00000801`` = 2049;
* ``ndim`` big-endian uint32 sizes (for images: count, 28, 28);
* ``prod(sizes)`` items in C order.

:func:`read_idx` checks all of it: the magic, that the file holds exactly the number of bytes the
header announces (a truncated file is an error, never a short array), and optionally the expected
magic and trailing shape. ``.gz`` files are decompressed on the fly.

>>> import gzip, io, tempfile, os
>>> raw = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])          # magic 2049, count 3, labels 7 8 9
>>> with tempfile.TemporaryDirectory() as d:
...     p = os.path.join(d, "labels-idx1-ubyte.gz")
...     with gzip.open(p, "wb") as f:
...         _ = f.write(raw)
...     read_idx(p, magic=2049).tolist()
[7, 8, 9]
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ._fetch import DatasetFileError

__all__ = ["read_idx", "load_idx_dataset", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049

# IDX type code -> big-endian numpy dtype
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except EOFError as exc:  # the gzip stream stops early
        raise DatasetFileError(f"{path}: truncated gzip file ({path.stat().st_size:,} bytes): {exc}; "
                               "delete it and load again") from exc
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetFileError(f"{path}: not a valid gzip file: {exc}") from exc


def read_idx(path, *, magic: int | None = None, shape_tail: tuple[int, ...] | None = None) -> np.ndarray:
    """Read an IDX (or IDX ``.gz``) file into a numpy array in native byte order.

    Args:
        path: The file.
        magic: Expected magic number (2051 for images, 2049 for labels), or None for any.
        shape_tail: Expected sizes of all dimensions but the first, e.g. ``(28, 28)``.

    Returns:
        A writable array, shape = the header's sizes; uint8 files give uint8 arrays.

    Raises:
        DatasetFileError: Bad magic, unknown type code, wrong shape, or a file that is shorter or
            longer than its header says. The message names the file, what was expected and what
            was found.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetFileError(f"{path}: {len(data)} bytes, too short for an IDX header")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    found_magic = int.from_bytes(data[:4], "big")
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise DatasetFileError(f"{path}: not an IDX file (magic {found_magic:#010x}, expected two zero "
                               "bytes, a type code and the number of dimensions)")
    if magic is not None and found_magic != magic:
        raise DatasetFileError(f"{path}: IDX magic number is {found_magic}, expected {magic} "
                               f"({'images' if magic == IMAGES_MAGIC else 'labels' if magic == LABELS_MAGIC else 'IDX'})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetFileError(f"{path}: truncated IDX header ({len(data)} bytes, need {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if shape_tail is not None and shape[1:] != tuple(shape_tail):
        raise DatasetFileError(f"{path}: IDX item shape is {shape[1:]}, expected {tuple(shape_tail)}")
    dtype = np.dtype(_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetFileError(f"{path}: IDX data {what}: the header announces shape {shape} "
                               f"= {expected:,} bytes with the header, the file holds {len(data):,}")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))  # a writable copy in native byte order, like Keras' arrays


def load_idx_dataset(dataset: str, remotes, *, path=None, dataset_dirs=None):
    """Load the four IDX files of an MNIST-style dataset as Keras' ``load_data`` returns them.

    Args:
        dataset: Dataset name (cache folder, messages).
        remotes: Four :class:`~tinynn.datasets._fetch.RemoteFile` in the order train images,
            train labels, test images, test labels.
        path: Optional local data directory, searched first.
        dataset_dirs: Per-dataset subfolder names to search.

    Returns:
        A :class:`~tinynn.datasets._fetch.Loaded` ``((x_train, y_train), (x_test, y_test))``:
        uint8 images ``(N, 28, 28)`` and uint8 labels ``(N,)``.
    """
    from ._fetch import Loaded, fetch_files

    remotes = list(remotes)
    files = fetch_files(dataset, remotes, path=path, dataset_dirs=dataset_dirs)
    p = [files[r.fname] for r in remotes]
    parts = []
    for img_path, lab_path in ((p[0], p[1]), (p[2], p[3])):
        x = read_idx(img_path, magic=IMAGES_MAGIC, shape_tail=(28, 28))
        y = read_idx(lab_path, magic=LABELS_MAGIC)
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise DatasetFileError(f"{img_path}, {lab_path}: expected uint8 data, found {x.dtype} and {y.dtype}")
        if len(x) != len(y):
            raise DatasetFileError(f"{img_path} holds {len(x):,} images but {lab_path} holds {len(y):,} labels")
        parts.append((x, y))
    folders = sorted({str(q.parent) for q in p})
    return Loaded(tuple(parts), source=f"{dataset}: IDX files from {', '.join(folders)}")
