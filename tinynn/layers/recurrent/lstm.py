"""LSTM layer (Keras' ``LSTM``): the cell of :mod:`lstm_cell` run over a sequence, with a fused loop.

Two implementations compute the same numbers (a test checks they agree to rounding):

* the **generic loop** steps :func:`lstm_cell_forward` / :func:`lstm_cell_backward` — used with a mask or
  with activations other than tanh/sigmoid;
* the **fused loop** (tanh/sigmoid, no mask) is written for speed, because with small batches the cost
  is Python/NumPy call overhead per step, not arithmetic:

  - the input projection :math:`x_t W + b` of *all* steps is one GEMM, (T·N, D) @ (D, 4H), before the loop;
  - the four gates take **one** ``tanh`` per step, using :math:`\\sigma(z) = \\tfrac12(1 + \\tanh(z/2))`: the
    columns of i, f, o in W, U, b are pre-scaled by 1/2, so :math:`\\tanh` of the block gives g directly and
    :math:`\\tfrac12(1+\\cdot)` of it gives i, f, o;
  - every buffer is preallocated (and reused between batches of the same shape) and written with ``out=``;
  - backward precomputes, over all steps at once, :math:`K = 1 - a^2` of the gate block (it gives
    :math:`\\sigma'(z) = (1-a^2)/4` and :math:`\\tanh'(z_g) = 1-a^2`; the 1/4 is folded into scaled weights)
    and the factors :math:`F = [g\\,i(1-i),\\ c_{t-1} f(1-f),\\ i(1-g^2),\\ \\tanh(c_t)\\, o(1-o)]`,
    :math:`P = o(1-\\tanh^2 c_t)`, so each reverse step is
    :math:`dc \\mathrel{+}= dh \\odot P_t`, :math:`dz_{ifg} = dc \\odot F_{ifg}`, :math:`dz_o = dh \\odot F_o`,
    :math:`dc \\leftarrow dc \\odot f_t`, :math:`dh = dz\\,U^\\top (+ dy_{t-1})`;
  - the weight gradients are three GEMMs over all steps after the loop:
    :math:`dW = X^\\top dZ`, :math:`dU = H_{t-1}^\\top dZ`, :math:`dx = dZ\\,W^\\top`.
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
        """Preallocated arrays and their per-step views, reused while (T, N, dtype) stays the same."""
        key = (T, N, xp.dtype(dtype).str, id(xp.zeros(0).__class__))
        if self._buf is not None and self._buf["key"] == key:
            return self._buf
        U = self.units
        A = xp.empty((T, N, 4 * U), dtype=dtype)   # pre-activations, then tanh of the (pre-scaled) gates
        S = xp.empty((T, N, 4 * U), dtype=dtype)   # (1 + A) / 2: i, f, o in their columns
        H = xp.zeros((T + 1, N, U), dtype=dtype)   # H[0] = h_0 = 0, H[t+1] = h_t
        C = xp.zeros((T + 1, N, U), dtype=dtype)
        TC = xp.empty((T, N, U), dtype=dtype)      # tanh(c_t)
        F = xp.empty((T, N, 4 * U), dtype=dtype)   # backward factors
        P = xp.empty((T, N, U), dtype=dtype)
        dZ = xp.empty((T, N, 4 * U), dtype=dtype)
        F4, dZ4 = F.reshape(T, N, 4, U), dZ.reshape(T, N, 4, U)
        fwd = [(A[t], S[t], S[t, :, :U], S[t, :, U:2 * U], A[t, :, 2 * U:3 * U], S[t, :, 3 * U:],
                C[t], C[t + 1], TC[t], H[t], H[t + 1]) for t in range(T)]
        bwd = [(P[t], F4[t, :, :3], F[t, :, 3 * U:], dZ4[t, :, :3], dZ[t, :, 3 * U:], S[t, :, U:2 * U], dZ[t])
               for t in range(T)]
        scale = xp.full((4 * U,), 0.5, dtype=dtype)
        scale[2 * U:3 * U] = 1.0
        dc = xp.empty((N, U), dtype=dtype)
        self._buf = dict(key=key, A=A, S=S, H=H, C=C, TC=TC, F=F, P=P, dZ=dZ, fwd=fwd, bwd=bwd, scale=scale,
                         tmp4=xp.empty((N, 4 * U), dtype=dtype), tmp=xp.empty((N, U), dtype=dtype),
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
        for At, St, it, ft, gt, ot, Cp, Ct, TCt, Hp, Ht in b["fwd"]:
            matmul(Hp, Us, out=tmp4)
            add(At, tmp4, out=At)
            tanh(At, out=At)                 # g, and tanh(z/2) for i, f, o
            multiply(At, 0.5, out=St)
            add(St, 0.5, out=St)             # sigma(z) for i, f, o
            multiply(ft, Cp, out=Ct)
            multiply(it, gt, out=tmp)
            add(Ct, tmp, out=Ct)             # c_t = f c_{t-1} + i g
            tanh(Ct, out=TCt)
            multiply(ot, TCt, out=Ht)        # h_t = o tanh(c_t)
        self._xt = xt
        return b["H"][1:], (b["H"][T], b["C"][T])

    def _fused_backward(self, dhs, dstates):
        b = self._buf
        A, S, C, TC, F, P, dZ = b["A"], b["S"], b["C"], b["TC"], b["F"], b["P"], b["dZ"]
        T, N, _ = A.shape
        U = self.units
        # Backward factors for all steps at once. With a = tanh of the pre-scaled block (A), the
        # derivatives are sigma'(z) = s(1-s) = (1-a^2)/4 and tanh'(z_g) = 1-a^2: one K = 1 - A^2 serves all
        # four gates, and the 1/4 is folded into the scaled weights below (s2), so dZ here is dz / s2.
        xp.multiply(A, A, out=F)
        xp.subtract(1.0, F, out=F)                          # K = 1 - A^2
        mul = xp.multiply
        mul(F[..., :U], A[..., 2 * U:3 * U], out=F[..., :U])              # g (1-a_i^2)     (x 1/4)
        mul(F[..., U:2 * U], C[:-1], out=F[..., U:2 * U])                 # c_{t-1} (1-a_f^2) (x 1/4)
        mul(F[..., 2 * U:3 * U], S[..., :U], out=F[..., 2 * U:3 * U])     # i (1-g^2)
        mul(F[..., 3 * U:], TC, out=F[..., 3 * U:])                       # tanh(c_t) (1-a_o^2) (x 1/4)
        xp.multiply(TC, TC, out=P)
        xp.subtract(1.0, P, out=P)
        mul(P, S[..., 3 * U:], out=P)                                     # o (1 - tanh^2 c_t)
        s2 = b["scale"] * b["scale"]                                      # 1/4 for i, f, o; 1 for g
        dh, dc, dc3, tmp = b["dh"], b["dc"], b["dc3"], b["tmp"]
        dh[...] = 0 if dstates[0] is None else dstates[0]
        dc[...] = 0 if dstates[1] is None else dstates[1]
        if dhs is not None:
            dh += dhs[T - 1]
        UT = xp.ascontiguousarray((self.recurrent_kernel.value * s2).T)
        matmul, add, multiply = xp.matmul, xp.add, xp.multiply
        bwd = b["bwd"]
        for t in range(T - 1, -1, -1):
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
