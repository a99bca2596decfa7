"""Objects <-> configs, resolved through registries only.

A class named in a config is looked up, in order, in the caller's `custom_objects`, among the
classes registered with `register_serializable`, and in kerasnp's own registries (`LAYERS`, the
loss, metric and optimizer registries). Nothing is ever imported and no attribute is looked up by
a name read from a file, so `"class_name": "os.system"` is just an unknown name.

While a model is rebuilt from an untrusted config, every new layer's `add_weight` is metered
(`weight_budget`): a config that would allocate more values than the file stores fails before the
allocation, with the layer and weight named.
"""
import contextlib
import difflib
import inspect
import threading

import numpy as np

_REGISTERED = {}        # "Package>Name" -> object
_NAMES = {}             # id(object) -> "Package>Name"
_local = threading.local()


class ConfigError(ValueError):
    """A config that cannot be turned back into objects (the file loader adds the file name)."""


# ----------------------------------------------------------------------------- registration
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

    def deco(obj):
        key = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise TypeError(f"Cannot register {obj.__name__}: a serializable class must define "
                            "get_config() (and from_config, or accept its config as kwargs).")
        _REGISTERED[key] = obj
        _NAMES[id(obj)] = key
        return obj
    return deco


def get_registered_name(obj):
    """The name `obj` was registered under, or its `__name__` when it is not registered."""
    return _NAMES.get(id(obj), getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None):
    """The object registered (or given in `custom_objects`) under `name`, else None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTERED.get(name)


def _custom(names, custom_objects):
    for name in names:
        if isinstance(name, str):
            if custom_objects and name in custom_objects:
                return custom_objects[name]
            if name in _REGISTERED:
                return _REGISTERED[name]
    return None


def _with_registered_name(out, cls):
    key = _NAMES.get(id(cls))
    if key is not None:
        out["registered_name"] = key
    return out


def check_custom_objects(custom_objects):
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict) or not all(isinstance(k, str)
                                                       for k in custom_objects):
        raise TypeError("custom_objects must be a dict {name: class or function}. "
                        f"Received: custom_objects={custom_objects!r}")
    return custom_objects


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
    return _with_registered_name({"class_name": cls.__name__, "config": layer.get_config()}, cls)


def _layer_class(entry, where, custom_objects):
    from ..layers.base import LAYERS, Layer
    class_name, registered = entry.get("class_name"), entry.get("registered_name")
    if not isinstance(class_name, str) or not (registered is None or isinstance(registered, str)):
        raise ConfigError(f"{where}: 'class_name' must be a string. Received: "
                          f"class_name={class_name!r}")
    cls = _custom((registered, class_name), custom_objects)
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


def _call_from_config(cls, config, custom_objects):
    fn = cls.from_config
    try:
        accepts = "custom_objects" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        accepts = False
    return fn(config, custom_objects=custom_objects) if accepts else fn(config)


_OBJECT_KEYS = ("activation", "fn")
_OBJECT_SUFFIXES = ("_initializer", "_regularizer", "_constraint", "_activation")


def _substitute(config, custom_objects):
    """Replace names of custom functions/objects in a layer config by the objects themselves."""
    if not (custom_objects or _REGISTERED):
        return config
    out = dict(config)
    for key, value in config.items():
        if key not in _OBJECT_KEYS and not key.endswith(_OBJECT_SUFFIXES):
            continue
        if isinstance(value, str):
            obj = _custom((value,), custom_objects)
            if obj is not None:
                out[key] = obj
        elif isinstance(value, dict) and isinstance(value.get("class_name"), str):
            obj = _custom((value.get("registered_name"), value["class_name"]), custom_objects)
            if inspect.isclass(obj):
                out[key] = _call_from_config(obj, value.get("config") or {}, custom_objects)
    return out


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
        layer = _call_from_config(cls, _substitute(config, custom_objects), custom_objects)
    except ConfigError as err:
        raise ConfigError(f"{label} > {err}") from None
    except Exception as err:           # a bad argument: TypeError, ValueError, ...
        raise ConfigError(f"{label}: {type(err).__name__}: {err}") from None
    _watch(layer)
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
    from ..models.graph import KerasTensor
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
        name = (entry.get("config") or {}).get("name") if isinstance(entry.get("config"),
                                                                      dict) else None
        if isinstance(name, str) and name in by_name:
            layer = by_name[name]                       # a shared layer: one object, many calls
            if type(layer).__name__ != entry.get("class_name") and not entry.get(
                    "registered_name"):
                raise ConfigError(f"{where}: layer name {name!r} is used by two classes.")
        else:
            layer = deserialize_layer(entry, custom_objects, where)
            by_name[layer.name] = layer
        if not inbound:
            if not isinstance(layer, InputLayer):
                raise ConfigError(f"{where} '{layer.name}' ({type(layer).__name__}) has no "
                                  "inbound nodes; only InputLayers may.")
            tensors.append(KerasTensor((layer.batch_size,) + layer.shape, layer, [],
                                       dtype=layer.dtype))
            continue
        args = [tensors[j] for j in inbound]
        try:
            tensors.append(layer(args if len(args) > 1 else args[0]))
        except ConfigError as err:
            raise ConfigError(f"{where} '{layer.name}': {err}") from None
        except Exception as err:
            raise ConfigError(f"{where} '{layer.name}' ({type(layer).__name__}) cannot be "
                              f"called on its inputs: {type(err).__name__}: {err}") from None
    n = len(tensors)
    ins = [tensors[i] for i in _int_list(config.get("input_ids"), "input_ids", n)]
    outs = [tensors[i] for i in _int_list(config.get("output_ids"), "output_ids", n)]
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
            raise ConfigError(f"model '{model.name}' was saved unbuilt; nothing to restore.")
        try:
            model.build(shape)
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f"model '{model.name}' cannot be built for input shape {shape}: "
                              f"{type(err).__name__}: {err}") from None
        model.built = True
    return model


# ----------------------------------------------------------------------------- compile config
def serialize_compile(model):
    """`compile()`'s arguments as JSON: optimizer config, losses, loss weights, metrics."""
    from .. import optimizers
    if not getattr(model, "compiled", False) or model._spec is None:
        return None
    loss, loss_weights, metrics = model._spec.raw
    opt = optimizers.serialize(model.optimizer)
    return {"optimizer": _with_registered_name(opt, type(model.optimizer)),
            "loss": _serialize_obj(loss), "loss_weights": _serialize_obj(loss_weights),
            "metrics": _serialize_obj(metrics)}


def _serialize_obj(obj):
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_serialize_obj(o) for o in obj]
    if isinstance(obj, dict):
        return {str(k): _serialize_obj(v) for k, v in obj.items()}
    if inspect.isclass(obj):
        return _with_registered_name({"class_name": obj.__name__, "config": {}}, obj)
    if hasattr(obj, "get_config"):
        return _with_registered_name({"class_name": type(obj).__name__,
                                      "config": obj.get_config()}, type(obj))
    if callable(obj):
        name = getattr(obj, "__name__", None)
        if not isinstance(name, str) or name == "<lambda>":
            raise ValueError(f"Cannot save the compiled function {obj!r}: it has no usable name "
                             "(define it with def, then pass it back with custom_objects).")
        return _with_registered_name({"class_name": "function", "config": name}, obj)
    raise TypeError(f"Cannot save compile argument {obj!r} (of type {type(obj).__name__}).")


def compile_from_config(model, cc, custom_objects=None):
    """Compile `model` as described by `serialize_compile` output."""
    from .. import optimizers
    if not isinstance(cc, dict):
        raise ConfigError("compile_config must be an object.")
    opt_cfg = cc.get("optimizer")
    if not isinstance(opt_cfg, dict):
        raise ConfigError("compile_config.optimizer must be an object.")
    try:
        cls = _custom((opt_cfg.get("registered_name"), opt_cfg.get("class_name")),
                      custom_objects)
        opt = (_call_from_config(cls, opt_cfg.get("config") or {}, custom_objects)
               if inspect.isclass(cls) else optimizers.deserialize(opt_cfg))
        loss = _deserialize_obj(cc.get("loss"), "loss", custom_objects)
        weights = cc.get("loss_weights")
        metrics = _deserialize_obj(cc.get("metrics"), "metric", custom_objects)
        model.compile(optimizer=opt, loss=loss, loss_weights=weights, metrics=metrics)
    except ConfigError:
        raise
    except Exception as err:
        raise ConfigError(f"compile_config cannot be restored ({type(err).__name__}: {err}). "
                          "Pass the custom losses/metrics in custom_objects, or load with "
                          "compile=False and compile the model yourself.") from None


def _deserialize_obj(item, kind, custom_objects):
    from .. import losses, metrics
    if item is None or isinstance(item, (bool, int, float)):
        return item
    if isinstance(item, str):
        found = _custom((item,), custom_objects)
        return item if found is None else found
    if isinstance(item, list):
        return [_deserialize_obj(i, kind, custom_objects) for i in item]
    if not isinstance(item, dict):
        raise ConfigError(f"bad {kind} entry {item!r}.")
    if "class_name" not in item:                            # per-output mapping
        return {k: _deserialize_obj(v, kind, custom_objects) for k, v in item.items()}
    class_name, config = item.get("class_name"), item.get("config")
    found = _custom((item.get("registered_name"), config if class_name == "function"
                     else class_name), custom_objects)
    if class_name == "function":
        if found is not None:
            return found
        if not isinstance(config, str):
            raise ConfigError(f"bad {kind} function entry {item!r}.")
        if kind == "metric":
            return metrics.FUNCTIONS.get(config, config)
        return config
    if found is not None:
        if inspect.isclass(found):
            return _call_from_config(found, config or {}, custom_objects)
        return found
    if not isinstance(class_name, str) or not isinstance(config, (dict, type(None))):
        raise ConfigError(f"bad {kind} entry {item!r}.")
    clean = {"class_name": class_name, "config": _substitute(config or {}, custom_objects)}
    return losses.deserialize(clean) if kind == "loss" else metrics.deserialize(clean)


# ----------------------------------------------------------------------------- weight budget
@contextlib.contextmanager
def weight_budget(limit, what):
    """Within `with`, layers built from configs may create at most `limit` weight values."""
    previous = getattr(_local, "budget", None)
    budget = _Budget(limit, what)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = previous
        budget.release()


class _Budget:
    def __init__(self, limit, what):
        self.limit, self.left, self.what, self.watched = limit, limit, what, []

    def take(self, layer, name, shape):
        try:
            count = 1
            for d in shape:
                count *= int(d)
        except (TypeError, ValueError):
            return
        if count > self.left:
            raise ConfigError(
                f"layer '{layer.name}' ({type(layer).__name__}) weight '{name}' of shape "
                f"{tuple(shape)} ({count} values) exceeds what {self.what} "
                f"({self.limit} values in all, {self.left} left); refusing to allocate it.")
        self.left -= count

    def release(self):
        for layer in self.watched:
            layer.__dict__.pop("add_weight", None)
        self.watched = []


def _watch(layer):
    budget = getattr(_local, "budget", None)
    if budget is None:
        return
    stack = [layer]
    while stack:
        item = stack.pop()
        if "add_weight" in item.__dict__:
            continue
        if not item.built:
            original = item.add_weight

            def add_weight(name, shape, *args, _layer=item, _orig=original, **kwargs):
                budget.take(_layer, name, shape)
                return _orig(name, shape, *args, **kwargs)
            object.__setattr__(item, "add_weight", add_weight)
            budget.watched.append(item)
        stack.extend(item.__dict__.get("_sublayers", ()))
