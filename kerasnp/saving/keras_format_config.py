"""Keras 3 `config.json` to kerasnp models: the reading direction of the `.keras` format.

Keras writes every object as `{"module", "class_name", "config", "registered_name"}`; kerasnp
resolves `class_name` (or `registered_name`, for custom objects) only through its registries and
the caller's `custom_objects`: `module` is never imported. A layer's config mostly carries the
same arguments in both libraries; the differences are translated here: dtype policies become
their dtype name, nested objects lose `module`, `InputLayer`'s `batch_shape` becomes `shape`, and
Keras-only arguments are dropped when they hold the value that changes nothing (`None`,
`renorm=False`, ...) and refused otherwise, naming the layer and the argument. A functional
model is rebuilt by calling each layer on the tensors its `inbound_nodes` name; Keras's op
entries become `OpLayer`s through the allowlist of keras_format_ops.
"""
import inspect

from .._serializable import ConfigError, lookup
from ..layers.base import LAYERS, Layer
from ..layers.serialization import deserialize_layer
from .keras_format_graph import endpoints, node_call
from .keras_format_ops import is_op_entry, read_op

_ANY = object()
# Keras-only arguments and the values at which kerasnp may ignore them.
_INERT = {
    "sparse": (False,), "ragged": (False,), "optional": (False,), "renorm": (False,),
    "renorm_momentum": _ANY, "rms_scaling": (False,), "autocast": (True,),
    "data_format": ("channels_last",), "quantization_config": (None,),
    "lora_enabled": (False,), "lora_rank": (None,), "lora_alpha": _ANY, "use_gate": (False,),
}
_FLOAT_POLICIES = ("float16", "float32", "float64")
_MODELS = ("Sequential", "Functional", "Model")
_INPUT_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                 "bool", "string")


def plain(value, where):
    """A config value without Keras's serialization wrappers (recursively)."""
    if isinstance(value, list):
        return [plain(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    cn = value.get("class_name")
    if not (isinstance(cn, str) and ("module" in value or "registered_name" in value)):
        return {k: plain(v, where) for k, v in value.items()}
    cfg = value.get("config")
    if cn in ("DTypePolicy", "FloatDTypePolicy"):
        return policy_dtype(value, where)
    if cn == "function":
        registered = value.get("registered_name")
        name = registered if isinstance(registered, str) and ">" in registered else cfg
        if not isinstance(name, str):
            raise ConfigError(f"{where}: a function entry must name the function. Received: "
                              f"{value!r}")
        return name
    if cn == "__tuple__" and isinstance(cfg, dict) and isinstance(cfg.get("value"), list):
        return [plain(v, where) for v in cfg["value"]]
    if cn in ("__lambda__", "__numpy__", "__tensor__", "__bytes__", "__typespec__"):
        raise ConfigError(f"{where}: a {cn!r} entry (Python code or serialized data) is not "
                          "read by kerasnp.")
    out = {"class_name": cn, "config": plain(cfg if cfg is not None else {}, where)}
    registered = value.get("registered_name")
    if isinstance(registered, str) and registered not in (cn, "function"):
        out["registered_name"] = registered
    return out


def policy_dtype(value, where):
    """The dtype name of a Keras dtype policy (`"float32"`, `{"class_name": "DTypePolicy"}`)."""
    name = value if isinstance(value, str) else (value.get("config") or {}).get("name") \
        if isinstance(value, dict) else None
    if name not in _FLOAT_POLICIES:
        raise ConfigError(f"{where}: dtype policy {name!r} is not supported by kerasnp (it "
                          f"computes in one float type: {', '.join(_FLOAT_POLICIES)}).")
    return name


def policy_names(cfg):
    """The dtype names of every dtype policy in a Keras config."""
    names, stack = set(), [cfg]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
                names.add((node.get("config") or {}).get("name"))
                continue
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


class Builder:
    """Builds kerasnp objects from a Keras config (one per file).

    Args:
        custom_objects, safe_mode: as `load_model`'s.
        dtype: the dtype of the whole model (built under that floatx), or None when its layers
            differ; a layer whose policy says this dtype gets no explicit `dtype`, so a model
            kerasnp saved comes back with the same config.

    Attributes:
        orders: `{id(functional model): [layer names]}` in the config's order, which is the
            order of Keras's HDF5 layout.
    """

    def __init__(self, custom_objects, safe_mode, dtype=None):
        self.custom_objects, self.safe_mode, self.dtype = custom_objects, safe_mode, dtype
        self.orders = {}
        self.op_calls = {}          # op layer name -> its call adapter (keras_format_ops)

    # -- layers -------------------------------------------------------------------------------
    def layer(self, entry, where):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise ConfigError(f"{where} must be an object with a string 'class_name'.")
        cn, cfg = entry["class_name"], entry.get("config")
        if not isinstance(cfg, dict):
            raise ConfigError(f"{where} ({cn}): 'config' must be an object.")
        name = cfg.get("name")
        label = f"{where} '{name}' ({cn})" if isinstance(name, str) else f"{where} ({cn})"
        registered = entry.get("registered_name")
        custom = lookup((registered if isinstance(registered, str) else None, cn),
                        self.custom_objects)
        if custom is None and cn in _MODELS:
            return self.model(entry, label)
        if is_op_entry(entry):
            layer, adapt = read_op(entry, label)
            self.op_calls[layer.name] = adapt
            return layer
        if cn == "Lambda":
            cfg = self._lambda(cfg, label)
        elif cn == "InputLayer":
            cfg = _input_layer(cfg, label)
        cls = custom if custom is not None else LAYERS.get(cn)
        cfg = {k: plain(v, label) for k, v in cfg.items()}
        if "dtype" in cfg:
            if cn != "InputLayer":          # an input's dtype may be int or string: kept as is
                cfg["dtype"] = policy_dtype(cfg["dtype"], label)
            if cfg["dtype"] == self.dtype:
                del cfg["dtype"]
        if custom is None and inspect.isclass(cls) and issubclass(cls, Layer):
            cfg = self._fit(cls, cfg, label)
        out = {"class_name": cn, "config": cfg}
        if isinstance(registered, str) and registered != cn:
            out["registered_name"] = registered
        return deserialize_layer(out, self.custom_objects, where)

    def _fit(self, cls, cfg, label):
        """A built-in layer's config without Keras-only arguments, its nested objects and
        nested layer configs (Bidirectional's `layer`, RNN's `cell`, ...) fitted too."""
        cfg = _fit_arguments(cls, cfg, label)
        for key, value in cfg.items():
            cfg[key] = self._nested(key, _fit_object(key, value, label), label)
        return cfg

    def _nested(self, key, value, label):
        if isinstance(value, list):
            return [self._nested(key, v, label) for v in value]
        if not (isinstance(value, dict) and isinstance(value.get("config"), dict)
                and value.get("class_name") in LAYERS and "registered_name" not in value):
            return value
        cfg = dict(value["config"])
        if cfg.get("dtype") == self.dtype:
            del cfg["dtype"]
        cls = LAYERS[value["class_name"]]
        return {"class_name": value["class_name"],
                "config": self._fit(cls, cfg, f"{label} {key} ({value['class_name']})")}

    def _lambda(self, cfg, label):
        if self.safe_mode:
            raise ConfigError(f"{label}: a Lambda layer holds Python code, which is refused "
                              "with safe_mode=True. If you trust the file, load it with "
                              "safe_mode=False and pass the function in custom_objects.")
        fn = cfg.get("function")
        if isinstance(fn, dict) and fn.get("class_name") == "__lambda__":
            raise ConfigError(f"{label}: its function is saved as Python bytecode, which kerasnp "
                              "never runs, even with safe_mode=False. Rebuild the layer in code, "
                              "or define the function with def and pass it in custom_objects.")
        return {k: v for k, v in cfg.items() if k not in ("arguments", "mask") or v}

    # -- models -------------------------------------------------------------------------------
    def model(self, entry, label):
        cn, cfg = entry["class_name"], entry["config"]
        if not isinstance(cfg.get("layers"), list):
            raise ConfigError(f"{label}: a model config needs a 'layers' list.")
        if cn == "Sequential":
            return self._sequential(cfg, label, entry.get("build_config"))
        return self._functional(cfg, label)

    def _sequential(self, cfg, label, build_config):
        from ..models.sequential import Sequential
        layers = [self.layer(e, f"{label} > layer #{i}") for i, e in enumerate(cfg["layers"])]
        try:
            model = Sequential(name=cfg.get("name"), trainable=cfg.get("trainable", True))
            for layer in layers:
                model.add(layer, rebuild=False)
            model._maybe_build()
            shape = cfg.get("build_input_shape") or (build_config or {}).get("input_shape")
            if not model.built and isinstance(shape, list):
                model.build(tuple(shape))
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f"{label}: {type(err).__name__}: {err}") from None
        return model

    def _functional(self, cfg, label):
        from ..models.model import Model
        from ..models import graph
        layers, order, outputs = {}, [], {}
        for i, e in enumerate(cfg["layers"]):
            where = f"{label} > layer #{i}"
            layer = self.layer(e, where)
            if layer.name in layers:
                raise ConfigError(f"{where}: layer name {layer.name!r} is used twice.")
            nodes = e.get("inbound_nodes", [])
            if not isinstance(nodes, list):
                raise ConfigError(f"{where}: 'inbound_nodes' must be a list.")
            layers[layer.name] = (layer, nodes)
            order.append(layer.name)
            if type(layer).__name__ == "InputLayer":
                outputs[(layer.name, 0)] = graph.KerasTensor(
                    (layer.batch_size,) + layer.shape, layer, [], dtype=layer.dtype)
        done = {name: (1 if (name, 0) in outputs else 0) for name in order}
        progress = True
        while progress:                   # layers whose inputs are ready, until none is left
            progress = False
            for name in order:
                layer, nodes = layers[name]
                while done[name] < len(nodes):
                    node = nodes[done[name]]
                    try:
                        args, kwargs = node_call(node, outputs, f"{label} > '{name}'")
                    except KeyError:
                        break
                    if name in self.op_calls:
                        args, kwargs = self.op_calls[name](args, kwargs)
                    try:
                        outputs[(name, done[name])] = layer(*args, **kwargs)
                    except ConfigError:
                        raise
                    except Exception as err:
                        raise ConfigError(f"{label} > '{name}' ({type(layer).__name__}) cannot "
                                          f"be called on its inputs: {type(err).__name__}: "
                                          f"{err}") from None
                    done[name] += 1
                    progress = True
        left = [n for n in order if done[n] < max(len(layers[n][1]), 1)]
        if left:
            raise ConfigError(f"{label}: the inputs of {', '.join(repr(n) for n in left)} are "
                              "never computed (a disconnected or cyclic graph).")
        # Keras numbers a nested functional model's calls from 1 in input/output_layers only
        shifted = {n for n in order if type(layers[n][0]).__name__ in ("Model", "Functional")}
        ins, multi_in = endpoints(cfg.get("input_layers"), outputs, shifted,
                                   f"{label} input_layers")
        outs, multi_out = endpoints(cfg.get("output_layers"), outputs, shifted,
                                     f"{label} output_layers")
        try:
            model = Model(ins if multi_in else ins[0], outs if multi_out else outs[0],
                          name=cfg.get("name"), trainable=cfg.get("trainable", True))
        except Exception as err:
            raise ConfigError(f"{label}: {type(err).__name__}: {err}") from None
        self.orders[id(model)] = order
        return model


def _input_layer(cfg, label):
    cfg = dict(cfg)
    shape = cfg.pop("batch_shape", None)
    if shape is None:
        shape = cfg.pop("batch_input_shape", None)
    if not isinstance(shape, list) or not shape:
        raise ConfigError(f"{label}: InputLayer needs a 'batch_shape' list. Received: "
                          f"{shape!r}")
    cfg["batch_size"], cfg["shape"] = shape[0], shape[1:]
    if cfg.get("dtype") is not None and cfg["dtype"] not in _INPUT_DTYPES:
        raise ConfigError(f"{label}: input dtype {cfg['dtype']!r} is not supported. Valid: "
                          f"{', '.join(_INPUT_DTYPES)}.")
    return cfg


def _fit_object(key, value, label):
    """A nested initializer / regularizer / constraint config without the Keras-only arguments
    of its kerasnp class (`{"seed": None, "input_axes": None}` -> `{"seed": None}`)."""
    from .. import constraints, initializers, regularizers
    module = (initializers if key.endswith("_initializer") else
              constraints if key.endswith("_constraint") else
              regularizers if key.endswith("_regularizer") else None)
    if module is None or not isinstance(value, dict) or "registered_name" in value or \
            not isinstance(value.get("class_name"), str) or \
            not isinstance(value.get("config"), dict):
        return value
    try:
        cls = type(module.get(value["class_name"]))
    except Exception:
        return value                       # unknown: kerasnp's own lookup names it later
    return {"class_name": value["class_name"],
            "config": _fit_arguments(cls, value["config"], f"{label} {key}")}


def _fit_arguments(cls, cfg, label):
    """`cfg` without the Keras-only arguments `cls` does not take (refused unless inert)."""
    accepted = set()
    for klass in cls.__mro__:                # every __init__ up to Layer's (or the first one
        init = klass.__dict__.get("__init__")     # of a class that is not a layer)
        if init is None or klass is object:
            continue
        params = inspect.signature(init).parameters.values()
        accepted.update(p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if klass is Layer or not issubclass(cls, Layer):
            break
    out = {}
    for key, value in cfg.items():
        if key in accepted:
            out[key] = value
            continue
        allowed = _INERT.get(key, (None,))
        if value is None or allowed is _ANY or value in allowed:
            continue
        raise ConfigError(f"{label}: argument {key}={value!r} is not supported by kerasnp's "
                          f"{cls.__name__}.")
    return out
