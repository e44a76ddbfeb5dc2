"""Issue groups 2, 3 and 4: what a layer, a model and fit are given. Each bad input is an error naming the
layer or argument and what it got; nothing is silently cast, ignored or trained on."""
import numpy as np
import pytest

from tinynn.layers import Dense, Dropout, Embedding, Input
from tinynn.models import Model, Sequential


# --- 2: layer entry -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad,exc,words", [
    (None, TypeError, ["None"]),
    ("hello", TypeError, ["'hello'"]),
    (b"raw", TypeError, ["b'raw'"]),
    (3.0, ValueError, ["single number", "reshape(1, -1)"]),
    (np.float32(2), ValueError, ["single number"]),
    ([[1.0, 2.0], [3.0]], ValueError, ["ragged"]),
    (np.array([[1 + 1j, 2j]]), TypeError, ["complex"]),
    (np.array([[object(), 1]], dtype=object), TypeError, ["Python objects"]),
    (np.array([["a", "b"]]), TypeError, ["strings"]),
])
def test_layer_call_names_the_layer_and_what_it_got(bad, exc, words):
    layer = Dense(2, name="my_dense")
    with pytest.raises(exc) as info:
        layer(bad)
    assert "Layer 'my_dense' (Dense)" in str(info.value)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_integer_inputs_follow_one_rule():
    dense = Dense(2, kernel_initializer="ones")
    y = dense(np.array([[1, 2, 3]], dtype="int64"))
    assert y.dtype == np.float32 and y.tolist() == [[6.0, 6.0]]  # ints become the layer's float type
    drop = Dropout(0.5, seed=0)
    assert drop(np.ones((2, 3), dtype="int32"), training=True).dtype == np.float32
    emb = Embedding(2 ** 24 + 3, 1, embeddings_initializer="zeros")
    emb.build_from_shape((None, 1))
    emb.embeddings.value[2 ** 24 + 1] = 7.0
    assert float(emb(np.array([[2 ** 24 + 1]]))[0, 0, 0]) == 7.0  # ids stay exact (no float32 rounding)


@pytest.mark.parametrize("value", [8, "8", (8.5,), (0,), (-1, 3)])
def test_input_shape_must_be_a_tuple_of_positive_sizes(value):
    with pytest.raises(TypeError, match=r"input_shape must be a tuple of positive sizes.*" + repr(value)[:3].replace("(", r"\(")):
        Dense(2, input_shape=value)


def test_shape_mismatch_is_found_when_the_graph_is_built():
    dense = Dense(3, name="head")
    dense(Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"Input of layer 'head' \(Dense\) has the wrong shape: expected \(None, 4\), "
                                         r"got \(None, 5\)"):
        dense(Input(shape=(5,)))


# --- 3: model entry -----------------------------------------------------------------------------------
def _model():
    m = Sequential([Input(shape=(3,)), Dense(4, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return m


X, Y = np.zeros((8, 3), "float32"), np.zeros(8, "int64")


@pytest.mark.parametrize("kwargs,words", [
    ({"epochs": -1}, ["epochs must be a positive integer", "-1"]),
    ({"epochs": 0}, ["epochs must be a positive integer", "0"]),
    ({"epochs": 2.5}, ["epochs", "2.5"]),
    ({"batch_size": 0}, ["batch_size must be a positive integer", "0"]),
    ({"batch_size": 4.0}, ["batch_size", "4.0"]),
    ({"validation_freq": 0}, ["validation_freq must be a positive integer"]),
    ({"steps_per_epoch": 0}, ["steps_per_epoch must be a positive integer"]),
    ({"validation_split": 1.5}, ["validation_split must be in (0, 1)"]),
    ({"validation_data": (X,)}, ["validation_data must be (x_val, y_val)"]),
    ({"validation_data": (X, np.zeros(5))}, ["validation_data", "different numbers of samples"]),
    ({"validation_data": (X, np.full(8, 9))}, ["labels", "9"]),
])
def test_fit_arguments_are_checked_before_any_training(kwargs, words):
    m = _model()
    before = m.get_weights()
    with pytest.raises(ValueError) as info:
        m.fit(X, Y, verbose=0, **kwargs)
    for w in words:
        assert w in str(info.value), str(info.value)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing trained before the error


@pytest.mark.parametrize("x,y,exc,words", [
    ([[1.0, 2.0, 3.0], [1.0]], Y[:2], ValueError, ["x is ragged"]),
    (np.array([["a", "b", "c"]] * 8), Y, ValueError, ["x must be numbers", "<U1"]),
    (X, np.array(["cat"] * 8), ValueError, ["y must be numbers", "class indices"]),
    (X, [[0], [1, 2]] + [[0]] * 6, ValueError, ["y is ragged"]),
    (X, None, ValueError, ["y is None"]),
    (None, Y, ValueError, ["x is None"]),
    ("abc", Y, TypeError, ["x must be an array of numbers"]),
])
def test_fit_data_problems_name_x_or_y(x, y, exc, words):
    with pytest.raises(exc) as info:
        _model().fit(x, y, verbose=0)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_functional_model_inputs_are_named_in_errors():
    a, b = Input(shape=(2,), name="left"), Input(shape=(3,), name="right")
    model = Model([a, b], Dense(1)(Dense(2)(a)))  # 'right' unused is fine
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="input 'right' of model .* expects shape \\(None, 3\\), got \\(4, 5\\)"):
        model.fit([np.zeros((4, 2)), np.zeros((4, 5))], np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="x is a dict with keys .*'lef'.*inputs named \\['left', 'right'\\]"):
        model.fit({"lef": np.zeros((4, 2)), "right": np.zeros((4, 3))}, np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="has 2 inputs \\(left, right\\), but x has 3 arrays"):
        model.predict([np.zeros((4, 2))] * 3, verbose=0)


# --- 4: weights ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sw,words", [
    (np.array([1, 1, 1, -1, 1, 1, 1, 1.0]), ["finite and not negative", "sample 3", "-1.0"]),
    (np.array([1, 1, np.nan, 1, 1, 1, 1, 1.0]), ["finite and not negative", "sample 2"]),
    (np.ones(5), ["shape (8,)", "(5,)"]),
    (np.array(["a"] * 8), ["sample_weight must be numbers"]),
])
def test_bad_sample_weight(sw, words):
    with pytest.raises(ValueError) as info:
        _model().fit(X, Y, sample_weight=sw, verbose=0)
    for w in words:
        assert w in str(info.value), str(info.value)


@pytest.mark.parametrize("cw,exc,words", [
    ([1, 2], TypeError, ["class_weight must be a dict", "list"]),
    ({99: 1.0}, ValueError, ["class 99", "4 classes"]),
    ({-1: 1.0}, ValueError, ["class -1", "0 to 3"]),
    ({"a": 1.0}, TypeError, ["keys must be class indices", "'a'"]),
    ({0: -2.0}, ValueError, ["class_weight[0]", "-2.0"]),
    ({0: float("nan")}, ValueError, ["class_weight[0]", "nan"]),
    ({0: "heavy"}, TypeError, ["class_weight[0] must be a number"]),
])
def test_bad_class_weight(cw, exc, words):
    with pytest.raises(exc) as info:
        _model().fit(X, Y, class_weight=cw, verbose=0)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_class_weight_for_a_single_sigmoid_output_has_two_classes():
    m = Sequential([Input(shape=(3,)), Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy")
    m.fit(X, np.zeros((8, 1)), class_weight={0: 1.0, 1: 3.0}, verbose=0)
    with pytest.raises(ValueError, match="class 2"):
        m.fit(X, np.zeros((8, 1)), class_weight={2: 1.0}, verbose=0)
