"""Chapter 5 (MNIST): accuracy from probabilities, the confusion matrix, one-hot labels, balanced class weights,
precision and recall at a threshold."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect

__all__ = ["check_accuracy_from_probs", "check_confusion_matrix", "check_one_hot", "check_class_weights_balanced",
           "check_precision_recall", "CHECKERS"]


def _probs(rng, n, k):
    z = rng.normal(size=(n, k)) * 2
    e = xp.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- 1. accuracy_from_probs(probs, labels) -> float ---------------------------------------------------
def _accuracy(probs, labels):
    return float((probs.argmax(axis=1) == labels).mean())


def _accuracy_case(rng, i):
    k = 10 if i == 0 else int(rng.integers(3, 8))
    n = k if i == 0 else int(rng.integers(k + 2, 30))  # case 0 is square, so argmax(axis=0) runs and is caught
    probs = _probs(rng, n, k)
    top = int(probs.max(axis=1).argmax())
    probs[[0, top]] = probs[[top, 0]]                  # the largest entry in row 0: argmax() without axis is < k
    labels = probs.argmax(axis=1)
    wrong = rng.random(n) < 0.4                        # about 60 % right: every mistake gives another number
    wrong[0] = False
    labels[wrong] = rng.integers(0, k, size=int(wrong.sum()))
    return {"probs": probs, "labels": labels}


check_accuracy_from_probs = Checker(
    "accuracy_from_probs", _accuracy, _accuracy_case,
    mistakes=[
        Mistake("axis0", lambda probs, labels: float((probs.argmax(axis=0) == labels).mean()),
                "argmax runs over the wrong axis: probs has shape (N, classes), one row per image, so the predicted "
                "class of each image is probs.argmax(axis=1); axis=0 picks, for each class, the image that likes it most."),
        Mistake("no_axis", lambda probs, labels: float((probs.argmax() == labels).mean()),
                "argmax without an axis returns one index into the *flattened* array; use probs.argmax(axis=1), "
                "one predicted class per row."),
        Mistake("max", lambda probs, labels: float((probs.max(axis=1) == labels).mean()),
                "max gives the largest *probability*; the predicted class is its position, argmax(axis=1)."),
        Mistake("count", lambda probs, labels: float((probs.argmax(axis=1) == labels).sum()),
                "that is the number of correct predictions; accuracy is their fraction (divide by N, or use .mean())."),
        Mistake("percent", lambda probs, labels: 100 * float((probs.argmax(axis=1) == labels).mean()),
                "return a fraction in [0, 1] (like Keras' accuracy), not a percentage."),
    ],
    exception_hint="probs has shape (N, classes) and labels (N,): compare probs.argmax(axis=1) with labels.",
    doc="accuracy_from_probs(probs, labels): probs (N, C) of class probabilities, labels (N,) integers → "
        "the fraction of rows whose most probable class is the label (a float).",
)


# --- 2. confusion_matrix(y_true, y_pred, num_classes) -> (K, K) counts, rows = true class ---------------
def _confusion(y_true, y_pred, num_classes):
    cm = xp.zeros((num_classes, num_classes), dtype="int64")
    xp.add.at(cm, (y_true, y_pred), 1)
    return cm


def _confusion_case(rng, i):
    k = int(rng.integers(3, 7))
    n = int(rng.integers(3 * k, 8 * k))
    y_true = rng.integers(0, k, size=n)
    y_pred = xp.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, size=n))
    if i == 0:  # the last class never occurs: the matrix still has num_classes rows and columns
        y_true, y_pred = xp.minimum(y_true, k - 2), xp.minimum(y_pred, k - 2)
    return {"y_true": y_true, "y_pred": y_pred, "num_classes": k}


def _confusion_assign(y_true, y_pred, num_classes):
    cm = xp.zeros((num_classes, num_classes), dtype="int64")
    cm[y_true, y_pred] += 1
    return cm


def _confusion_max(y_true, y_pred, num_classes):
    k = int(max(y_true.max(), y_pred.max())) + 1
    return _confusion(y_true, y_pred, k)


check_confusion_matrix = Checker(
    "confusion_matrix", _confusion, _confusion_case,
    mistakes=[
        Mistake("transposed", lambda t, p, k: _confusion(t, p, k).T,
                "rows and columns are swapped: row i is the *true* class, column j the *predicted* one, "
                "so sample n adds 1 to cm[y_true[n], y_pred[n]] (Keras', TensorFlow's and sklearn's convention)."),
        Mistake("fancy_assign", _confusion_assign,
                "`cm[y_true, y_pred] += 1` adds 1 only once per distinct (true, predicted) pair: with repeated "
                "indices NumPy writes each cell once. Count with a loop, or np.add.at(cm, (y_true, y_pred), 1)."),
        Mistake("normalised", lambda t, p, k: _confusion(t, p, k) / xp.maximum(_confusion(t, p, k).sum(axis=1, keepdims=True), 1),
                "return the counts; dividing each row by its total (the recall of each class) is a separate step."),
        Mistake("from_max_label", _confusion_max,
                "the size comes from num_classes, not from the largest label seen: a class can be absent from a "
                "small batch but still needs its row and column."),
    ],
    exception_hint="y_true and y_pred are integer arrays of shape (N,); the result is (num_classes, num_classes).",
    doc="confusion_matrix(y_true, y_pred, num_classes): integer counts cm (K, K), cm[i, j] = number of samples "
        "of true class i predicted as j.",
)


# --- 3. one_hot(y, num_classes) -> (N, K) float32, like tinynn.utils.to_categorical -------------------
class _DtypeChecker(Checker):
    """A checker that also wants the output's dtype to be a float (as ``to_categorical``'s float32)."""

    def _compare(self, got, expected, equal_nan=False):
        msg = super()._compare(got, expected, equal_nan=equal_nan)
        if msg is None and getattr(expected, "dtype", None) is not None:
            g_kind, e_kind = getattr(getattr(got, "dtype", None), "kind", None), expected.dtype.kind
            if g_kind != e_kind:
                return f"right values, but dtype {getattr(got, 'dtype', type(got).__name__)}; expected {expected.dtype}."
        return msg


def _one_hot(y, num_classes):
    out = xp.zeros((len(y), num_classes), dtype="float32")
    out[xp.arange(len(y)), y] = 1.0
    return out


def _one_hot_case(rng, i):
    k = int(rng.integers(3, 11))
    n = int(rng.integers(2, 15))
    if n == k:
        n += 1
    y = rng.integers(0, k, size=n)
    y[0], y[-1] = 0, k - 1  # both ends occur: class 0 and the last class
    return {"y": y, "num_classes": k}


check_one_hot = _DtypeChecker(
    "one_hot", _one_hot, _one_hot_case,
    mistakes=[
        Mistake("off_by_one", lambda y, k: _one_hot((y - 1) % k, k),
                "the 1 sits one column too far left: labels already start at 0, so label c goes to column c "
                "(no `- 1`: digit 0 is column 0)."),
        Mistake("off_by_one_right", lambda y, k: _one_hot((y + 1) % k, k),
                "the 1 sits one column too far right: label c goes to column c (digit 0 is column 0)."),
        Mistake("int_dtype", lambda y, k: _one_hot(y, k).astype("int64"),
                "right values, wrong dtype: the targets are compared with float32 probabilities, so return "
                "float32 like to_categorical (np.zeros((N, K), dtype='float32'))."),
        Mistake("transposed", lambda y, k: _one_hot(y, k).T,
                "one row per sample: the result has shape (N, num_classes)."),
    ],
    exception_hint="y has shape (N,) with integers in [0, num_classes); return an (N, num_classes) float32 array.",
    doc="one_hot(y, num_classes): (N, num_classes) float32 with out[n, y[n]] = 1 and 0 elsewhere "
        "(tinynn.utils.to_categorical).",
)


# --- 4. class_weights_balanced(y) -> {class: n / (k * count_c)} ---------------------------------------
def _balanced(y):
    classes, counts = xp.unique(y, return_counts=True)
    n, k = len(y), len(classes)
    return {int(c): float(n / (k * cnt)) for c, cnt in zip(classes, counts)}


def _balanced_case(rng, i):
    k = 2 if i < 10 else int(rng.integers(3, 6))
    p = rng.random(k) + 0.05
    p = p ** 3 / (p ** 3).sum()                 # unequal classes, some rare
    n = int(rng.integers(40, 200))
    y = rng.choice(k, size=n, p=p)
    y[:k] = xp.arange(k)                        # every class occurs at least once
    return {"y": y}


def _balanced_inverted(y):
    classes, counts = xp.unique(y, return_counts=True)
    n, k = len(y), len(classes)
    return {int(c): float(k * cnt / n) for c, cnt in zip(classes, counts)}


def _balanced_no_k(y):
    classes, counts = xp.unique(y, return_counts=True)
    return {int(c): float(len(y) / cnt) for c, cnt in zip(classes, counts)}


def _balanced_frequency(y):
    classes, counts = xp.unique(y, return_counts=True)
    return {int(c): float(cnt / len(y)) for c, cnt in zip(classes, counts)}


class _DictChecker(Checker):
    """Compares dicts ``{class: weight}``: same keys (Python ints), then the weights."""

    def _compare(self, got, expected, equal_nan=False):
        if got is None:
            return f"{self.name} returned None: did you forget the `return` statement?"
        if not isinstance(got, dict):
            return (f"{self.name} must return a dict {{class: weight}} (what fit's class_weight takes), "
                    f"got {type(got).__name__}.")
        if sorted(map(int, got)) != sorted(expected):
            return f"the keys must be the classes present in y, {sorted(expected)}; got {sorted(got)}."
        keys = sorted(expected)
        return super()._compare(xp.array([float(got[k]) for k in keys]), xp.array([expected[k] for k in keys]),
                                equal_nan=equal_nan)


check_class_weights_balanced = _DictChecker(
    "class_weights_balanced", _balanced, _balanced_case,
    mistakes=[
        Mistake("inverted", _balanced_inverted,
                "the ratio is upside down: a *rare* class must get a *large* weight, w_c = n / (k · n_c); "
                "yours gives k · n_c / n, which favours the common class."),
        Mistake("no_k", _balanced_no_k,
                "divide by the number of classes k too: w_c = n / (k · n_c), so that the weights average to 1 "
                "over the samples (Σ_c n_c w_c = n) and the loss keeps its scale."),
        Mistake("frequency", _balanced_frequency,
                "that is each class' frequency n_c / n; the balanced weight is its inverse divided by k, "
                "w_c = n / (k · n_c)."),
    ],
    exception_hint="y is an (N,) array of integer labels; return {class: n / (k * count_of_class)}.",
    doc="class_weights_balanced(y): {c: n / (k · n_c)} for each class c present in y (n samples, k classes, "
        "n_c samples of class c) — Keras/sklearn's 'balanced' class weights.",
)


# --- 5. precision_recall(y_true, probs, threshold) -> (precision, recall) ---------------------------------
def _pr(y_true, probs, threshold):
    pred, true = probs > threshold, y_true > 0.5
    tp = float((pred & true).sum())
    called, real = float(pred.sum()), float(true.sum())
    return (tp / called if called else 0.0), (tp / real if real else 0.0)


def _pr_case(rng, i):
    n = int(rng.integers(12, 40))
    threshold = 0.5 if i < 3 else float(rng.choice([0.2, 0.3, 0.4, 0.6, 0.7]))
    y_true = (rng.random((n, 1)) < 0.35).astype("float32")
    y_true[:2] = [[1.0], [0.0]]
    probs = xp.clip(0.6 * y_true + 0.5 * rng.random((n, 1)), 0.0, 1.0)     # (N, 1), like predict's output
    if i == 1:                                   # no sample above the threshold: nothing is called positive
        probs = probs * threshold * 0.9
    else:
        probs[rng.choice(n, size=3, replace=False)] = threshold              # on the threshold: not positive
        probs[0] = 0.95
    return {"y_true": y_true, "probs": probs.astype("float32"), "threshold": threshold}


def _pr_swapped(y_true, probs, threshold):
    p, r = _pr(y_true, probs, threshold)
    return r, p


def _pr_geq(y_true, probs, threshold):
    pred, true = probs >= threshold, y_true > 0.5
    tp = float((pred & true).sum())
    return (tp / float(pred.sum()) if pred.sum() else 0.0), (tp / float(true.sum()) if true.sum() else 0.0)


def _pr_half(y_true, probs, threshold):
    return _pr(y_true, probs, 0.5)


def _pr_broadcast(y_true, probs, threshold):
    pred, true = probs > threshold, y_true.ravel() > 0.5      # (N, 1) & (N,) -> (N, N)
    tp = float((pred & true).sum())
    return (tp / float(pred.sum()) if pred.sum() else 0.0), (tp / float(true.sum()) if true.sum() else 0.0)


def _pr_nan(y_true, probs, threshold):
    pred, true = probs > threshold, y_true > 0.5
    tp = float((pred & true).sum())
    called = float(pred.sum())
    return (tp / called if called else float("nan")), tp / float(true.sum())


def _pr_accuracy_like(y_true, probs, threshold):
    pred, true = probs > threshold, y_true > 0.5
    tp, tn = float((pred & true).sum()), float((~pred & ~true).sum())
    return (tp + tn) / len(pred), tp / float(true.sum())


class _FractionsChecker(Checker):
    """Names the usual cause when a "fraction" comes back outside [0, 1]."""

    def _compare(self, got, expected, equal_nan=False):
        msg = super()._compare(got, expected, equal_nan=equal_nan)
        if msg is not None and isinstance(got, (tuple, list)) and len(got) == 2:
            try:
                values = [float(v) for v in got]
            except (TypeError, ValueError):
                return msg
            if any(v < 0 or v > 1 for v in values):
                return (f"precision and recall are fractions in [0, 1], yours are {values[0]:.3g} and {values[1]:.3g}: "
                        "you probably count pairs, not samples. Comparing an (N, 1) array with an (N,) one (e.g. "
                        "y_true.ravel() with probs) broadcasts to an (N, N) table; keep both (N, 1), or flatten both.")
        return msg


check_precision_recall = _FractionsChecker(
    "precision_recall", _pr, _pr_case, outputs=("precision", "recall"),
    mistakes=[
        Mistake("swapped", _pr_swapped,
                "the two numbers are swapped (or their definitions are): precision = TP/(TP + FP) divides by the "
                "samples *called* positive, recall = TP/(TP + FN) by the samples that *are* positive; return "
                "(precision, recall) in that order."),
        Mistake("geq", _pr_geq,
                "a probability exactly equal to the threshold counts as positive in yours: Keras' metrics call a "
                "sample positive when probs > threshold (strictly)."),
        Mistake("half", _pr_half,
                "your function ignores `threshold` and cuts at 0.5: compare probs with the threshold argument."),
        Mistake("broadcast", _pr_broadcast,
                "one array was flattened and the other not: y_true.ravel() has shape (N,) and probs (N, 1), and "
                "comparing them broadcasts to an (N, N) table of every pair. Keep both (N, 1), or flatten both."),
        Mistake("nan", _pr_nan,
                "when no sample is above the threshold, TP + FP = 0 and precision is 0/0: return 0.0 then, as "
                "Keras' Precision does (guard the division)."),
        Mistake("accuracy", _pr_accuracy_like,
                "your first number counts the true negatives too — that is the accuracy; precision looks only at "
                "the samples called positive, TP/(TP + FP)."),
    ],
    exception_hint="y_true and probs both have shape (N, 1) (what predict returns for a sigmoid output); a sample "
                   "is called positive when probs > threshold. If nothing is called positive, TP + FP = 0: return "
                   "0.0 for precision instead of dividing.",
    doc="precision_recall(y_true, probs, threshold): (TP/(TP + FP), TP/(TP + FN)) with positive = probs > threshold, "
        "0.0 for a 0/0; y_true, probs (N, 1).",
)

CHECKERS = collect(globals())
