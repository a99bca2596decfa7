"""Custom objects: `register_serializable` and the lookups that find classes by saved name.

A name read from a config is looked up, in order, in the caller's `custom_objects` and among the
objects registered here, then (by the callers) in kerasnp's own registries. Names are dictionary
keys only: nothing is imported and no attribute is looked up by a name read from a file.

This module sits below layers and the engine (it imports nothing from kerasnp), so that layers
and models can rebuild themselves from configs without importing `kerasnp.saving`, which
re-exports the public names (`register_serializable`, `get_registered_name`,
`get_registered_object`).
"""
import inspect

_REGISTERED = {}        # "Package>Name" -> object
_SHORT = {}             # "Name" -> object, for configs that store a bare function name
_NAMES = {}             # id(object) -> "Package>Name"


class ConfigError(ValueError):
    """A config that cannot be turned back into objects (the file loader adds the file name and
    raises `kerasnp.saving.ModelFileError`)."""


def register_serializable(package="Custom", name=None):
    """Class (or function) decorator: make a custom object loadable by name from model files.

    The object is saved under `"<package>>" + name` (default: its `__name__`), and found again by
    `load_model` / `model_from_json` without `custom_objects`.

    Args:
        package: namespace of the name, to keep different libraries' objects apart.
        name: registered name (default: the object's `__name__`).

    Example:
        >>> import kerasnp as keras
        >>> @keras.saving.register_serializable(package="Docs")
        ... class Scale(keras.layers.Layer):
        ...     def __init__(self, factor=2.0, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.factor = factor
        ...     def get_config(self):
        ...         return {**super().get_config(), "factor": self.factor}
        >>> keras.saving.get_registered_name(Scale)
        'Docs>Scale'
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"package must be a non-empty string without '>'. "
                         f"Received: package={package!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"name must be None or a non-empty string. Received: name={name!r}")

    def deco(obj):
        short = name or getattr(obj, "__name__", None)
        if not isinstance(short, str):
            raise TypeError(f"register_serializable needs a class or a named function, or "
                            f"name=. Received: {obj!r}")
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise TypeError(f"Cannot register {obj.__name__}: a serializable class must define "
                            "get_config() (and from_config, or accept its config as kwargs).")
        key = f"{package}>{short}"
        _REGISTERED[key] = obj
        _SHORT[short] = obj
        _NAMES[id(obj)] = key
        return obj
    return deco


def get_registered_name(obj):
    """The name `obj` was registered under, or its `__name__` when it is not registered."""
    return _NAMES.get(id(obj), getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object given in `custom_objects` or registered under `name`, else the one in
    `module_objects` (Keras's third argument: a library's own names, searched last), else None.
    """
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _REGISTERED:
        return _REGISTERED[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def lookup(names, custom_objects, short=False):
    """The first of `names` found in `custom_objects` or the registered objects (else None).

    With `short=True` a bare name also matches a registered object's name without its package
    (for configs that store only a function's `__name__`, e.g. a custom activation)."""
    for name in names:
        if isinstance(name, str):
            if custom_objects and name in custom_objects:
                return custom_objects[name]
            if name in _REGISTERED:
                return _REGISTERED[name]
            if short and name in _SHORT:
                return _SHORT[name]
    return None


def with_registered_name(out, obj):
    """Add `"registered_name"` to a `{"class_name", "config"}` dict when `obj` is registered."""
    key = _NAMES.get(id(obj))
    if key is not None:
        out["registered_name"] = key
    return out


def check_custom_objects(custom_objects):
    """Validate the `custom_objects` argument; None becomes `{}`."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict) or not all(isinstance(k, str)
                                                       for k in custom_objects):
        raise TypeError("custom_objects must be a dict {name: class or function}. "
                        f"Received: custom_objects={custom_objects!r}")
    return custom_objects


def call_from_config(cls, config, custom_objects):
    """`cls.from_config(config)`, passing `custom_objects` when `from_config` accepts it."""
    fn = cls.from_config
    try:
        accepts = "custom_objects" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        accepts = False
    return fn(config, custom_objects=custom_objects) if accepts else fn(config)


_OBJECT_KEYS = ("activation", "fn")
_OBJECT_SUFFIXES = ("_initializer", "_regularizer", "_constraint", "_activation")


def substitute(config, custom_objects):
    """Replace names of custom functions/objects in a config (activations, initializers, ...)
    by the objects from `custom_objects` or the registered ones; other values are untouched."""
    if not (custom_objects or _REGISTERED):
        return config
    out = dict(config)
    for key, value in config.items():
        if key not in _OBJECT_KEYS and not key.endswith(_OBJECT_SUFFIXES):
            continue
        if isinstance(value, str):
            obj = lookup((value,), custom_objects, short=True)
            if obj is not None:
                out[key] = obj
        elif isinstance(value, dict) and isinstance(value.get("class_name"), str):
            obj = lookup((value.get("registered_name"), value["class_name"]), custom_objects)
            if inspect.isclass(obj):
                out[key] = call_from_config(obj, value.get("config") or {}, custom_objects)
    return out
