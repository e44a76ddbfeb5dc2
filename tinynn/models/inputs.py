r"""Checking what a model is given: inputs, targets and sample weights, each named when it is wrong.

These functions are methods of :class:`~tinynn.models.Model` (``model._prepare_inputs`` ...). Inputs and
targets are returned as lists, one array per model input / output.

The dtype rule: float data become the model's float type (``float32``); integer data stay integers when the
layer that reads them wants integers (``Embedding``: token ids), and otherwise become floats.
"""
from __future__ import annotations

from tinynn import backend, losses
from tinynn.backend import xp
from tinynn.layers.base import shape_str


def _split(model, data, names, what, where):
    """``data`` (one array, a list, or a dict by name) as a list in the order of ``names``."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        extra = [k for k in data if k not in names]
        if missing or extra:
            raise ValueError(f"{where}: {what} is a dict with keys {sorted(data)}, but model '{model.name}' has "
                             f"{what.replace('x', 'inputs').replace('y', 'outputs')} named {names}.")
        return [data[n] for n in names]
    if isinstance(data, (list, tuple)) and len(names) > 1:
        if len(data) != len(names):
            kind = "inputs" if what == "x" else "outputs"
            raise ValueError(f"{where}: model '{model.name}' has {len(names)} {kind} ({', '.join(names)}), "
                             f"but {what} has {len(data)} arrays.")
        return list(data)
    if len(names) > 1:
        kind = "inputs" if what == "x" else "outputs"
        raise ValueError(f"{where}: model '{model.name}' has {len(names)} {kind} ({', '.join(names)}); give {what} "
                         f"as a list or a dict of {len(names)} arrays.")
    return [data]


def _as_numbers(a, where, what):
    if a is None or isinstance(a, (str, bytes)):
        raise TypeError(f"{where}: {what} must be an array of numbers, got {a!r}.")
    try:
        a = backend.asarray(a) if not (hasattr(a, "shape") and hasattr(a, "dtype")) else backend.to_backend(a)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{where}: {what} is ragged or mixed (rows of different lengths?): {e}. Give one rectangular "
                         "array (pad_sequences pads lists of different lengths).") from None
    if a.dtype.kind not in "fiub":
        hint = " Labels given as strings must be turned into class indices first." if a.dtype.kind in "US" else ""
        raise ValueError(f"{where}: {what} must be numbers, got an array of dtype {a.dtype}.{hint}")
    if a.ndim == 0:
        raise ValueError(f"{where}: {what} is a single number; give one value (or row) per sample.")
    return a


def _wants_integers(model, k):
    graph = getattr(model, "_graph", None)
    if graph is not None:
        t = graph.inputs[k]
        if str(t.dtype).startswith(("int", "uint")):
            return True
        return any(getattr(n.layer, "integer_input", False) for n in graph.consumers.get(id(t), []))
    layers = getattr(model, "_chain", None)
    if layers:
        return bool(getattr(layers[0], "integer_input", False))
    return None  # a subclassed model: unknown


def prepare_inputs(model, x, where):
    """The list of input arrays, checked: not None, not empty, numbers, finite, the right shapes."""
    if x is None:
        raise ValueError(f"{where}: x is None; pass the input data.")
    names = model._flat_input_names() if model.built or getattr(model, "_graph", None) else None
    if names is None:  # a subclassed model before its first call: take the structure as given
        names = list(x) if isinstance(x, dict) else [f"input_{i}" for i in range(len(x))] \
            if isinstance(x, (list, tuple)) and not hasattr(x, "shape") and _looks_multi(x) else ["input"]
        if not isinstance(x, dict) and len(names) == 1:
            xs = [x]
        else:
            xs = list(x.values()) if isinstance(x, dict) else list(x)
        model._input_keys = list(x) if isinstance(x, dict) else None
        model._n_inputs = len(xs)
    else:
        xs = _split(model, x, names, "x", where)
    out = []
    for k, a in enumerate(xs):
        label = "x" if len(xs) == 1 else f"x[{names[k]!r}]" if isinstance(x, dict) else f"x[{k}]"
        a = _as_numbers(a, where, label)
        if a.ndim == 0 or a.shape[0] == 0:
            raise ValueError(f"{where}: {label} is empty (shape {tuple(a.shape)}); there is nothing to compute on.")
        wants = _wants_integers(model, k)
        if a.dtype.kind in "iu" and (wants or (wants is None and a.dtype.itemsize >= 4)):
            pass  # token ids: keep them exact
        else:
            a = a.astype(backend.floatx(), copy=False)
        if a.dtype.kind == "f" and not bool(xp.isfinite(a).all()):
            bad = int(xp.argwhere(~xp.isfinite(a))[0][0])
            raise ValueError(f"{where}: {label} contains NaN or infinite values (first in sample {bad}). "
                             "Clean the data first.")
        out.append(a)
    n = len(out[0])
    for k, a in enumerate(out[1:], 1):
        if len(a) != n:
            raise ValueError(f"{where}: the inputs have different numbers of samples: x[0] has {n}, x[{k}] has "
                             f"{len(a)}.")
    model._check_input_shapes(out, where)
    return out


def _looks_multi(x):
    return len(x) > 0 and all(hasattr(v, "shape") or isinstance(v, (list, tuple)) for v in x) and \
        len({len(v) if not hasattr(v, "shape") else v.shape[0] for v in x}) == 1 and hasattr(x[0], "shape")


def check_input_shapes(model, xs, where):
    graph = getattr(model, "_graph", None)
    if graph is None:
        if not model.built:
            first = xs[0][:2] if len(xs) == 1 else [a[:2] for a in xs]
            if getattr(model, "_input_keys", None):
                first = dict(zip(model._input_keys, [a[:2] for a in xs]))
            model(first)
        return
    for k, (a, t) in enumerate(zip(xs, graph.inputs)):
        expected = t.shape
        got = tuple(a.shape)
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
            raise ValueError(f"{where}: input '{graph.input_names[k]}' of model '{model.name}' expects shape "
                             f"{shape_str(expected)}, got {shape_str(got)}.")


def prepare_targets(model, y, n, where):
    """The list of target arrays, one per output, checked against the losses."""
    if y is None:
        raise ValueError(f"{where}: y is None; pass the targets (labels).")
    model._resolve_compiled()
    names = model.output_names
    ys = _split(model, y, names, "y", where)
    shapes = model._output_shapes()
    out = []
    for k, a in enumerate(ys):
        label = "y" if len(ys) == 1 else f"y[{names[k]!r}]"
        a = _as_numbers(a, where, label)
        if len(a) != n:
            raise ValueError(f"{where}: x and {label} have different numbers of samples: x has {n}, {label} has "
                             f"{len(a)}.")
        fn = model._loss_fns[k] if k < len(model._loss_fns) else None
        if not isinstance(fn, losses.SparseCategoricalCrossentropy):
            a = a.astype(backend.floatx(), copy=False)
        if a.dtype.kind == "f" and not bool(xp.isfinite(a).all()):
            raise ValueError(f"{where}: {label} contains NaN or infinite values.")
        if fn is not None and shapes[k] is not None:
            fn.validate_targets(a, shapes[k][-1])
        out.append(a)
    return out


def sample_weights(model, ys, sample_weight, class_weight, n, where="fit"):
    """One weight per sample for each output (a list), or None."""
    names = model.output_names
    per = [None] * len(names)
    if sample_weight is not None:
        if isinstance(sample_weight, dict) or (isinstance(sample_weight, (list, tuple)) and len(names) > 1
                                               and len(sample_weight) == len(names)
                                               and not isinstance(sample_weight[0], (int, float))):
            per = _split(model, sample_weight, names, "sample_weight", where)
        else:
            per = [sample_weight] * len(names)
        for k, sw in enumerate(per):
            if sw is None:
                continue
            sw = _as_numbers(sw, where, "sample_weight").astype(backend.floatx())
            if sw.shape != (n,):
                raise ValueError(f"{where}: sample_weight must have shape ({n},) (one weight per sample), got "
                                 f"{tuple(sw.shape)}.")
            if not bool(xp.isfinite(sw).all()) or bool((sw < 0).any()):
                bad = int(xp.argwhere(~xp.isfinite(sw) | (sw < 0))[0][0])
                raise ValueError(f"{where}: sample_weight must be finite and not negative; sample {bad} has weight "
                                 f"{float(sw[bad])}.")
            per[k] = sw
    if class_weight:
        if len(names) > 1:
            raise ValueError(f"{where}: class_weight works for a model with one output; model '{model.name}' has "
                             f"{len(names)}. Use sample_weight per output instead.")
        y = ys[0]
        labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(n, -1)[:, 0].round()
        labels = labels.astype("int64")
        classes = _num_classes(model, y)
        _check_class_weight(class_weight, classes, where)
        table = xp.ones(max(int(labels.max()) + 1, classes), dtype=backend.floatx())
        for c, w in class_weight.items():
            table[int(c)] = w
        cw = table[labels]
        per[0] = cw if per[0] is None else per[0] * cw
    return None if all(p is None for p in per) else [p if p is not None else xp.ones(n, dtype=backend.floatx())
                                                     for p in per]


def _num_classes(model, y):
    shape = model._output_shapes()[0]
    last = shape[-1] if shape is not None else None
    if last == 1 or (last is None and (y.ndim == 1 or y.shape[-1] == 1)):
        return 2  # one sigmoid unit: classes 0 and 1
    return int(last) if last is not None else int(y.shape[-1])


def _check_class_weight(class_weight, classes, where):
    if not isinstance(class_weight, dict):
        raise TypeError(f"{where}: class_weight must be a dict {{class index: weight}}, got "
                        f"{type(class_weight).__name__}.")
    for c, w in class_weight.items():
        if isinstance(c, bool) or not isinstance(c, int) and not (hasattr(c, "dtype") and c.dtype.kind in "iu"):
            raise TypeError(f"{where}: class_weight keys must be class indices (integers), got {c!r}.")
        if not 0 <= int(c) < classes:
            raise ValueError(f"{where}: class_weight has class {int(c)}, but this model has {classes} classes "
                             f"(0 to {classes - 1}).")
        if isinstance(w, bool) or not isinstance(w, (int, float)) and not hasattr(w, "dtype"):
            raise TypeError(f"{where}: class_weight[{c}] must be a number, got {w!r}.")
        if not float(w) >= 0 or float(w) == float("inf"):
            raise ValueError(f"{where}: class_weight[{c}] must be finite and not negative, got {w!r}.")
