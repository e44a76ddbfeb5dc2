"""Data preparation with Keras 2 import paths: ``tinynn.preprocessing.sequence.pad_sequences``."""
from . import sequence, text
from .sequence import pad_sequences

__all__ = ["sequence", "text", "pad_sequences"]
