"""Chapter 6 checkers: the references pass, every catalogued mistake gets its own hint, and learner-style bugs
written by hand (not copied from the catalogue) are recognised."""
from __future__ import annotations

import numpy as np
import pytest

from tinynn.exercises import ch06, checkers
from tinynn.layers.recurrent.lstm_cell import lstm_cell_forward
from tinynn.preprocessing.sequence import pad_sequences

ALL = list(checkers("ch06").items())
MISTAKES = [(name, chk, m) for name, chk in ALL for m in chk.mistakes]


def test_four_checkers():
    assert [n for n, _ in ALL] == ["check_encode", "check_pad_pre", "check_lstm_cell_step", "check_sigmoid_bce_grad"]


@pytest.mark.parametrize("name,chk", ALL, ids=[n for n, _ in ALL])
def test_reference_passes(name, chk, capsys):
    r = chk(chk.reference)
    assert r.passed and r.hint is None
    assert capsys.readouterr().out.startswith(f"✓ {chk.name} passes")


@pytest.mark.parametrize("name,chk,mistake", MISTAKES, ids=[f"{n}-{m.key}" for n, _, m in MISTAKES])
def test_each_mistake_gets_its_hint(name, chk, mistake):
    r = chk(mistake.fn, verbose=False)
    assert not r.passed and r.mistake == mistake.key and r.hint == mistake.hint


# --- the references agree with the library ----------------------------------------------------------------
def test_pad_pre_reference_is_pad_sequences():
    rng = np.random.default_rng(1)
    for i in range(10):
        case = ch06.check_pad_pre.make_case(rng, i)
        np.testing.assert_array_equal(ch06.check_pad_pre.reference(**case),
                                      pad_sequences(case["sequences"], maxlen=case["maxlen"]))


def test_lstm_reference_is_the_library_cell():
    rng = np.random.default_rng(2)
    for i in range(5):
        case = ch06.check_lstm_cell_step.make_case(rng, i)
        h, c = ch06.check_lstm_cell_step.reference(**case)
        h2, c2, _ = lstm_cell_forward(case["x_t"], case["h_prev"], case["c_prev"], case["W"], case["U"], case["b"])
        np.testing.assert_allclose(h, h2, rtol=1e-12)
        np.testing.assert_allclose(c, c2, rtol=1e-12)


def test_encode_reference_is_encode_review():
    from tinynn.datasets.imdb import encode_review

    rng = np.random.default_rng(3)
    for i in range(5):
        case = ch06.check_encode.make_case(rng, i)
        assert ch06.check_encode.reference(**case) == encode_review(
            " ".join(case["words"]), num_words=case["num_words"], word_index=case["word_index"])


def test_bce_reference_is_the_loss_gradient():
    from tinynn import activations, losses

    rng = np.random.default_rng(4)
    case = ch06.check_sigmoid_bce_grad.make_case(rng, 0)
    p = activations.sigmoid(case["z"])
    np.testing.assert_allclose(ch06.check_sigmoid_bce_grad.reference(**case),
                               losses.BinaryCrossentropy().logits_backward(case["y"], p), rtol=1e-6)


# --- learner-style bugs, written by hand ------------------------------------------------------------------
def test_pad_with_numpy_post_padding_by_hand():
    def pad_pre(sequences, maxlen):
        out = np.zeros((len(sequences), maxlen), dtype=int)
        for k, s in enumerate(sequences):
            s = s[-maxlen:]
            out[k, :len(s)] = s
        return out

    assert ch06.check_pad_pre(pad_pre, verbose=False).mistake == "post_padding"


def test_pad_keeping_the_start_by_hand():
    def pad_pre(sequences, maxlen):
        rows = [[0] * (maxlen - len(s[:maxlen])) + list(s[:maxlen]) for s in sequences]
        return np.array(rows)

    assert ch06.check_pad_pre(pad_pre, verbose=False).mistake == "truncate_start"


def test_pad_crashing_on_empty_sequence_names_the_cause():
    def pad_pre(sequences, maxlen):
        out = np.zeros((len(sequences), maxlen), dtype=int)
        for k, s in enumerate(sequences):
            out[k, -len(s):] = s[-maxlen:]     # -0: is the whole row
        return out

    r = ch06.check_pad_pre(pad_pre, n_tests=50, verbose=False)
    assert not r.passed and r.mistake in ("exception", "values")


def test_lstm_with_pytorch_names_but_wrong_split_by_hand():
    def lstm_cell_step(x_t, h_prev, c_prev, W, U, b):
        z = x_t @ W + h_prev @ U + b
        i, f, o, g = np.split(z, 4, axis=1)             # i, f, o, c: a common textbook order, not Keras'
        s = lambda a: 1 / (1 + np.exp(-a))
        c = s(f) * c_prev + s(i) * np.tanh(g)
        return s(o) * np.tanh(c), c

    assert ch06.check_lstm_cell_step(lstm_cell_step, verbose=False).mistake == "order_ifoc"


def test_lstm_in_place_c_prev_is_caught():
    def lstm_cell_step(x_t, h_prev, c_prev, W, U, b):
        z = x_t @ W + h_prev @ U + b
        i, f, g, o = np.split(z, 4, axis=1)
        s = lambda a: 1 / (1 + np.exp(-a))
        c_prev *= s(f)
        c_prev += s(i) * np.tanh(g)
        return s(o) * np.tanh(c_prev), c_prev

    r = ch06.check_lstm_cell_step(lstm_cell_step, verbose=False)
    assert r.mistake == "in_place" and "c_prev" in r.hint


def test_encode_with_index_lookup_crash():
    def encode(words, word_index, num_words):
        return [1] + [word_index[w] + 3 for w in words]

    r = ch06.check_encode(encode, verbose=False)
    assert r.mistake == "exception" and "KeyError" in r.hint


def test_bce_with_mean_over_wrong_thing_is_a_value_hint():
    r = ch06.check_sigmoid_bce_grad(lambda z, y: (1 / (1 + np.exp(-z)) - y) / z.size ** 2, verbose=False)
    assert not r.passed and r.mistake == "values"
