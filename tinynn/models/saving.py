r"""Saving and loading models without pickle.

``model.save(path)`` (Keras 3: ``.keras``) writes ONE file, atomically (a temporary file, then
``os.replace``): the architecture as JSON (a ``Sequential``'s layers, a functional model's graph, a
subclassed model's ``get_config``), every weight, the compile configuration (each loss with its arguments,
e.g. ``from_logits=True``; the metrics; the optimizer with its settings) and the optimizer's state (its
slots and step count), so that ``load_model(path).fit(...)`` continues exactly where the saved one stopped.
The file is an ``.npz`` archive (a zip of ``.npy`` arrays; the JSON is stored as bytes) and is read with
``allow_pickle=False``. ``save_weights`` / ``load_weights`` store the weights alone (any file name,
e.g. Keras 3's ``.weights.h5``).
"""
from __future__ import annotations

import json
import os

import numpy as _np  # only to store the JSON text and the weight names as arrays in the .npz file

from tinynn import backend, files, losses, optimizers
from tinynn.layers.base import shape_str


class SavingMixin:
    """``save_weights`` / ``load_weights`` / ``save`` for every model."""

    def save_weights(self, filepath, overwrite=True):
        """Save the weights (no pickle), atomically: a crash never leaves half a file."""
        if not self.built:
            raise ValueError(f"save_weights: model '{self.name}' is not built, so it has no weights yet.")
        files.atomic_savez(filepath, _weight_arrays(self.weights), overwrite, what="weights file")

    def load_weights(self, filepath):
        """Load weights saved by :meth:`save_weights` or :meth:`save`; a different architecture is a clear error."""
        f = files.read_npz(filepath, "weights file")
        keys = sorted(k for k in f if k.startswith("w"))
        values = [f[k] for k in keys]
        names = list(f["__names__"]) if "__names__" in f else ["?"] * len(values)
        if not self.built:
            raise ValueError(f"load_weights: build model '{self.name}' first (give input_shape= or call it on data).")
        ws = self.weights
        if len(values) != len(ws) or any(tuple(v.shape) != w.shape for v, w in zip(values, ws)):
            have = ", ".join(f"{w.name} {shape_str(w.shape)}" for w in ws)
            got = ", ".join(f"{n} {shape_str(v.shape)}" for n, v in zip(names, values))
            raise ValueError(f"load_weights: the file {os.fspath(filepath)!r} does not fit model '{self.name}'.\n"
                             f"  model has {len(ws)} weights: {have}\n  file has {len(values)} weights: {got}")
        self.set_weights(values)

    def save(self, filepath, overwrite=True, **kwargs):
        """Save architecture, weights, compile configuration and optimizer state in one file."""
        if not self.built:
            raise ValueError(f"save: model '{self.name}' is not built yet.")
        arrays = _weight_arrays(self.weights)
        config = {"class_name": type(self).__name__, "config": self.get_config(),
                  "input_shape": _jsonable_shape(self.input_shape), "compile": self._compile_config()}
        if self.optimizer is not None:
            for i, v in enumerate(self.optimizer.variables):
                arrays[f"o{i:04d}"] = v.numpy()
            config["optimizer_iterations"] = int(self.optimizer.iterations)
        arrays["__config__"] = _np.frombuffer(json.dumps(config).encode("utf-8"), dtype=_np.uint8)
        files.atomic_savez(filepath, arrays, overwrite, what="model file")

    def _compile_config(self):
        if self.optimizer is None:
            return None
        args = getattr(self, "_compile_args", {})
        return {"optimizer": optimizers.serialize(self.optimizer),
                "loss": _serialize_losses(args.get("loss")),
                "loss_weights": args.get("loss_weights"),
                "metrics": _serialize_metrics(args.get("metrics"))}


def _weight_arrays(ws):
    arrays = {f"w{i:04d}": w.numpy() for i, w in enumerate(ws)}
    arrays["__names__"] = _np.array([w.name for w in ws])
    return arrays


def _jsonable_shape(shape):
    if isinstance(shape, list):
        return [list(s) for s in shape]
    return None if shape is None else list(shape)


def _serialize_loss(loss):
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, losses.Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"save: the loss {loss!r} cannot be saved; use a tinynn loss, or a named function.")
    return {"function": name}


def _serialize_losses(loss):
    if isinstance(loss, dict):
        return {"__dict__": {k: _serialize_loss(v) for k, v in loss.items()}}
    if isinstance(loss, (list, tuple)):
        return {"__list__": [_serialize_loss(v) for v in loss]}
    return _serialize_loss(loss)


def _serialize_metrics(metrics):
    def one(m):
        if isinstance(m, str) or m is None:
            return m
        if isinstance(m, type):
            return {"class_name": m.__name__, "config": {}}
        if hasattr(m, "update_state"):  # a Metric object: its class (built-in, or one in custom_objects)
            config = m.get_config() if hasattr(m, "get_config") else {"name": m.name}
            return {"class_name": type(m).__name__, "config": config}
        return {"function": getattr(m, "__name__", None)}
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {"__dict__": {k: [one(v) for v in (m if isinstance(m, (list, tuple)) else [m])] for k, m in metrics.items()}}
    return [one(m) if not isinstance(m, (list, tuple)) else [one(v) for v in m] for m in metrics]


def _deserialize_loss(spec, custom_objects):
    if spec is None or isinstance(spec, str):
        return spec
    if "__dict__" in spec:
        return {k: _deserialize_loss(v, custom_objects) for k, v in spec["__dict__"].items()}
    if "__list__" in spec:
        return [_deserialize_loss(v, custom_objects) for v in spec["__list__"]]
    if "function" in spec:
        fn = (custom_objects or {}).get(spec["function"]) or getattr(losses, spec["function"], None)
        if fn is None:
            raise ValueError(f"load_model: unknown loss function {spec['function']!r}; pass it in custom_objects.")
        return fn
    cls = (custom_objects or {}).get(spec["class_name"]) or getattr(losses, spec["class_name"], None)
    if cls is None:
        raise ValueError(f"load_model: unknown loss class {spec['class_name']!r}; pass it in custom_objects.")
    config = {k: v for k, v in spec["config"].items()}
    return cls(**config) if not hasattr(cls, "from_config") else cls.from_config(config)


def layer_class(class_name, custom_objects=None):
    import tinynn.layers as layers_module  # noqa: PLC0415
    import tinynn.models as models_module  # noqa: PLC0415

    cls = (custom_objects or {}).get(class_name) or getattr(layers_module, class_name, None) or \
        getattr(models_module, class_name, None)
    if cls is None:
        raise ValueError(f"load_model: unknown layer class {class_name!r}; pass it in custom_objects="
                         f"{{{class_name!r}: {class_name}}}.")
    return cls


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002 - Keras' name
    """Re-create a model saved with ``model.save(path)``: same architecture, weights, compile settings and
    optimizer state (so ``fit`` continues where it stopped)."""
    from tinynn.models.model import Model  # noqa: PLC0415
    from tinynn.models.sequential import Sequential  # noqa: PLC0415

    path = os.fspath(filepath)
    f = files.read_npz(path, "model file")
    if "__config__" not in f:
        raise ValueError(f"load_model: {path!r} holds only weights (save_weights); build the model in code and "
                         "call model.load_weights(path).")
    config = files.read_json_config(f["__config__"], where=f"the model file {path!r}, entry '__config__'",
                                    required=("config",))
    values = [f[k] for k in sorted(k for k in f if k.startswith("w"))]
    slots = [f[k] for k in sorted(k for k in f if k.startswith("o"))]
    class_name = config.get("class_name", "Sequential")
    arch = config["config"]
    if class_name == "Sequential":
        model = Sequential(name=arch["name"])
        for spec in arch["layers"]:
            model.add(layer_class(spec["class_name"], custom_objects).from_config(spec["config"]))
        if not model.built and config.get("input_shape"):
            model.build(tuple(config["input_shape"]))
    else:
        cls = (custom_objects or {}).get(class_name) or (Model if class_name in ("Model", "Functional") else None)
        if cls is None:
            raise ValueError(f"load_model: the model class {class_name!r} is not known; pass it in custom_objects="
                             f"{{{class_name!r}: {class_name}}} (it needs get_config/from_config).")
        model = cls.from_config(arch, custom_objects) if "layers" in arch else cls.from_config(arch)
        if not model.built and config.get("input_shape"):
            model.build(tuple(config["input_shape"]))
    model.set_weights(values)
    comp = config.get("compile")
    if compile and comp:
        opt_spec = comp["optimizer"]
        opt = optimizers.get(opt_spec) if isinstance(opt_spec, dict) else optimizers.get(opt_spec)
        model.compile(optimizer=opt, loss=_deserialize_loss(comp.get("loss"), custom_objects),
                      loss_weights=comp.get("loss_weights"), metrics=_deserialize_metrics(comp.get("metrics"), custom_objects))
        if slots:
            _restore_optimizer(model, opt, slots, config.get("optimizer_iterations", 0))
    return model


def _deserialize_metrics(spec, custom_objects=None):
    from tinynn import metrics as metrics_module  # noqa: PLC0415

    def one(m):
        if not isinstance(m, dict):
            return m
        if "function" in m:
            fn = (custom_objects or {}).get(m["function"]) or m["function"]
            return fn
        cls = (custom_objects or {}).get(m["class_name"]) or getattr(metrics_module, m["class_name"], None)
        if cls is None:
            raise ValueError(f"load_model: unknown metric class {m['class_name']!r}; pass it in custom_objects.")
        config = m.get("config") or {}
        if hasattr(cls, "from_config"):
            try:
                return cls.from_config(config)
            except TypeError:
                pass
        return cls(name=config["name"]) if "name" in config else cls()

    def many(v):
        return [many(x) for x in v] if isinstance(v, list) else one(v)

    if isinstance(spec, dict) and "__dict__" in spec:
        return {k: many(v) for k, v in spec["__dict__"].items()}
    return None if spec is None else many(spec)


def _restore_optimizer(model, opt, slots, iterations):
    ws = model.trainable_weights
    packed = opt._packed_variable(ws)
    opt.build([packed] if packed is not None else ws)
    have = opt.variables
    if len(have) == len(slots) and all(tuple(h.shape) == tuple(s.shape) for h, s in zip(have, slots)):
        for h, s in zip(have, slots):
            h.assign(backend.asarray(s, dtype=h.value.dtype))
        opt.iterations = int(iterations)
    else:
        import warnings  # noqa: PLC0415

        warnings.warn("load_model: the saved optimizer state does not fit this optimizer; it starts afresh.",
                      stacklevel=3)
