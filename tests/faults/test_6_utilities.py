"""Issue group 6: utilities and data. Bad labels, sequences and load_data arguments give a clear error that
names the argument (and the position of the bad value), never a raw numpy error or a silently wrong array."""
import numpy as np
import pytest

from tinynn.datasets import imdb
from tinynn.preprocessing.sequence import pad_sequences
from tinynn.utils import to_categorical


# --- to_categorical ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("y,exc,words", [
    (None, TypeError, ["y is None"]),
    ("cat", TypeError, ["'cat'", "string"]),
    (["cat", "dog", "cat"], TypeError, ["'cat'", "position 0", "np.unique"]),
    ([0, 1, None], TypeError, ["None", "position 2"]),
    ([0, {"a": 1}], TypeError, ["position 1"]),
    ([[0, 1], [2]], TypeError, ["one array"]),
    ([0, 1.5, 2], ValueError, ["whole numbers", "1.5", "position 1"]),
    ([0, float("nan")], ValueError, ["nan", "position 1"]),
    ([float("inf"), 0], ValueError, ["inf", "position 0"]),
    ([0, -1, 2], ValueError, [">= 0", "-1", "position 1"]),
    (np.array([1 + 2j]), TypeError, ["complex"]),
])
def test_to_categorical_bad_labels(y, exc, words):
    with pytest.raises(exc) as info:
        to_categorical(y)
    assert "to_categorical" in str(info.value)
    for w in words:
        assert w in str(info.value), str(info.value)


@pytest.mark.parametrize("num_classes", [0, -3, 2.5, "3", True, [3]])
def test_to_categorical_bad_num_classes(num_classes):
    with pytest.raises(ValueError) as info:
        to_categorical([0, 1], num_classes=num_classes)
    assert "to_categorical: num_classes must be a positive integer" in str(info.value)
    assert repr(num_classes) in str(info.value)


def test_to_categorical_label_too_big_for_num_classes():
    with pytest.raises(ValueError, match="label 5 does not fit num_classes=3"):
        to_categorical([0, 5], num_classes=3)


def test_to_categorical_good_inputs_still_work():
    assert to_categorical([0.0, 2.0]).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert to_categorical(np.array([True, False])).tolist() == [[0, 1], [1, 0]]
    assert to_categorical(np.array([1, 0], dtype=np.uint8), num_classes=np.int64(3)).shape == (2, 3)


# --- pad_sequences --------------------------------------------------------------------------------------
@pytest.mark.parametrize("maxlen", [-1, 2.5, "3", True, [3], float("nan")])
def test_pad_sequences_bad_maxlen(maxlen):
    with pytest.raises(ValueError) as info:
        pad_sequences([[1, 2, 3]], maxlen=maxlen)
    assert "`maxlen` must be None or a non-negative integer" in str(info.value) and repr(maxlen) in str(info.value)


def test_pad_sequences_numpy_integer_maxlen_is_fine():
    assert pad_sequences([[1, 2, 3]], maxlen=np.int64(2)).tolist() == [[2, 3]]


@pytest.mark.parametrize("seqs,position", [
    (["the movie was great", "bad"], 0),
    ([[1, 2], "oops"], 1),
    ([[1], b"bytes"], 1),
])
def test_pad_sequences_texts_instead_of_token_lists(seqs, position):
    with pytest.raises(ValueError) as info:
        pad_sequences(seqs)
    assert f"position {position}" in str(info.value) and "string" in str(info.value)


def test_pad_sequences_a_single_string_is_not_a_list_of_sequences():
    with pytest.raises(ValueError, match="`sequences` must be iterable.*got str"):
        pad_sequences("the movie was great")


@pytest.mark.parametrize("seqs,position,words", [
    ([[1, 2], [3, 4.5]], 1, ["whole numbers", "4.5"]),
    ([[1, float("nan")]], 0, ["whole numbers", "nan"]),
    ([[float("inf")]], 0, ["whole numbers", "inf"]),
    ([np.array([0.25, 1.0])], 0, ["whole numbers", "0.25"]),
    ([[1], [2], ["a", "b"]], 2, ["integer values", "'a'"]),
    ([[1, None]], 0, ["integer values", "None"]),
    ([[1], [2**40]], 1, ["does not fit dtype int32", str(2**40)]),
    ([np.array([-2**40, 1])], 0, ["does not fit dtype int32", str(-2**40)]),
    ([[10**30]], 0, ["does not fit dtype int32"]),
])
def test_pad_sequences_values_an_integer_dtype_would_change(seqs, position, words):
    with pytest.raises(ValueError) as info:
        pad_sequences(seqs)
    assert f"position {position}" in str(info.value), str(info.value)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_pad_sequences_whole_floats_and_bools_are_fine_for_ints():
    assert pad_sequences([[1.0, 2.0], [True]]).tolist() == [[1, 2], [0, 1]]
    with pytest.raises(ValueError, match="does not fit dtype uint8"):
        pad_sequences([[300]], dtype="uint8")


@pytest.mark.parametrize("kwargs,words", [
    ({"value": 0.5}, ["`value`", "whole number", "0.5"]),
    ({"value": None}, ["`value`", "None"]),
    ({"value": 2**40}, ["`value`", "does not fit"]),
    ({"value": None, "dtype": "float32"}, ["`value`", "None"]),
    ({"dtype": "not_a_dtype"}, ["`dtype`", "'not_a_dtype'"]),
    ({"padding": "middle"}, ["Padding", "middle", '"pre" or "post"']),
    ({"truncating": "both"}, ["Truncating", "both"]),
])
def test_pad_sequences_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as info:
        pad_sequences([[1, 2]], **kwargs)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_pad_sequences_strings_with_a_float_dtype_name_the_sequence():
    with pytest.raises(ValueError, match="sequence at position 1 cannot be stored as dtype float32"):
        pad_sequences([[1.5], ["x"]], dtype="float32")


def test_pad_sequences_non_iterable_item_names_its_position():
    with pytest.raises(ValueError, match=r"Found non-iterable: 3 \(at position 1\)"):
        pad_sequences([[1], 3])


# --- imdb.load_data: the count arguments are checked before any file is read -----------------------------
@pytest.mark.parametrize("kwargs,name", [
    ({"num_words": -1}, "num_words"),
    ({"num_words": 2.5}, "num_words"),
    ({"num_words": "10000"}, "num_words"),
    ({"num_words": True}, "num_words"),
    ({"skip_top": -1}, "skip_top"),
    ({"skip_top": None}, "skip_top"),
    ({"skip_top": 1.5}, "skip_top"),
    ({"maxlen": -5}, "maxlen"),
    ({"maxlen": "100"}, "maxlen"),
    ({"seed": None}, "seed"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**40}, "seed"),
    ({"start_char": -1}, "start_char"),
    ({"oov_char": 1.5}, "oov_char"),
    ({"index_from": -3}, "index_from"),
])
def test_imdb_load_data_bad_counts(isolated_data_env, kwargs, name):
    with pytest.raises(ValueError) as info:
        imdb.load_data(**kwargs)
    assert f"imdb.load_data: {name} must be" in str(info.value) and repr(next(iter(kwargs.values()))) in str(info.value)
