"""Issue group 7: Keras arguments tinynn accepts work (the constraints: see tests/test_constraints.py) or are
refused by name; a bad constraint is named where it is given, or with the weight it does not fit."""
import numpy as np
import pytest

from tinynn import constraints, layers
from tinynn.models import Sequential


@pytest.mark.parametrize("make,words", [
    (lambda: constraints.MaxNorm(max_value=-1), ["MaxNorm", "max_value", "-1"]),
    (lambda: constraints.MaxNorm(max_value="2"), ["MaxNorm", "max_value", "'2'"]),
    (lambda: constraints.MaxNorm(max_value=float("nan")), ["MaxNorm", "max_value", "nan"]),
    (lambda: constraints.MaxNorm(axis=1.5), ["MaxNorm", "axis", "1.5"]),
    (lambda: constraints.MaxNorm(axis=()), ["MaxNorm", "axis", "()"]),
    (lambda: constraints.UnitNorm(axis="0"), ["UnitNorm", "axis", "'0'"]),
    (lambda: constraints.MinMaxNorm(min_value=2.0, max_value=1.0), ["MinMaxNorm", "min_value", "max_value"]),
    (lambda: constraints.MinMaxNorm(rate=1.5), ["MinMaxNorm", "rate", "1.5"]),
    (lambda: constraints.MinMaxNorm(min_value=-0.5), ["MinMaxNorm", "min_value", "-0.5"]),
    (lambda: constraints.get("max_nrom"), ["Unknown constraint", "'max_nrom'", "max_norm"]),
    (lambda: constraints.get(42), ["constraint", "42"]),
    (lambda: constraints.get(int), ["constraint", "int"]),
    (lambda: constraints.get({"class_name": "Clip", "config": {}}), ["Unknown constraint", "'Clip'"]),
    (lambda: constraints.deserialize("max_norm"), ["deserialize", "class_name"]),
    (lambda: constraints.serialize(lambda w: w), ["serialize", "function"]),
    (lambda: layers.Dense(3, kernel_constraint="bogus"), ["Unknown constraint", "'bogus'"]),
    (lambda: layers.Dense(3, bias_constraint=3.0), ["constraint", "3.0"]),
    (lambda: layers.Embedding(10, 4, embeddings_constraint="nonneg_"), ["Unknown constraint", "'nonneg_'"]),
])
def test_bad_constraint_is_named(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for w in words:
        assert w in str(info.value), str(info.value)


def test_a_constraint_axis_the_weight_lacks_names_the_weight():
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(3, kernel_constraint=constraints.MaxNorm(axis=2),
                                                               name="hidden")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError) as info:
        model.fit(np.ones((8, 4)), np.ones((8, 3)), verbose=0)
    assert "'hidden/kernel'" in str(info.value) and "axis=2" in str(info.value) and "(4, 3)" in str(info.value)


def test_a_constraint_returning_another_shape_names_the_weight():
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(3, kernel_constraint=lambda w: w[0], name="out")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError) as info:
        model.fit(np.ones((8, 4)), np.ones((8, 3)), verbose=0)
    assert "'out/kernel'" in str(info.value) and "(3,)" in str(info.value) and "(4, 3)" in str(info.value)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
@pytest.mark.parametrize("arg", ["kernel_constraint", "recurrent_constraint", "bias_constraint"])
def test_a_bad_recurrent_constraint_is_named(cls, arg):
    with pytest.raises(ValueError) as info:
        cls(4, **{arg: "max_nrom"})
    assert "'max_nrom'" in str(info.value) and "Unknown constraint" in str(info.value)


def test_a_plain_function_constraint_works():
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(3, kernel_constraint=lambda w: np.clip(w, -0.01, 0.01))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.random.default_rng(0).normal(size=(16, 4)), np.ones((16, 3)) * 9, verbose=0, epochs=2)
    assert np.abs(model.layers[0].kernel.numpy()).max() <= 0.01
