"""Embedding: turns integer token ids into dense vectors by looking up rows of a weight matrix."""
from __future__ import annotations

from tinynn import constraints, initializers, regularizers
from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer, shape_str


def embedding_backward(ids, dy, out):
    r"""Scatter-add the rows of ``dy`` into ``out`` at the rows ``ids`` (repeated ids add up).

    .. math:: \frac{\partial L}{\partial E_v} = \sum_{(n,t):\ \mathrm{ids}_{nt} = v} dy_{nt}

    Shapes: ``ids`` (M,) integers in [0, V); ``dy`` (M, E); ``out`` (V, E), overwritten.

    One ``bincount`` over the flattened (row, column) positions ``ids·E + j``: measured 3–10× faster
    than ``np.add.at`` and than sort-and-``reduceat`` on IMDB-sized batches (benchmarks/lstm.py).
    """
    V, E = out.shape
    flat = (ids.astype(xp.int64)[:, None] * E + xp.arange(E)).ravel()
    summed = xp.bincount(flat, weights=dy.reshape(-1), minlength=V * E)  # float64, as bincount gives
    out[...] = summed.reshape(V, E)
    return out


class Embedding(Layer):
    r"""Looks up a vector for each token id: :math:`y_{n,t} = E_{\mathrm{x}_{n,t}}`.

    Shapes: ``x`` (N, T) integers in [0, input_dim) → ``y`` (N, T, output_dim); ``embeddings`` E
    (input_dim, output_dim). Backward fills E's gradient (rows of repeated ids add up, see
    :func:`embedding_backward`) and returns ``None``: no gradient flows into integer ids.

    With ``mask_zero=True`` id 0 means padding: :meth:`compute_mask` returns ``x != 0`` and the
    recurrent layers that follow skip (carry their state over) the padded steps.
    """

    integer_input = True  # token ids stay integers through fit/predict (a float32 id above 2**24 would be rounded)

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        for arg, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"Embedding '{self.name}': {arg} must be a positive integer, got {v!r}.")
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)  # applied after each update
        self.mask_zero, self.input_length = bool(mask_zero), input_length
        self.supports_masking = self.mask_zero
        self.compute_input_gradient = False  # integer inputs have no gradient

    def build(self, input_shape):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          name="embeddings", regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, x, training=False):
        """:math:`y = E[x]` (a gather); keeps the ids for backward."""
        if x.dtype.kind not in "iu":
            if x.dtype.kind == "f" and bool((x == xp.floor(x)).all()):
                x = x.astype(xp.int64)
            else:
                raise TypeError(f"Embedding '{self.name}': expected integer token ids, got dtype {x.dtype} "
                                f"(shape {shape_str(x.shape)}).")
        if x.size and (int(x.max()) >= self.input_dim or int(x.min()) < 0):
            raise ValueError(f"Embedding '{self.name}': token ids must be in [0, {self.input_dim}), got ids in "
                             f"[{int(x.min())}, {int(x.max())}]. Raise input_dim or cap the vocabulary "
                             f"(e.g. imdb.load_data(num_words={self.input_dim})).")
        self._ids = x
        return self.embeddings.value[x]

    def backward(self, dy):
        r""":math:`dE = \sum` of ``dy`` rows per id (see :func:`embedding_backward`); returns ``None``."""
        embedding_backward(self._ids.reshape(-1), dy.reshape(-1, self.output_dim), self.embeddings.grad)
        return None

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero``, else ``None``."""
        return (inputs != 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": self.embeddings_initializer.get_config() | {
                    "class_name": type(self.embeddings_initializer).__name__},
                "embeddings_constraint": constraints.serialize_or_none(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "input_length": self.input_length}
