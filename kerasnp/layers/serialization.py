"""Layers <-> `{"class_name", "config"}` dicts, resolved through registries only.

A class named in a config is looked up, in order, in the caller's `custom_objects`, among the
classes registered with `register_serializable`, and in kerasnp's layer registry (`LAYERS`).
Nothing is ever imported and no attribute is looked up by a name read from a file, so
`"class_name": "os.system"` is just an unknown name. The weights such layers create are charged
to the active weight budget by `Layer.add_weight` (see `kerasnp/_weight_budget.py`).

Models (`kerasnp/models/model_config.py`) and `kerasnp.saving` build on these two functions.
"""
import difflib
import inspect

from .._serializable import ConfigError, call_from_config, lookup, substitute, \
    with_registered_name
from .base import LAYERS, Layer


def serialize_layer(layer):
    """`{"class_name", "config"}` (+ `"registered_name"` for registered classes) of a layer."""
    cls = type(layer)
    return with_registered_name({"class_name": cls.__name__, "config": layer.get_config()}, cls)


def deserialize_layer(entry, custom_objects=None, where="layer"):
    """Build a layer from `{"class_name", "config"}`; errors become `ConfigError` naming it.

    Args:
        entry: the dict `serialize_layer` made (possibly from an untrusted file).
        custom_objects: dict `{name: class or function}` searched before the registries.
        where: how error messages name the entry (e.g. `"layer #3"`).
    """
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
        return call_from_config(cls, substitute(config, custom_objects), custom_objects)
    except ConfigError as err:
        raise ConfigError(f"{label} > {err}") from None
    except Exception as err:           # a bad argument: TypeError, ValueError, ...
        raise ConfigError(f"{label}: {type(err).__name__}: {err}") from None


def _layer_class(entry, where, custom_objects):
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


# ----------------------------------------------------------------------------- Keras's names
# Keras's dict layout is written and read by `kerasnp.saving.keras_objects`, which sits above the
# layers; `kerasnp.saving` registers it here when imported (as it does for models' files).
_KERAS_OBJECTS = []


def register_keras_objects(module):
    """Called by `kerasnp.saving`: the module with `serialize_keras_object` and
    `deserialize_keras_object`."""
    _KERAS_OBJECTS[:] = [module]


def _keras_objects():
    if not _KERAS_OBJECTS:
        raise RuntimeError("layers.serialize/deserialize need kerasnp.saving: import kerasnp "
                           "(or kerasnp.saving) first.")
    return _KERAS_OBJECTS[0]


def serialize(layer):
    """Keras's `layers.serialize`: the layer (or model) as `{"module", "class_name", "config",
    "registered_name"}`, the dict `keras.layers.deserialize` reads.

    Example:
        >>> import kerasnp as keras
        >>> config = keras.layers.serialize(keras.layers.Dense(4, name="d"))["config"]
        >>> config["units"]
        4
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize expects a Layer. Received: layer={layer!r}")
    return _keras_objects().serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """Keras's `layers.deserialize`: a new layer (or model) from the dict `serialize` (or Keras)
    wrote. Classes are found in `custom_objects`, the active `custom_object_scope`, the
    registered custom objects and kerasnp's layers; nothing is imported by name.

    Example:
        >>> import kerasnp as keras
        >>> layer = keras.layers.deserialize({"class_name": "Dense", "config": {"units": 2}})
        >>> layer.units
        2
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise TypeError("layers.deserialize expects a dict with 'class_name' and 'config'. "
                        f"Received: config={config!r}")
    out = _keras_objects().deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(out, Layer):
        raise TypeError(f"layers.deserialize: {config['class_name']!r} is not a layer. "
                        f"Received: {out!r}")
    return out
