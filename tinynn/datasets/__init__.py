"""Real datasets with Keras' ``load_data`` signatures: MNIST, Fashion-MNIST and IMDB.

Files are looked for in a local data directory first (``path=`` argument, then the environment
variable ``TINYNN_DATA``), then in the cache (``$TINYNN_HOME/datasets``, default ``~/.tinynn``),
and only then downloaded with SHA-256 verification. See :mod:`tinynn.datasets._fetch`.
"""
from . import fashion_mnist, imdb, mnist
from ._fetch import DatasetFileError, DatasetNotFoundError

__all__ = ["mnist", "fashion_mnist", "imdb", "DatasetNotFoundError", "DatasetFileError"]
