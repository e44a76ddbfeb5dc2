r"""What SimpleRNN, LSTM and GRU share: sequences in and out, masking, ``go_backwards``, input dropout,
``return_sequences`` / ``return_state``, and backpropagation through time by stepping a cell.

A recurrent layer reads ``x`` of shape (N, T, D) one step at a time and carries a state
(``h``, for the LSTM also ``c``) from step to step:

.. math:: (h_t, c_t) = \mathrm{cell}(x_t, h_{t-1}, c_{t-1}),\qquad h_0 = c_0 = 0.

**Backprop through time** runs the steps in reverse. The gradient reaching :math:`h_t` is what the
output at step t receives plus what step t+1 sends back through its recurrence:

.. math:: \frac{\partial L}{\partial h_t} = dy_t + \frac{\partial L}{\partial h_t}\Big|_{\text{step } t+1},

and the weight gradients are sums over all steps (the same W, U, b are used at every step).

**Masking** (``mask`` (N, T), True = a real step): at a masked step the state is carried over,
:math:`s_t = m_t\,\mathrm{cell}(x_t, s_{t-1}) + (1-m_t)\,s_{t-1}`, so a pre-padded sequence gives exactly
the output of the unpadded one. Backward splits the gradient the same way.

Internally the loop runs time-major: (T, N, D), so each step's slice is contiguous.
"""
from __future__ import annotations

from tinynn import activations, backend, constraints, initializers
from tinynn.backend import xp
from tinynn.layers.base import InputSpec, Layer, shape_str


def serialize_initializer(init):
    """Keras' ``{'class_name': ..., 'config': ...}`` for an initializer."""
    return {"class_name": type(init).__name__, "config": init.get_config() if hasattr(init, "get_config") else {}}


class BaseRNN(Layer):
    """Base of the recurrent layers. Subclasses define ``n_gates``, ``state_names`` and the cell
    (``_cell_forward(x_t, states)`` / ``_cell_backward(dstates, cache)``); they may override
    ``_forward`` / ``_backward`` with a fused loop that computes the same numbers faster.

    ``call`` returns ``y`` — (N, T, units) with ``return_sequences`` else (N, units) — or, with
    ``return_state``, the list ``[y, *final_states]``. ``backward`` then takes the matching list of
    upstream gradients (``None`` entries mean zero) and returns ``dx`` (N, T, D).
    """

    n_gates = 1
    state_names = ("h",)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False, seed=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{kind} '{self.name}': units must be a positive integer, got {units!r}.")
        if not use_bias:
            raise NotImplementedError(f"{kind} '{self.name}': use_bias=False is not implemented in tinynn.")
        if stateful:
            raise NotImplementedError(f"{kind} '{self.name}': stateful=True is not implemented in tinynn.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{kind} '{self.name}': dropout must be in [0, 1), got {dropout!r}.")
        if recurrent_dropout:
            raise NotImplementedError(
                f"{kind} '{self.name}': recurrent_dropout={recurrent_dropout!r} is not implemented in tinynn "
                "(only recurrent_dropout=0.0). Use dropout= (input dropout) or a Dropout layer instead.")
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_constraint = constraints.get(kernel_constraint)  # applied by the optimizer after each update
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), stateful, unroll
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.seed = seed
        self.supports_masking = True
        self.compute_input_gradient = True
        self._rng = None

    # --- weights -----------------------------------------------------------------------------
    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected an input of shape (batch, timesteps, "
                             f"features) with known features, got {shape_str(input_shape)}.")
        d, k = input_shape[-1], self.n_gates * self.units
        self.kernel = self.add_weight((d, k), self.kernel_initializer, name="kernel", constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, k), self.recurrent_initializer, name="recurrent_kernel",
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(self._bias_shape(), self._bias_init(), name="bias", constraint=self.bias_constraint)
        for w in (self.kernel, self.recurrent_kernel, self.bias):
            if not w.value.flags.c_contiguous:  # 'orthogonal' can return a transposed view
                w.value = xp.ascontiguousarray(w.value)
        self.input_spec = InputSpec(ndim=3, axes={-1: d})

    def _bias_shape(self):
        return (self.n_gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    # --- forward -------------------------------------------------------------------------------
    def call(self, x, training=False, mask=None):
        """Run the cell over the T steps; see the module docstring for the equations.

        Shapes: ``x`` (N, T, D), ``mask`` (N, T) or None → ``y`` (N, T, units) or (N, units).
        """
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected an input of shape (batch, timesteps, "
                             f"features), got {shape_str(x.shape)}.")
        n, t, d = x.shape
        if mask is not None:
            mask = backend.asarray(mask)
            if tuple(mask.shape) != (n, t):
                raise ValueError(f"{type(self).__name__} '{self.name}': mask must have shape {shape_str((n, t))} "
                                 f"(batch, timesteps), got {shape_str(mask.shape)}.")
        self._drop = None
        if training and self.dropout > 0:
            if self._rng is None:
                self._rng = backend.rng() if self.seed is None else xp.random.default_rng(self.seed)
            keep = self._rng.random(size=(n, 1, d), dtype=x.dtype) >= self.dropout
            self._drop = keep * x.dtype.type(1.0 / (1.0 - self.dropout))  # one mask per sequence, all steps
            x = x * self._drop
        if self.go_backwards:
            x = x[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        xt = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D)
        m = None
        if mask is not None and not bool(mask.all()):
            m = xp.ascontiguousarray(mask.T)[:, :, None].astype(x.dtype)  # (T, N, 1)
        self._m, self._x_shape = m, x.shape
        hs, states = self._forward(xt, m)
        if self.return_sequences:
            y = xp.ascontiguousarray(hs.transpose(1, 0, 2))
            if self.zero_output_for_mask and m is not None:
                y *= m.transpose(1, 0, 2)
        else:
            y = states[0].copy()
        if self.return_state:
            return [y, *[s.copy() for s in states]]
        return y

    def _forward(self, xt, m):
        """The generic loop: step the cell function. Returns (all h (T, N, U), final states)."""
        t_steps, n, _ = xt.shape
        states = tuple(xp.zeros((n, self.units), dtype=xt.dtype) for _ in self.state_names)
        hs = xp.empty((t_steps, n, self.units), dtype=xt.dtype)
        self._caches = []
        for t in range(t_steps):
            new, cache = self._cell_forward(xt[t], states)
            if m is not None:
                new = tuple(m[t] * s_new + (1.0 - m[t]) * s_old for s_new, s_old in zip(new, states))
            hs[t] = new[0]
            self._caches.append(cache)
            states = new
        return hs, states

    # --- backward -----------------------------------------------------------------------------
    def backward(self, dy):
        """Backprop through time. ``dy``: (N, T, units) or (N, units), or with ``return_state`` the list
        ``[dy, *dstates]`` (entries may be ``None``). Returns ``dx`` (N, T, D) (``None`` when
        ``compute_input_gradient`` is False); writes the gradients of kernel, recurrent_kernel and bias.
        """
        parts = list(dy) if isinstance(dy, (list, tuple)) else [dy]
        if len(parts) > 1 + len(self.state_names) or (self.return_state and len(parts) != 1 + len(self.state_names)):
            raise ValueError(f"{type(self).__name__} '{self.name}': backward expects "
                             f"{1 + len(self.state_names) if self.return_state else 1} upstream gradient(s) "
                             f"(output{', ' if self.return_state else ''}{', '.join(self.state_names) if self.return_state else ''}), "
                             f"got {len(parts)}.")
        dout, dstates = parts[0], parts[1:] + [None] * (1 + len(self.state_names) - len(parts))
        dstates = [None if d is None else backend.asarray(d) for d in dstates]
        dhs = None
        if dout is not None:
            if self.return_sequences:
                dhs = xp.ascontiguousarray(dout.transpose(1, 0, 2))
                if self.zero_output_for_mask and self._m is not None:
                    dhs = dhs * self._m
            else:
                dstates[0] = dout if dstates[0] is None else dstates[0] + dout
        dxt = self._backward(dhs, dstates)
        if dxt is None or not self.compute_input_gradient:
            return None
        dx = dxt.transpose(1, 0, 2)
        if self.go_backwards:
            dx = dx[:, ::-1]
        if self._drop is not None:
            return dx * self._drop
        return xp.ascontiguousarray(dx)

    def _backward(self, dhs, dstates):
        """The generic BPTT loop over the cached steps. ``dhs`` (T, N, U) or None; ``dstates`` the gradients of
        the final states (None = 0). Returns dx time-major (T, N, D)."""
        caches, m = self._caches, self._m
        t_steps = len(caches)
        n = self._x_shape[0]
        dtype = self.kernel.value.dtype
        ds = [xp.zeros((n, self.units), dtype=dtype) if d is None else d for d in dstates]
        gw = [xp.zeros_like(w.value) for w in (self.kernel, self.recurrent_kernel, self.bias)]
        dxt = xp.empty((t_steps, n, self._x_shape[2]), dtype=dtype)
        for t in range(t_steps - 1, -1, -1):
            if dhs is not None:
                ds[0] = ds[0] + dhs[t]
            if m is not None:
                d_in = [m[t] * d for d in ds]
                carry = [(1.0 - m[t]) * d for d in ds]
            else:
                d_in, carry = ds, None
            dx_t, dprev, grads = self._cell_backward(d_in, caches[t])
            for acc, g in zip(gw, grads):
                acc += g
            ds = list(dprev) if carry is None else [a + b for a, b in zip(dprev, carry)]
            dxt[t] = dx_t
        for w, g in zip((self.kernel, self.recurrent_kernel, self.bias), gw):
            w.grad[...] = g
        return dxt

    # --- description ----------------------------------------------------------------------------
    def compute_mask(self, inputs, mask=None):
        """The input mask when ``return_sequences`` (one flag per output step), else ``None``."""
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        n, t = input_shape[0], input_shape[1]
        out = (n, t, self.units) if self.return_sequences else (n, self.units)
        if self.return_state:
            return [out] + [(n, self.units)] * len(self.state_names)
        return out

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "recurrent_initializer": serialize_initializer(self.recurrent_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "kernel_constraint": constraints.serialize_or_none(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize_or_none(self.recurrent_constraint),
                "bias_constraint": constraints.serialize_or_none(self.bias_constraint),
                "seed": self.seed}
