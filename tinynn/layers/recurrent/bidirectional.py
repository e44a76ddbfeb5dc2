"""Bidirectional: run a recurrent layer forwards and a copy of it backwards in time, and merge the two."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.layers.base import Layer

_MERGE_MODES = ("concat", "sum", "ave", "mul", None)


class Bidirectional(Layer):
    r"""Keras' ``Bidirectional(layer, merge_mode='concat')``.

    The forward copy reads :math:`x_1 \ldots x_T`, the backward copy (``go_backwards`` flipped) reads
    :math:`x_T \ldots x_1`; with ``return_sequences`` the backward outputs are put back in time order so
    that step t of both describe the same position. Merge: ``concat`` → (…, 2·units), ``sum``, ``ave``,
    ``mul`` → (…, units), ``None`` → the list ``[y_forward, y_backward]``.

    Backward splits the upstream gradient by the merge (concat: the two halves; ave: halves of ``dy``;
    mul: :math:`dy \odot y_b` and :math:`dy \odot y_f`), runs both layers' backward and adds their ``dx``.
    Both copies are sub-layers, so their weights appear in ``weights`` (forward's first).
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional '{self.name}': merge_mode must be one of {_MERGE_MODES}, "
                             f"got {merge_mode!r}.")
        if not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional '{self.name}': expected a recurrent layer (SimpleRNN, LSTM, GRU), "
                             f"got {type(layer).__name__}.")
        cfg = {k: v for k, v in layer.get_config().items() if k not in ("name",)}
        cfg = _plain_initializers(layer, cfg)
        self.forward_layer = type(layer).from_config({**cfg, "name": f"forward_{layer.name}"})
        if backward_layer is None:
            backward_layer = type(layer).from_config(
                {**cfg, "name": f"backward_{layer.name}", "go_backwards": not layer.go_backwards})
        self.backward_layer = backward_layer
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
        self._layers = [self.forward_layer, self.backward_layer]
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.compute_input_gradient = True
        self._initial_weights = weights

    def build(self, input_shape):
        self.forward_layer.build_from_shape(input_shape)
        self.backward_layer.build_from_shape(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)

    def call(self, x, training=False, mask=None):
        r""":math:`y = \mathrm{merge}(\mathrm{RNN}_f(x), \mathrm{reverse}(\mathrm{RNN}_b(x)))`."""
        yf = self.forward_layer(x, training=training, mask=mask)
        yb = self.backward_layer(x, training=training, mask=mask)
        states = []
        if self.return_state:
            yf, *sf = yf
            yb, *sb = yb
            states = sf + sb
            self._n_states = len(sf)
        if self.return_sequences:
            yb = yb[:, ::-1]
        self._yf, self._yb = yf, yb
        mode = self.merge_mode
        if mode == "concat":
            y = xp.concatenate([yf, yb], axis=-1)
        elif mode == "sum":
            y = yf + yb
        elif mode == "ave":
            y = (yf + yb) * 0.5
        elif mode == "mul":
            y = yf * yb
        else:
            y = [yf, xp.ascontiguousarray(yb)]
        if self.return_state:
            return (y if isinstance(y, list) else [y]) + states
        return y

    def backward(self, dy):
        """Split ``dy`` by the merge, backprop both layers, return :math:`dx_f + dx_b`.

        With ``return_state``, ``dy`` is ``[d_output(s)..., *d_forward_states, *d_backward_states]``.
        """
        parts = list(dy) if isinstance(dy, (list, tuple)) else [dy]
        n_out = 2 if self.merge_mode is None else 1
        douts, dstates = parts[:n_out], parts[n_out:]
        mode = self.merge_mode
        if mode is None:
            dyf, dyb = douts
        else:
            d = douts[0]
            if mode == "concat":
                u = self._yf.shape[-1]
                dyf, dyb = d[..., :u], d[..., u:]
            elif mode == "sum":
                dyf = dyb = d
            elif mode == "ave":
                dyf = dyb = d * 0.5
            else:
                dyf, dyb = d * self._yb, d * self._yf
        if self.return_sequences and dyb is not None:
            dyb = dyb[:, ::-1]
        for sub in self._layers:
            sub.compute_input_gradient = self.compute_input_gradient
        if self.return_state:
            k = self._n_states
            dyf = [dyf, *(dstates[:k] + [None] * (k - len(dstates[:k])))]
            dyb = [dyb, *(dstates[k:2 * k] + [None] * (k - len(dstates[k:2 * k])))]
        dxf = self.forward_layer.backward(dyf)
        dxb = self.backward_layer.backward(dyb)
        if dxf is None or dxb is None:
            return None
        return dxf + dxb

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        out = shape[0] if self.return_state else shape
        if self.merge_mode == "concat":
            out = (*out[:-1], 2 * out[-1])
        elif self.merge_mode is None:
            out = [out, out]
        if self.return_state:
            states = list(shape[1:])
            return (out if isinstance(out, list) else [out]) + states + states
        return out

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": type(self.forward_layer).__name__, "config": self.forward_layer.get_config()}}


def _plain_initializers(layer, cfg):
    """The layer's own initializer (and constraint) objects instead of their serialized dicts (so from_config
    can use them, and a plain-function constraint is kept)."""
    for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_constraint",
                "recurrent_constraint", "bias_constraint"):
        if key in cfg:
            cfg[key] = getattr(layer, key)
    for key in ("batch_input_shape", "dtype", "trainable"):
        cfg.pop(key, None)
    return cfg
