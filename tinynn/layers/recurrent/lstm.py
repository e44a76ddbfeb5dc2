r"""LSTM layer (Keras' ``LSTM``): the cell of :mod:`lstm_cell` run over a sequence, with a fused loop.

Two implementations compute the same numbers (a test checks they agree to rounding):

* the **generic loop** steps :func:`lstm_cell_forward` / :func:`lstm_cell_backward` — used with a mask or
  with activations other than tanh/sigmoid;
* the **fused loop** (tanh/sigmoid, no mask) is written for speed, because with small batches the cost
  is Python/NumPy call overhead per step, not arithmetic:

  - the input projection :math:`x_t W + b` of *all* steps is one GEMM, (T·N, D) @ (D, 4H), before the loop;
  - the four gates take **one** ``tanh`` per step, using :math:`\sigma(z) = \tfrac12(1 + \tanh(z/2))`: the
    columns of i, f, o in W, U, b are pre-scaled by 1/2, so :math:`\tanh` of the block gives g directly and
    :math:`\tfrac12(1+\cdot)` of it gives i, f, o;
  - every buffer is preallocated (and reused between batches of the same shape) and written with ``out=``;
  - the activated gates are stored gate-major and the backward factors per step, so the per-step
    elementwise operands (i, f, g, o, F, P) are contiguous blocks;
  - backward precomputes, in bulk over chunks of steps (just before the reverse loop reads them, while
    they are in cache), :math:`K = 1 - a^2` of the gate block (it gives
    :math:`\sigma'(z) = (1-a^2)/4` and :math:`\tanh'(z_g) = 1-a^2`; the 1/4 is folded into scaled weights)
    and the factors :math:`F = [g\,i(1-i),\ c_{t-1} f(1-f),\ i(1-g^2),\ \tanh(c_t)\, o(1-o)]`,
    :math:`P = o(1-\tanh^2 c_t)`, so each reverse step is
    :math:`dc \mathrel{+}= dh \odot P_t`, :math:`dz_{ifg} = dc \odot F_{ifg}`, :math:`dz_o = dh \odot F_o`,
    :math:`dc \leftarrow dc \odot f_t`, :math:`dh = dz\,U^\top (+ dy_{t-1})`;
  - the weight gradients are three GEMMs over all steps after the loop:
    :math:`dW = X^\top dZ`, :math:`dU = H_{t-1}^\top dZ`, :math:`dx = dZ\,W^\top`.
"""
from __future__ import annotations

from tinynn import activations, initializers
from tinynn.backend import xp
from tinynn.layers.recurrent.base import BaseRNN
from tinynn.layers.recurrent.lstm_cell import lstm_cell_backward, lstm_cell_forward


class _UnitForgetBias(initializers.Initializer):
    """Keras' ``unit_forget_bias``: the bias initializer's values, with ones for the forget gate."""

    def __init__(self, base, units):
        self._base, self._units = base, units

    def __call__(self, shape, dtype=None):
        u = self._units
        b = self._base(shape, dtype)
        b[u:2 * u] = 1.0
        return b


class LSTM(BaseRNN):
    """Long short-term memory (Keras' ``LSTM``); equations in :mod:`tinynn.layers.recurrent.lstm_cell`.

    Weights (Keras layout, gate order i, f, c, o): ``kernel`` (D, 4·units), ``recurrent_kernel``
    (units, 4·units), ``bias`` (4·units,). States: ``h`` and ``c``; with ``return_state=True`` the layer
    returns ``[output, h, c]`` and ``backward`` takes ``[d_output, dh, dc]``.
    ``dropout`` drops input features (one mask per sequence, the same at every step, only in training).
    """

    n_gates = 4
    state_names = ("h", "c")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                         stateful=stateful, unroll=unroll, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self._buf = None
        self.fused = True  # set False to force the generic loop (the tests compare both)

    def _bias_init(self):
        return _UnitForgetBias(self.bias_initializer, self.units) if self.unit_forget_bias else self.bias_initializer

    # --- the generic loop's cell ----------------------------------------------------------------
    def _cell_forward(self, x_t, states):
        h, c, cache = lstm_cell_forward(x_t, states[0], states[1], self.kernel.value, self.recurrent_kernel.value,
                                        self.bias.value, self.activation, self.recurrent_activation)
        return (h, c), cache

    def _cell_backward(self, dstates, cache):
        dx, dh_prev, dc_prev, dW, dU, db = lstm_cell_backward(dstates[0], dstates[1], cache)
        return dx, (dh_prev, dc_prev), (dW, dU, db)

    def _use_fused(self, m):
        return (self.fused and m is None and self.activation is activations.tanh
                and self.recurrent_activation is activations.sigmoid)

    def _forward(self, xt, m):
        self._is_fused = self._use_fused(m)
        if not self._is_fused:
            return super()._forward(xt, m)
        return self._fused_forward(xt)

    def _backward(self, dhs, dstates):
        if not self._is_fused:
            return super()._backward(dhs, dstates)
        return self._fused_backward(dhs, dstates)

    # --- the fused loop ---------------------------------------------------------------------------
    def _buffers(self, T, N, dtype):
        """Preallocated arrays and their per-step views, reused while (T, N, dtype) stays the same.

        The activated gates live gate-major, ``G[t, k]`` (N, U), so the per-step gate operands are
        contiguous blocks (strided gate slices cost the small per-step ufuncs up to twice as much)."""
        key = (T, N, xp.dtype(dtype).str, id(xp.zeros(0).__class__))
        if self._buf is not None and self._buf["key"] == key:
            return self._buf
        U = self.units
        A = xp.empty((T, N, 4 * U), dtype=dtype)   # pre-activations (pre-scaled), gate order i, f, g, o
        G = xp.empty((T, 4, N, U), dtype=dtype)    # tanh of A, gate-major: a_i, a_f, g, a_o
        S = xp.empty((T, 4, N, U), dtype=dtype)    # (1 + G) / 2: i, f, o in their slots
        H = xp.zeros((T + 1, N, U), dtype=dtype)   # H[0] = h_0 = 0, H[t+1] = h_t
        C = xp.zeros((T + 1, N, U), dtype=dtype)
        TC = xp.empty((T, N, U), dtype=dtype)      # tanh(c_t)
        F3 = xp.empty((T, N, 3, U), dtype=dtype)   # backward factors of i, f, g (contiguous per step)
        Fo = xp.empty((T, N, U), dtype=dtype)      # backward factor of o
        P = xp.empty((T, N, U), dtype=dtype)
        dZ = xp.empty((T, N, 4 * U), dtype=dtype)
        dZ4 = dZ.reshape(T, N, 4, U)
        fwd = [(A[t], A[t].reshape(N, 4, U).transpose(1, 0, 2), G[t], S[t], S[t, 0], S[t, 1], G[t, 2], S[t, 3],
                C[t], C[t + 1], TC[t], H[t], H[t + 1]) for t in range(T)]
        bwd = [(P[t], F3[t], Fo[t], dZ4[t, :, :3], dZ[t, :, 3 * U:], S[t, 1], dZ[t]) for t in range(T)]
        scale = xp.full((4 * U,), 0.5, dtype=dtype)
        scale[2 * U:3 * U] = 1.0
        dc = xp.empty((N, U), dtype=dtype)
        self._buf = dict(key=key, A=A, G=G, S=S, H=H, C=C, TC=TC, F3=F3, Fo=Fo, P=P, dZ=dZ, fwd=fwd, bwd=bwd,
                         scale=scale, tmp4=xp.empty((N, 4 * U), dtype=dtype), tmp=xp.empty((N, U), dtype=dtype),
                         dh=xp.empty((N, U), dtype=dtype), dc=dc, dc3=dc[:, None, :],
                         ones=xp.ones((T * N,), dtype=dtype))
        return self._buf

    def _fused_forward(self, xt):
        T, N, D = xt.shape
        U = self.units
        b = self._buffers(T, N, xt.dtype)
        s = b["scale"]
        A, tmp4, tmp = b["A"], b["tmp4"], b["tmp"]
        Us = self.recurrent_kernel.value * s
        # the input projection of all steps: one GEMM
        xp.matmul(xt.reshape(T * N, D), self.kernel.value * s, out=A.reshape(T * N, 4 * U))
        A += self.bias.value * s
        matmul, add, multiply, tanh = xp.matmul, xp.add, xp.multiply, xp.tanh
        for At, AtT, Gt, St, it, ft, gt, ot, Cp, Ct, TCt, Hp, Ht in b["fwd"]:
            matmul(Hp, Us, out=tmp4)
            add(At, tmp4, out=At)
            tanh(AtT, out=Gt)                # g, and tanh(z/2) for i, f, o; gate-major
            multiply(Gt, 0.5, out=St)
            add(St, 0.5, out=St)             # sigma(z) for i, f, o
            multiply(ft, Cp, out=Ct)
            multiply(it, gt, out=tmp)
            add(Ct, tmp, out=Ct)             # c_t = f c_{t-1} + i g
            tanh(Ct, out=TCt)
            multiply(ot, TCt, out=Ht)        # h_t = o tanh(c_t)
        self._xt = xt
        return b["H"][1:], (b["H"][T], b["C"][T])

    _chunk = 50  # steps per bulk computation of the backward factors

    @staticmethod
    def _factors(b, t0, t1):
        r"""Backward factors of steps t0..t1-1, in bulk, into ``F3`` (T, N, 3, U), ``Fo`` and ``P`` (T, N, U).

        With :math:`a` = tanh of the pre-scaled gate block (``G``), :math:`\sigma'(z) = s(1-s) = (1-a^2)/4`
        and :math:`\tanh'(z_g) = 1-a^2`: one :math:`K = 1 - a^2` serves all four gates, and the 1/4 is folded
        into the scaled weights (``s2`` in :meth:`_fused_backward`), so the loop's dZ is :math:`dz / s2`:
        :math:`F_3 = [g K_i,\ c_{t-1} K_f,\ i K_g]`, :math:`F_o = \tanh(c_t) K_o`,
        :math:`P = o(1-\tanh^2 c_t)`; each is contiguous per step, as the reverse loop reads it.
        """
        G, S, C, TC = b["G"][t0:t1], b["S"][t0:t1], b["C"][t0:t1], b["TC"][t0:t1]
        F3, Fo, P = b["F3"][t0:t1], b["Fo"][t0:t1], b["P"][t0:t1]
        n, _, N, U = G.shape
        mul = xp.multiply
        K = b["dZ"][t0:t1].reshape(-1)[:n * 3 * N * U].reshape(n, 3, N, U)  # scratch: dZ[t0:t1] comes later
        mul(G[:, :3], G[:, :3], out=K)
        xp.subtract(1.0, K, out=K)                                        # K for i, f, g (gate-major)
        mul(K[:, 0], G[:, 2], out=F3[:, :, 0])                            # g (1-a_i^2)       (x 1/4)
        mul(K[:, 1], C, out=F3[:, :, 1])                                  # c_{t-1} (1-a_f^2) (x 1/4)
        mul(K[:, 2], S[:, 0], out=F3[:, :, 2])                            # i (1-g^2)
        mul(G[:, 3], G[:, 3], out=Fo)
        xp.subtract(1.0, Fo, out=Fo)
        mul(Fo, TC, out=Fo)                                               # tanh(c_t) (1-a_o^2) (x 1/4)
        mul(TC, TC, out=P)
        xp.subtract(1.0, P, out=P)
        mul(P, S[:, 3], out=P)                                            # o (1 - tanh^2 c_t)

    def _fused_backward(self, dhs, dstates):
        b = self._buf
        dZ = b["dZ"]
        T, N, _ = dZ.shape
        U = self.units
        s2 = b["scale"] * b["scale"]                                      # 1/4 for i, f, o; 1 for g
        dh, dc, dc3, tmp = b["dh"], b["dc"], b["dc3"], b["tmp"]
        dh[...] = 0 if dstates[0] is None else dstates[0]
        dc[...] = 0 if dstates[1] is None else dstates[1]
        if dhs is not None:
            dh += dhs[T - 1]
        UT = xp.ascontiguousarray((self.recurrent_kernel.value * s2).T)
        matmul, add, multiply = xp.matmul, xp.add, xp.multiply
        bwd = b["bwd"]
        # The factors are computed in bulk per chunk of steps, just before the reverse loop reads them,
        # so the chunk's arrays are still in cache.
        for t1 in range(T, 0, -self._chunk):
            t0 = max(0, t1 - self._chunk)
            self._factors(b, t0, t1)
            for t in range(t1 - 1, t0 - 1, -1):
                Pt, F3t, Fot, dZ3t, dZot, ft, dZt = bwd[t]
                multiply(dh, Pt, out=tmp)
                add(dc, tmp, out=dc)                 # dc_t
                multiply(dc3, F3t, out=dZ3t)         # dz_i, dz_f, dz_g   (i, f: x 4)
                multiply(dh, Fot, out=dZot)          # dz_o               (x 4)
                if t:
                    multiply(dc, ft, out=dc)         # dc_{t-1}
                    matmul(dZt, UT, out=dh)          # dh_{t-1} from the recurrence
                    if dhs is not None:
                        add(dh, dhs[t - 1], out=dh)
        D = self._xt.shape[2]
        dZ2 = dZ.reshape(T * N, 4 * U)
        kg, rg, bg = self.kernel.grad, self.recurrent_kernel.grad, self.bias.grad
        xp.matmul(self._xt.reshape(T * N, D).T, dZ2, out=kg)
        kg *= s2
        xp.matmul(b["H"][:-1].reshape(T * N, U).T, dZ2, out=rg)
        rg *= s2
        xp.matmul(b["ones"], dZ2, out=bg)        # the column sums, as one GEMV
        bg *= s2
        if not self.compute_input_gradient:
            return None
        return (dZ2 @ (self.kernel.value * s2).T).reshape(T, N, D)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}
