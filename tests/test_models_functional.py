"""Functional and subclassed models: one autograd graph whose layer nodes use the layers' own backward.

Every gradient is checked against central finite differences in float64."""
import numpy as np
import pytest

import tinynn
from tinynn import autograd, backend, ops
from tinynn.autograd import Tensor
from tinynn.layers import Dense, Dropout, Embedding, Input, Layer, LSTM
from tinynn.models import Model, Sequential, load_model


@pytest.fixture(autouse=True)
def float64():
    backend.set_floatx("float64")
    tinynn.utils.set_random_seed(0)
    yield
    backend.set_floatx("float32")


def _analytic(model, xs, gs):
    """Gradients of s = sum_k sum(out_k * g_k) w.r.t. every trainable weight, by the model's engine."""
    autograd._SCOPES.append({"_layer": model})
    try:
        outs = [autograd._lift(o) for o in model._call_flat([Tensor(x, requires_grad=False) for x in xs], True)]
    finally:
        autograd._SCOPES.pop()
    written = autograd.backprop(outs, gs)
    return [w.grad.copy() if id(w) in written else np.zeros_like(w.value) for w in model.trainable_weights]


def _numeric(model, xs, gs, h=1e-6):
    def s():
        return sum(float((o * g).sum()) for o, g in zip(model._predict_batch(xs), gs))
    grads = []
    for w in model.trainable_weights:
        g = np.zeros_like(w.value)
        flat, gflat = w.value.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + h
            up = s()
            flat[i] = old - h
            down = s()
            flat[i] = old
            gflat[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def _check(model, xs):
    rng = np.random.default_rng(1)
    outs = model._predict_batch(xs)
    gs = [rng.standard_normal(o.shape) for o in outs]
    analytic = _analytic(model, xs, gs)
    numeric = _numeric(model, xs, gs)
    assert len(analytic) == len(model.trainable_weights) > 0
    for w, a, n in zip(model.trainable_weights, analytic, numeric):
        err = np.abs(a - n).max() / max(1e-8, np.abs(a).max() + np.abs(n).max())
        assert err < 1e-6, f"{w.name}: relative error {err:.2e}"


def test_functional_chain_equals_sequential():
    x = np.random.default_rng(0).normal(size=(5, 4))
    inputs = Input(shape=(4,))
    h = Dense(3, activation="tanh")(inputs)
    outputs = Dense(2, activation="softmax")(h)
    model = Model(inputs, outputs)
    seq = Sequential([Input(shape=(4,)), Dense(3, activation="tanh"), Dense(2, activation="softmax")])
    seq.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), seq.predict(x, verbose=0))
    _check(model, [x])


def test_shared_layer_called_twice_gets_the_sum_of_both_gradients():
    x = np.random.default_rng(0).normal(size=(6, 3))
    shared = Dense(3, activation="tanh")
    inputs = Input(shape=(3,))
    out = Dense(2)(shared(shared(inputs)))  # the same layer twice in one forward pass
    model = Model(inputs, out)
    assert len(model.trainable_weights) == 4
    _check(model, [x])


def test_fork_two_outputs_with_loss_weights_train():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5))
    y1 = (x[:, :1] > 0).astype("float64")
    y2 = x[:, 1:3] * 2
    inputs = Input(shape=(5,), name="features")
    h = Dense(8, activation="relu")(inputs)
    a = Dense(1, activation="sigmoid", name="is_positive")(h)
    b = Dense(2, name="scaled")(h)
    model = Model(inputs, [a, b])
    _check(model, [x[:6]])
    model.compile(optimizer="adam", loss=["binary_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                  metrics={"is_positive": ["accuracy"]})
    assert model._fused == [True, False]
    hist = model.fit(x, [y1, y2], epochs=3, batch_size=16, verbose=0)
    assert set(hist.history) == {"loss", "is_positive_loss", "scaled_loss", "is_positive_accuracy"}
    h0, h1, h2 = (hist.history[k][-1] for k in ("loss", "is_positive_loss", "scaled_loss"))
    assert abs(h0 - (h1 + 0.5 * h2)) < 1e-6
    result = model.evaluate(x, {"is_positive": y1, "scaled": y2}, verbose=0, return_dict=True)
    assert list(result) == ["loss", "is_positive_loss", "scaled_loss", "is_positive_accuracy"]
    pred = model.predict(x, verbose=0)
    assert isinstance(pred, list) and pred[0].shape == (64, 1) and pred[1].shape == (64, 2)


def test_two_inputs_by_dict():
    rng = np.random.default_rng(0)
    a_in, b_in = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")

    class Join(Layer):  # a call-only layer with two inputs: autograd differentiates it
        def call(self, inputs):
            return ops.concatenate(inputs, axis=-1)

    out = Dense(1)(Join()([Dense(4, activation="tanh")(a_in), b_in]))
    model = Model({"a": a_in, "b": b_in}, out)
    xa, xb = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    _check(model, [xa, xb])
    model.compile(optimizer="sgd", loss="mse")
    model.fit({"a": xa, "b": xb}, rng.normal(size=(7, 1)), epochs=1, verbose=0)


def test_subclassed_model_with_math_between_layers():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(4, activation="relu")
            self.gate = Dense(4, activation="sigmoid")
            self.out = Dense(3, activation="softmax")

        def call(self, x, training=False):
            h = self.hidden(x) * self.gate(x) + 0.5 * ops.tanh(x[:, :4])
            return self.out(h)

    x = np.random.default_rng(0).normal(size=(5, 6))
    net = Net()
    net(x)
    assert net.count_params() == 2 * (6 * 4 + 4) + 4 * 3 + 3
    _check(net, [x])
    y = np.eye(3)[np.random.default_rng(1).integers(0, 3, 64)]
    xs = np.random.default_rng(2).normal(size=(64, 6))
    net.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    hist = net.fit(xs, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_custom_layer_owning_layers_trains_its_inner_weights():
    class MLPBlock(Layer):  # Keras guide: a layer that holds three Linear-like layers, no build
        def __init__(self):
            super().__init__()
            self.linear_1 = Dense(8, activation="relu")
            self.layers_list = [Dense(8, activation="relu"), Dense(1)]

        def call(self, inputs):
            x = self.linear_1(inputs)
            for layer in self.layers_list:
                x = layer(x)
            return x

    block = MLPBlock()
    model = Sequential([Input(shape=(3,)), block])
    assert model.count_params() == (3 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    x = np.random.default_rng(0).normal(size=(64, 3))
    y = x.sum(axis=1, keepdims=True)
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    inputs = Input(shape=(3,))
    _check(Model(inputs, MLPBlock()(inputs)), [x[:4]])


def test_custom_layer_without_compute_output_shape_gets_its_shape_by_running_call():
    class Halve(Layer):
        def call(self, x):
            return x[:, : x.shape[1] // 2]

    inputs = Input(shape=(8,))
    h = Halve()(inputs)
    assert h.shape == (None, 4)
    Model(inputs, Dense(2)(h)).summary(print_fn=lambda s: None)


def test_nested_model_as_layer_and_feature_extraction_share_weights():
    inputs = Input(shape=(4,))
    h = Dense(5, activation="tanh", name="hidden")(inputs)
    base = Model(inputs, Dense(3, name="top")(h))
    features = Model(base.inputs, base.get_layer("hidden").output)  # feature extraction
    assert features.get_layer("hidden") is base.get_layer("hidden")
    outer_in = Input(shape=(4,))
    outer = Model(outer_in, Dense(1)(base(outer_in)))
    assert len(outer.trainable_weights) == 6
    _check(outer, [np.random.default_rng(0).normal(size=(3, 4))])


def test_lstm_and_embedding_inside_a_functional_model():
    ids = Input(shape=(7,), dtype="int32")
    h = LSTM(3)(Embedding(20, 4, mask_zero=True)(ids))
    model = Model(ids, Dense(1, activation="sigmoid")(Dropout(0.0)(h)))
    x = np.random.default_rng(0).integers(1, 20, size=(4, 7))
    x[:, :2] = 0
    _check(model, [x])


def test_graph_building_errors_name_what_is_wrong():
    a, b = Input(shape=(3,), name="a_in"), Input(shape=(3,), name="b_in")
    c = Dense(3)(a)
    with pytest.raises(ValueError, match="does not connect.*b_in"):
        Model(a, Dense(1)(ops_add(c, b)))
    dense = Dense(2)
    dense(Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"expected \(None, 3\), got \(None, 5\)"):
        dense(Input(shape=(5,)))
    model = Model([a, b], [Dense(1)(a), Dense(1)(b)])
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(np.zeros((2, 3)), verbose=0)
    with pytest.raises(TypeError, match="symbolic"):
        Model(a, np.zeros(3))


def ops_add(x, y):
    class AddLayer(Layer):
        def call(self, inputs):
            return inputs[0] + inputs[1]
    return AddLayer()([x, y])


def test_add_loss_is_trained():
    class ActivityPenalty(Layer):
        def call(self, x):
            self.add_loss(0.1 * ops.reduce_mean(ops.square(x)))
            return x

    inputs = Input(shape=(3,))
    out = Dense(2)(ActivityPenalty()(Dense(4)(inputs)))
    model = Model(inputs, out)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.zeros((16, 2))
    loss = model.train_on_batch(x, y)
    plain = float(((model.predict(x, verbose=0)) ** 2).mean())
    assert loss > 0 and len(model.losses) == 1


def test_save_and_load_a_functional_model_continues_training(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), rng.integers(0, 3, 32)
    inputs = Input(shape=(4,))
    model = Model(inputs, Dense(3)(Dense(5, activation="relu")(inputs)))
    model.compile(optimizer="adam", loss=tinynn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_fit_from_a_generator_and_a_pydataset():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))

    def batches():
        while True:
            for i in range(0, 40, 8):
                yield x[i:i + 8], y[i:i + 8]

    inputs = Input(shape=(3,))
    model = Model(inputs, Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(batches(), steps_per_epoch=5, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3

    class Data(tinynn.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

    hist = model.fit(Data(), epochs=2, validation_data=Data(), verbose=0)
    assert "val_loss" in hist.history
    assert model.predict(Data(), verbose=0).shape == (40, 1)


def test_fused_output_gradient_equals_the_unfused_one_in_a_training_step():
    """A functional model's softmax/sigmoid outputs take the fused (y_pred - y)/N gradient; a subclassed model
    with the same weights goes through the activations' Jacobians: one SGD step must give the same weights."""
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.mix = Dense(6, activation="relu")
            self.p = Dense(1, activation="sigmoid")
            self.d = Dense(4, activation="softmax")

        def call(self, x):
            h = self.mix(x)
            return self.p(h), self.d(h)

    rng = np.random.default_rng(0)
    x, yp, yd = rng.normal(size=(8, 5)), (rng.random((8, 1)) > 0.5) * 1.0, np.eye(4)[rng.integers(0, 4, 8)]
    sub = Net()
    sub(x)
    inputs = Input(shape=(5,))
    h = Dense(6, activation="relu")(inputs)
    fun = Model(inputs, [Dense(1, activation="sigmoid")(h), Dense(4, activation="softmax")(h)])
    fun.set_weights(sub.get_weights())
    for m in (sub, fun):
        m.compile(optimizer="sgd", loss=["binary_crossentropy", "categorical_crossentropy"])
    assert fun._fused == [True, True] and sub._fused == [False, False]
    assert sub.train_on_batch(x, [yp, yd]) == pytest.approx(fun.train_on_batch(x, [yp, yd]))
    for a, b in zip(sub.get_weights(), fun.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
