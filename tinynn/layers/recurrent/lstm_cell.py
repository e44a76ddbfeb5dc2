r"""The LSTM cell on one page: one step forward and its backward, as plain functions.

Keras' weight layout (so weights move between Keras and tinynn with ``get_weights``/``set_weights``):
the four gates are stacked along the last axis in the order **i, f, c, o** —
``kernel`` W (D, 4H), ``recurrent_kernel`` U (H, 4H), ``bias`` b (4H,).

Forward, for one step (σ = sigmoid, g is the candidate the Keras code calls ``c``):

.. math::
    z &= x_t W + h_{t-1} U + b = [z_i, z_f, z_g, z_o] \\
    i &= \sigma(z_i),\quad f = \sigma(z_f),\quad g = \tanh(z_g),\quad o = \sigma(z_o) \\
    c_t &= f \odot c_{t-1} + i \odot g \\
    h_t &= o \odot \tanh(c_t)

Backward, given :math:`dh = \partial L/\partial h_t` and :math:`dc = \partial L/\partial c_t` (what step t+1 sent back):

.. math::
    do &= dh \odot \tanh(c_t),\qquad dc \mathrel{+}= dh \odot o \odot (1 - \tanh^2(c_t)) \\
    di &= dc \odot g,\quad df = dc \odot c_{t-1},\quad dg = dc \odot i,\quad dc_{t-1} = dc \odot f \\
    dz &= [\,di\, i(1-i),\ df\, f(1-f),\ dg\,(1-g^2),\ do\, o(1-o)\,] \\
    dx_t &= dz\,W^\top,\quad dh_{t-1} = dz\,U^\top,\quad
    dW = x_t^\top dz,\quad dU = h_{t-1}^\top dz,\quad db = \textstyle\sum_n dz_n

Shapes: x_t (N, D); h, c, i, f, g, o (N, H); z, dz (N, 4H).
"""
from __future__ import annotations

from tinynn import activations


def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b, activation=activations.tanh,
                      recurrent_activation=activations.sigmoid):
    """One LSTM step (equations in the module docstring). Returns ``(h, c, cache)``."""
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    zi, zf, zg, zo = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
    i, f, g, o = recurrent_activation(zi), recurrent_activation(zf), activation(zg), recurrent_activation(zo)
    c = f * c_prev + i * g
    a = activation(c)
    h = o * a
    cache = (x_t, h_prev, c_prev, W, U, zi, zf, zg, zo, i, f, g, o, c, a, activation, recurrent_activation)
    return h, c, cache


def lstm_cell_backward(dh, dc, cache):
    """Backward of one LSTM step (equations in the module docstring).

    Args: ``dh``, ``dc`` — gradients of the loss w.r.t. this step's ``h`` and ``c`` (N, H).
    Returns ``(dx_t, dh_prev, dc_prev, dW, dU, db)``.
    """
    from tinynn.backend import xp  # noqa: PLC0415

    x_t, h_prev, c_prev, W, U, zi, zf, zg, zo, i, f, g, o, c, a, act, ract = cache
    do = dh * a
    dc = dc + activations.backward(act, c, a, dh * o)
    di, df, dg = dc * g, dc * c_prev, dc * i
    dc_prev = dc * f
    dz = xp.concatenate([activations.backward(ract, zi, i, di), activations.backward(ract, zf, f, df),
                         activations.backward(act, zg, g, dg), activations.backward(ract, zo, o, do)], axis=1)
    return dz @ W.T, dz @ U.T, dc_prev, x_t.T @ dz, h_prev.T @ dz, dz.sum(axis=0)
