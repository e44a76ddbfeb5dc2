"""Finding dataset files: a local data directory first, then the cache, then a verified download.

Every dataset file tinynn knows is a :class:`RemoteFile`: its name, its SHA-256 and the URLs
(mirrors, tried in order) it can be downloaded from. :func:`fetch_files` finds each file:

1. in a **local data directory**: the ``path=`` argument of a loader, then the directories listed
   in the environment variable ``TINYNN_DATA`` (``os.pathsep``-separated). A file may lie directly
   in such a directory or in a per-dataset subfolder (``$TINYNN_DATA/mnist/...``), which is the
   layout of the project's shared data folder. Local files are hash-checked too;
2. in the **cache**, ``$TINYNN_HOME/datasets/<dataset>/`` (default ``~/.tinynn``). A cached file
   whose hash no longer matches is reported with a warning and downloaded again, never used;
3. by **downloading** it with :mod:`pooch` (SHA-256 verification, atomic writes), mirror after
   mirror. Set ``TINYNN_OFFLINE=1`` to skip this step.

If some files cannot be found, a single :class:`DatasetNotFoundError` names every missing file,
where to put it and where it can be downloaded from.

>>> f = RemoteFile("a.txt", sha256=None, urls=())
>>> cache_dir("demo").name
'demo'
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pooch

__all__ = [
    "RemoteFile", "DatasetNotFoundError", "DatasetFileError", "Loaded",
    "cache_dir", "data_dirs", "find_local", "fetch_files", "verify", "offline",
]

#: Environment variables read by this module.
ENV_HOME, ENV_DATA, ENV_OFFLINE = "TINYNN_HOME", "TINYNN_DATA", "TINYNN_OFFLINE"


class DatasetNotFoundError(FileNotFoundError):
    """No local copy, no cached copy and no successful download of a dataset's files."""


class DatasetFileError(ValueError):
    """A dataset file exists but is wrong: bad hash, truncated, wrong format."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset.

    Attributes:
        fname: The file name, the same locally, in the cache and at the end of each URL.
        sha256: Its SHA-256 hex digest, or ``None`` when unknown (no check is then possible).
        urls: Full download URLs, tried in order (first the canonical one, then mirrors).
    """

    fname: str
    sha256: str | None
    urls: tuple[str, ...] = ()

    @classmethod
    def on_mirrors(cls, fname: str, sha256: str | None, mirrors) -> "RemoteFile":
        """The file ``fname`` at the end of each mirror's base URL, tried in the mirrors' order."""
        return cls(fname, sha256, tuple(m + fname for m in mirrors))


class Loaded(tuple):
    """A loader's Keras-style return value that also says where the data came from.

    It *is* the usual ``((x_train, y_train), (x_test, y_test))`` tuple, so
    ``(x_train, y_train), (x_test, y_test) = mnist.load_data()`` works unchanged; ``.source``
    is a sentence naming the files that were read.

    >>> r = Loaded(((1, 2), (3, 4)), source="demo")
    >>> (a, b), (c, d) = r
    >>> r.source, a, d
    ('demo', 1, 4)
    """

    source: str

    def __new__(cls, parts, source: str = ""):
        obj = super().__new__(cls, parts)
        obj.source = source
        return obj


def cache_dir(dataset: str) -> Path:
    """The cache folder of one dataset: ``$TINYNN_HOME/datasets/<dataset>`` (default ``~/.tinynn``)."""
    home = os.environ.get(ENV_HOME) or os.path.join("~", ".tinynn")
    return Path(home).expanduser() / "datasets" / dataset


def offline() -> bool:
    """True when ``TINYNN_OFFLINE`` is set to something other than ``''``, ``0``, ``false`` or ``no``."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def data_dirs(path=None) -> list[Path]:
    """The local data directories to search, in order: ``path`` then ``$TINYNN_DATA``.

    Raises:
        NotADirectoryError: ``path`` was given but is not a directory (a typo should not silently
            turn into a download).
    """
    dirs = []
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_dir():
            raise NotADirectoryError(
                f"path={str(path)!r} is not a directory; pass the folder that holds the dataset files "
                "(or a folder with a per-dataset subfolder such as mnist/ or imdb/)")
        dirs.append(p)
    for entry in os.environ.get(ENV_DATA, "").split(os.pathsep):
        if entry.strip():
            dirs.append(Path(entry.strip()).expanduser())
    return dirs


# (resolved path, size, mtime_ns) -> sha256 that was found; hashing a 26 MB file costs ~0.1 s,
# so a file that has not changed since it was last verified is not hashed again.
_verified: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = pooch.file_hash(str(path), alg="sha256")
    return _verified[key]


def verify(path, remote: RemoteFile) -> bool:
    """True when the file at ``path`` has the SHA-256 of ``remote`` (always True when unknown)."""
    return remote.sha256 is None or _sha256(Path(path)) == remote.sha256.lower()


def _bad_hash_message(path: Path, remote: RemoteFile) -> str:
    return (f"{path}: SHA-256 is {_sha256(path)}, expected {remote.sha256} for {remote.fname} "
            f"({path.stat().st_size:,} bytes on disk). The file is corrupt, truncated or a different "
            "version; delete or replace it")


def find_local(remote: RemoteFile, dataset_dirs=(), path=None) -> Path | None:
    """The first local copy of ``remote`` in the data directories, hash-checked, or None.

    Args:
        remote: The file to look for.
        dataset_dirs: Names of per-dataset subfolders to look in as well, e.g. ``("mnist",)``.
        path: An explicit data directory, searched before ``$TINYNN_DATA``.

    Raises:
        DatasetFileError: A local copy exists but its hash is wrong (it is never used).
    """
    for d in data_dirs(path):
        for folder in (d, *(d / sub for sub in dataset_dirs)):
            candidate = folder / remote.fname
            if candidate.is_file():
                if not verify(candidate, remote):
                    raise DatasetFileError("local data directory: " + _bad_hash_message(candidate, remote))
                return candidate
    return None


def _from_cache_or_download(remote: RemoteFile, dataset: str, progressbar: bool) -> tuple[Path | None, list[str]]:
    """Cached copy (verified) or a fresh download; returns (path or None, reasons for failure)."""
    folder = cache_dir(dataset)
    cached = folder / remote.fname
    if cached.is_file():
        if verify(cached, remote):
            return cached, []
        warnings.warn("cache: " + _bad_hash_message(cached, remote).replace("; delete or replace it", "")
                      + "; it will not be used and is downloaded again", RuntimeWarning, stacklevel=3)
    if offline():
        return None, [f"{ENV_OFFLINE} is set, no download tried"]
    errors = []
    known = f"sha256:{remote.sha256}" if remote.sha256 else None
    for url in remote.urls:
        try:
            got = pooch.retrieve(url, known_hash=known, fname=remote.fname, path=folder,
                                 progressbar=progressbar)
            return Path(got), []
        except Exception as exc:  # network errors, HTTP errors, hash mismatch of the download
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
    if not remote.urls:
        errors.append("no download URL is known for this file")
    return None, errors


def fetch_files(dataset: str, remotes, *, path=None, dataset_dirs=None,
                progressbar: bool = True, download: bool = True) -> dict[str, Path]:
    """Find or download every file in ``remotes``; one error lists all that are missing.

    Args:
        dataset: Dataset name, used for the cache folder and messages, e.g. ``"mnist"``.
        remotes: The :class:`RemoteFile` objects needed.
        path: An explicit local data directory, searched first.
        dataset_dirs: Per-dataset subfolder names to search in each data directory
            (default ``(dataset,)``).
        progressbar: Show pooch's download progress bar.
        download: If False, only local directories and the cache are used.

    Returns:
        ``{fname: Path}`` for every requested file.

    Raises:
        DatasetNotFoundError: Some files are not available; the message names them, the
            directories searched and the URLs.
        DatasetFileError: A local copy has the wrong hash.
    """
    remotes = list(remotes)
    subdirs = (dataset,) if dataset_dirs is None else tuple(dataset_dirs)
    found, missing = {}, []
    for remote in remotes:
        local = find_local(remote, subdirs, path)
        if local is not None:
            found[remote.fname] = local
            continue
        if download:
            got, errors = _from_cache_or_download(remote, dataset, progressbar)
        else:
            cached = cache_dir(dataset) / remote.fname
            got, errors = (cached, []) if cached.is_file() and verify(cached, remote) else (None, [])
        if got is None:
            missing.append((remote, errors))
        else:
            found[remote.fname] = got
    if missing:
        raise DatasetNotFoundError(missing_message(dataset, [r for r, _ in missing], path=path,
                                                   dataset_dirs=subdirs, errors=missing))
    return found


def missing_message(dataset, remotes, *, path=None, dataset_dirs=(), errors=(), alternatives="") -> str:
    """The text of the 'files not found' error: what is needed, where to put it, where to get it."""
    lines = [f"{dataset}: these files are needed and could not be found or downloaded:"]
    for r in remotes:
        lines.append(f"  - {r.fname}" + (f"  (sha256 {r.sha256})" if r.sha256 else ""))
        lines.extend(f"      download: {u}" for u in r.urls)
    if alternatives:
        lines.append(alternatives)
    searched = [str(d) for d in data_dirs(path)] or [f"(none: {ENV_DATA} is not set)"]
    sub = dataset_dirs[0] if dataset_dirs else dataset
    lines += [
        "Put them in a local data directory, directly or in a subfolder named "
        f"'{sub}/', and point {ENV_DATA} (or the loader's path= argument) at it. Searched: "
        + ", ".join(searched) + ".",
        f"Downloads are cached in {cache_dir(dataset)} ({ENV_HOME} moves it).",
    ]
    reasons = [e for _, errs in errors for e in errs]
    if reasons:
        lines.append("Download attempts:")
        lines.extend(f"  {e}" for e in dict.fromkeys(reasons))
    return "\n".join(lines)
