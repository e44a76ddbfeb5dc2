"""Chapter 6 exercises: IMDB with an LSTM — encoding a review, pre-padding, one LSTM step, the sigmoid + BCE gradient.

>>> from tinynn.exercises import ch06
>>> ch06.check_pad_pre(ch06.check_pad_pre.reference, verbose=False).passed
True
"""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_encode", "check_pad_pre", "check_lstm_cell_step", "check_sigmoid_bce_grad", "CHECKERS"]

START, OOV, INDEX_FROM = 1, 2, 3

# --- 1. encode(words, word_index, num_words) -> list of ints ------------------------------------------
_VOCAB = ("the", "and", "a", "of", "to", "is", "br", "in", "it", "this", "movie", "film", "was", "great", "bad",
          "plot", "acting", "boring", "wonderful", "awful", "loved", "hated")
_UNKNOWN = ("zxqv", "blorp", "flimflam", "qwerty")


def _encode(words, word_index, num_words):
    seq = [START]
    for w in words:
        rank = word_index.get(w)
        i = None if rank is None else rank + INDEX_FROM
        seq.append(i if i is not None and i < num_words else OOV)
    return seq


def _encode_case(rng, i):
    ranks = rng.permutation(len(_VOCAB)) + 1
    word_index = {w: int(r) for w, r in zip(_VOCAB, ranks)}
    num_words = int(rng.integers(10, 18))               # some words are ranked too far down: they become OOV
    rare = [w for w, r in word_index.items() if r + INDEX_FROM >= num_words]
    common = [w for w, r in word_index.items() if r + INDEX_FROM < num_words]
    n = int(rng.integers(5, 12))
    words = [str(w) for w in rng.choice(common + rare, size=n)]
    words += [str(rng.choice(rare)), str(rng.choice(_UNKNOWN)), str(rng.choice(common))]  # each kind at least once
    order = rng.permutation(len(words))
    return {"words": [words[k] for k in order], "word_index": word_index, "num_words": num_words}


def _encode_no_offset(words, word_index, num_words):
    return [START] + [word_index[w] if w in word_index and word_index[w] < num_words else OOV for w in words]


def _encode_no_start(words, word_index, num_words):
    return _encode(words, word_index, num_words)[1:]


def _encode_drop_unknown(words, word_index, num_words):
    return [START] + [word_index[w] + INDEX_FROM if word_index[w] + INDEX_FROM < num_words else OOV
                      for w in words if w in word_index]


def _encode_no_cut(words, word_index, num_words):
    return [START] + [word_index[w] + INDEX_FROM if w in word_index else OOV for w in words]


def _encode_oov_zero(words, word_index, num_words):
    return [0 if i == OOV else i for i in _encode(words, word_index, num_words)]


check_encode = Checker(
    "encode", _encode, _encode_case,
    mistakes=[
        Mistake("no_offset", _encode_no_offset,
                "the indices are off by 3: a word's index is its rank + index_from (3), because 0 = padding, "
                "1 = start, 2 = out-of-vocabulary are reserved — 'the' (rank 1) is index 4."),
        Mistake("no_start", _encode_no_start,
                "the sequence starts with start_char = 1, as every review of load_data does."),
        Mistake("drop_unknown", _encode_drop_unknown,
                "a word missing from the word index must not be dropped: it becomes oov_char = 2 (the model "
                "saw [OOV] in training too, and the review keeps its length)."),
        Mistake("no_cut", _encode_no_cut,
                "words ranked too far down are out of the vocabulary: an index ≥ num_words must become "
                "oov_char = 2 (the Embedding has only num_words rows)."),
        Mistake("oov_zero", _encode_oov_zero,
                "out-of-vocabulary words are oov_char = 2, not 0: 0 is padding, which the model learns to ignore."),
    ],
    exception_hint="`words` is a list of lower-case strings; `word_index[w]` raises KeyError for an unknown word "
                   "(use `word_index.get(w)`).",
    doc="encode(words, word_index, num_words): [1] + for each word, rank + 3 if it is known and < num_words, else 2.",
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


# --- 3. lstm_cell_step(x_t, h_prev, c_prev, W, U, b) -> (h, c) ----------------------------------------
def _sig(z):
    return 1.0 / (1.0 + xp.exp(-z))


def _lstm_gates(x_t, h_prev, W, U, b):
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    return z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]


def _lstm_step(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_gates(x_t, h_prev, W, U, b)
    c = _sig(zf) * c_prev + _sig(zi) * xp.tanh(zc)
    return _sig(zo) * xp.tanh(c), c


def _lstm_case(rng, i):
    n, d, h = int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
    return {"x_t": rng.normal(size=(n, d)), "h_prev": rng.normal(size=(n, h)) * 0.5,
            "c_prev": rng.normal(size=(n, h)), "W": rng.normal(size=(d, 4 * h)) * 0.7,
            "U": rng.normal(size=(h, 4 * h)) * 0.7, "b": rng.normal(size=(4 * h,)) * 0.5}


def _lstm_order(order):
    """The step with the four blocks read in another order (``order`` names what blocks 0..3 are)."""
    def step(x_t, h_prev, c_prev, W, U, b):
        blocks = dict(zip(order, _lstm_gates(x_t, h_prev, W, U, b)))
        c = _sig(blocks["f"]) * c_prev + _sig(blocks["i"]) * xp.tanh(blocks["c"])
        return _sig(blocks["o"]) * xp.tanh(c), c
    return step


def _lstm_sigmoid_candidate(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_gates(x_t, h_prev, W, U, b)
    c = _sig(zf) * c_prev + _sig(zi) * _sig(zc)
    return _sig(zo) * xp.tanh(c), c


def _lstm_no_forget(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_gates(x_t, h_prev, W, U, b)
    c = c_prev + _sig(zi) * xp.tanh(zc)
    return _sig(zo) * xp.tanh(c), c


def _lstm_no_tanh_c(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_gates(x_t, h_prev, W, U, b)
    c = _sig(zf) * c_prev + _sig(zi) * xp.tanh(zc)
    return _sig(zo) * c, c


def _lstm_swapped(x_t, h_prev, c_prev, W, U, b):
    h, c = _lstm_step(x_t, h_prev, c_prev, W, U, b)
    return c, h


check_lstm_cell_step = Checker(
    "lstm_cell_step", _lstm_step, _lstm_case, outputs=("h", "c"),
    mistakes=[
        Mistake("order_ifoc", _lstm_order("ifoc"),
                "wrong gate order: Keras stacks the blocks of W, U, b as i, f, c, o — the candidate c is the "
                "third block and the output gate o the fourth."),
        Mistake("order_fico", _lstm_order("fico"),
                "wrong gate order: Keras stacks the blocks as i, f, c, o — the input gate first, then the forget gate."),
        Mistake("sigmoid_candidate", _lstm_sigmoid_candidate,
                "the candidate c̃ = tanh(z_c) uses tanh, not sigmoid: it is a value in (−1, 1) to write into the "
                "cell; only the three gates i, f, o are sigmoids in (0, 1)."),
        Mistake("no_forget", _lstm_no_forget,
                "the forget gate is missing: c_t = f ⊙ c_{t−1} + i ⊙ c̃ — without f the cell can only add, never forget."),
        Mistake("no_tanh_c", _lstm_no_tanh_c,
                "h_t = o ⊙ tanh(c_t): squash the cell state with tanh before the output gate."),
        Mistake("swapped", _lstm_swapped, "the values are right but the order is not: return (h, c)."),
    ],
    exception_hint="Shapes: x_t (N, D) @ W (D, 4H) + h_prev (N, H) @ U (H, 4H) + b (4H,) gives z (N, 4H); "
                   "split it into four (N, H) blocks.",
    doc="lstm_cell_step(x_t, h_prev, c_prev, W, U, b): one LSTM step, Keras' gate order i, f, c, o; "
        "return (h, c).",
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
