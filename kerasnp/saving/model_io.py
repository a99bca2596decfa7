"""Whole models, weights and training state to and from files (the Keras entry points).

A model file (`.kerasnp`, or `.keras` for ported scripts) is a zip holding:

- `metadata.json`: format name and version, kerasnp version, the sha256 of every other member,
  the weight paths (`weights`), the optimizer variable names (`optimizer_variables`) and the
  caller's `extra` metadata (e.g. `{"epoch": 3}` from a backup);
- `config.json`: `class_name`, `config` and `build_config` of the model, `compile_config`
  (optimizer config, losses, loss weights, metrics) and `floatx`;
- `weights/00000.npy`, ...: one array per weight, in `model.weights` order;
- `optimizer/00000.npy`, ...: `iterations` then every slot, in `variables_for` order;
- `state.json`: the History and the state of every layer's random generator and of the
  model's shuffling generator, so that a resumed `fit` is bitwise identical.

A weights file (`.weights.npz`) is the same zip with only `metadata.json` and `weights/`.
"""
import contextlib
import json
import os

import numpy as np

from .. import config as _config
from . import archive, checks, serialization as ser
from .checks import ModelFileError, fail

MODEL_FORMAT = "kerasnp-model"
WEIGHTS_FORMAT = "kerasnp-weights"
MODEL_EXTENSIONS = (".kerasnp", ".keras")
WEIGHTS_EXTENSION = ".weights.npz"
_JSON_SOURCE = "<model JSON>"


# ----------------------------------------------------------------------------- save
def save_model(model, filepath, overwrite=True, include_optimizer=True, extra_metadata=None):
    """Save a model (architecture, weights, compile config, training state) to one zip file.

    Args:
        model: a built kerasnp `Model` (Sequential, functional, or a subclassed model whose
            class defines `get_config` and is registered).
        filepath: path ending in `.kerasnp` (recommended) or `.keras`.
        overwrite: replace an existing file (else raise `FileExistsError`).
        include_optimizer: also save the optimizer state (iterations and slots).
        extra_metadata: a JSON-serializable dict stored in `metadata.json` under `extra`
            (`{"epoch": k}` tells `load_into` which epoch a backup ends).

    The write is atomic: a temporary file in the same directory is fsynced and renamed over
    `filepath`, so an interruption leaves the previous file intact.
    """
    _check_model(model, "save")
    path = _check_path(filepath, MODEL_EXTENSIONS, "save")
    _check_overwrite(path, overwrite)
    if not isinstance(extra_metadata or {}, dict):
        raise TypeError(f"extra_metadata must be a dict. Received: {extra_metadata!r}")
    extra = _encode(extra_metadata or {}, "extra_metadata")
    desc = ser.serialize_model(model)
    desc["compile_config"] = ser.serialize_compile(model)
    desc["floatx"] = model._dtype().name
    config_json = _encode(desc, f"the config of model '{model.name}'")
    weights = model.weights
    opt_items = None
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        opt_items = model.optimizer.variables_for(model.trainable_weights)
    state_json = _encode({"history": _history_state(model), "rng": _rng_states(model)},
                         "the History")

    def write(writer):
        writer.add_json("config.json", config_json)
        for i, var in enumerate(weights):
            writer.add_array(f"weights/{i:05d}.npy", var.value)
        for i, (_, value) in enumerate(opt_items or ()):
            writer.add_array(f"optimizer/{i:05d}.npy", value)
        writer.add_json("state.json", state_json)
        manifest = {"weights": [v.path for v in weights]}
        if opt_items is not None:
            manifest["optimizer_variables"] = [name for name, _ in opt_items]
        return manifest

    archive.atomic_write(path, write, MODEL_FORMAT, json.loads(extra))


def save_weights(model, filepath, overwrite=True):
    """Save the model's weights (in `model.weights` order) to a `.weights.npz` file, atomically."""
    _check_model(model, "save_weights")
    path = _check_path(filepath, (WEIGHTS_EXTENSION,), "save_weights")
    _check_overwrite(path, overwrite)
    weights = model.weights

    def write(writer):
        for i, var in enumerate(weights):
            writer.add_array(f"weights/{i:05d}.npy", var.value)
        return {"weights": [v.path for v in weights]}

    archive.atomic_write(path, write, WEIGHTS_FORMAT)


def to_json(model, **kwargs):
    """The model's architecture as a JSON string (`kwargs` go to `json.dumps`)."""
    _check_model(model, "to_json", need_built=False)
    from .. import __version__
    desc = {**ser.serialize_model(model), "kerasnp_version": __version__}
    return json.dumps(desc, default=ser.json_default, **kwargs)


def _history_state(model):
    hist = getattr(model, "history", None)
    if hist is None or not isinstance(getattr(hist, "history", None), dict):
        return None
    return {"history": {str(k): list(v) for k, v in hist.history.items()},
            "epoch": [int(e) for e in getattr(hist, "epoch", [])]}


def _rng_states(model):
    return [[layer.name, _generator(layer).bit_generator.state if _generator(layer) else None]
            for layer in walk_layers(model)]


def _generator(layer):
    gen = layer.__dict__.get("_rng")
    return gen if isinstance(gen, np.random.Generator) else None


def walk_layers(model):
    """The model and every layer inside it (nested models and sublayers), each once, in a fixed
    order (preorder over `layers`)."""
    out, seen, stack = [], set(), [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        children = list(layer.__dict__.get("_all_layers", ())) + list(
            layer.__dict__.get("_sublayers", ()))
        stack.extend(reversed(children))
    return out


# ----------------------------------------------------------------------------- load
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by `model.save` / `save_model`.

    Loading is safe for files from strangers: no pickle, no code, classes only from kerasnp's
    registries, `custom_objects` or `register_serializable`; every size, name and array header is
    validated before anything is allocated. Any problem raises `ModelFileError`.

    Args:
        filepath: path of a `.kerasnp` / `.keras` file written by kerasnp.
        custom_objects: dict `{name: class or function}` for custom layers, losses, metrics,
            activations and Lambda functions used by the model.
        compile: compile the model as it was saved and restore the optimizer state.
        safe_mode: accepted for Keras compatibility; kerasnp is always safe (it never loads code).

    Returns:
        The model, predicting bit-identically to the saved one; with `compile=True` its
        optimizer, History (`model.history`) and random generators are restored too, so
        `fit(..., initial_epoch=k)` continues exactly.
    """
    custom_objects = ser.check_custom_objects(custom_objects)
    with archive.ArchiveReader(filepath, (MODEL_FORMAT,)) as ar:
        cfg = _read_config(ar)
        headers = [ar.array_header(m) for m in _members(ar, "weights", "weights")]
        budget = sum(int(np.prod(shape, dtype=object)) for shape, _ in headers)
        try:
            with ser.weight_budget(budget, f"the {len(headers)} weights stored in the file "
                                           "can hold"), _floatx(ar, cfg):
                model = ser.deserialize_model(cfg, custom_objects)
                if compile and cfg.get("compile_config") is not None:
                    ser.compile_from_config(model, cfg["compile_config"], custom_objects)
        except ser.ConfigError as err:
            fail(ar.source, str(err), "config.json")
        except ModelFileError:
            raise
        except Exception as err:
            fail(ar.source, f"the model cannot be rebuilt ({type(err).__name__}: {err}).",
                 "config.json")
        plan = _read_state(ar, model, cfg if compile else None)
    _apply(model, plan, set_history=True)
    return model


def load_into(model, filepath):
    """Restore a full checkpoint into an existing, built (and usually compiled) model.

    Restores the weights, the optimizer state and learning rate (when the model has an optimizer
    and the file holds its state) and every random generator. Nothing is changed unless the whole
    file is valid and matches the model's structure.

    Returns:
        `{"epoch": int, "history": dict}`: the number of epochs the checkpoint completed (the
        `epoch` of `extra_metadata` when given) and the History's per-epoch lists.
    """
    _check_model(model, "load_into")
    with archive.ArchiveReader(filepath, (MODEL_FORMAT,)) as ar:
        cfg = _read_config(ar)
        plan = _read_state(ar, model, cfg)
    _apply(model, plan, set_history=False)
    return {"epoch": plan["epoch"], "history": plan["history"][0] if plan["history"] else {}}


def load_weights(model, filepath):
    """Load weights saved by `save_weights` (or the weights of a full model file) by structure:
    the i-th saved array goes to the i-th weight of `model.weights`, shapes checked."""
    _check_model(model, "load_weights")
    with archive.ArchiveReader(filepath, (WEIGHTS_FORMAT, MODEL_FORMAT)) as ar:
        pairs = _read_weights(ar, model.weights)
    for var, value in pairs:
        var.value[...] = value


def model_from_json(json_string, custom_objects=None):
    """Build a model (freshly initialised weights) from `model.to_json()` output."""
    custom_objects = ser.check_custom_objects(custom_objects)
    if isinstance(json_string, str):
        data = json_string.encode("utf-8", "surrogatepass")
    elif isinstance(json_string, (bytes, bytearray)):
        data = bytes(json_string)
    else:
        raise TypeError(f"model_from_json expects a JSON string. Received: "
                        f"{type(json_string).__name__}")
    desc = checks.parse_json(_JSON_SOURCE, None, data)
    _check_layer_count(_JSON_SOURCE, desc, None)
    try:
        with ser.weight_budget(checks.MAX_PARAMS_WITHOUT_WEIGHTS,
                               "a model built from JSON may allocate "
                               "(checks.MAX_PARAMS_WITHOUT_WEIGHTS)"):
            return ser.deserialize_model(desc, custom_objects)
    except ser.ConfigError as err:
        fail(_JSON_SOURCE, str(err))
    except Exception as err:
        fail(_JSON_SOURCE, f"the model cannot be rebuilt ({type(err).__name__}: {err}).")


# ----------------------------------------------------------------------------- reading parts
def _read_config(ar):
    if not ar.has("config.json"):
        fail(ar.source, "the archive has no config.json (a weights file? use load_weights).")
    cfg = ar.read_json("config.json")
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        fail(ar.source, "config.json must be an object with 'class_name' and 'config'.",
             "config.json")
    _check_layer_count(ar.source, cfg, "config.json")
    return cfg


def _check_layer_count(source, cfg, member):
    n = checks.count_layers(cfg)
    if n > checks.MAX_LAYERS:
        fail(source, f"more than {checks.MAX_LAYERS} layer entries (checks.MAX_LAYERS).", member)


@contextlib.contextmanager
def _floatx(ar, cfg):
    """Build weights in the dtype they were saved in (floatx is restored afterwards)."""
    saved = cfg.get("floatx", _config.floatx())
    if saved not in ("float16", "float32", "float64"):
        fail(ar.source, f"floatx must be float16, float32 or float64. Received: {saved!r}",
             "config.json")
    old = _config.floatx()
    _config.set_floatx(saved)
    try:
        yield
    finally:
        _config.set_floatx(old)


def _members(ar, key, prefix):
    """Member names for the manifest list `key` (None when absent), checked against the zip."""
    names = ar.meta.get(key)
    if names is None:
        return None if key != "weights" else _fail_manifest(ar, key)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail(ar.source, f"'{key}' must be a list of names.", "metadata.json")
    members = [f"{prefix}/{i:05d}.npy" for i in range(len(names))]
    stored = {n for n in ar.infos if n.startswith(prefix + "/")}
    if stored != set(members):
        fail(ar.source, f"metadata.json lists {len(names)} {key} but the archive stores "
                        f"{len(stored)} '{prefix}/' members.", "metadata.json")
    return members


def _fail_manifest(ar, key):
    fail(ar.source, f"metadata.json has no '{key}' list.", "metadata.json")


def _label(path):
    layer, _, name = path.rpartition("/")
    return f"layer '{layer}' weight '{name}'" if layer else f"weight '{path}'"


def _read_weights(ar, variables):
    members = _members(ar, "weights", "weights")
    saved = ar.meta["weights"]
    if len(saved) != len(variables):
        fail(ar.source, f"the file stores {len(saved)} weights but the model has "
                        f"{len(variables)}; the architectures differ. File: "
                        f"{_short(saved)}; model: {_short([v.path for v in variables])}.")
    out = []
    for var, member, path in zip(variables, members, saved):
        what = _label(var.path) + (f" (saved as '{path}')" if path != var.path else "")
        out.append((var, ar.read_array(member, var.shape, var.dtype, what)))
    return out


def _short(paths, n=6):
    return ", ".join(paths[:n]) + (f", ... ({len(paths)} in all)" if len(paths) > n else "")


def _read_state(ar, model, cfg):
    """Read and validate everything to restore; nothing is changed on the model yet."""
    plan = {"weights": _read_weights(ar, model.weights), "optimizer": None, "lr": None}
    opt = getattr(model, "optimizer", None)
    if cfg is not None and opt is not None:
        members = _members(ar, "optimizer_variables", "optimizer")
        if members is not None:
            plan["optimizer"] = _read_optimizer(ar, model, opt, members)
            plan["lr"] = _saved_lr(cfg, opt)
    state = ar.read_json("state.json") if ar.has("state.json") else {}
    if not isinstance(state, dict):
        fail(ar.source, "state.json must be an object.", "state.json")
    plan["rng"] = _read_rng(ar, model, state.get("rng"))
    plan["history"] = _read_history(ar, state.get("history"))
    epoch = ar.extra.get("epoch")
    if epoch is None:
        epochs = plan["history"][1] if plan["history"] else []
        epoch = max(epochs) + 1 if epochs else 0
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        fail(ar.source, f"extra 'epoch' must be an int >= 0. Received: {epoch!r}",
             "metadata.json")
    plan["epoch"] = epoch
    return plan


def _read_optimizer(ar, model, opt, members):
    names = ar.meta["optimizer_variables"]
    var_list = model.trainable_weights
    slots = list(opt._slot_names())
    expected = 1 + len(slots) * len(var_list)
    if len(names) != expected or (names and names[0] != "iterations"):
        fail(ar.source, f"the file holds {len(names)} optimizer variables, but the model's "
                        f"{type(opt).__name__} needs {expected} (iterations + slots "
                        f"{slots} for {len(var_list)} trainable weights); was it saved with "
                        "another optimizer?", "metadata.json")
    arrays = [ar.read_array(members[0], (), np.int64, "optimizer 'iterations'")]
    if int(arrays[0]) < 0:
        fail(ar.source, "optimizer iterations must be >= 0.", members[0])
    k = 1
    for var in var_list:
        for slot in slots:
            saved = names[k]
            if saved.rpartition("/")[2] != slot:
                fail(ar.source, f"optimizer variable '{saved}' is not slot '{slot}' of "
                                f"'{var.path}' as {type(opt).__name__} expects.", members[k])
            arrays.append(ar.read_array(members[k], var.shape, var.dtype,
                                        f"optimizer slot '{slot}' of {_label(var.path)}"))
            k += 1
    return opt, var_list, arrays


def _saved_lr(cfg, opt):
    cc = cfg.get("compile_config")
    lr = None
    if isinstance(cc, dict) and isinstance(cc.get("optimizer"), dict):
        lr = (cc["optimizer"].get("config") or {}).get("learning_rate")
    if isinstance(lr, float) and isinstance(opt._learning_rate, float) and lr >= 0:
        return lr
    return None


def _read_rng(ar, model, saved):
    if saved is None:
        return []
    layers = walk_layers(model)
    if not isinstance(saved, list) or len(saved) != len(layers):
        fail(ar.source, f"random states for {len(saved) if isinstance(saved, list) else '?'} "
                        f"layers, but the model has {len(layers)}.", "state.json")
    out = []
    for layer, item in zip(layers, saved):
        gen = _generator(layer)
        if not (isinstance(item, list) and len(item) == 2):
            fail(ar.source, "each random state must be [layer_name, state].", "state.json")
        if item[1] is None or gen is None:
            continue
        kind = type(gen.bit_generator)
        try:
            if not isinstance(item[1], dict) or item[1].get("bit_generator") != kind.__name__:
                raise ValueError(f"expected a {kind.__name__} state")
            kind().state = item[1]                 # validates on a throw-away generator
        except Exception as err:
            fail(ar.source, f"invalid random state for layer '{layer.name}': {err}.",
                 "state.json")
        out.append((gen, item[1]))
    return out


def _read_history(ar, saved):
    if saved is None:
        return None
    hist, epochs = (saved.get("history"), saved.get("epoch")) if isinstance(saved, dict) else \
        (None, None)
    if not isinstance(hist, dict) or not all(isinstance(v, list) for v in hist.values()) or \
            not isinstance(epochs, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in epochs):
        fail(ar.source, "the History must be {'history': {name: [values]}, 'epoch': [ints]}.",
             "state.json")
    return hist, epochs


def _apply(model, plan, set_history):
    for var, value in plan["weights"]:
        var.value[...] = value
    if plan["optimizer"] is not None:
        opt, var_list, arrays = plan["optimizer"]
        opt.set_variables_for(var_list, arrays)
        if plan["lr"] is not None:
            opt.learning_rate = plan["lr"]
    for gen, state in plan["rng"]:
        gen.bit_generator.state = state
    if set_history and plan["history"] is not None:
        from ..callbacks import History
        history = History()
        history.history = {k: list(v) for k, v in plan["history"][0].items()}
        history.epoch = list(plan["history"][1])
        history.set_model(model)


# ----------------------------------------------------------------------------- arguments
def _check_model(model, what, need_built=True):
    from ..models.model import Model
    if not isinstance(model, Model):
        raise TypeError(f"{what} expects a kerasnp Model. Received: {type(model).__name__}")
    if need_built and (not model.built or not model._nodes):
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights for "
                         f"{what}: give it an Input, call model.build((None, ...)) or call it "
                         "on data first.")


def _check_path(filepath, extensions, what):
    try:
        path = os.fspath(filepath)
    except TypeError:
        raise TypeError(f"{what}: filepath must be a path (str or os.PathLike). "
                        f"Received: filepath={filepath!r}") from None
    if not isinstance(path, str):
        path = os.fsdecode(path)
    lower = path.lower()
    if lower.endswith((".h5", ".hdf5")):
        raise ValueError(f"{what}: kerasnp does not write HDF5. Use a path ending in "
                         f"{' or '.join(repr(e) for e in extensions)}. Received: "
                         f"filepath={path!r}")
    if not lower.endswith(extensions):
        raise ValueError(f"{what}: filepath must end in "
                         f"{' or '.join(repr(e) for e in extensions)}"
                         + (" (use model.save_weights for '.weights.npz')"
                            if lower.endswith(".npz") and WEIGHTS_EXTENSION not in extensions
                            else "")
                         + f". Received: filepath={path!r}")
    return path


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"'{path}' already exists; pass overwrite=True to replace it.")


def _encode(obj, what):
    try:
        return json.dumps(obj, default=ser.json_default, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise TypeError(f"Cannot save {what}: {err}") from None
