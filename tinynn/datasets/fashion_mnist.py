"""Fashion-MNIST, Zalando's article images, as ``keras.datasets.fashion_mnist``.

Dataset: Han Xiao, Kashif Rasul, Roland Vollgraf (Zalando Research),
https://github.com/zalandoresearch/fashion-mnist. MIT License, Copyright (c) 2017 Zalando SE.
Please cite: H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
"""
from __future__ import annotations

from ._fetch import RemoteFile
from ._idx import load_idx_dataset

__all__ = ["load_data", "FILES", "CLASS_NAMES"]

_MIRRORS = ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")

#: Label 0..9 -> article name.
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


#: The four canonical IDX files: train images, train labels, test images, test labels.
FILES = tuple(RemoteFile.on_mirrors(name, sha256, _MIRRORS) for name, sha256 in (
    ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
))


def load_data(path=None):
    """Loads Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale article images.

    Ten classes, 6,000 training and 1,000 test images each (names in :data:`CLASS_NAMES`).
    The four canonical IDX ``.gz`` files are looked for in ``path``, then in ``$TINYNN_DATA``
    (directly or in a ``fashion-mnist/`` or ``fashion_mnist/`` subfolder), then in the cache
    ``$TINYNN_HOME/datasets/fashion-mnist``; if absent they are downloaded (Keras' bucket, then
    Zalando's S3 mirror) and verified with SHA-256. The arrays are exactly Keras'.

    Dataset by H. Xiao, K. Rasul and R. Vollgraf (Zalando Research), MIT License,
    Copyright (c) 2017 Zalando SE. Cite: "Fashion-MNIST: a Novel Image Dataset for Benchmarking
    Machine Learning Algorithms", arXiv:1708.07747, 2017.

    Args:
        path: Optional local directory holding the four ``*-ubyte.gz`` files (or a
            ``fashion-mnist/`` subfolder with them).

    Returns:
        Tuple of NumPy arrays ``(x_train, y_train), (x_test, y_test)``: ``x_*`` uint8 of shape
        ``(N, 28, 28)``, ``y_*`` uint8 labels 0-9 of shape ``(N,)``. The tuple also has a
        ``.source`` attribute naming the folder the files came from.

    Raises:
        DatasetNotFoundError: Offline and no local or cached copy (the message lists the files).
        DatasetFileError: A file is corrupt: wrong hash, truncated, bad IDX header.

    Example:
        >>> (x_train, y_train), _ = load_data()    # doctest: +SKIP
        >>> CLASS_NAMES[y_train[0]]                 # doctest: +SKIP
        'Ankle boot'
    """
    return load_idx_dataset("fashion-mnist", FILES, path=path, dataset_dirs=("fashion-mnist", "fashion_mnist"))
