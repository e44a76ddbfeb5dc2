"""pad_sequences against a plain reference, Keras' error messages, and the text helpers."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynn.preprocessing import text
from tinynn.preprocessing.sequence import pad_sequences


def reference_pad(seqs, maxlen, padding, truncating, value):
    """The definition, one row at a time, with plain lists."""
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    rows = []
    for s in seqs:
        s = list(s)
        if len(s) > maxlen:
            s = s[len(s) - maxlen:] if truncating == "pre" else s[:maxlen]
        fill = [value] * (maxlen - len(s))
        rows.append(fill + s if padding == "pre" else s + fill)
    return rows


sequences = st.lists(st.lists(st.integers(-1000, 1000), max_size=12), max_size=8)
modes = st.sampled_from(["pre", "post"])


@settings(max_examples=300, deadline=None)
@given(sequences, st.one_of(st.none(), st.integers(0, 15)), modes, modes, st.integers(-5, 5))
def test_matches_reference(seqs, maxlen, padding, truncating, value):
    got = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=value)
    expected = reference_pad(seqs, maxlen, padding, truncating, value)
    assert got.dtype == np.int32
    assert got.shape == (len(seqs), len(expected[0]) if expected else (maxlen or 0))
    assert got.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(sequences, st.integers(1, 15))
def test_float_dtype_and_numpy_rows(seqs, maxlen):
    arrays = [np.array(s, dtype=np.int64) for s in seqs]
    got = pad_sequences(arrays, maxlen=maxlen, dtype="float32", value=0.5)
    assert got.dtype == np.float32
    assert got.tolist() == reference_pad([[float(v) for v in s] for s in seqs], maxlen, "pre", "pre", 0.5)


def test_keras_examples():
    assert pad_sequences([[1, 2, 3], [4, 5], [6]]).tolist() == [[1, 2, 3], [0, 4, 5], [0, 0, 6]]
    assert pad_sequences([[1, 2, 3, 4]], maxlen=2).tolist() == [[3, 4]]
    assert pad_sequences([[1, 2, 3, 4]], maxlen=2, truncating="post").tolist() == [[1, 2]]
    assert pad_sequences([[1]], maxlen=3, padding="post", value=9).tolist() == [[1, 9, 9]]


def test_items_with_a_shape():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    got = pad_sequences(seqs, dtype="float32")
    assert got.shape == (2, 2, 3)
    np.testing.assert_array_equal(got[1], [[0, 0, 0], [2, 2, 2]])


def test_strings_need_object_dtype():
    assert pad_sequences([["a", "b"], ["c"]], dtype=object, value="_").tolist() == [["a", "b"], ["_", "c"]]
    with pytest.raises(ValueError, match="You should set `dtype=object`"):
        pad_sequences([["a"]], value="_")


@pytest.mark.parametrize("kwargs,message", [
    ({"padding": "middle"}, 'Padding type "middle" not understood'),
    ({"truncating": "both"}, 'Truncating type "both" not understood'),
    ({"maxlen": -1}, "maxlen"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences([[1, 2]], **kwargs)


def test_non_iterable_errors():
    with pytest.raises(ValueError, match="must be iterable"):
        pad_sequences(5)
    with pytest.raises(ValueError, match="Found non-iterable: 3"):
        pad_sequences([[1], 3])


def test_inconsistent_item_shapes():
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])


def test_empty_input():
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([[], []], maxlen=2).tolist() == [[0, 0], [0, 0]]


def test_imdb_tokenizer():
    assert text.tokenize("I LOVED it!<br /><br />Don't miss it... 10/10") == \
        ["i", "loved", "it", "br", "br", "don't", "miss", "it", "10", "10"]


def test_text_to_word_sequence_keras_defaults():
    assert text.text_to_word_sequence("Hello,  World!\tTab") == ["hello", "world", "tab"]
    assert text.text_to_word_sequence("A-B", filters="", lower=False) == ["A-B"]
