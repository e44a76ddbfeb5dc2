"""GRU: the gated recurrent unit, in Keras' layout (gate order z, r, h; ``reset_after=True`` by default)."""
from __future__ import annotations

from tinynn import activations
from tinynn.backend import xp
from tinynn.layers.recurrent.base import BaseRNN


def gru_cell_forward(x_t, h_prev, W, U, b, reset_after=True, activation=activations.tanh,
                     recurrent_activation=activations.sigmoid):
    r"""One GRU step (Keras' equations). Split every (N, 3H) block into the z, r, h thirds.

    ``reset_after=True`` (Keras' default, b has shape (2, 3H): input bias, recurrent bias):

    .. math::
        a^x = x_t W + b_0,\quad a^h = h_{t-1} U + b_1,\\
        z = \sigma(a^x_z + a^h_z),\quad r = \sigma(a^x_r + a^h_r),\quad
        \tilde h = \tanh(a^x_h + r \odot a^h_h),\\
        h_t = z \odot h_{t-1} + (1 - z) \odot \tilde h.

    ``reset_after=False`` (b (3H,)): the reset gate acts before the product,
    :math:`\tilde h = \tanh(a^x_h + (r \odot h_{t-1}) U_h)` with :math:`a^h = h_{t-1} U_{zr}` for z, r.

    Shapes: x_t (N, D), h_prev (N, H), W (D, 3H), U (H, 3H). Returns ``(h, cache)``.
    """
    H = h_prev.shape[1]
    if reset_after:
        ax = x_t @ W + b[0]
        ah = h_prev @ U + b[1]
        az = ax[:, :H] + ah[:, :H]
        ar = ax[:, H:2 * H] + ah[:, H:2 * H]
        z, r = recurrent_activation(az), recurrent_activation(ar)
        ahh = ax[:, 2 * H:] + r * ah[:, 2 * H:]
        rh = None
    else:
        ax = x_t @ W + b
        ah = h_prev @ U[:, :2 * H]
        az = ax[:, :H] + ah[:, :H]
        ar = ax[:, H:2 * H] + ah[:, H:]
        z, r = recurrent_activation(az), recurrent_activation(ar)
        rh = r * h_prev
        ahh = ax[:, 2 * H:] + rh @ U[:, 2 * H:]
    hh = activation(ahh)
    h = z * h_prev + (1.0 - z) * hh
    return h, (x_t, h_prev, W, U, reset_after, activation, recurrent_activation, ah, az, ar, z, r, rh, ahh, hh)


def gru_cell_backward(dh, cache):
    r"""Backward of one GRU step, given :math:`dh = \partial L/\partial h_t`:

    .. math::
        d\tilde h = dh \odot (1 - z),\quad dz = dh \odot (h_{t-1} - \tilde h),\quad
        dh_{t-1} \mathrel{+}= dh \odot z,\\
        da_{\tilde h} = d\tilde h \odot \tanh'(\cdot),\quad
        dr = da_{\tilde h} \odot a^h_h \text{ (reset\_after)},\quad
        da_z = dz \odot \sigma'(a_z),\ da_r = dr \odot \sigma'(a_r),\\
        dW = x_t^\top [da_z, da_r, da_{\tilde h}],\quad
        dU = h_{t-1}^\top [da_z, da_r, r \odot da_{\tilde h}],\quad
        dx_t = [da_z, da_r, da_{\tilde h}]\,W^\top.

    Returns ``(dx_t, dh_prev, dW, dU, db)`` with db of the bias's shape.
    """
    x_t, h_prev, W, U, reset_after, act, ract, ah, az, ar, z, r, rh, ahh, hh = cache
    H = h_prev.shape[1]
    dhh = dh * (1.0 - z)
    dz = dh * (h_prev - hh)
    dh_prev = dh * z
    dahh = activations.backward(act, ahh, hh, dhh)
    if reset_after:
        dr = dahh * ah[:, 2 * H:]
    else:
        drh = dahh @ U[:, 2 * H:].T
        dr = drh * h_prev
        dh_prev = dh_prev + drh * r
    daz = activations.backward(ract, az, z, dz)
    dar = activations.backward(ract, ar, r, dr)
    dax = xp.concatenate([daz, dar, dahh], axis=1)
    dx = dax @ W.T
    dW = x_t.T @ dax
    if reset_after:
        dah = xp.concatenate([daz, dar, r * dahh], axis=1)
        dh_prev = dh_prev + dah @ U.T
        dU = h_prev.T @ dah
        db = xp.stack([dax.sum(axis=0), dah.sum(axis=0)])
    else:
        dah = dax[:, :2 * H]
        dh_prev = dh_prev + dah @ U[:, :2 * H].T
        dU = xp.concatenate([h_prev.T @ dah, rh.T @ dahh], axis=1)
        db = dax.sum(axis=0)
    return dx, dh_prev, dW, dU, db


class GRU(BaseRNN):
    """Gated recurrent unit (Keras' ``GRU``), equations in :func:`gru_cell_forward`.

    Weights (Keras layout, gate order z, r, h): ``kernel`` (D, 3·units), ``recurrent_kernel``
    (units, 3·units), ``bias`` (2, 3·units) with ``reset_after=True`` (input and recurrent bias), else (3·units,).
    """

    n_gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                         stateful=stateful, unroll=unroll, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _cell_forward(self, x_t, states):
        h, cache = gru_cell_forward(x_t, states[0], self.kernel.value, self.recurrent_kernel.value, self.bias.value,
                                    self.reset_after, self.activation, self.recurrent_activation)
        return (h,), cache

    def _cell_backward(self, dstates, cache):
        dx, dh_prev, dW, dU, db = gru_cell_backward(dstates[0], cache)
        return dx, (dh_prev,), (dW, dU, db)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}
