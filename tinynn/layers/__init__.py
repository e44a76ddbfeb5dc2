"""Layers (``tinynn.layers``, like ``keras.layers``)."""
from tinynn.layers.base import InputSpec, Layer
from tinynn.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from tinynn.layers.embedding import Embedding
from tinynn.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN

__all__ = ["Layer", "InputSpec", "Dense", "Activation", "Flatten", "Reshape", "Dropout", "Input", "InputLayer",
           "Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional"]
