"""MNIST handwritten digits, as ``keras.datasets.mnist``.

Dataset: "The MNIST database of handwritten digits" by Yann LeCun, Corinna Cortes and
Christopher J. C. Burges (http://yann.lecun.com/exdb/mnist/), derived from NIST data.
Copyright Yann LeCun and Corinna Cortes; Keras documents it as available under the
Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/). Please cite: Y. LeCun, C. Cortes,
C. J. C. Burges, "The MNIST database of handwritten digits".
"""
from __future__ import annotations

from ._fetch import RemoteFile
from ._idx import load_idx_dataset

__all__ = ["load_data", "FILES"]

_MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/")


#: The four canonical IDX files: train images, train labels, test images, test labels.
FILES = tuple(RemoteFile.on_mirrors(name, sha256, _MIRRORS) for name, sha256 in (
    ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
))


def load_data(path=None):
    """Loads the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digit images.

    The four canonical IDX ``.gz`` files are looked for in ``path``, then in ``$TINYNN_DATA``
    (directly or in its ``mnist/`` subfolder), then in the cache ``$TINYNN_HOME/datasets/mnist``;
    if absent they are downloaded (Google's CVDF mirror, then PyTorch's S3 mirror) and verified
    with SHA-256. The arrays are exactly those of ``keras.datasets.mnist.load_data()``.

    Dataset by Y. LeCun, C. Cortes and C. J. C. Burges, http://yann.lecun.com/exdb/mnist/,
    licence CC BY-SA 3.0 (as documented by Keras). Cite: Y. LeCun, C. Cortes, C. J. C. Burges,
    "The MNIST database of handwritten digits".

    Args:
        path: Optional local directory holding the four ``*-ubyte.gz`` files (or an ``mnist/``
            subfolder with them). Unlike Keras' ``path`` (a cache file name), this is a folder.

    Returns:
        Tuple of NumPy arrays ``(x_train, y_train), (x_test, y_test)``: ``x_*`` uint8 of shape
        ``(N, 28, 28)`` with values 0-255, ``y_*`` uint8 digit labels 0-9 of shape ``(N,)``.
        The tuple also has a ``.source`` attribute naming the folder the files came from.

    Raises:
        DatasetNotFoundError: Offline and no local or cached copy (the message lists the files).
        DatasetFileError: A file is corrupt: wrong hash, truncated, bad IDX header.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()   # doctest: +SKIP
        >>> x_train.shape, y_train[:5]                             # doctest: +SKIP
        ((60000, 28, 28), array([5, 0, 4, 1, 9], dtype=uint8))
    """
    return load_idx_dataset("mnist", FILES, path=path, dataset_dirs=("mnist",))
