"""`serialize_keras_object` / `deserialize_keras_object`: any kerasnp object to Keras 3's dict
layout (`{"module", "class_name", "config", "registered_name"}`) and back.

Reading never imports anything: `class_name` (or `registered_name`) is looked up in the caller's
`custom_objects`, the active `custom_object_scope`s, the global custom objects and kerasnp's own
registries; `module` only says which of kerasnp's registries to search (`keras.losses` -> losses,
...). A `module` outside Keras names no registry, so `{"module": "os", "class_name": "system"}`
is an unknown class, and Python code (`__lambda__`) is refused.
"""
import inspect

import numpy as np

from .._serializable import ConfigError, call_from_config, check_custom_objects, \
    get_registered_name, lookup
from .keras_format_config import Builder, _fit_object, plain
from .keras_format_write import Exporter, wrap

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_ARRAY_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "float32", "float64")


def _kinds():
    """`(name, base class, Keras module, resolver)` of each non-layer kind, most specific first."""
    from .. import activations, constraints, initializers, losses, metrics, optimizers, \
        regularizers
    from ..optimizers import schedules
    return (
        ("schedules", schedules.LearningRateSchedule, "keras.optimizers.schedules",
         schedules.get),
        ("optimizers", optimizers.Optimizer, "keras.optimizers", optimizers.get),
        ("losses", losses.Loss, "keras.losses", losses.get),
        ("metrics", metrics.Metric, "keras.metrics", metrics.get),
        ("initializers", initializers.Initializer, "keras.initializers", initializers.get),
        ("regularizers", regularizers.Regularizer, "keras.regularizers", regularizers.get),
        ("constraints", constraints.Constraint, "keras.constraints", constraints.get),
        ("activations", activations.ActivationFunction, "keras.activations", activations.get),
    )


# ----------------------------------------------------------------------------- writing
def serialize_keras_object(obj):
    """A JSON-ready description of `obj` in Keras 3's layout.

    Layers and models, losses, metrics, optimizers, schedules, initializers, regularizers,
    constraints and custom objects with `get_config` become `{"module", "class_name",
    "config", "registered_name"}`; functions become `{"class_name": "function", "config":
    name}` (their registered name when registered; never their code); NumPy arrays become
    `{"class_name": "__numpy__", ...}`; lists, tuples and dicts are serialized item by item;
    numbers, strings, bools and None are returned as they are.

    Example:
        >>> import kerasnp as keras
        >>> d = keras.saving.serialize_keras_object(keras.layers.Dense(3, name="d"))
        >>> config = d["config"]
        >>> d["module"], d["class_name"], config["units"]
        ('keras.layers', 'Dense', 3)
    """
    from .. import config as kconfig
    from ..layers.base import Layer
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": str(obj.dtype)}}
    if isinstance(obj, list):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(serialize_keras_object(o) for o in obj)
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):
        return Exporter(kconfig.floatx()).layer(obj)
    for name, base, module, _ in _kinds():
        if isinstance(obj, base):
            return _kind_entry(obj, name, module)
    if inspect.isclass(obj):
        raise TypeError(f"serialize_keras_object serializes objects, not classes. Received: "
                        f"obj={obj!r}")
    if hasattr(obj, "get_config"):
        cls = type(obj)
        return {"module": cls.__module__, "class_name": cls.__name__,
                "config": serialize_keras_object(obj.get_config()),
                "registered_name": get_registered_name(cls)}
    if callable(obj):
        return _function_entry(obj)
    raise TypeError(f"Cannot serialize an object of type {type(obj).__name__}: it is not a "
                    f"number, string, array, list, dict, function or object with get_config(). "
                    f"Received: obj={obj!r}")


def _kind_entry(obj, kind, module):
    from .._serializable import _NAMES
    if kind == "activations":
        from .. import activations
        out = activations.serialize(obj)
        if isinstance(out, str):
            return _function_entry(obj, out)
        return wrap(out, module)
    cls = type(obj)
    config = {k: serialize_keras_object(v) if not isinstance(v, dict) else
              _nested_config(v) for k, v in obj.get_config().items()}
    if id(cls) in _NAMES:                  # a registered custom class keeps its own module
        return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
                "registered_name": get_registered_name(cls)}
    return {"module": module, "class_name": cls.__name__, "config": config,
            "registered_name": None}


def _nested_config(value):
    """A kerasnp `{"class_name", "config"}` inside a config (an optimizer's schedule) in Keras's
    layout; other dicts item by item."""
    if isinstance(value.get("class_name"), str) and isinstance(value.get("config"), dict):
        from ..optimizers import schedules
        module = "keras.optimizers.schedules" if value["class_name"] in schedules.registry \
            else None
        return wrap(value, module)
    return {k: serialize_keras_object(v) for k, v in value.items()}


def _function_entry(fn, name=None):
    from .._serializable import _NAMES
    name = _NAMES.get(id(fn)) or name or getattr(fn, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise TypeError(f"Cannot serialize {fn!r}: kerasnp never saves code, so a function "
                        "is saved by name; define it with def (and register it with "
                        "@register_keras_serializable()).")
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


# ----------------------------------------------------------------------------- reading
def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a `serialize_keras_object` description (Keras's or kerasnp's) stands for.

    Args:
        config: a dict `{"module", "class_name", "config", "registered_name"}` (`module` and
            `registered_name` optional), a list or dict of them, or a plain value.
        custom_objects: dict `{name: class or function}`, searched first.
        safe_mode: refuse `Lambda` layers (their code is never run; with `safe_mode=False`
            their function must come from `custom_objects`).

    Raises:
        TypeError: a class or function that no registry, scope or `custom_objects` knows
            (nothing is ever imported by the name in `module`), or Python code.
        ValueError: a config the class refuses.

    Example:
        >>> import kerasnp as keras
        >>> d = {"module": "keras.layers", "class_name": "Dense",
        ...      "config": {"units": 2}, "registered_name": None}
        >>> keras.saving.deserialize_keras_object(d).units
        2
    """
    custom_objects = check_custom_objects(custom_objects)
    if kwargs.get("module_objects"):
        custom_objects = {**kwargs["module_objects"], **custom_objects}
    return _read(config, custom_objects, safe_mode)


def _read(value, custom, safe_mode):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        found = lookup((value,), custom)
        return value if found is None else found
    if isinstance(value, (list, tuple)):
        return [_read(v, custom, safe_mode) for v in value]
    if not isinstance(value, dict):
        raise TypeError(f"deserialize_keras_object expects a dict, list or plain value. "
                        f"Received: {type(value).__name__}")
    if not isinstance(value.get("class_name"), str):
        return {k: _read(v, custom, safe_mode) for k, v in value.items()}
    cn, cfg = value["class_name"], value.get("config")
    module = value.get("module")
    if cn == "__tuple__" and isinstance(cfg, dict) and isinstance(cfg.get("value"), list):
        return tuple(_read(v, custom, safe_mode) for v in cfg["value"])
    if cn == "__numpy__":
        return _array(cfg)
    if cn.startswith("__"):
        raise TypeError(f"A {cn!r} entry (Python code or serialized data) is not read by "
                        f"kerasnp. Received: class_name={cn!r}")
    if cn == "function":
        return _function(cfg, module, custom)
    registered = value.get("registered_name")
    registered = registered if isinstance(registered, str) else None
    found = lookup((registered, cn), custom)
    if found is not None and not inspect.isclass(found):
        return found                               # custom_objects maps the name to an object
    try:
        return _build(value, cn, cfg, found, module, custom, safe_mode)
    except ConfigError as err:
        raise ValueError(f"Cannot rebuild {cn!r}: {err}") from None


def _build(value, cn, cfg, cls, module, custom, safe_mode):
    from ..layers.base import LAYERS, Layer
    kind = _kind_of(module)
    if cls is None and kind == "outside":
        raise _unknown("class", cn, module)
    if (cls is not None and issubclass(cls, Layer)) or (cls is None and kind in (None, "layers")
                                                        and (cn in LAYERS or cn in (
                                                            "Sequential", "Functional",
                                                            "Model"))):
        from .. import config as kconfig        # the default float type stays implicit
        return Builder(custom, safe_mode, kconfig.floatx()).layer(value, "object")
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise TypeError(f"Expected 'config' to be a dict for {cn!r}. Received: {cfg!r}")
    cfg = plain(cfg, repr(cn))
    if cls is not None:
        return call_from_config(cls, cfg, custom)
    for name, _, _, get in _kinds():
        if kind not in (None, name):
            continue
        if name == "optimizers":
            from .keras_format_compile import _optimizer
            from .. import optimizers
            try:
                return _optimizer({"class_name": cn, "config": cfg}, custom, optimizers)
            except ValueError:
                if kind is None:
                    continue
                raise
        fitted = _fit_object(f"x_{name[:-1]}", {"class_name": cn, "config": cfg}, cn)
        try:
            return get(fitted)
        except ValueError as err:
            if kind is None and str(err).startswith("Unknown"):
                continue
            raise
    raise _unknown("class", cn, module)


def _kind_of(module):
    """Which of kerasnp's registries a Keras `module` names (None: any; raises for a module
    outside Keras, which names no registry)."""
    if module is None:
        return None
    if not isinstance(module, str):
        raise TypeError(f"'module' must be a string. Received: module={module!r}")
    parts = module.split(".")
    if parts[0] != "keras":
        return "outside"
    for part in reversed(parts):
        if part in ("schedules", "optimizers", "losses", "metrics", "initializers",
                    "regularizers", "constraints", "activations", "layers", "models"):
            return "layers" if part == "models" else part
    return "layers" if module == "keras" or "optimizers" not in parts else "optimizers"


def _function(name, module, custom):
    if not isinstance(name, str):
        raise TypeError(f"A function entry must name the function. Received: config={name!r}")
    found = lookup((name,), custom, short=True)
    if found is not None:
        return found
    kind = _kind_of(module) if module != "builtins" else None
    from .. import activations, losses
    if kind in (None, "activations") and name in activations._REGISTRY:
        return activations.get(name)
    if kind in (None, "losses", "metrics"):
        for fn in losses._FUNCTIONS:
            if fn.__name__ == name:
                return fn
    raise _unknown("function", name, module)


def _unknown(what, name, module):
    where = f" (module {module!r})" if isinstance(module, str) and module != "builtins" else ""
    return TypeError(
        f"Could not locate {what} {name!r}{where}. kerasnp finds classes and functions only "
        "in its own registries, in custom_objects, in a custom_object_scope and among objects "
        "registered with @kerasnp.saving.register_keras_serializable(); it never imports a "
        "module named in a config.")


def _array(cfg):
    if not isinstance(cfg, dict) or cfg.get("dtype") not in _ARRAY_DTYPES or \
            not isinstance(cfg.get("value"), (list, int, float, bool)):
        raise TypeError(f"A '__numpy__' entry needs 'value' (a list) and 'dtype' (one of "
                        f"{', '.join(_ARRAY_DTYPES)}). Received: {cfg!r}")
    try:
        return np.asarray(cfg["value"], dtype=cfg["dtype"])
    except (TypeError, ValueError) as err:
        raise TypeError(f"A '__numpy__' entry holds values that are not a {cfg['dtype']} "
                        f"array: {err}") from None
