"""Layers (``tinynn.layers``, like ``keras.layers``)."""
from tinynn.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from tinynn.layers.base import InputSpec, Layer
from tinynn.layers.convolutional import Conv1D, Conv2D
from tinynn.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from tinynn.layers.embedding import Embedding
from tinynn.layers.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average,
                                   concatenate, maximum, minimum, multiply, subtract)
from tinynn.layers.merging_dot import Dot, dot
from tinynn.layers.normalization import BatchNormalization, LayerNormalization
from tinynn.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                   GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from tinynn.layers.preprocessing import RandomFlip, RandomTranslation, Rescaling
from tinynn.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN

__all__ = ["Layer", "InputSpec", "Dense", "Activation", "Flatten", "Reshape", "Dropout", "Input", "InputLayer",
           "Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "Softmax", "ReLU", "LeakyReLU", "ELU",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
           "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "BatchNormalization", "LayerNormalization", "Rescaling", "RandomFlip", "RandomTranslation"]
