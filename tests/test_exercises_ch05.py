"""Chapter 5's checkers: the references pass, every catalogued mistake gets its own hint, and learner-style bugs
written by hand (argmax on the wrong axis, a transposed or under-counted confusion matrix, an off-by-one or
integer one-hot, an inverted class-weight ratio) are recognised."""
from __future__ import annotations

import numpy as np
import pytest

from tinynn.exercises import ch05, checkers
from tinynn.utils import to_categorical

CHECKS = checkers("ch05")
MISTAKES = [(name, chk, m) for name, chk in CHECKS.items() for m in chk.mistakes]


def test_there_are_five_documented_checkers():
    assert list(CHECKS) == ["check_accuracy_from_probs", "check_confusion_matrix", "check_one_hot",
                            "check_class_weights_balanced", "check_precision_recall"]
    for name, chk in CHECKS.items():
        assert name == f"check_{chk.name}" and chk.__doc__ and len(chk.mistakes) >= 3


@pytest.mark.parametrize("name", list(CHECKS))
def test_reference_passes(name, capsys):
    chk = CHECKS[name]
    r = chk(chk.reference)
    assert r.passed and r.hint is None
    assert capsys.readouterr().out.startswith(f"✓ {chk.name} passes {chk.n_tests} random tests")


@pytest.mark.parametrize("name,chk,mistake", MISTAKES, ids=[f"{n}-{m.key}" for n, _, m in MISTAKES])
def test_each_catalogued_mistake_gets_its_hint(name, chk, mistake):
    r = chk(mistake.fn, verbose=False)
    assert not r.passed and r.mistake == mistake.key and r.hint == mistake.hint


# --- the references agree with the library --------------------------------------------------------------
def test_one_hot_reference_is_to_categorical():
    y = np.array([0, 3, 9, 3])
    got = ch05.check_one_hot.reference(y, 10)
    assert got.dtype == to_categorical(y, 10).dtype and np.array_equal(got, to_categorical(y, 10))


def test_confusion_matrix_reference_by_loop():
    rng = np.random.default_rng(1)
    t, p = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    loop = np.zeros((4, 4), int)
    for a, b in zip(t, p):
        loop[a, b] += 1
    cm = ch05.check_confusion_matrix.reference(t, p, 4)
    assert np.array_equal(cm, loop) and cm.sum() == 50 and np.trace(cm) == (t == p).sum()


def test_balanced_weights_formula():
    y = np.array([0] * 90 + [1] * 10)
    w = ch05.check_class_weights_balanced.reference(y)
    assert w == pytest.approx({0: 100 / (2 * 90), 1: 100 / (2 * 10)})
    assert sum(w[c] * (y == c).sum() for c in w) == pytest.approx(len(y))  # weights average to 1 per sample


# --- learner-style bugs written by hand ------------------------------------------------------------------
def test_argmax_axis0_by_hand():
    def accuracy_from_probs(probs, labels):
        return np.mean(np.argmax(probs, axis=0) == labels)

    r = ch05.check_accuracy_from_probs(accuracy_from_probs, verbose=False)
    assert r.mistake == "axis0" and "axis=1" in r.hint


def test_accuracy_count_by_hand():
    def accuracy_from_probs(probs, labels):
        return int(np.sum(probs.argmax(1) == labels))

    r = ch05.check_accuracy_from_probs(accuracy_from_probs, verbose=False)
    assert r.mistake == "count"


def test_accuracy_right_by_hand():
    def accuracy_from_probs(probs, labels):
        right = 0
        for row, label in zip(probs, labels):
            right += int(np.argmax(row) == label)
        return right / len(labels)

    assert ch05.check_accuracy_from_probs(accuracy_from_probs, verbose=False).passed


def test_confusion_transposed_by_hand():
    def confusion_matrix(y_true, y_pred, num_classes):
        cm = np.zeros((num_classes, num_classes), dtype=int)
        for t, p in zip(y_true, y_pred):
            cm[p, t] += 1
        return cm

    r = ch05.check_confusion_matrix(confusion_matrix, verbose=False)
    assert r.mistake == "transposed" and "true" in r.hint


def test_confusion_fancy_index_by_hand():
    def confusion_matrix(y_true, y_pred, num_classes):
        cm = np.zeros((num_classes, num_classes))
        cm[y_true, y_pred] += 1
        return cm

    r = ch05.check_confusion_matrix(confusion_matrix, verbose=False)
    assert r.mistake == "fancy_assign" and "np.add.at" in r.hint


def test_confusion_loop_passes():
    def confusion_matrix(y_true, y_pred, num_classes):
        cm = np.zeros((num_classes, num_classes), dtype=int)
        for t, p in zip(y_true, y_pred):
            cm[t, p] += 1
        return cm

    assert ch05.check_confusion_matrix(confusion_matrix, verbose=False).passed


def test_one_hot_eye_minus_one_by_hand():
    def one_hot(y, num_classes):
        return np.eye(num_classes, dtype="float32")[y - 1]

    r = ch05.check_one_hot(one_hot, verbose=False)
    assert r.mistake == "off_by_one"


def test_one_hot_integer_dtype_by_hand():
    def one_hot(y, num_classes):
        out = np.zeros((len(y), num_classes), dtype=int)
        out[np.arange(len(y)), y] = 1
        return out

    r = ch05.check_one_hot(one_hot, verbose=False)
    assert r.mistake == "int_dtype" and "float32" in r.hint


def test_one_hot_eye_passes():
    assert ch05.check_one_hot(lambda y, k: np.eye(k, dtype="float32")[y], verbose=False).passed


def test_balanced_inverted_by_hand():
    def class_weights_balanced(y):
        counts = np.bincount(y)
        return {c: counts[c] * len(counts) / len(y) for c in range(len(counts))}

    r = ch05.check_class_weights_balanced(class_weights_balanced, verbose=False)
    assert r.mistake == "inverted" and "rare" in r.hint


def test_balanced_not_a_dict():
    r = ch05.check_class_weights_balanced(lambda y: len(y) / (2 * np.bincount(y)), verbose=False)
    assert not r.passed and "dict" in r.hint


def test_balanced_bincount_passes():
    def class_weights_balanced(y):
        counts = np.bincount(y)
        return {c: len(y) / (len(counts) * counts[c]) for c in range(len(counts))}

    assert ch05.check_class_weights_balanced(class_weights_balanced, verbose=False).passed


# --- precision_recall -------------------------------------------------------------------------------------
def test_precision_recall_reference_is_keras_precision_and_recall():
    from tinynn.metrics import Precision, Recall

    rng = np.random.default_rng(5)
    for i in range(8):
        case = ch05.check_precision_recall.make_case(rng, i)
        p, r = Precision(thresholds=case["threshold"]), Recall(thresholds=case["threshold"])
        p.update_state(case["y_true"], case["probs"])
        r.update_state(case["y_true"], case["probs"])
        assert ch05.check_precision_recall.reference(**case) == pytest.approx((p.result(), r.result()))


def test_precision_recall_counting_by_hand_passes():
    def precision_recall(y_true, probs, threshold):
        called = probs[:, 0] > threshold
        real = y_true[:, 0] == 1
        tp = np.sum(called & real)
        return (tp / called.sum() if called.sum() > 0 else 0.0), tp / real.sum()

    assert ch05.check_precision_recall(precision_recall, verbose=False).passed


def test_precision_recall_half_flattened_by_hand():
    def precision_recall(y_true, probs, threshold):
        called = probs > threshold                 # (N, 1)
        real = y_true.flatten() == 1               # (N,): the comparison below is (N, N)
        tp = (called & real).sum()
        return (tp / called.sum() if called.sum() else 0.0), tp / real.sum()

    r = ch05.check_precision_recall(precision_recall, verbose=False)
    assert r.mistake == "broadcast" and "(N, N)" in r.hint


def test_precision_recall_dividing_by_zero_by_hand():
    def precision_recall(y_true, probs, threshold):
        called, real = probs > threshold, y_true == 1
        tp = int((called & real).sum())
        return tp / int(called.sum()), tp / int(real.sum())   # ZeroDivisionError when nothing is called positive

    r = ch05.check_precision_recall(precision_recall, verbose=False)
    assert r.mistake == "exception" and "ZeroDivisionError" in r.hint and "return 0.0" in r.hint


def test_precision_recall_returned_as_recall_precision_by_hand():
    def precision_recall(y_true, probs, threshold):
        called, real = probs > threshold, y_true == 1
        tp = (called & real).sum()
        return tp / max(real.sum(), 1), tp / max(called.sum(), 1)

    assert ch05.check_precision_recall(precision_recall, verbose=False).mistake == "swapped"


def test_precision_recall_two_mistakes_at_once_still_names_the_broadcast():
    def precision_recall(y_true, probs, threshold):
        called = probs >= threshold                # wrong too, but the counts of pairs are the bigger problem
        real = y_true.ravel() == 1
        tp = (called & real).sum()
        return tp / called.sum(), tp / real.sum()

    r = ch05.check_precision_recall(precision_recall, verbose=False)
    assert not r.passed and "(N, N)" in r.hint and "fractions in [0, 1]" in r.hint
