"""tinynn: a small neural-network library with Keras names and visible backward passes."""
from tinynn import activations, backend, initializers, layers, regularizers

__version__ = "0.1.0"
