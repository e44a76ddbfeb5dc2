"""Chapter 6 checkers: the references pass, every catalogued mistake gets its own hint, and learner-style bugs
written by hand (not copied from the catalogue) are recognised."""
from __future__ import annotations

import numpy as np
import pytest

from tinynn.exercises import ch06, checkers
from tinynn.layers.recurrent.lstm_cell import lstm_cell_backward, lstm_cell_forward
from tinynn.preprocessing.sequence import pad_sequences

ALL = list(checkers("ch06").items())
MISTAKES = [(name, chk, m) for name, chk in ALL for m in chk.mistakes]


def test_four_checkers():
    assert [n for n, _ in ALL] == ["check_cap_vocabulary", "check_pad_pre", "check_lstm_cell_backward",
                                   "check_sigmoid_bce_grad"]


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


def test_lstm_backward_reference_is_the_library_cell_and_finite_differences():
    chk = ch06.check_lstm_cell_backward
    rng = np.random.default_rng(2)
    for i in range(4):
        case = chk.make_case(rng, i)
        ref = chk.reference(**case)
        h, c, cache = lstm_cell_forward(case["x_t"], case["h_prev"], case["c_prev"], case["W"], case["U"], case["b"])
        for a, b in zip(ref, lstm_cell_backward(case["dh"], case["dc"], cache)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # the loss L = Σ dh ⊙ h_t + Σ dc ⊙ c_t has exactly these gradients: check every output numerically
    case = chk.make_case(rng, 0)
    names = ["x_t", "h_prev", "c_prev", "W", "U", "b"]

    def loss(**kw):
        h, c, _ = lstm_cell_forward(kw["x_t"], kw["h_prev"], kw["c_prev"], kw["W"], kw["U"], kw["b"])
        return float((case["dh"] * h).sum() + (case["dc"] * c).sum())

    grads = dict(zip(["x_t", "h_prev", "c_prev", "W", "U", "b"], chk.reference(**case)))
    for name in names:
        num = np.zeros_like(case[name])
        for idx in np.ndindex(num.shape):
            kw = {k: case[k].copy() for k in names}
            kw[name][idx] += 1e-6
            up = loss(**kw)
            kw[name][idx] -= 2e-6
            num[idx] = (up - loss(**kw)) / 2e-6
        np.testing.assert_allclose(grads[name], num, atol=1e-7, rtol=1e-6)


def test_cap_vocabulary_reference_is_what_load_data_does():
    rng = np.random.default_rng(3)
    for i in range(5):
        case = ch06.check_cap_vocabulary.make_case(rng, i)
        out = ch06.check_cap_vocabulary.reference(**case)
        for s, o in zip(case["sequences"], out):
            arr = np.array(s, dtype=int)
            np.testing.assert_array_equal(np.where(arr < case["num_words"], arr, 2), np.array(o, dtype=int))


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


def _lstm_backward_by_hand(x_t, h_prev, c_prev, W, U, b, dh, dc, forget_tanh_path=False, order="ifco"):
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    s = lambda a: 1 / (1 + np.exp(-a))
    i, f, g, o = s(z[:, :H]), s(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), s(z[:, 3 * H:])
    c = f * c_prev + i * g
    dc = dc if forget_tanh_path else dc + dh * o * (1 - np.tanh(c) ** 2)
    parts = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f), "c": dc * i * (1 - g ** 2),
             "o": dh * np.tanh(c) * o * (1 - o)}
    dz = np.hstack([parts[k] for k in order])
    return dz @ W.T, dz @ U.T, dc * f, x_t.T @ dz, h_prev.T @ dz, dz.sum(0)


def test_lstm_backward_by_hand_passes():
    assert ch06.check_lstm_cell_backward(_lstm_backward_by_hand, verbose=False).passed


def test_lstm_backward_forgetting_the_path_through_h_by_hand():
    r = ch06.check_lstm_cell_backward(lambda *a: _lstm_backward_by_hand(*a, forget_tanh_path=True), verbose=False)
    assert r.mistake == "no_tanh_path" and "dh ⊙ o ⊙ (1 − tanh²(c_t))" in r.hint


def test_lstm_backward_with_pytorch_gate_order_by_hand():
    r = ch06.check_lstm_cell_backward(lambda *a: _lstm_backward_by_hand(*a, order="ifoc"), verbose=False)
    assert r.mistake == "order_ifoc"


def test_lstm_backward_returning_five_values_names_the_count():
    r = ch06.check_lstm_cell_backward(lambda *a: _lstm_backward_by_hand(*a)[:5], verbose=False)
    assert not r.passed and "must return 6 values" in r.hint


def test_lstm_backward_modifying_dc_in_place_is_caught():
    def lstm_cell_backward(x_t, h_prev, c_prev, W, U, b, dh, dc):
        out = _lstm_backward_by_hand(x_t, h_prev, c_prev, W, U, b, dh, dc)
        dc *= 0                                   # "consumed" the incoming gradient
        return out

    r = ch06.check_lstm_cell_backward(lstm_cell_backward, verbose=False)
    assert r.mistake == "in_place" and "`dc`" in r.hint


def test_cap_vocabulary_in_place_on_a_shallow_copy_is_caught():
    def cap_vocabulary(sequences, num_words):
        out = sequences[:]                        # copies the outer list only
        for s in out:
            for k, i in enumerate(s):
                if i >= num_words:
                    s[k] = 2
        return out

    r = ch06.check_cap_vocabulary(cap_vocabulary, verbose=False)
    assert r.mistake == "in_place" and "copies only the outer list" in r.hint


def test_cap_vocabulary_as_an_array_names_the_container():
    r = ch06.check_cap_vocabulary(lambda seqs, n: np.array([np.minimum(s, n) for s in seqs], dtype=object),
                                  verbose=False)
    assert not r.passed and "list of lists" in r.hint


def test_cap_vocabulary_with_numpy_where_per_review_passes():
    r = ch06.check_cap_vocabulary(lambda seqs, n: [list(np.where(np.array(s, dtype=int) < n, s, 2)) for s in seqs],
                                  verbose=False)
    assert r.passed


def test_bce_with_mean_over_wrong_thing_is_a_value_hint():
    r = ch06.check_sigmoid_bce_grad(lambda z, y: (1 / (1 + np.exp(-z)) - y) / z.size ** 2, verbose=False)
    assert not r.passed and r.mistake == "values"
