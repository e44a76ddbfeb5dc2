"""IMDB movie-review sentiment, as ``keras.datasets.imdb``, from two real sources.

1. **Keras' pre-tokenised ``imdb.npz``** (downloaded, or found in a local data directory);
2. **the raw Large Movie Review Dataset archive** (``aclImdb_v1.tar.gz``, or the labelled-only
   ``aclImdb_v1_labeled.tar.gz``), tokenised with Keras' ``imdb_word_index.json`` and cached as an
   ``.npz`` (see :mod:`tinynn.datasets._aclimdb`). This form also lets a learner type a review and
   score it: :func:`encode_review`.

Both give Keras' ``load_data`` format. The raw form's sequences are close to, not identical with,
Keras' arrays: its top-10,000 vocabulary shares about 99.4% of Keras' words.

Dataset: Andrew L. Maas, Raymond E. Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng, Christopher
Potts, "Learning Word Vectors for Sentiment Analysis", ACL 2011
(http://www.aclweb.org/anthology/P11-1015, https://ai.stanford.edu/~amaas/data/sentiment/).
It has no formal licence; the authors ask users to cite that paper. The reviews were written
by IMDb users; use them for research and teaching and keep this attribution. Keras' word index
and ``imdb.npz`` are distributed with Keras (Apache-2.0) and derived from the same dataset.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..preprocessing.text import tokenize
from . import _aclimdb
from ._fetch import (DatasetNotFoundError, Loaded, RemoteFile, cache_dir, fetch_files, find_local,
                     missing_message, verify)

__all__ = ["load_data", "get_word_index", "decode_review", "encode_review",
           "IMDB_NPZ", "WORD_INDEX", "ARCHIVE", "ARCHIVE_LABELED"]

_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
IMDB_NPZ = RemoteFile("imdb.npz", "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
                      (_KERAS + "imdb.npz",))
WORD_INDEX = RemoteFile("imdb_word_index.json", "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
                        (_KERAS + "imdb_word_index.json",))
ARCHIVE = RemoteFile("aclImdb_v1.tar.gz", "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
                     ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",))
#: The labelled-only repack of the shared data folder (no download URL).
ARCHIVE_LABELED = RemoteFile("aclImdb_v1_labeled.tar.gz",
                             "3837f3e5f5a2767170ebe1b2130c50babc62b7f2a028680e7deac729a7f73179")

_DATASET, _SUBDIRS = "imdb", ("imdb",)
_SOURCES = ("auto", "keras", "raw")


def load_data(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3,
              *, path=None, source="auto"):
    """Loads the IMDB dataset: 25,000 training and 25,000 test reviews labelled 0 (neg) / 1 (pos).

    Each review is a list of word indices: a word's rank by frequency in the training set
    (``the`` = 1) plus ``index_from``, after a ``start_char``; 0 is left for padding. The
    algorithm is Keras' own (``keras/src/datasets/imdb.py``): shuffle the training reviews with
    ``np.random.RandomState(seed)``, then the test reviews with the *same* generator, add
    ``start_char``/``index_from``, drop long reviews (``maxlen``), and replace every index outside
    ``[skip_top, num_words)`` by ``oov_char``. Train and test are shuffled and filtered separately.

    **Surprising but Keras' documented behaviour of** ``maxlen``: it does not truncate. Reviews
    with ``len >= maxlen`` (the length counts ``start_char``) are **removed**, so you get fewer
    than 25,000 reviews; use :func:`~tinynn.preprocessing.sequence.pad_sequences` to truncate.
    Likewise, with ``num_words=None`` the largest index found becomes ``num_words``, and since
    indices must be ``< num_words`` that one word is replaced by ``oov_char``, as in Keras.
    ``skip_top`` is compared with the shifted index (rank + ``index_from``), as in Keras.

    Sources, tried in this order with ``source='auto'``: an ``imdb.npz`` (Keras' arrays) in a
    local data directory; the raw archive ``aclImdb_v1_labeled.tar.gz`` or ``aclImdb_v1.tar.gz``
    in a local data directory (tokenised once, then read from the cache); ``imdb.npz`` or the raw
    archive in the cache; finally ``imdb.npz`` is downloaded. ``source='keras'`` or ``'raw'`` forces
    one form (``'raw'`` may download the 84 MB canonical archive). The raw reviews are put in a
    fixed order before shuffling, because Keras' file order is unknown: by split, label (neg,
    then pos), then the numeric id of the file name. In the raw form a word missing from Keras'
    word index counts as outside every vocabulary: it becomes ``oov_char`` (or is dropped when
    ``oov_char`` is None).

    Dataset by A. L. Maas, R. E. Daly, P. T. Pham, D. Huang, A. Y. Ng and C. Potts; no formal
    licence, cite "Learning Word Vectors for Sentiment Analysis", ACL 2011. Reviews by IMDb users.

    Args:
        num_words: Keep the ``num_words`` most frequent words (indices ``< num_words``); others
            become ``oov_char``. None keeps all (see above).
        skip_top: Indices below this become ``oov_char`` (skips the most frequent words).
        maxlen: Remove reviews whose length (with ``start_char``) is ``>= maxlen``. None (or 0)
            keeps all.
        seed: Seed of the shuffle.
        start_char: Index put at the start of every review (None: none).
        oov_char: Index of out-of-vocabulary words (None: drop them).
        index_from: Offset added to every word rank.
        path: Optional local directory holding ``imdb.npz`` and/or the raw archive and
            ``imdb_word_index.json`` (directly or in an ``imdb/`` subfolder). Unlike Keras'
            ``path`` (a cache file name), this is a folder. ``$TINYNN_DATA`` is searched next.
        source: ``'auto'``, ``'keras'`` (only ``imdb.npz``) or ``'raw'`` (only the archive).

    Returns:
        Tuple ``(x_train, y_train), (x_test, y_test)``: ``x_*`` 1-D object arrays of Python lists
        of ints, ``y_*`` int arrays of 0/1. The tuple also has a ``.source`` attribute saying which
        files were used (and, for the raw form, the cache file).

    Raises:
        DatasetNotFoundError: Neither form is available offline (the message lists the files).
        DatasetFileError: A file is corrupt (wrong hash, unreadable archive).
        ValueError: A bad ``source``, a count argument (``num_words``, ``skip_top``, ``maxlen``, ...) that is
            not a non-negative integer, or ``maxlen`` removes every review of a split.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)   # doctest: +SKIP
        >>> x_train[0][:4], decode_review(x_train[0])[:30]                       # doctest: +SKIP
    """
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {_SOURCES}, got {source!r}")
    _check_counts(num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed, start_char=start_char,
                  oov_char=oov_char, index_from=index_from)
    kind, file_path, note = _resolve(source, path)
    if kind == "keras":
        train, test = _read_keras_npz(file_path)
        unknown_marker = False
    else:
        remote = ARCHIVE_LABELED if file_path.name == ARCHIVE_LABELED.fname else ARCHIVE
        arrays, cache, built = _aclimdb.load_tokenized(
            file_path, remote.sha256 or "nohash", WORD_INDEX.sha256 or "nohash",
            lambda: get_word_index(path=path), cache_dir(_DATASET))
        train, test = ((arrays[f"{s}_tokens"], arrays[f"{s}_lengths"], arrays[f"{s}_labels"]) for s in ("train", "test"))
        unknown_marker = True
        note += f", tokenised with {WORD_INDEX.fname} ({'now, ' if built else ''}cached in {cache})"
    parts = _keras_transform(train, test, unknown_marker=unknown_marker, num_words=num_words, skip_top=skip_top,
                             maxlen=maxlen, seed=seed, start_char=start_char, oov_char=oov_char,
                             index_from=index_from)
    return Loaded(parts, source=f"imdb: {note}")


_MAY_BE_NONE = ("num_words", "maxlen", "start_char", "oov_char", "index_from")


def _check_counts(**args):
    """Every count argument of load_data is a non-negative integer (some may be None), before any file is read."""
    for name, value in args.items():
        if value is None and name in _MAY_BE_NONE:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            allowed = "None or " if name in _MAY_BE_NONE else ""
            raise ValueError(f"imdb.load_data: {name} must be {allowed}a non-negative integer, got {value!r}"
                             + (f" ({type(value).__name__})" if not isinstance(value, (int, np.integer)) else "")
                             + (". num_words=10000 keeps the 10,000 most frequent words." if name == "num_words" else "."))
    if args["seed"] >= 2**32:
        raise ValueError(f"imdb.load_data: seed must be below 2**32, got {args['seed']!r}.")


def _resolve(source, path):
    """Pick the source: returns (``'keras'`` or ``'raw'``, file path, note for ``.source``)."""
    def local(remote):
        return find_local(remote, _SUBDIRS, path)

    if source == "auto":
        npz = local(IMDB_NPZ)
        if npz is not None:
            return "keras", npz, f"Keras' imdb.npz from {npz}"
        for remote in (ARCHIVE_LABELED, ARCHIVE):
            found = local(remote)
            if found is not None:
                return "raw", found, f"raw archive {found}"
        for remote in (IMDB_NPZ, ARCHIVE):  # the cache, no download
            cached = cache_dir(_DATASET) / remote.fname
            if cached.is_file() and verify(cached, remote):
                kind = "keras" if remote is IMDB_NPZ else "raw"
                return kind, cached, f"{'Keras imdb.npz' if kind == 'keras' else 'raw archive'} from the cache {cached}"
        try:
            got = fetch_files(_DATASET, [IMDB_NPZ], path=path, dataset_dirs=_SUBDIRS)[IMDB_NPZ.fname]
        except DatasetNotFoundError as exc:
            raise DatasetNotFoundError(
                str(exc) + f"\nAlternatively, the raw reviews: {ARCHIVE_LABELED.fname} or {ARCHIVE.fname} "
                f"({ARCHIVE.urls[0]}) together with {WORD_INDEX.fname} ({WORD_INDEX.urls[0]})."
            ) from None
        return "keras", got, f"Keras' imdb.npz from {got}"
    if source == "keras":
        got = fetch_files(_DATASET, [IMDB_NPZ], path=path, dataset_dirs=_SUBDIRS)[IMDB_NPZ.fname]
        return "keras", got, f"Keras' imdb.npz from {got}"
    found = local(ARCHIVE_LABELED)
    if found is None:
        found = fetch_files(_DATASET, [ARCHIVE], path=path, dataset_dirs=_SUBDIRS)[ARCHIVE.fname]
    return "raw", found, f"raw archive {found}"


def _read_keras_npz(npz_path):
    """Keras' imdb.npz as (flat ranks, lengths, labels) for train and test."""
    from itertools import chain

    with np.load(npz_path, allow_pickle=True) as f:  # Keras' file stores lists as pickled objects
        splits = []
        for s in ("train", "test"):
            x, y = f[f"x_{s}"], f[f"y_{s}"]
            lengths = np.fromiter(map(len, x), dtype=np.int64, count=len(x))
            flat = np.fromiter(chain.from_iterable(x), dtype=np.int64, count=int(lengths.sum()))
            splits.append((flat, lengths, np.asarray(y)))
    return splits


def _offsets(lengths):
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def _take(lengths, order, *flats):
    """Reorder/select whole sequences of flat arrays: sequences ``order`` in that order."""
    off = _offsets(lengths)
    new_len = lengths[order]
    new_off = _offsets(new_len)
    idx = np.arange(new_off[-1]) + np.repeat(off[:-1][order] - new_off[:-1], new_len)
    return (new_len, *(f[idx] for f in flats))


def _keras_transform(train, test, *, unknown_marker, num_words, skip_top, maxlen, seed, start_char,
                     oov_char, index_from):
    """Keras' load_data algorithm on flat arrays (vectorised; same result as its list code)."""
    rng = np.random.RandomState(seed)  # one generator: train is shuffled first, then test
    splits = []
    for flat, lengths, labels in (train, test):
        order = np.arange(len(lengths))
        rng.shuffle(order)
        unknown = flat == 0 if unknown_marker else np.zeros(len(flat), dtype=bool)
        lengths, values, unknown = _take(lengths, order, flat.astype(np.int64), unknown)
        labels = labels[order]
        values = values + (index_from or 0)
        if start_char is not None:
            starts = _offsets(lengths)[:-1]
            values = np.insert(values, starts, start_char)
            unknown = np.insert(unknown, starts, False)
            lengths = lengths + 1
        splits.append([values, lengths, labels, unknown])

    if maxlen:
        for s in splits:
            keep = np.flatnonzero(s[1] < maxlen)
            s[1], s[0], s[3] = _take(s[1], keep, s[0], s[3])
            s[2] = s[2][keep]
        if any(len(s[1]) == 0 for s in splits):
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")

    if not num_words:
        known = [s[0][~s[3]] for s in splits]
        num_words = max((int(k.max()) for k in known if len(k)), default=0)

    out = []
    for values, lengths, labels, unknown in splits:
        keep = (values >= skip_top) & (values < num_words) & ~unknown
        if oov_char is not None:
            values = np.where(keep, values, oov_char)
        else:
            seq_id = np.repeat(np.arange(len(lengths)), lengths)
            lengths = np.bincount(seq_id, weights=keep, minlength=len(lengths)).astype(np.int64)
            values = values[keep]
        out.append((_to_object_array(values, lengths), labels))
    return tuple(out)


def _to_object_array(values, lengths):
    """A 1-D object array of Python lists, like Keras' x_train."""
    flat, off = values.tolist(), _offsets(lengths).tolist()
    arr = np.empty(len(lengths), dtype=object)
    for i in range(len(lengths)):
        arr[i] = flat[off[i]:off[i + 1]]
    return arr


# --- the word index -------------------------------------------------------------------------

_index_cache: dict[str, dict[str, int]] = {}


def _word_index(path=None) -> dict[str, int]:
    file = fetch_files(_DATASET, [WORD_INDEX], path=path, dataset_dirs=_SUBDIRS)[WORD_INDEX.fname]
    key = str(Path(file).resolve())
    if key not in _index_cache:
        with open(file, encoding="utf-8") as f:
            _index_cache[key] = json.load(f)
    return _index_cache[key]


def get_word_index(path=None) -> dict[str, int]:
    """Keras' IMDB word index: ``{word: rank}``, ranked by frequency (``the`` = 1, ``and`` = 2, ...).

    A word's index in :func:`load_data` sequences is its rank plus ``index_from`` (3).

    Args:
        path: Optional local directory holding ``imdb_word_index.json`` (or an ``imdb/``
            subfolder); ``$TINYNN_DATA``, the cache and a download follow.

    Returns:
        A new dict (88,584 words for Keras' file).

    Example:
        >>> get_word_index()["the"]   # doctest: +SKIP
        1
    """
    return dict(_word_index(path))


def decode_review(sequence, word_index=None, *, start_char=1, oov_char=2, index_from=3, path=None) -> str:
    """Turn a sequence of indices back into words (padding 0s are skipped).

    ``start_char`` reads ``[START]``, ``oov_char`` reads ``[OOV]`` and an index with no word
    ``[?]``. Words cut by ``num_words`` are lost (they are ``oov_char`` in the data).

    Args:
        sequence: A list/array of indices, e.g. ``x_train[0]`` or a padded row.
        word_index: ``{word: rank}``; default: :func:`get_word_index`.
        start_char, oov_char, index_from: As given to :func:`load_data`.
        path: Local data directory for the word index.

    Example:
        >>> decode_review([1, 4, 20, 2, 0], {"the": 1, "movie": 17})
        '[START] the movie [OOV]'
    """
    index = _word_index(path) if word_index is None else word_index
    reverse = {rank + index_from: word for word, rank in index.items()}
    if start_char is not None:
        reverse[start_char] = "[START]"
    if oov_char is not None:
        reverse[oov_char] = "[OOV]"
    return " ".join(reverse.get(int(i), "[?]") for i in sequence if int(i) != 0)


def encode_review(text: str, num_words=None, *, word_index=None, skip_top=0, start_char=1, oov_char=2,
                  index_from=3, path=None) -> list[int]:
    """Turn a review you type into the indices :func:`load_data` would give it.

    The text is tokenised like the raw archive (lower-case ``[a-z0-9']+`` words), each word
    becomes its rank + ``index_from``; unknown words and indices outside ``[skip_top,
    num_words)`` become ``oov_char`` (or are dropped if it is None). Use the ``num_words`` your
    model was trained with, then ``pad_sequences([...], maxlen=...)`` before ``predict``.

    Example:
        >>> encode_review("The movie was GREAT<br />", num_words=10,
        ...               word_index={"the": 1, "movie": 17, "was": 13, "great": 84, "br": 7})
        [1, 4, 2, 2, 2, 2]
        >>> encode_review("The movie", word_index={"the": 1, "movie": 17})
        [1, 4, 20]
    """
    index = _word_index(path) if word_index is None else word_index
    limit = float("inf") if not num_words else num_words
    ranks = [index.get(word) for word in tokenize(text)]
    shifted = [start_char] if start_char is not None else []
    shifted += [None if r is None else r + (index_from or 0) for r in ranks]
    seq = []
    for w in shifted:  # as in load_data, the filter applies to start_char too
        if w is not None and skip_top <= w < limit:
            seq.append(w)
        elif oov_char is not None:
            seq.append(oov_char)
    return seq
