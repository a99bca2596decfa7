"""Models and layers <-> configs, resolved through registries only.

A class named in a config is looked up, in order, in the caller's `custom_objects`, among the
classes registered with `register_serializable`, and in kerasnp's layer registry (`LAYERS`).
Nothing is ever imported and no attribute is looked up by a name read from a file, so
`"class_name": "os.system"` is just an unknown name. Layers made here are metered by the active
`weight_budget` (see `budget.py`).
"""
import difflib
import inspect

import numpy as np

from .budget import watch
from .._serializable import ConfigError, call_from_config, check_custom_objects, lookup, \
    substitute, with_registered_name


# ----------------------------------------------------------------------------- JSON values
def json_default(obj):
    """`json.dumps(default=...)`: NumPy scalars and arrays become plain numbers and lists."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"a config value of type {type(obj).__name__} is not JSON-serializable "
                    f"(configs hold numbers, strings, lists and dicts). Received: {obj!r}")


def shape_to_json(shape):
    if isinstance(shape, list):
        return [shape_to_json(s) for s in shape]
    return None if shape is None else [None if d is None else int(d) for d in shape]


def shape_from_json(value, what):
    def one(s):
        if not isinstance(s, list) or not all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**40)
                for d in s):
            raise ConfigError(f"{what} must be a list of positive ints or nulls. Received: {s!r}")
        return tuple(s)
    if value is None:
        return None
    if isinstance(value, list) and value and all(isinstance(s, list) for s in value):
        return [one(s) for s in value]
    return one(value)


# ----------------------------------------------------------------------------- layers
def serialize_layer(layer):
    """`{"class_name", "config"}` (+ `"registered_name"` for registered classes) of a layer."""
    cls = type(layer)
    return with_registered_name({"class_name": cls.__name__, "config": layer.get_config()}, cls)


def _layer_class(entry, where, custom_objects):
    from ..layers.base import LAYERS, Layer
    class_name, registered = entry.get("class_name"), entry.get("registered_name")
    if not isinstance(class_name, str) or not (registered is None or isinstance(registered, str)):
        raise ConfigError(f"{where}: 'class_name' must be a string. Received: "
                          f"class_name={class_name!r}")
    cls = lookup((registered, class_name), custom_objects)
    if cls is None:
        cls = LAYERS.get(class_name)
    if cls is None:
        close = difflib.get_close_matches(class_name, sorted(LAYERS), n=1, cutoff=0.8)
        raise ConfigError(
            f"{where}: unknown layer class {class_name!r}"
            + (f" (registered as {registered!r})" if registered else "")
            + ". kerasnp builds only its own layers and the classes given in custom_objects or "
            "registered with kerasnp.saving.register_serializable; it never imports a name "
            "from a file. Pass custom_objects={" + repr(class_name) + ": YourClass}."
            + (f" Did you mean {close[0]!r}?" if close else ""))
    if not (inspect.isclass(cls) and issubclass(cls, Layer)):
        raise ConfigError(f"{where}: {class_name!r} resolves to {cls!r}, which is not a Layer "
                          "class.")
    return cls


def deserialize_layer(entry, custom_objects=None, where="layer"):
    """Build a layer from `{"class_name", "config"}`; errors become `ConfigError` naming it."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object with 'class_name' and 'config'. "
                          f"Received: {type(entry).__name__}")
    cls = _layer_class(entry, where, custom_objects)
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ConfigError(f"{where} ({cls.__name__}): 'config' must be an object.")
    name = config.get("name")
    label = f"{where} '{name}' ({cls.__name__})" if isinstance(name, str) else \
        f"{where} ({cls.__name__})"
    try:
        layer = call_from_config(cls, substitute(config, custom_objects), custom_objects)
    except ConfigError as err:
        raise ConfigError(f"{label} > {err}") from None
    except Exception as err:           # a bad argument: TypeError, ValueError, ...
        raise ConfigError(f"{label}: {type(err).__name__}: {err}") from None
    watch(layer)
    return layer


# ----------------------------------------------------------------------------- models
def _int_list(value, what, upper):
    if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < upper for i in value):
        raise ConfigError(f"{what} must be a list of node indices in [0, {upper}). "
                          f"Received: {value!r}")
    return value


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild a functional Model from `Model.get_config()` (shared layers are reused by name)."""
    from ..layers.core import InputLayer
    from ..models.graph import KerasTensor, call_from_config
    custom_objects = check_custom_objects(custom_objects)
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ConfigError("a functional model config needs a 'layers' list.")
    by_name, tensors = {}, []
    for i, entry in enumerate(entries):
        where = f"layer #{i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be an object.")
        inbound = _int_list(entry.get("inbound", []), f"{where} 'inbound'", i)
        layer_cfg = entry.get("config")
        name = layer_cfg.get("name") if isinstance(layer_cfg, dict) else None
        if isinstance(name, str) and name in by_name:
            layer, class_name = by_name[name]           # a shared layer: one object, many calls
            if entry.get("class_name") != class_name:
                raise ConfigError(f"{where}: layer name {name!r} is used by two classes.")
        else:
            layer = deserialize_layer(entry, custom_objects, where)
            by_name[layer.name] = (layer, entry.get("class_name"))
        if not inbound:
            if not isinstance(layer, InputLayer):
                raise ConfigError(f"{where} '{layer.name}' ({type(layer).__name__}) has no "
                                  "inbound nodes; only InputLayers may.")
            tensors.append(KerasTensor((layer.batch_size,) + layer.shape, layer, [],
                                       dtype=layer.dtype))
            continue
        indices = entry.get("indices", [None] * len(inbound))
        if not isinstance(indices, list) or len(indices) != len(inbound) or not all(
                k is None or (isinstance(k, int) and not isinstance(k, bool) and k >= 0)
                for k in indices):
            raise ConfigError(f"{where} 'indices' must list one output index (or null) per "
                              f"inbound node. Received: {indices!r}")
        try:
            args = [tensors[j] if k is None else tensors[j][k] for j, k in zip(inbound, indices)]
            tensors.append(call_from_config(layer, entry, args))
        except ConfigError as err:
            raise ConfigError(f"{where} '{layer.name}': {err}") from None
        except Exception as err:
            raise ConfigError(f"{where} '{layer.name}' ({type(layer).__name__}) cannot be "
                              f"called on its inputs: {type(err).__name__}: {err}") from None
    n = len(tensors)
    ins = [tensors[i] for i in _int_list(config.get("input_ids"), "input_ids", n)]
    out_ids = _int_list(config.get("output_ids"), "output_ids", n)
    out_idx = config.get("output_indices", [None] * len(out_ids))
    if not isinstance(out_idx, list) or len(out_idx) != len(out_ids):
        raise ConfigError("output_indices must list one output index (or null) per output.")
    try:
        outs = [tensors[i] if k is None else tensors[i][k] for i, k in zip(out_ids, out_idx)]
    except (IndexError, TypeError):
        raise ConfigError("output_indices do not match the outputs of their layers.") from None
    if not ins or not outs:
        raise ConfigError("a functional model config needs input_ids and output_ids.")
    multi_in = bool(config.get("multi_input", len(ins) > 1))
    multi_out = bool(config.get("multi_output", len(outs) > 1))
    kwargs = {"name": config.get("name"), "trainable": config.get("trainable", True)}
    try:
        return cls(inputs=ins if multi_in else ins[0], outputs=outs if multi_out else outs[0],
                   **kwargs)
    except Exception as err:
        raise ConfigError(f"model {config.get('name')!r}: {type(err).__name__}: {err}") from None


def sequential_from_config(cls, config, custom_objects=None):
    """Rebuild a Sequential model from `Sequential.get_config()`."""
    custom_objects = check_custom_objects(custom_objects)
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ConfigError("a Sequential config needs a 'layers' list.")
    layers = [deserialize_layer(e, custom_objects, f"layer #{i}") for i, e in enumerate(entries)]
    try:
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer in layers:
            model.add(layer, rebuild=False)
        model._maybe_build()
    except ConfigError:
        raise
    except Exception as err:
        raise ConfigError(f"Sequential {config.get('name')!r}: {type(err).__name__}: "
                          f"{err}") from None
    return model


def serialize_model(model):
    """The `config.json` description of a model: `class_name`, `config`, `build_config`."""
    from ..models.model import Model
    from ..models.sequential import Sequential
    cls = type(model)
    if cls not in (Model, Sequential):
        own_config = cls.get_config not in (Model.get_config, Sequential.get_config)
        if not own_config and cls.call is not Model.call:
            raise NotImplementedError(
                f"Model '{model.name}' is a subclassed model ({cls.__name__}) without its own "
                "get_config(), so its architecture cannot be saved. Save its weights with "
                "model.save_weights('x.weights.npz') and rebuild it in code, or define "
                "get_config() (returning the constructor arguments) and register the class "
                "with @kerasnp.saving.register_serializable().")
    out = serialize_layer(model)
    out["build_config"] = {"input_shape": shape_to_json(model.input_spec_shape)
                           if model.built else None}
    return out


def deserialize_model(cfg, custom_objects=None):
    """Inverse of `serialize_model`: a built model (weights freshly initialised)."""
    from ..models.model import Model
    if not isinstance(cfg, dict):
        raise ConfigError("the model description must be an object with 'class_name' and "
                          "'config'.")
    model = deserialize_layer(cfg, custom_objects, "model")
    if not isinstance(model, Model):
        raise ConfigError(f"{cfg.get('class_name')!r} is a layer, not a model.")
    if not model.built or not model._nodes:
        build = cfg.get("build_config")
        shape = shape_from_json(build.get("input_shape") if isinstance(build, dict) else None,
                                "build_config.input_shape")
        if shape is None:
            return model                                # saved unbuilt (e.g. to_json)
        try:
            model.build(shape)
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f"model '{model.name}' cannot be built for input shape {shape}: "
                              f"{type(err).__name__}: {err}") from None
        model.built = True
    return model
