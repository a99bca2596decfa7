"""`compile()`'s arguments to JSON and back: optimizer config, losses, loss weights, metrics.

Strings stay strings; `Loss`/`Metric`/`Optimizer` objects become `{"class_name", "config"}`;
plain functions become `{"class_name": "function", "config": name}` (their code is never saved:
a custom function comes back through `custom_objects` or `register_serializable`). Per-output
lists and dicts keep their shape.
"""
import inspect

from .._serializable import ConfigError, call_from_config, lookup, substitute, \
    with_registered_name


def serialize_compile(model):
    """The compile config of `model`, or None when it is not compiled."""
    from .. import optimizers
    if not getattr(model, "compiled", False) or model._spec is None:
        return None
    loss, loss_weights, metrics = model._spec.raw
    opt = optimizers.serialize(model.optimizer)
    return {"optimizer": with_registered_name(opt, type(model.optimizer)),
            "loss": _serialize(loss), "loss_weights": _serialize(loss_weights),
            "metrics": _serialize(metrics)}


def _serialize(obj):
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_serialize(o) for o in obj]
    if isinstance(obj, dict):
        return {str(k): _serialize(v) for k, v in obj.items()}
    if inspect.isclass(obj):
        return with_registered_name({"class_name": obj.__name__, "config": {}}, obj)
    if hasattr(obj, "get_config"):
        return with_registered_name({"class_name": type(obj).__name__,
                                     "config": obj.get_config()}, type(obj))
    if callable(obj):
        name = getattr(obj, "__name__", None)
        if not isinstance(name, str) or name == "<lambda>":
            raise ValueError(f"Cannot save the compiled function {obj!r}: it has no usable name "
                             "(define it with def, then pass it back with custom_objects).")
        return with_registered_name({"class_name": "function", "config": name}, obj)
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
        cls = lookup((opt_cfg.get("registered_name"), opt_cfg.get("class_name")),
                     custom_objects)
        opt = (call_from_config(cls, opt_cfg.get("config") or {}, custom_objects)
               if inspect.isclass(cls) else optimizers.deserialize(opt_cfg))
        loss = _deserialize(cc.get("loss"), "loss", custom_objects)
        metrics = _deserialize(cc.get("metrics"), "metric", custom_objects)
        model.compile(optimizer=opt, loss=loss, loss_weights=cc.get("loss_weights"),
                      metrics=metrics)
    except Exception as err:
        raise ConfigError(f"compile_config cannot be restored ({type(err).__name__}: {err}). "
                          "Pass the custom losses/metrics in custom_objects, or load with "
                          "compile=False and compile the model yourself.") from None


def _deserialize(item, kind, custom_objects):
    from .. import losses, metrics
    if item is None or isinstance(item, (bool, int, float)):
        return item
    if isinstance(item, str):
        found = lookup((item,), custom_objects)
        return item if found is None else found
    if isinstance(item, list):
        return [_deserialize(i, kind, custom_objects) for i in item]
    if not isinstance(item, dict):
        raise ConfigError(f"bad {kind} entry {item!r}.")
    if "class_name" not in item:                            # per-output mapping
        return {k: _deserialize(v, kind, custom_objects) for k, v in item.items()}
    class_name, config = item.get("class_name"), item.get("config")
    if class_name == "function":
        found = lookup((item.get("registered_name"), config), custom_objects)
        if found is not None:
            return found
        if not isinstance(config, str):
            raise ConfigError(f"bad {kind} function entry {item!r}.")
        return metrics.FUNCTIONS.get(config, config) if kind == "metric" else config
    found = lookup((item.get("registered_name"), class_name), custom_objects)
    if found is not None:
        return call_from_config(found, config or {}, custom_objects) \
            if inspect.isclass(found) else found
    if not isinstance(class_name, str) or not isinstance(config, (dict, type(None))):
        raise ConfigError(f"bad {kind} entry {item!r}.")
    clean = {"class_name": class_name, "config": substitute(config or {}, custom_objects)}
    return losses.deserialize(clean) if kind == "loss" else metrics.deserialize(clean)
