"""BatchNormalization and LayerNormalization: full backward gradient-checked in float64, the moving statistics,
training vs inference inside fit / evaluate / predict, torch parity."""
import numpy as np
import pytest

from tinynn.layers import BatchNormalization, Conv2D, Dense, Flatten, Input, LayerNormalization
from tinynn.layers.normalization import standardize_backward
from tinynn.models import Sequential
from tinynn.testing import gradcheck

# note: the gradcheck's upstream gradient is drawn from seed 0, so the inputs use other seeds (dy = x would make
# the true dx of a normalisation almost zero, and the check would only measure rounding noise)


def _x(shape, seed=1, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).normal(size=shape) * scale + shift


@pytest.mark.parametrize("kw", [dict(), dict(center=False), dict(scale=False), dict(axis=1), dict(axis=(1, 3)),
                                dict(gamma_initializer="glorot_uniform", beta_initializer="glorot_uniform")], ids=str)
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(kw, training):
    layer = BatchNormalization(**kw)
    x = _x((4, 3, 5, 2), scale=3.0, shift=2.0)
    if not training:  # inference uses the moving statistics: give them values that are not 0 and 1
        layer(x, training=True)
        for _ in range(20):
            layer(x * 1.3, training=True)
    r = gradcheck(layer, x, training=training)
    assert r.ok, r


def test_batchnorm_gradcheck_dense_input():
    r = gradcheck(BatchNormalization(momentum=0.5), _x((6, 4), shift=1.0), training=True)
    assert r.ok, r


def test_batchnorm_full_backward_formula_in_docstring():
    """dx = s/m (m·dx̂ − Σdx̂ − x̂ Σ dx̂ x̂): the three paths, against a direct autodiff-free derivation."""
    x, dy = _x((8, 3)), _x((8, 3), 2)
    layer = BatchNormalization(dtype="float64", gamma_initializer="glorot_uniform")
    layer(x, training=True)
    dx = layer.backward(dy)
    mu, var = x.mean(0), x.var(0)
    s = 1 / np.sqrt(var + 1e-3)
    xhat = (x - mu) * s
    g = layer.gamma.value
    dxhat = dy * g
    dvar = (dxhat * (x - mu)).sum(0) * -0.5 * s**3                       # through σ²
    dmu = -(dxhat * s).sum(0) + dvar * (-2 * (x - mu)).mean(0)           # through μ
    dx_ref = dxhat * s + dvar * 2 * (x - mu) / 8 + dmu / 8
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    np.testing.assert_allclose(standardize_backward(dy, xhat, s, g, (0,), 8), dx_ref, atol=1e-12)
    # the simplified backward (treating μ, σ² as constants) is NOT what the layer computes in training
    assert not np.allclose(dx, dxhat * s)
    np.testing.assert_allclose(layer.gamma.grad, (dy * xhat).sum(0), atol=1e-12)
    np.testing.assert_allclose(layer.beta.grad, dy.sum(0), atol=1e-12)


def test_batchnorm_moving_statistics_are_non_trainable_and_follow_keras_momentum():
    layer = BatchNormalization(momentum=0.9, dtype="float64")
    x = _x((16, 3), shift=5.0)
    layer(x, training=True)
    assert [w.name.split("/")[-1] for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name.split("/")[-1] for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    np.testing.assert_allclose(layer.moving_mean.value, 0.1 * x.mean(0))
    np.testing.assert_allclose(layer.moving_variance.value, 0.9 + 0.1 * x.var(0))   # biased variance, as Keras
    y_inf = layer(x, training=False)
    np.testing.assert_allclose(y_inf, (x - layer.moving_mean.value) / np.sqrt(layer.moving_variance.value + 1e-3))
    y_train = layer(x, training=True)
    np.testing.assert_allclose(y_train.mean(0), 0, atol=1e-12)


def test_batchnorm_frozen_runs_in_inference_mode():
    layer = BatchNormalization(dtype="float64")
    x = _x((8, 2), shift=3.0)
    layer(x)
    layer.trainable = False
    before = layer.moving_mean.value.copy()
    y = layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.value, before)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3))


def test_batchnorm_inside_fit_evaluate_predict(monkeypatch):
    """fit trains on batch statistics; its validation, evaluate and predict use the moving ones."""
    seen = []
    original = BatchNormalization.call

    def spy(self, x, training=False):
        seen.append((len(x), bool(training)))
        return original(self, x, training=training)

    monkeypatch.setattr(BatchNormalization, "call", spy)
    model = Sequential([Input(shape=(6, 6, 1)), Conv2D(2, 3), BatchNormalization(), Flatten(),
                        Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = _x((40, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int64")
    seen.clear()
    model.fit(x[:32], y[:32], batch_size=16, epochs=1, validation_data=(x[32:], y[32:]), verbose=0)
    assert seen == [(16, True), (16, True), (8, False)]
    seen.clear()
    model.evaluate(x, y, batch_size=40, verbose=0)
    model.predict(x[:5], verbose=0)
    assert seen == [(40, False), (5, False)]
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean.value, 0)          # fit updated the moving statistics
    p = model.predict(x[:5], verbose=0)
    np.testing.assert_allclose(model.predict(x[:1], verbose=0), p[:1], rtol=1e-5)  # independent of the batch


@pytest.mark.parametrize("axis", [-1, (1, 2), (1, 2, 3), 2])
def test_layernorm_gradcheck(axis):
    r = gradcheck(LayerNormalization(axis=axis, gamma_initializer="glorot_uniform"), _x((3, 4, 5, 2), scale=2.0))
    assert r.ok, r


def test_layernorm_values_and_no_batch_dependence():
    x = _x((4, 7), scale=3.0, shift=1.0)
    layer = LayerNormalization(dtype="float64")
    y = layer(x)
    np.testing.assert_allclose(y, (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3))
    np.testing.assert_allclose(layer(x[:1]), y[:1])
    np.testing.assert_allclose(layer(x, training=True), y)


def test_normalization_matches_torch():
    torch = pytest.importorskip("torch")
    x = _x((6, 3, 3, 4), shift=2.0)
    bn = BatchNormalization(dtype="float64")
    yt = torch.nn.functional.batch_norm(torch.tensor(x).permute(0, 3, 1, 2), None, None, training=True, eps=1e-3)
    np.testing.assert_allclose(bn(x, training=True), yt.permute(0, 2, 3, 1).numpy(), atol=1e-10)
    ln = LayerNormalization(dtype="float64")
    np.testing.assert_allclose(ln(x), torch.nn.functional.layer_norm(torch.tensor(x), (4,), eps=1e-3).numpy(),
                               atol=1e-10)


def test_normalization_errors():
    with pytest.raises(ValueError, match="bn_bad.*axis 0"):
        BatchNormalization(axis=0, name="bn_bad")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(NotImplementedError, match="synchronized"):
        BatchNormalization(synchronized=True)
    with pytest.raises(NotImplementedError, match="rms_scaling"):
        LayerNormalization(rms_scaling=True)
    with pytest.raises(ValueError, match="epsilon"):
        LayerNormalization(epsilon=0)


def test_save_and_load_keep_the_moving_statistics(tmp_path):
    from tinynn.layers import GlobalAveragePooling2D, MaxPooling2D, RandomFlip, RandomTranslation, Rescaling
    from tinynn.models import load_model

    model = Sequential([Input(shape=(8, 8, 1)), Rescaling(1 / 255), RandomFlip("horizontal", seed=1),
                        RandomTranslation(0.1, 0.1, seed=2), Conv2D(4, 3, padding="same"), BatchNormalization(),
                        MaxPooling2D(), LayerNormalization(), GlobalAveragePooling2D(), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 256, (32, 8, 8, 1)).astype("float32")
    model.fit(x, np.arange(32) % 3, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    again = load_model(path)
    bn = [lay for lay in again.layers if isinstance(lay, BatchNormalization)][0]
    assert not np.allclose(bn.moving_variance.value, 1.0)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
