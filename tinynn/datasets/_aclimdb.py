"""The raw Large Movie Review Dataset archive (``aclImdb``), tokenised into Keras' word ranks.

The archive (the canonical ``aclImdb_v1.tar.gz`` or the labelled-only
``aclImdb_v1_labeled.tar.gz``) is read in one streaming pass; only the labelled reviews
``aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt`` are used. Each review is tokenised with
:func:`tinynn.preprocessing.text.tokenize` (lower-case, ``[a-z0-9']+`` words, so ``<br />``
gives ``br``) and each word becomes its rank in Keras' ``imdb_word_index.json`` (the=1, and=2,
...); a word that is not in the index becomes 0, the "unknown" marker.

**Order.** Keras' ``imdb.npz`` does not say which file each of its reviews came from, so this
module fixes its own deterministic order before :func:`tinynn.datasets.imdb.load_data`
shuffles: by split, then label (neg = 0 before pos = 1), then the numeric id in the file name.

The result is cached as an ``.npz`` next to the downloads (flat int32 ranks + lengths + labels
per split), keyed on the archive's and the word index's SHA-256, so it is tokenised only once.
"""
from __future__ import annotations

import os
import re
import tarfile
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..preprocessing.text import TOKEN_PATTERN
from ._fetch import DatasetFileError

__all__ = ["read_archive", "tokenize_archive", "load_tokenized", "TOKENIZER_VERSION"]

#: Bump when the tokenisation changes, so old caches are not used.
TOKENIZER_VERSION = 1
_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(neg|pos)/(\d+)_(\d+)\.txt$")
_LABELS = {"neg": 0, "pos": 1}


def read_archive(archive) -> dict[str, list[tuple[int, int, str]]]:
    """All labelled reviews of an aclImdb ``.tar.gz``: ``{split: [(label, id, text), ...]}``, sorted.

    Raises:
        DatasetFileError: The file is not a readable tar.gz, or a split has no reviews.
    """
    archive = Path(archive)
    reviews = {"train": [], "test": []}
    try:
        with tarfile.open(archive, "r|*") as tar:  # streaming: one sequential pass
            for member in tar:
                m = _MEMBER.match(member.name)
                if m is None or not member.isfile():
                    continue
                text = tar.extractfile(member).read().decode("utf-8")
                reviews[m.group(1)].append((_LABELS[m.group(2)], int(m.group(3)), text))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetFileError(f"{archive}: cannot read the aclImdb archive: {type(exc).__name__}: {exc}") from exc
    for split, items in reviews.items():
        if not items:
            raise DatasetFileError(f"{archive}: no reviews found under aclImdb/{split}/{{neg,pos}}/<id>_<rating>.txt")
        items.sort(key=lambda r: (r[0], r[1]))
    return reviews


def tokenize_archive(archive, word_index: dict[str, int]) -> dict[str, np.ndarray]:
    """Tokenise every labelled review; returns flat ranks, lengths and labels per split.

    Keys: ``{split}_tokens`` (int32 ranks, 0 = unknown word), ``{split}_lengths`` (int64),
    ``{split}_labels`` (int64, 0 = neg, 1 = pos) for ``split`` in train, test.
    """
    get = word_index.get
    out = {}
    for split, items in read_archive(archive).items():
        ranks, lengths = [], []
        for _, _, text in items:
            words = TOKEN_PATTERN.findall(text.lower())
            ranks.extend([get(w, 0) for w in words])
            lengths.append(len(words))
        out[f"{split}_tokens"] = np.array(ranks, dtype=np.int32)
        out[f"{split}_lengths"] = np.array(lengths, dtype=np.int64)
        out[f"{split}_labels"] = np.array([label for label, _, _ in items], dtype=np.int64)
    return out


def _cache_ok(arrays) -> bool:
    try:
        return all(int(arrays[f"{s}_lengths"].sum()) == len(arrays[f"{s}_tokens"])
                   and len(arrays[f"{s}_lengths"]) == len(arrays[f"{s}_labels"]) for s in ("train", "test"))
    except (KeyError, ValueError):
        return False


def load_tokenized(archive, archive_sha256: str, word_index_sha256: str, word_index_loader, cache_folder):
    """Tokenised arrays of ``archive``, from the cache or built (and cached) now.

    Args:
        archive: Path of the verified archive.
        archive_sha256, word_index_sha256: Hashes that key the cache file.
        word_index_loader: Zero-argument callable returning the word index (only called on a miss).
        cache_folder: Where the ``.npz`` cache lives.

    Returns:
        ``(arrays, cache_path, built)``; ``built`` is True when the archive was tokenised now.
    """
    cache_folder = Path(cache_folder)
    name = f"aclImdb_tokens_{archive_sha256[:16]}_{word_index_sha256[:16]}_v{TOKENIZER_VERSION}.npz"
    cache = cache_folder / name
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            if _cache_ok(arrays):
                return arrays, cache, False
            problem = "inconsistent arrays"
        except Exception as exc:  # a truncated or garbled npz
            problem = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"{cache}: tokenised IMDB cache is unreadable ({problem}); rebuilding it from {archive}",
                      RuntimeWarning, stacklevel=3)
    arrays = tokenize_archive(archive, word_index_loader())
    cache_folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=cache_folder)  # atomic: write, then rename
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, cache)
    except BaseException:
        os.unlink(tmp)
        raise
    return arrays, cache, True
