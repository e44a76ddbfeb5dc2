"""tinynn: a small neural-network library with Keras names and visible backward passes.

>>> import tinynn
>>> model = tinynn.Sequential([tinynn.Input(shape=(4,)), tinynn.layers.Dense(2, activation="softmax")])
>>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
"""
from tinynn import (activations, backend, callbacks, constraints, initializers, layers, losses, metrics, models, ops,
                    optimizers, preprocessing, regularizers, testing, utils)
from tinynn.layers import Input, Layer
from tinynn.models import Model, Sequential, load_model

__version__ = "0.1.0"

__all__ = ["activations", "backend", "callbacks", "constraints", "datasets", "initializers", "layers", "losses", "metrics",
           "models", "ops", "optimizers", "preprocessing", "regularizers", "testing", "utils", "Input", "Layer", "Model",
           "Sequential", "load_model", "__version__", "random"]


def __getattr__(name):
    # datasets, autograd and widgets load on first use (they pull in pooch, matplotlib, ipywidgets)
    if name in ("datasets", "autograd", "widgets", "exercises", "book", "random"):
        import importlib

        return importlib.import_module(f"tinynn.{name}")
    raise AttributeError(f"module 'tinynn' has no attribute {name!r}")
