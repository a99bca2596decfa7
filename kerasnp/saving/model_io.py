"""Whole models, weights and training state to and from files (the Keras entry points).

Two formats: Keras 3's (`.keras` models, `.weights.h5` weights; see `keras_format`) and
kerasnp's own, described here, which needs no HDF5 parser. Writing follows the extension,
reading the content, so kerasnp files saved under `.keras` before Keras's format was written
still load.

A kerasnp model file (`.kerasnp`) is a zip holding:

- `metadata.json`: format name and version, kerasnp version, the sha256 of every other member,
  the weight paths (`weights`), the optimizer variable names (`optimizer_variables`) and the
  caller's `extra` metadata (e.g. `{"epoch": 3}` from a backup);
- `config.json`: `class_name`, `config` and `build_config` of the model, `compile_config`
  (optimizer config, losses, loss weights, metrics) and `floatx`;
- `weights/00000.npy`, ...: one array per weight, in `model.weights` order;
- `optimizer/00000.npy`, ...: `iterations` then every slot, in `variables_for` order;
- `state.json`: the History and the state of every layer's random generator and of the
  model's shuffling generator, so that a resumed `fit` is bitwise identical;
- `extra/00000.npy`, ...: the caller's `extra_arrays` (e.g. the best weights an EarlyStopping
  holds, in a BackupAndRestore backup), when given.

A weights file (`.weights.npz`) is the same zip with only `metadata.json` and `weights/`.
"""
import contextlib
import json
import os
import warnings

import numpy as np

from .. import config as _config
from .._serializable import ConfigError, check_custom_objects
from .._weight_budget import weight_budget
from . import archive, checks, keras_format, serialization as ser, state
from .checks import ModelFileError, fail
from .compile_config import compile_from_config, serialize_compile

MODEL_FORMAT = "kerasnp-model"
WEIGHTS_FORMAT = "kerasnp-weights"
MODEL_EXTENSIONS = (".kerasnp", ".keras")
KERAS_EXTENSION = ".keras"
WEIGHTS_EXTENSION = ".weights.npz"
KERAS_WEIGHTS_EXTENSION = ".weights.h5"
_JSON_SOURCE = "<model JSON>"


# ----------------------------------------------------------------------------- save
def save_model(model, filepath, overwrite=True, include_optimizer=True, extra_metadata=None,
               extra_arrays=None):
    """Save a model (architecture, weights, compile config, training state) to one zip file.

    The extension picks the format: `.kerasnp` is kerasnp's own (JSON and `.npy` arrays, no
    HDF5; it also keeps the History and random states, so training resumes bit-identically),
    `.keras` is Keras 3's (HDF5 weights; real Keras opens it). A model that Keras's format
    cannot describe yet (ops between layers, a lookup layer) is saved under `.keras` in
    kerasnp's format with a warning; `load_model` reads either by its content.

    Args:
        model: a built kerasnp `Model` (Sequential, functional, or a subclassed model whose
            class defines `get_config` and is registered).
        filepath: path ending in `.kerasnp` or `.keras`.
        overwrite: replace an existing file (else raise `FileExistsError`).
        include_optimizer: also save the optimizer state (iterations and slots).
        extra_metadata: a JSON-serializable dict stored in `metadata.json` under `extra`
            (`{"epoch": k}` tells `load_into` which epoch a backup ends).
        extra_arrays: a list of NumPy arrays of plain numeric dtypes stored with the model
            (members `extra/NNNNN.npy`) and given back, in order, by `load_into`. These two
            exist in kerasnp's format only: with either, a `.keras` path gets kerasnp's format.

    The write is atomic: a temporary file in the same directory is fsynced and renamed over
    `filepath`, so an interruption leaves the previous file intact.
    """
    _check_model(model, "save")
    path = _check_path(filepath, MODEL_EXTENSIONS, "save")
    _check_overwrite(path, overwrite)
    if path.lower().endswith(KERAS_EXTENSION) and not (extra_metadata or extra_arrays):
        try:
            keras_format.save_model(model, path, include_optimizer)
            return
        except keras_format.UnsupportedModel as err:
            warnings.warn(f"{err} It was saved in kerasnp's format instead: "
                          "kerasnp.models.load_model reads it, Keras cannot. Save it as "
                          "'.kerasnp' to keep this format without a warning.", stacklevel=3)
    if not isinstance(extra_metadata or {}, dict):
        raise TypeError(f"extra_metadata must be a dict. Received: {extra_metadata!r}")
    extra = _encode(extra_metadata or {}, "extra_metadata")
    extra_arrays = _check_arrays(extra_arrays)
    desc = ser.serialize_model(model)
    desc["compile_config"] = serialize_compile(model)
    weights = model.weights
    floats = [v.dtype.name for v in weights if v.dtype.kind == "f"]
    desc["floatx"] = floats[0] if floats else _config.floatx()   # the dtype to rebuild in
    config_json = _encode(desc, f"the config of model '{model.name}'")
    opt_items = None
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        opt_items = model.optimizer.variables_for(model.trainable_weights)
    state_json = _encode({"history": state.history_state(model), "rng": state.rng_states(model)},
                         "the History")

    def write(writer):
        writer.add_json("config.json", config_json)
        for i, var in enumerate(weights):
            writer.add_array(f"weights/{i:05d}.npy", var.value)
        for i, (_, value) in enumerate(opt_items or ()):
            writer.add_array(f"optimizer/{i:05d}.npy", value)
        writer.add_json("state.json", state_json)
        for i, value in enumerate(extra_arrays):
            writer.add_array(f"extra/{i:05d}.npy", value)
        manifest = {"weights": [v.path for v in weights]}
        if opt_items is not None:
            manifest["optimizer_variables"] = [name for name, _ in opt_items]
        if extra_arrays:
            manifest["extra_arrays"] = [f"{a.dtype.name}{list(a.shape)}" for a in extra_arrays]
        return manifest

    archive.atomic_write(path, write, MODEL_FORMAT, json.loads(extra))


def save_weights(model, filepath, overwrite=True):
    """Save the model's weights, atomically: to a `.weights.h5` file in Keras 3's HDF5 layout
    (with the optimizer's variables, as Keras does), or to kerasnp's `.weights.npz` (the arrays
    in `model.weights` order, no HDF5)."""
    _check_model(model, "save_weights")
    path = _check_path(filepath, (WEIGHTS_EXTENSION, KERAS_WEIGHTS_EXTENSION), "save_weights")
    _check_overwrite(path, overwrite)
    if path.lower().endswith(KERAS_WEIGHTS_EXTENSION):
        keras_format.save_weights(model, path)
        return
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


# ----------------------------------------------------------------------------- load
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by `model.save` / `save_model`, or by real Keras 3 (`.keras`).

    No pickle, no code: classes only from kerasnp's registries, `custom_objects` or
    `register_serializable`; every size, name and array header (HDF5 dataset, for Keras files)
    is validated before anything is allocated. Any problem raises `ModelFileError`. A `.kerasnp`
    file involves no HDF5 parser, so it is the one to accept from strangers.

    Args:
        filepath: path of a model file: kerasnp's (`.kerasnp`) or Keras 3's (`.keras`), told
            apart by content.
        custom_objects: dict `{name: class or function}` for custom layers, losses, metrics,
            activations and Lambda functions used by the model.
        compile: compile the model as it was saved and restore the optimizer state.
        safe_mode: with True (the default) a Keras file's `Lambda` layers are refused; with
            False their functions are taken from `custom_objects` by name. Code from a file is
            never run.

    Returns:
        The model, predicting bit-identically to the saved one; with `compile=True` its
        optimizer, History (`model.history`) and random generators are restored too, so
        `fit(..., initial_epoch=k)` continues exactly.
    """
    custom_objects = check_custom_objects(custom_objects)
    if keras_format.is_keras_zip(filepath):
        return keras_format.load_model(filepath, custom_objects, compile, safe_mode)
    with archive.ArchiveReader(filepath, (MODEL_FORMAT,)) as ar:
        cfg = _read_config(ar)
        headers = [ar.array_header(m) for m in state.members(ar, "weights", "weights")]
        budget = sum(int(np.prod(shape, dtype=object)) * dtype.itemsize
                     for shape, dtype in headers)
        try:
            with weight_budget(budget, f"the {len(headers)} weights stored in the file "
                                           "can hold"), _floatx(ar, cfg):
                model = ser.deserialize_model(cfg, custom_objects)
                if compile and cfg.get("compile_config") is not None:
                    compile_from_config(model, cfg["compile_config"], custom_objects)
        except ConfigError as err:
            fail(ar.source, str(err), "config.json")
        except ModelFileError:
            raise
        except Exception as err:
            fail(ar.source, f"the model cannot be rebuilt ({type(err).__name__}: {err}).",
                 "config.json")
        plan = state.read_state(ar, model, cfg if compile else None)
    state.apply(model, plan, set_history=True)
    return model


def load_into(model, filepath):
    """Restore a full checkpoint into an existing, built (and usually compiled) model.

    Restores the weights, the optimizer state and learning rate (when the model has an optimizer
    and the file holds its state) and every random generator. Nothing is changed unless the whole
    file is valid and matches the model's structure.

    Returns:
        `{"epoch": int, "history": dict, "extra": dict, "arrays": list}`: the number of epochs
        the checkpoint completed (the `epoch` of `extra_metadata` when given), the History's
        per-epoch lists, the `extra_metadata` and the `extra_arrays` it was saved with.
    """
    _check_model(model, "load_into")
    with archive.ArchiveReader(filepath, (MODEL_FORMAT,)) as ar:
        cfg = _read_config(ar)
        plan = state.read_state(ar, model, cfg, cast=True)
        arrays = state.read_extra_arrays(ar)
        extra = dict(ar.extra)
    state.apply(model, plan, set_history=False)
    return {"epoch": plan["epoch"], "history": plan["history"][0] if plan["history"] else {},
            "extra": extra, "arrays": arrays}


def load_weights(model, filepath):
    """Load weights saved by `save_weights` (or the weights of a full model file) by structure:
    the i-th saved array goes to the i-th weight of `model.weights`, shapes checked."""
    _check_model(model, "load_weights")
    if keras_format.is_keras_zip(filepath) or _is_hdf5(filepath):
        keras_format.load_weights(model, os.fspath(filepath))
        return
    with archive.ArchiveReader(filepath, (WEIGHTS_FORMAT, MODEL_FORMAT)) as ar:
        pairs = state.read_weights(ar, model.weights, cast=True)
    for var, value in pairs:
        var.value[...] = value


def model_from_json(json_string, custom_objects=None):
    """Build a model (freshly initialised weights) from `model.to_json()` output."""
    custom_objects = check_custom_objects(custom_objects)
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
        with weight_budget(checks.MAX_BYTES_WITHOUT_WEIGHTS,
                           "a model built from JSON may allocate "
                           "(checks.MAX_BYTES_WITHOUT_WEIGHTS)"):
            return ser.deserialize_model(desc, custom_objects)
    except ConfigError as err:
        fail(_JSON_SOURCE, str(err))
    except Exception as err:
        fail(_JSON_SOURCE, f"the model cannot be rebuilt ({type(err).__name__}: {err}).")


def _is_hdf5(filepath):
    try:
        with open(filepath, "rb") as fp:
            return fp.read(8) == b"\x89HDF\r\n\x1a\n"
    except (OSError, TypeError):
        return False


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
    keras_weights = lower.endswith(KERAS_WEIGHTS_EXTENSION)
    if lower.endswith((".h5", ".hdf5")) and not (keras_weights and
                                                 KERAS_WEIGHTS_EXTENSION in extensions):
        hint = (" (use model.save_weights for '.weights.h5')" if keras_weights else
                " (kerasnp does not write Keras 2's legacy HDF5 model files)")
        raise ValueError(f"{what}: use a path ending in "
                         f"{' or '.join(repr(e) for e in extensions)}{hint}. Received: "
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


def _check_arrays(arrays):
    if arrays is None:
        return []
    if not isinstance(arrays, (list, tuple)):
        raise TypeError(f"extra_arrays must be a list of NumPy arrays. Received: "
                        f"{type(arrays).__name__}")
    for i, a in enumerate(arrays):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
            what = f"array of dtype {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
            raise TypeError(f"extra_arrays[{i}] must be a NumPy array of a bool, int or float "
                            f"dtype. Received: {what}")
    return list(arrays)


def _encode(obj, what):
    try:
        return json.dumps(obj, default=ser.json_default, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise TypeError(f"Cannot save {what}: {err}") from None
