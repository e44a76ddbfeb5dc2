r"""SimpleRNN: the plain recurrent cell :math:`h_t = \tanh(x_t W + h_{t-1} U + b)`."""
from __future__ import annotations

from tinynn import activations
from tinynn.layers.recurrent.base import BaseRNN


def simple_rnn_cell_forward(x_t, h_prev, W, U, b, activation=activations.tanh):
    r"""One step: :math:`a_t = x_t W + h_{t-1} U + b,\quad h_t = f(a_t)`.

    Shapes: x_t (N, D), h_prev (N, H), W (D, H), U (H, H), b (H,) → h (N, H).
    Returns ``(h, cache)``.
    """
    a = x_t @ W + h_prev @ U + b
    h = activation(a)
    return h, (x_t, h_prev, W, U, a, h, activation)


def simple_rnn_cell_backward(dh, cache):
    r"""Backward of one step, given :math:`dh = \partial L/\partial h_t`:

    .. math:: da = dh \odot f'(a),\ dx_t = da\,W^\top,\ dh_{t-1} = da\,U^\top,\
              dW = x_t^\top da,\ dU = h_{t-1}^\top da,\ db = \textstyle\sum_n da_n

    Returns ``(dx_t, dh_prev, dW, dU, db)``.
    """
    x_t, h_prev, W, U, a, h, activation = cache
    da = activations.backward(activation, a, h, dh)
    return da @ W.T, da @ U.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


class SimpleRNN(BaseRNN):
    """Fully connected RNN (Keras' ``SimpleRNN``): :math:`h_t = f(x_t W + h_{t-1} U + b)`, f = tanh.

    Weights (Keras layout): ``kernel`` (D, units), ``recurrent_kernel`` (units, units), ``bias`` (units,).
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         **kwargs)

    def _cell_forward(self, x_t, states):
        h, cache = simple_rnn_cell_forward(x_t, states[0], self.kernel.value, self.recurrent_kernel.value,
                                           self.bias.value, self.activation)
        return (h,), cache

    def _cell_backward(self, dstates, cache):
        dx, dh_prev, dW, dU, db = simple_rnn_cell_backward(dstates[0], cache)
        return dx, (dh_prev,), (dW, dU, db)
