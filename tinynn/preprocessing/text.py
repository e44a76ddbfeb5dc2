"""Turning text into words: the IMDB tokeniser and Keras' ``text_to_word_sequence``.

The IMDB tokeniser lower-cases the text and keeps runs of ``[a-z0-9']`` as words. The HTML line
breaks ``<br />`` of the raw reviews thus become the word ``br``, which Keras' word index also
contains (rank 7). Everything else (punctuation, non-ASCII letters) separates words.

>>> tokenize("A <br />GREAT film, isn't it?")
['a', 'br', 'great', 'film', "isn't", 'it']
>>> text_to_word_sequence("Hello, World! It's me.")
['hello', 'world', "it's", 'me']
"""
from __future__ import annotations

import re

__all__ = ["TOKEN_PATTERN", "tokenize", "text_to_word_sequence"]

#: The IMDB tokeniser's word pattern, applied to lower-cased text.
TOKEN_PATTERN = re.compile(r"[a-z0-9']+")

_KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-case words with :data:`TOKEN_PATTERN` (the IMDB tokeniser)."""
    return TOKEN_PATTERN.findall(text.lower())


def text_to_word_sequence(input_text: str, filters: str = _KERAS_FILTERS, lower: bool = True,
                          split: str = " ") -> list[str]:
    """Keras 2's ``keras.preprocessing.text.text_to_word_sequence``.

    Every character in ``filters`` becomes ``split``; the text is then split on ``split`` and
    empty strings are dropped.
    """
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]
