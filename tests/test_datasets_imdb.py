"""IMDB: Keras' algorithm, both real sources (imdb.npz, the raw aclImdb archive) on generated
fixtures, the tokenisation cache, downloads from a local server, and the real shared files."""
import hashlib
import io
import json
import os
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynn.datasets import DatasetFileError, DatasetNotFoundError, _aclimdb, imdb
from tinynn.datasets._fetch import RemoteFile, cache_dir

REAL_DATA = os.environ.get("TINYNN_DATA")  # read before the autouse fixture clears it


pytestmark = pytest.mark.usefixtures("isolated_data_env")


# --- the reference: Keras' load_data list code, extended with None = "word not in the index" -----

def keras_reference(x_train, y_train, x_test, y_test, num_words=None, skip_top=0, maxlen=None, seed=113,
                    start_char=1, oov_char=2, index_from=3):
    x_train, y_train = np.array(x_train + [None], dtype=object)[:-1], np.asarray(y_train)
    x_test, y_test = np.array(x_test + [None], dtype=object)[:-1], np.asarray(y_test)
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]

    def shift(x):
        return [None if w is None else w + index_from for w in x]

    if start_char is not None:
        x_train = [[start_char] + shift(x) for x in x_train]
        x_test = [[start_char] + shift(x) for x in x_test]
    else:
        x_train, x_test = [shift(x) for x in x_train], [shift(x) for x in x_test]
    if maxlen:
        keep = [i for i, x in enumerate(x_train) if len(x) < maxlen]
        x_train, y_train = [x_train[i] for i in keep], y_train[keep]
        keep = [i for i, x in enumerate(x_test) if len(x) < maxlen]
        x_test, y_test = [x_test[i] for i in keep], y_test[keep]
        if not x_train or not x_test:
            raise ValueError("no sequence was kept")
    xs = x_train + x_test
    if not num_words:
        # (no known word left at all cannot happen with Keras' data; tinynn then keeps every known word: none)
        num_words = max((w for x in xs for w in x if w is not None), default=0)

    def ok(w):
        return w is not None and skip_top <= w < num_words

    if oov_char is not None:
        xs = [[w if ok(w) else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if ok(w)] for x in xs]
    n = len(x_train)
    return (xs[:n], y_train), (xs[n:], y_test)


def flat(split, unknown_is_none):
    xs, ys = split
    lengths = np.array([len(x) for x in xs], dtype=np.int64)
    values = np.array([0 if w is None else w for x in xs for w in x], dtype=np.int64)
    return values, lengths, np.asarray(ys)


def assert_same(got, expected):
    for (gx, gy), (ex, ey) in zip(got, expected):
        assert gx.dtype == object and gx.ndim == 1
        assert [list(x) for x in gx] == [list(x) for x in ex]
        np.testing.assert_array_equal(gy, ey)


reviews = st.lists(st.lists(st.one_of(st.integers(1, 40), st.none()), min_size=1, max_size=9), min_size=1, max_size=7)


@settings(max_examples=300, deadline=None)
@given(reviews, reviews, st.sampled_from([None, 0, 5, 12, 30, 45]), st.sampled_from([0, 2, 5]),
       st.sampled_from([None, 0, 3, 6, 11]), st.integers(0, 2**16), st.sampled_from([None, 1]),
       st.sampled_from([None, 2]), st.sampled_from([0, 3]), st.data())
def test_vectorised_algorithm_matches_keras_list_code(train, test, num_words, skip_top, maxlen, seed,
                                                      start_char, oov_char, index_from, data):
    if start_char is None and not any(w is not None for x in train + test for w in x):
        return
    kwargs = dict(num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed, start_char=start_char,
                  oov_char=oov_char, index_from=index_from)
    y_train = data.draw(st.lists(st.integers(0, 1), min_size=len(train), max_size=len(train)))
    y_test = data.draw(st.lists(st.integers(0, 1), min_size=len(test), max_size=len(test)))
    try:
        expected = keras_reference(train, y_train, test, y_test, **kwargs)
    except ValueError:
        with pytest.raises(ValueError, match="Increase maxlen"):
            imdb._keras_transform(flat((train, y_train), True), flat((test, y_test), True),
                                  unknown_marker=True, **kwargs)
        return
    got = imdb._keras_transform(flat((train, y_train), True), flat((test, y_test), True),
                                unknown_marker=True, **kwargs)
    assert_same(got, expected)


def test_shuffle_uses_one_generator_for_train_then_test():
    train = [[i + 1] for i in range(10)]
    test = [[i + 1] for i in range(10)]
    (xtr, _), (xte, _) = imdb._keras_transform(flat((train, [0] * 10), False), flat((test, [0] * 10), False),
                                               unknown_marker=False, num_words=100, skip_top=0, maxlen=None,
                                               seed=7, start_char=None, oov_char=2, index_from=0)
    rng = np.random.RandomState(7)
    a, b = np.arange(10), np.arange(10)
    rng.shuffle(a)
    rng.shuffle(b)
    assert [x[0] - 1 for x in xtr] == a.tolist() and [x[0] - 1 for x in xte] == b.tolist()
    assert a.tolist() != b.tolist()


# --- fixtures in the real formats ---------------------------------------------------------------

WORDS = ["the", "and", "a", "of", "movie", "br", "good", "bad", "film", "great", "it's", "i", "loved", "it",
         "was", "boring", "plot", "10", "'quoted'"]
WORD_INDEX = {w: i + 1 for i, w in enumerate(WORDS)}
TEXTS = {  # (split, label, id) -> review
    ("train", "pos", 2): "A great movie.<br /><br />I LOVED it!",
    ("train", "pos", 10): "The plot was good, it's a 10/10 'quoted' film.",
    ("train", "neg", 0): "Boring. The plot was bad and the film was bad.<br />Zzzz unknownword",
    ("train", "neg", 11): "Bad bad BAD movie",
    ("test", "pos", 3): "Good film, great plot.",
    ("test", "neg", 1): "The movie was boring; I loved nothing (nothing!)",
    ("test", "neg", 7): "bad",
}
RATING = {"pos": 9, "neg": 2}


def sha_file(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def write_archive(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    members = {f"aclImdb/{s}/{lab}/{i}_{RATING[lab]}.txt": t for (s, lab, i), t in TEXTS.items()}
    members.update({"aclImdb/README": "Large Movie Review Dataset v1.0", "aclImdb/imdb.vocab": "the\nand\n",
                    "aclImdb/train/unsup/0_0.txt": "unlabelled review, ignored",
                    "aclImdb/train/urls_pos.txt": "http://www.imdb.com/title/tt0000000/usercomments"})
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(members, reverse=True):  # not in the order the loader sorts to
            data = members[name].encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_word_index(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(WORD_INDEX))
    return path


def raw_expected_splits():
    """The fixture reviews in the loader's documented order, tokenised by hand-rolled rules."""
    splits = []
    for split in ("train", "test"):
        keys = sorted((k for k in TEXTS if k[0] == split), key=lambda k: (k[1] == "pos", k[2]))
        xs = [[WORD_INDEX.get(w) for w in re.findall(r"[a-z0-9']+", TEXTS[k].lower())] for k in keys]
        splits.append((xs, [int(k[1] == "pos") for k in keys]))
    return splits


@pytest.fixture
def raw_dir(tmp_path, monkeypatch):
    """$TINYNN_DATA/imdb/ with the labelled archive and the word index, registry hashes patched."""
    folder = tmp_path / "data" / "imdb"
    archive = write_archive(folder / "aclImdb_v1_labeled.tar.gz")
    wi = write_word_index(folder / "imdb_word_index.json")
    monkeypatch.setattr(imdb, "ARCHIVE_LABELED", RemoteFile(archive.name, sha_file(archive)))
    monkeypatch.setattr(imdb, "WORD_INDEX", RemoteFile(wi.name, sha_file(wi)))
    monkeypatch.setenv("TINYNN_DATA", str(tmp_path / "data"))
    return folder


NPZ_TRAIN = [[1, 5, 7], [3, 2, 2, 9, 10, 11], [8, 8], [4, 1, 12, 13, 14]]
NPZ_TEST = [[9, 7], [1, 1, 1, 1, 16], [15, 2]]


def write_keras_npz(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    obj = lambda xs: np.array([list(x) for x in xs] + [None], dtype=object)[:-1]  # noqa: E731
    np.savez(path, x_train=obj(NPZ_TRAIN), y_train=np.array([1, 0, 0, 1]),
             x_test=obj(NPZ_TEST), y_test=np.array([1, 0, 1]))
    return path


# --- imdb.npz -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"num_words": 10, "skip_top": 4}, {"maxlen": 5, "oov_char": None}])
def test_keras_npz_from_path(tmp_path, monkeypatch, kwargs):
    npz = write_keras_npz(tmp_path / "d" / "imdb.npz")
    monkeypatch.setattr(imdb, "IMDB_NPZ", RemoteFile("imdb.npz", sha_file(npz)))
    got = imdb.load_data(path=tmp_path / "d", **kwargs)
    assert_same(got, keras_reference(NPZ_TRAIN, [1, 0, 0, 1], NPZ_TEST, [1, 0, 1], **kwargs))
    assert "imdb.npz" in got.source and str(tmp_path / "d") in got.source


def test_npz_preferred_over_archive_in_auto(raw_dir, monkeypatch):
    npz = write_keras_npz(raw_dir / "imdb.npz")
    monkeypatch.setattr(imdb, "IMDB_NPZ", RemoteFile("imdb.npz", sha_file(npz)))
    assert "imdb.npz" in imdb.load_data().source
    assert "raw archive" in imdb.load_data(source="raw").source


def test_bad_source_name():
    with pytest.raises(ValueError, match="source must be one of"):
        imdb.load_data(source="npz")


# --- the raw archive ----------------------------------------------------------------------------

def test_raw_archive_tokenised_then_cached(raw_dir, monkeypatch):
    first = imdb.load_data()
    assert "raw archive" in first.source and "now, cached" in first.source
    train, test = raw_expected_splits()
    assert_same(first, keras_reference(*train, *test))
    caches = list(cache_dir("imdb").glob("aclImdb_tokens_*.npz"))
    assert len(caches) == 1

    def fail(*a, **k):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(_aclimdb, "read_archive", fail)
    second = imdb.load_data(num_words=8, skip_top=5, seed=1)
    assert "now," not in second.source and str(caches[0]) in second.source
    assert_same(second, keras_reference(*train, *test, num_words=8, skip_top=5, seed=1))


def test_raw_unknown_words_are_oov_or_dropped(raw_dir):
    (x_train, _), _ = imdb.load_data(seed=0, num_words=1000)
    (x_drop, _), _ = imdb.load_data(seed=0, num_words=1000, oov_char=None)
    assert sum(x.count(2) for x in x_train) == 2  # "zzzz", "unknownword"
    assert sum(map(len, x_train)) - sum(map(len, x_drop)) == 2


def test_raw_order_and_labels(raw_dir):
    arrays = _aclimdb.tokenize_archive(raw_dir / "aclImdb_v1_labeled.tar.gz", WORD_INDEX)
    assert arrays["train_labels"].tolist() == [0, 0, 1, 1]  # neg 0, neg 11, pos 2, pos 10
    assert arrays["train_lengths"].tolist() == [13, 4, 8, 10]
    assert arrays["test_labels"].tolist() == [0, 0, 1]


def test_corrupt_token_cache_is_rebuilt(raw_dir):
    imdb.load_data()
    (cache,) = cache_dir("imdb").glob("aclImdb_tokens_*.npz")
    cache.write_bytes(cache.read_bytes()[:100])
    with pytest.warns(RuntimeWarning, match="rebuilding"):
        got = imdb.load_data()
    assert "now, cached" in got.source
    assert_same(got, keras_reference(*raw_expected_splits()[0], *raw_expected_splits()[1]))


def test_broken_archive_is_a_clear_error(tmp_path, monkeypatch):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "aclImdb_v1_labeled.tar.gz").write_bytes(b"not a tarball")
    write_word_index(folder / "imdb_word_index.json")
    monkeypatch.setattr(imdb, "ARCHIVE_LABELED", RemoteFile("aclImdb_v1_labeled.tar.gz", None))
    monkeypatch.setattr(imdb, "WORD_INDEX", RemoteFile("imdb_word_index.json", None))
    with pytest.raises(DatasetFileError, match="cannot read the aclImdb archive"):
        imdb.load_data(path=folder)


def test_maxlen_removes_reviews_instead_of_truncating(raw_dir):
    (x_all, _), (t_all, _) = imdb.load_data()
    (x_short, y_short), _ = imdb.load_data(maxlen=8)
    assert len(x_short) == sum(len(x) < 8 for x in x_all) < len(x_all)
    assert all(len(x) < 8 for x in x_short) and len(y_short) == len(x_short)
    with pytest.raises(ValueError, match="Increase maxlen"):
        imdb.load_data(maxlen=1)


# --- word index, decode, encode -----------------------------------------------------------------

def test_word_index_decode_encode(raw_dir):
    wi = imdb.get_word_index()
    assert wi == WORD_INDEX
    wi["mutated"] = 99
    assert "mutated" not in imdb.get_word_index()  # a fresh dict each time, like Keras
    seq = imdb.encode_review("I loved it! Great film<br />xyzzy")
    assert seq == [1, 12 + 3, 13 + 3, 14 + 3, 10 + 3, 9 + 3, 6 + 3, 2]
    assert imdb.decode_review(seq) == "[START] i loved it great film br [OOV]"
    assert imdb.decode_review([0, 0] + seq[:2]) == "[START] i"
    assert imdb.encode_review("great film", num_words=13) == [1, 2, 12]


def test_encode_review_matches_load_data(raw_dir):
    (x_train, _), (x_test, _) = imdb.load_data(num_words=12)
    encoded = {tuple(imdb.encode_review(t, num_words=12)) for t in TEXTS.values()}
    assert {tuple(x) for x in list(x_train) + list(x_test)} == encoded


# --- missing files and downloads ----------------------------------------------------------------

def test_offline_without_any_source_lists_both_forms():
    with pytest.raises(DatasetNotFoundError) as err:
        imdb.load_data()
    msg = str(err.value)
    for needed in ("imdb.npz", "aclImdb_v1_labeled.tar.gz", "aclImdb_v1.tar.gz", "imdb_word_index.json",
                   "TINYNN_DATA", "storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"):
        assert needed in msg


@pytest.fixture
def served(local_server, monkeypatch):
    www, base, _ = local_server
    npz = write_keras_npz(www / "imdb.npz")
    archive = write_archive(www / "aclImdb_v1.tar.gz")
    wi = write_word_index(www / "imdb_word_index.json")
    for attr, p in (("IMDB_NPZ", npz), ("ARCHIVE", archive), ("WORD_INDEX", wi)):
        monkeypatch.setattr(imdb, attr, RemoteFile(p.name, sha_file(p), (base + p.name,)))


def test_download_keras_npz_by_default(served):
    got = imdb.load_data()
    assert str(cache_dir("imdb") / "imdb.npz") in got.source
    assert_same(got, keras_reference(NPZ_TRAIN, [1, 0, 0, 1], NPZ_TEST, [1, 0, 1]))


def test_download_raw_archive(served):
    got = imdb.load_data(source="raw")
    assert "aclImdb_v1.tar.gz" in got.source and "now, cached" in got.source
    train, test = raw_expected_splits()
    assert_same(got, keras_reference(*train, *test))
    assert imdb.get_word_index() == WORD_INDEX


# --- the real files -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_imdb(tmp_path_factory):
    if not REAL_DATA:
        pytest.skip("TINYNN_DATA is not set: the real-data checks need the shared data folder")
    folder = Path(REAL_DATA) / "imdb"
    if not ((folder / "aclImdb_v1_labeled.tar.gz").is_file() and (folder / "imdb_word_index.json").is_file()):
        pytest.skip(f"TINYNN_DATA={REAL_DATA} lacks imdb/aclImdb_v1_labeled.tar.gz and imdb/imdb_word_index.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYNN_HOME", str(tmp_path_factory.mktemp("home")))
        mp.setenv("TINYNN_DATA", REAL_DATA)
        mp.setenv("TINYNN_OFFLINE", "1")
        first = imdb.load_data(source="raw")
        second = imdb.load_data(num_words=10000)
        yield first, second, imdb.get_word_index()


def test_real_imdb_from_raw_archive(real_imdb):
    (x_train, y_train), (x_test, y_test) = first = real_imdb[0]
    assert "aclImdb_v1_labeled.tar.gz" in first.source
    assert len(x_train) == len(y_train) == 25000 and len(x_test) == len(y_test) == 25000
    assert np.bincount(y_train).tolist() == [12500, 12500] and np.bincount(y_test).tolist() == [12500, 12500]
    assert all(x[0] == 1 for x in x_train) and all(x[0] == 1 for x in x_test)
    assert 230 < np.mean([len(x) for x in x_train]) < 245  # Keras' imdb.npz: 238.7


def test_real_imdb_cached_and_num_words(real_imdb):
    second = real_imdb[1]
    assert "cached in" in second.source and "now," not in second.source
    (x_train, _), _ = second
    assert max(max(x) for x in x_train) == 9999


def test_real_imdb_first_review_reads_as_english(real_imdb):
    (x_train, _), _ = real_imdb[0]
    words = imdb.decode_review(x_train[0], real_imdb[2]).split()
    assert words[0] == "[START]" and len(words) > 20
    assert words.count("[OOV]") / len(words) < 0.05
    assert {"the", "a", "and", "of", "is", "this"} & set(words)


def test_real_imdb_vocabulary_close_to_keras(real_imdb):
    (x_train, _), _ = real_imdb[0]
    assert len(real_imdb[2]) == 88584
    counts = np.bincount(np.concatenate([np.asarray(x[1:]) for x in x_train]))
    counts[:3] = 0  # pad, start, oov
    top = set(np.argsort(counts, kind="stable")[::-1][:10000].tolist())
    overlap = len(top & set(range(4, 10004))) / 10000  # Keras' top 10,000: ranks 1..10000 (+3)
    assert overlap > 0.99
