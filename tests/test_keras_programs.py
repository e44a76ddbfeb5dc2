"""Well-known Keras programs, with `keras` replaced by `tinynn` and nothing else changed (data cut to small
subsets of the real MNIST / Fashion-MNIST so that the suite stays fast; each program is named by its source)."""
import os

import numpy as np
import pytest

import tinynn as keras
from tinynn import layers
from tinynn.datasets import fashion_mnist, mnist


def _mnist(n_train=6000, n_test=1000):
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"MNIST not available offline: {e}")
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def test_keras_io_functional_api_guide_mnist(tmp_path):
    """keras.io, "The Functional API" guide: training, evaluation, save and load."""
    (x_train, y_train), (x_test, y_test) = _mnist()
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    lines = []
    model.summary(print_fn=lines.append)
    assert any("55,050" in line for line in lines)

    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=[keras.metrics.SparseCategoricalAccuracy()])
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=0)
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    assert test_scores[1] > 0.85 and "val_sparse_categorical_accuracy" in history.history

    path = os.path.join(tmp_path, "my_model.keras")
    model.save(path)
    del model
    model = keras.models.load_model(path)
    assert model.evaluate(x_test, y_test, verbose=0)[0] == pytest.approx(test_scores[0], rel=1e-5)


def test_dlwp_chapter7_mnist_with_custom_metric_callbacks_and_checkpoint(tmp_path):
    """Deep Learning with Python (2nd ed.), chapter 7: get_mnist_model, a Metric subclass, EarlyStopping and
    ModelCheckpoint(save_best_only) to a .keras file, then load_model."""
    (images, labels), (test_images, test_labels) = _mnist(6000, 1000)

    def get_mnist_model():
        inputs = keras.Input(shape=(28 * 28,))
        features = layers.Dense(512, activation="relu")(inputs)
        features = layers.Dropout(0.5)(features)
        outputs = layers.Dense(10, activation="softmax")(features)
        model = keras.Model(inputs, outputs)
        return model

    images = images.reshape((len(images), 28 * 28)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28 * 28)).astype("float32") / 255
    train_images, val_images = images[1000:], images[:1000]
    train_labels, val_labels = labels[1000:], labels[:1000]

    class RootMeanSquaredError(keras.metrics.Metric):
        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
            self.total_samples = self.add_weight(name="total_samples", initializer="zeros", dtype="int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = keras.ops.one_hot(y_true, num_classes=keras.ops.shape(y_pred)[1])
            mse = keras.ops.sum(keras.ops.square(y_true - y_pred))
            self.mse_sum.assign_add(mse)
            num_samples = keras.ops.shape(y_pred)[0]
            self.total_samples.assign_add(num_samples)

        def result(self):
            return keras.ops.sqrt(self.mse_sum / keras.ops.cast(self.total_samples, "float32"))

        def reset_state(self):
            self.mse_sum.assign(0.)
            self.total_samples.assign(0)

    path = str(tmp_path / "checkpoint_path.keras")
    callbacks_list = [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2),
        keras.callbacks.ModelCheckpoint(filepath=path, monitor="val_loss", save_best_only=True),
    ]
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy", RootMeanSquaredError()])
    history = model.fit(train_images, train_labels, epochs=3, callbacks=callbacks_list,
                        validation_data=(val_images, val_labels), verbose=0)
    test_metrics = model.evaluate(test_images, test_labels, verbose=0)
    assert test_metrics[1] > 0.85 and 0 < history.history["val_rmse"][-1] < 0.5
    model = keras.models.load_model(path, custom_objects={"RootMeanSquaredError": RootMeanSquaredError})
    assert model.evaluate(test_images, test_labels, verbose=0)[1] > 0.85
    predictions = model.predict(test_images, verbose=0)
    assert predictions.shape == (len(test_images), 10)


def _ticket_data(n=256, vocabulary_size=10000, num_tags=100, num_departments=4, seed=0):
    rng = np.random.default_rng(seed)
    title_data = rng.integers(0, 2, size=(n, vocabulary_size)).astype("float32")
    text_body_data = rng.integers(0, 2, size=(n, vocabulary_size)).astype("float32")
    tags_data = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
    priority_data = rng.random(size=(n, 1))
    department_data = np.eye(num_departments)[rng.integers(0, num_departments, size=n)]
    return title_data, text_body_data, tags_data, priority_data, department_data


def test_dlwp_chapter7_multi_input_multi_output_functional_model():
    """Deep Learning with Python (2nd ed.), chapter 7: the customer-ticket model, lists then dicts, then a new
    output on an intermediate layer's output (feature reuse)."""
    vocabulary_size, num_tags, num_departments = 10000, 100, 4
    title = keras.Input(shape=(vocabulary_size,), name="title")
    text_body = keras.Input(shape=(vocabulary_size,), name="text_body")
    tags = keras.Input(shape=(num_tags,), name="tags")
    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(64, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(num_departments, activation="softmax", name="department")(features)
    model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])

    title_data, text_body_data, tags_data, priority_data, department_data = _ticket_data()
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    model.fit([title_data, text_body_data, tags_data], [priority_data, department_data], epochs=1, verbose=0)
    model.evaluate([title_data, text_body_data, tags_data], [priority_data, department_data], verbose=0)
    priority_preds, department_preds = model.predict([title_data, text_body_data, tags_data], verbose=0)
    assert priority_preds.shape == (256, 1) and department_preds.shape == (256, 4)

    model.compile(optimizer="rmsprop",
                  loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
                  metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})
    history = model.fit({"title": title_data, "text_body": text_body_data, "tags": tags_data},
                        {"priority": priority_data, "department": department_data}, epochs=1, verbose=0)
    assert {"priority_loss", "department_loss", "priority_mean_absolute_error", "department_accuracy"} <= set(history.history)

    assert [l.name for l in model.layers[:3]] == ["title", "text_body", "tags"]
    features = model.layers[4].output
    difficulty = layers.Dense(3, activation="softmax", name="difficulty")(features)
    new_model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department, difficulty])
    assert len(new_model.predict([title_data, text_body_data, tags_data], verbose=0)) == 3


def test_dlwp_chapter7_subclassed_customer_ticket_model():
    """Deep Learning with Python (2nd ed.), chapter 7: the same model written by subclassing keras.Model."""
    class CustomerTicketModel(keras.Model):
        def __init__(self, num_departments):
            super().__init__()
            self.concat_layer = layers.Concatenate()
            self.mixing_layer = layers.Dense(64, activation="relu")
            self.priority_scorer = layers.Dense(1, activation="sigmoid")
            self.department_classifier = layers.Dense(num_departments, activation="softmax")

        def call(self, inputs):
            title = inputs["title"]
            text_body = inputs["text_body"]
            tags = inputs["tags"]
            features = self.concat_layer([title, text_body, tags])
            features = self.mixing_layer(features)
            priority = self.priority_scorer(features)
            department = self.department_classifier(features)
            return priority, department

    title_data, text_body_data, tags_data, priority_data, department_data = _ticket_data()
    model = CustomerTicketModel(num_departments=4)
    priority, department = model({"title": title_data, "text_body": text_body_data, "tags": tags_data})
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    data = {"title": title_data, "text_body": text_body_data, "tags": tags_data}
    before = model.predict(data, verbose=0)[1]
    history = model.fit(data, [priority_data, department_data], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and set(history.history) >= {"loss", "output_0_loss",
                                                                                   "output_1_accuracy"}
    assert not np.allclose(before, model.predict(data, verbose=0)[1])
    model.evaluate(data, [priority_data, department_data], verbose=0)
    priority_preds, department_preds = model.predict(data, verbose=0)
    assert department_preds.shape == (256, 4)


def test_tensorflow_basic_classification_fashion_mnist_with_softmax_probability_model():
    """TensorFlow tutorial "Basic classification: Classify images of clothing"."""
    try:
        (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Fashion-MNIST not available offline: {e}")
    train_images, train_labels = train_images[:6000] / 255.0, train_labels[:6000]
    test_images, test_labels = test_images[:1000] / 255.0, test_labels[:1000]
    model = keras.Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10),
    ])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(train_images, train_labels, epochs=3, verbose=0)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)
    assert test_acc > 0.75
    probability_model = keras.Sequential([model, layers.Softmax()])
    predictions = probability_model.predict(test_images, verbose=0)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert np.argmax(predictions[0]) in range(10)


def test_keras_io_subclassing_guide_layers_and_models():
    """keras.io, "Making new layers and models via subclassing": Linear with add_weight, a block of blocks,
    add_loss from an activity-regularization layer, a model trained with fit."""
    class Linear(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.w) + self.b

    class MLPBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = keras.activations.relu(x)
            x = self.linear_2(x)
            x = keras.activations.relu(x)
            return self.linear_3(x)

    mlp = MLPBlock()
    y = mlp(keras.ops.ones(shape=(3, 64)))
    assert y.shape == (3, 1)
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6

    class ActivityRegularizationLayer(keras.layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * keras.ops.mean(inputs))
            return inputs

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)
    assert len(model.losses) == 0
    model(np.ones((1, 3)))
    assert len(model.losses) == 1

    inputs = keras.Input(shape=(64,))
    h = MLPBlock()(inputs)
    model = keras.Model(inputs, ActivityRegularizationLayer()(h))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.random((64, 64)).astype("float32")
    target = x[:, :1] * 2
    history = model.fit(x, target, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_keras_io_functional_guide_ensembling_shared_models():
    """keras.io, "The Functional API": all models are callable, just like layers (an ensemble averaged)."""
    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = keras.Input(shape=(128,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    x = np.random.default_rng(0).normal(size=(4, 128)).astype("float32")
    expected = (model1.predict(x, verbose=0) + model2.predict(x, verbose=0) + model3.predict(x, verbose=0)) / 3
    np.testing.assert_allclose(ensemble_model.predict(x, verbose=0), expected, rtol=1e-5)
    assert len(ensemble_model.trainable_weights) == 6
