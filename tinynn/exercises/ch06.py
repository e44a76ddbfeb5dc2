"""Chapter 6 exercises: IMDB with an LSTM — capping the vocabulary, pre-padding, one LSTM step backwards, the
sigmoid + BCE gradient.

>>> from tinynn.exercises import ch06
>>> ch06.check_pad_pre(ch06.check_pad_pre.reference, verbose=False).passed
True
"""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_cap_vocabulary", "check_pad_pre", "check_lstm_cell_backward", "check_sigmoid_bce_grad", "CHECKERS"]

START, OOV, INDEX_FROM = 1, 2, 3

# --- 1. cap_vocabulary(sequences, num_words) -> new list of lists --------------------------------------
def _cap(sequences, num_words):
    return [[i if i < num_words else OOV for i in s] for s in sequences]


def _cap_case(rng, i):
    num_words = int(rng.integers(8, 30))
    n = int(rng.integers(2, 6))
    seqs = []
    for k in range(n):
        length = int(rng.integers(0 if k == n - 1 and i % 3 == 0 else 3, 12))
        s = [START] + [int(v) for v in rng.integers(INDEX_FROM + 1, 2 * num_words, size=length)]
        seqs.append(s)
    seqs[0] += [num_words, num_words - 1, OOV, num_words + int(rng.integers(1, 4))]   # both sides of the cut
    return {"sequences": seqs, "num_words": num_words}


def _cap_gt(sequences, num_words):
    return [[i if i <= num_words else OOV for i in s] for s in sequences]


def _cap_drop(sequences, num_words):
    return [[i for i in s if i < num_words] for s in sequences]


def _cap_zero(sequences, num_words):
    return [[i if i < num_words else 0 for i in s] for s in sequences]


def _cap_rank(sequences, num_words):
    return [[i if i - INDEX_FROM < num_words else OOV for i in s] for s in sequences]


def _cap_reserved(sequences, num_words):
    return [[i if INDEX_FROM <= i < num_words else OOV for i in s] for s in sequences]


class _ListsChecker(Checker):
    """Compares lists of sequences of different lengths (a NumPy array cannot hold them)."""

    def _compare(self, got, expected, equal_nan=False):
        if got is None:
            return f"{self.name} returned None: did you forget the `return` statement?"
        if not isinstance(got, (list, tuple)):
            return (f"{self.name} must return a list of lists, one per review, like load_data's x (reviews have "
                    f"different lengths, so they cannot form one array); got {type(got).__name__}.")
        if len(got) != len(expected):
            return f"{self.name} returned {len(got)} sequences for {len(expected)} reviews."
        for k, (g, e) in enumerate(zip(got, expected)):
            g = [int(v) for v in g]
            if len(g) != len(e):
                return f"review {k} has {len(g)} indices, expected {len(e)}: every index stays, capped or not."
            if g != list(e):
                j = next(j for j in range(len(e)) if g[j] != e[j])
                return f"review {k}, position {j}: got {g[j]}, expected {e[j]}."
        return None


check_cap_vocabulary = _ListsChecker(
    "cap_vocabulary", _cap, _cap_case,
    mistakes=[
        Mistake("gt", _cap_gt,
                "the index num_words itself was kept: indices must be < num_words (the Embedding(num_words, ...) "
                "has rows 0 … num_words − 1), so an index ≥ num_words becomes 2."),
        Mistake("drop", _cap_drop,
                "rare words were dropped: they become oov_char = 2, so the review keeps its length and the model "
                "still sees that *some* word stood there."),
        Mistake("zero", _cap_zero,
                "rare words became 0, which is padding: the out-of-vocabulary index is oov_char = 2."),
        Mistake("rank", _cap_rank,
                "num_words caps the *index* (rank + 3), not the rank: the Embedding has num_words rows, so an index "
                "must be < num_words."),
        Mistake("reserved", _cap_reserved,
                "the reserved indices 0 (padding), 1 (start) and 2 (out of vocabulary) are below num_words: keep "
                "them as they are; only indices ≥ num_words change."),
    ],
    exception_hint="`sequences` is a list of lists of ints (reviews of different lengths); return a new list of "
                   "lists.",
    in_place_hint="cap_vocabulary changed its argument `{name}` in place: the caller's reviews must stay as they "
                  "were (load_data keeps its own copy). Build new lists, e.g. [[... for i in s] for s in sequences]; "
                  "`list(sequences)` or `sequences[:]` copies only the outer list, the reviews inside are shared.",
    doc="cap_vocabulary(sequences, num_words): a new list of lists, each index i kept if i < num_words, else 2 "
        "(what load_data(num_words=...) does).",
)


# --- 2. pad_pre(sequences, maxlen) -> (N, maxlen) int array -------------------------------------------
def _pad_pre(sequences, maxlen):
    out = xp.zeros((len(sequences), maxlen), dtype="int32")
    for k, s in enumerate(sequences):
        s = list(s)[-maxlen:]
        if s:
            out[k, maxlen - len(s):] = s
    return out


def _pad_case(rng, i):
    maxlen = int(rng.integers(4, 9))
    n = int(rng.integers(3, 7))
    lengths = [int(rng.integers(1, maxlen)), int(rng.integers(maxlen + 1, 2 * maxlen + 2))]  # one short, one long
    lengths += [int(rng.integers(0, 2 * maxlen + 2)) for _ in range(n - 2)]
    lengths = [lengths[k] for k in rng.permutation(len(lengths))]
    return {"sequences": [[int(v) for v in rng.integers(1, 100, size=L)] for L in lengths], "maxlen": maxlen}


def _pad_with(padding, truncating):
    def pad(sequences, maxlen):
        out = xp.zeros((len(sequences), maxlen), dtype="int32")
        for k, s in enumerate(sequences):
            s = list(s)
            s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
            if s:
                if padding == "pre":
                    out[k, maxlen - len(s):] = s
                else:
                    out[k, :len(s)] = s
        return out
    return pad


check_pad_pre = Checker(
    "pad_pre", _pad_pre, _pad_case,
    mistakes=[
        Mistake("post_padding", _pad_with("post", "pre"),
                "the zeros go *before* a short review (padding='pre'), so its last word sits at the last time "
                "step — the one whose state the classifier reads."),
        Mistake("truncate_start", _pad_with("pre", "post"),
                "a long review is cut at the wrong end: truncating='pre' drops the *first* words and keeps the "
                "last maxlen (s[-maxlen:]), like Keras' default."),
        Mistake("all_post", _pad_with("post", "post"),
                "both ends are wrong: pad short reviews at the front and keep the *last* maxlen words of long "
                "ones (Keras' defaults padding='pre', truncating='pre')."),
    ],
    exception_hint="Return an integer array of shape (len(sequences), maxlen); a sequence may be empty or longer "
                   "than maxlen.",
    doc="pad_pre(sequences, maxlen): (N, maxlen) int array, zeros before short sequences, the last maxlen items of "
        "long ones (pad_sequences' defaults).",
)


# --- 3. lstm_cell_backward(x_t, h_prev, c_prev, W, U, b, dh, dc) -> (dx_t, dh_prev, dc_prev, dW, dU, db) --------
def _sig(z):
    return 1.0 / (1.0 + xp.exp(-z))


def _lstm_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    i, f = _sig(z[:, :H]), _sig(z[:, H:2 * H])
    g, o = xp.tanh(z[:, 2 * H:3 * H]), _sig(z[:, 3 * H:])
    c = f * c_prev + i * g
    return i, f, g, o, c


def _lstm_bw(x_t, h_prev, c_prev, W, U, b, dh, dc, variant=()):
    i, f, g, o, c = _lstm_forward(x_t, h_prev, c_prev, W, U, b)
    tc = xp.tanh(c)
    do = dh * (xp.tanh(c_prev) if "do_c_prev" in variant else tc)
    dct = (0 if "no_dc" in variant else dc) + (0 if "no_tanh_path" in variant else dh * o * (1 - tc * tc))
    di, df, dg = dct * g, dct * c_prev, dct * i
    dc_prev = dct if "no_f" in variant else dct * f
    dg_z = dg * g * (1 - g) if "sigmoid_g" in variant else dg * (1 - g * g)
    blocks = {"i": di * i * (1 - i), "f": df * f * (1 - f), "c": dg_z, "o": do * o * (1 - o)}
    order = "ifoc" if "order_ifoc" in variant else "ifco"
    dz = xp.concatenate([blocks[k] for k in order], axis=1)
    dx, dhp = dz @ W.T, dz @ U.T
    if "W_U_swapped" in variant:
        return dx, dhp, dc_prev, h_prev.T @ dz, x_t.T @ dz, dz.sum(axis=0)
    dW, dU, db = x_t.T @ dz, h_prev.T @ dz, dz.sum(axis=0)
    if "dW_T" in variant:
        dW, dU = dW.T, dU.T
    if "db_axis" in variant:
        db = dz.sum(axis=1)
    return dx, dhp, dc_prev, dW, dU, db


def _lstm_bw_variant(*variant):
    return lambda x_t, h_prev, c_prev, W, U, b, dh, dc: _lstm_bw(x_t, h_prev, c_prev, W, U, b, dh, dc, variant)


def _lstm_bw_case(rng, i):
    n, d, h = (int(k) for k in rng.choice(xp.arange(2, 7), size=3, replace=False))   # N, D, H all different
    return {"x_t": rng.normal(size=(n, d)), "h_prev": rng.normal(size=(n, h)) * 0.5,
            "c_prev": rng.normal(size=(n, h)), "W": rng.normal(size=(d, 4 * h)) * 0.7,
            "U": rng.normal(size=(h, 4 * h)) * 0.7, "b": rng.normal(size=(4 * h,)) * 0.5,
            "dh": rng.normal(size=(n, h)), "dc": rng.normal(size=(n, h))}


def _lstm_bw_dx_dh_swapped(x_t, h_prev, c_prev, W, U, b, dh, dc):
    dx, dhp, dcp, dW, dU, db = _lstm_bw(x_t, h_prev, c_prev, W, U, b, dh, dc)
    return dhp, dx, dcp, dW, dU, db


def _lstm_bw_grads_first(x_t, h_prev, c_prev, W, U, b, dh, dc):
    dx, dhp, dcp, dW, dU, db = _lstm_bw(x_t, h_prev, c_prev, W, U, b, dh, dc)
    return dW, dU, db, dx, dhp, dcp


check_lstm_cell_backward = Checker(
    "lstm_cell_backward", _lstm_bw, _lstm_bw_case, outputs=("dx_t", "dh_prev", "dc_prev", "dW", "dU", "db"),
    mistakes=[
        Mistake("no_tanh_path", _lstm_bw_variant("no_tanh_path"),
                "c_t reaches the loss two ways: directly (the dc from step t+1) and through h_t = o ⊙ tanh(c_t). "
                "Add the second: dc_total = dc + dh ⊙ o ⊙ (1 − tanh²(c_t)), and use dc_total for di, df, dc̃ "
                "and dc_prev."),
        Mistake("no_dc", _lstm_bw_variant("no_dc"),
                "the dc argument is unused: it is ∂L/∂c_t coming back from step t+1 (the cell-state path), and it "
                "adds to the part that comes through h_t."),
        Mistake("no_f", _lstm_bw_variant("no_f"),
                "dc_prev misses the forget gate: c_t = f ⊙ c_{t−1} + i ⊙ c̃, so ∂c_t/∂c_{t−1} = f and "
                "dc_prev = dc_total ⊙ f."),
        Mistake("sigmoid_g", _lstm_bw_variant("sigmoid_g"),
                "the candidate c̃ = tanh(z_c) is a tanh, so its derivative is 1 − c̃²; g(1 − g) is the sigmoid's "
                "(right for i, f and o only)."),
        Mistake("do_c_prev", _lstm_bw_variant("do_c_prev"),
                "do uses the wrong cell state: h_t = o ⊙ tanh(c_t) with the *new* c_t, so do = dh ⊙ tanh(c_t)."),
        Mistake("order_ifoc", _lstm_bw_variant("order_ifoc"),
                "dz is stacked in the wrong order: its four blocks must follow W's columns, Keras' i, f, c, o "
                "(the candidate third, the output gate last)."),
        Mistake("dW_T", _lstm_bw_variant("dW_T"),
                "dW and dU are transposed: a weight's gradient has the weight's shape, dW = x_tᵀ dz (D, 4H) and "
                "dU = h_prevᵀ dz (H, 4H)."),
        Mistake("W_U_swapped", _lstm_bw_variant("W_U_swapped"),
                "dW and dU are swapped: W multiplies x_t, so dW = x_tᵀ dz; U multiplies h_{t−1}, so "
                "dU = h_prevᵀ dz."),
        Mistake("db_axis", _lstm_bw_variant("db_axis"),
                "db is summed over the wrong axis: sum dz over the batch (axis 0), so db has b's shape (4H,)."),
        Mistake("dx_dh_swapped", _lstm_bw_dx_dh_swapped,
                "dx_t and dh_prev are swapped: dx_t = dz Wᵀ goes down to the embedding, dh_prev = dz Uᵀ back to "
                "step t − 1; return (dx_t, dh_prev, dc_prev, dW, dU, db) in that order."),
        Mistake("grads_first", _lstm_bw_grads_first,
                "right values in the wrong order: return (dx_t, dh_prev, dc_prev, dW, dU, db)."),
    ],
    exception_hint="Shapes: x_t (N, D), h_prev, c_prev, dh, dc (N, H), W (D, 4H), U (H, 4H), b (4H,); z and dz "
                   "are (N, 4H). Recompute the forward step first (i, f, c̃, o, c_t), then go backwards.",
    doc="lstm_cell_backward(x_t, h_prev, c_prev, W, U, b, dh, dc): the backward of one LSTM step (Keras' gate "
        "order i, f, c, o), dh = ∂L/∂h_t, dc = ∂L/∂c_t from step t+1; return (dx_t, dh_prev, dc_prev, dW, dU, db).",
)


# --- 4. sigmoid_bce_grad(z, y) -> dL/dz ------------------------------------------------------------
def _bce_grad(z, y):
    return (_sig(z) - y) / len(z)


def _bce_case(rng, i):
    n = int(rng.integers(3, 9))
    return {"z": rng.normal(size=(n, 1)) * 2, "y": rng.integers(0, 2, size=(n, 1)).astype("float64")}


check_sigmoid_bce_grad = Checker(
    "sigmoid_bce_grad", _bce_grad, _bce_case,
    mistakes=[
        Mistake("no_mean", lambda z, y: _sig(z) - y,
                "the loss is the *mean* over the batch, so the gradient carries a 1/N: (σ(z) − y)/N."),
        Mistake("sign", lambda z, y: (y - _sig(z)) / len(z),
                "the sign is flipped: the gradient is (σ(z) − y)/N — positive when the prediction is too high."),
        Mistake("extra_sigmoid_derivative", lambda z, y: (_sig(z) - y) * _sig(z) * (1 - _sig(z)) / len(z),
                "σ'(z) = σ(1 − σ) is already cancelled by the cross-entropy's 1/(σ(1 − σ)): the fused gradient is "
                "just (σ(z) − y)/N."),
        Mistake("no_sigmoid", lambda z, y: (z - y) / len(z),
                "z is the logit, not the probability: apply the sigmoid first, (σ(z) − y)/N."),
    ],
    exception_hint="z and y both have shape (N, 1).",
    doc="sigmoid_bce_grad(z, y): ∂L/∂z for L = mean BCE(y, σ(z)) = (σ(z) − y)/N.",
)

CHECKERS = collect(globals())
