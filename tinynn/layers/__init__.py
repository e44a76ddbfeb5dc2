"""Layers (``tinynn.layers``, like ``keras.layers``)."""
from tinynn.layers.base import InputSpec, Layer
from tinynn.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape

__all__ = ["Layer", "InputSpec", "Dense", "Activation", "Flatten", "Reshape", "Dropout", "Input", "InputLayer"]
