"""Ops applied between layers (`OpLayer` nodes) in Keras 3's `config.json` layout.

Keras writes `x * 2`, `ops.mean(x, axis=1)` or `x[:, 0]` in a functional model as an entry whose
`module` is `keras.src.ops.numpy` (or `.nn`) and whose `class_name` is the op's class
(`Multiply`, `Mean`, `GetItem`): the op's own arguments (`axis`, `keepdims`) sit in its
`config`, its call arguments (tensors and constants) in `inbound_nodes`. Only the ops of the
allowlist `_SPECS` are written and read; on reading, the class name is looked up there and
nothing named in the file is imported.
"""
import inspect

from .._serializable import ConfigError
from .keras_format_layout import Unsupported

_NUMPY, _NN = "keras.src.ops.numpy", "keras.src.ops.nn"
# kerasnp op -> (Keras module, Keras class, call parameters, config parameters); the parameter
# names are the same in both libraries.
_SPECS = {
    "add": (_NUMPY, "Add", ("x1", "x2"), ()),
    "subtract": (_NUMPY, "Subtract", ("x1", "x2"), ()),
    "multiply": (_NUMPY, "Multiply", ("x1", "x2"), ()),
    "divide": (_NUMPY, "Divide", ("x1", "x2"), ()),
    "negative": (_NUMPY, "Negative", ("x",), ()),
    "matmul": (_NUMPY, "Matmul", ("x1", "x2"), ()),
    "reshape": (_NUMPY, "Reshape", ("x",), ("newshape",)),
    "transpose": (_NUMPY, "Transpose", ("x",), ("axes",)),
    "concatenate": (_NUMPY, "Concatenate", ("xs",), ("axis",)),
    "mean": (_NUMPY, "Mean", ("x",), ("axis", "keepdims")),
    "sum": (_NUMPY, "Sum", ("x",), ("axis", "keepdims")),
    "max": (_NUMPY, "Max", ("x",), ("axis", "keepdims", "initial")),
    "get_item": (_NUMPY, "GetItem", ("x", "key"), ()),
    "relu": (_NN, "Relu", ("x",), ()),
    "sigmoid": (_NN, "Sigmoid", ("x",), ()),
    "tanh": (_NUMPY, "Tanh", ("x",), ()),
    "softmax": (_NN, "Softmax", ("x",), ("axis",)),
}
# Keras class -> kerasnp op (`x / y` is Keras's TrueDivide, `ops.divide` its Divide).
_BY_CLASS = {spec[1]: op for op, spec in _SPECS.items()}
_BY_CLASS["TrueDivide"] = "divide"
_MODULES = ("keras.src.ops.numpy", "keras.src.ops.nn", "keras.src.ops.core",
            "keras.src.ops.math", "keras.ops", None)


def is_op_entry(entry):
    """Whether a config entry is one of Keras's ops (by its module, never imported)."""
    module = entry.get("module")
    return isinstance(module, str) and (module.startswith("keras.src.ops.") or
                                        module == "keras.ops")


# -- writing ---------------------------------------------------------------------------------
def write_op(layer, node, fill):
    """`(entry, inbound node)` of an `OpLayer` node; `fill` turns the node's call template
    into Keras's values (tensors to `__keras_tensor__`). Unsupported for other ops."""
    from ..ops._dispatch import OPS
    spec = _SPECS.get(layer.op)
    if spec is None:
        raise Unsupported(f"layer '{layer.name}' (OpLayer) is the op '{layer.op}' between "
                          "layers, which kerasnp does not write in Keras's format yet (it writes "
                          f"{', '.join(sorted(_SPECS))}); save the model as '.kerasnp'.")
    module, cn, call_params, config_params = spec
    if node.args is None:                    # a one-tensor call records no template
        args, kwargs = (_first_ref(),), {}
    else:
        args, kwargs = tuple(node.args), dict(node.kwargs)
    try:
        bound = inspect.signature(OPS[layer.op].raw).bind(*args, **kwargs)
    except TypeError as err:
        raise Unsupported(f"layer '{layer.name}' (op '{layer.op}'): {err}") from None
    bound.apply_defaults()
    values = bound.arguments
    config = {"name": layer.name}
    for p in config_params:
        config[p] = _plain(values[p], layer)
    call = [_key(values[p], layer) if p == "key" else fill(values[p]) for p in call_params]
    entry = {"module": module, "class_name": cn, "config": config, "registered_name": cn}
    return entry, {"args": call, "kwargs": {}}


def _first_ref():
    from ..models.graph import _Ref
    return _Ref(0)


def _plain(value, layer):
    if isinstance(value, (list, tuple)):
        return [_plain(v, layer) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise Unsupported(f"layer '{layer.name}' (op '{layer.op}') has an argument of type "
                      f"{type(value).__name__}, which kerasnp does not write in Keras's format; "
                      "save the model as '.kerasnp'.")


def _key(key, layer):
    """A `get_item` key (ints and slices, or a tuple of them) as Keras writes it."""
    from ..models.graph import _Ref
    if isinstance(key, tuple):
        return [_key(k, layer) for k in key]
    if isinstance(key, slice):
        parts = (key.start, key.stop, key.step)
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in parts):
            return {"class_name": "__slice__", "config": dict(zip(("start", "stop", "step"),
                                                                   parts))}
    elif isinstance(key, int) and not isinstance(key, bool) and not isinstance(key, _Ref):
        return key
    raise Unsupported(f"layer '{layer.name}' (op 'get_item') has the index {key!r}; kerasnp "
                      "writes only ints and slices of ints in Keras's format; save the model "
                      "as '.kerasnp'.")


# -- reading ---------------------------------------------------------------------------------
def read_op(entry, label):
    """`(OpLayer, adapt)` for a Keras op entry: `adapt(args, kwargs)` turns the node's call
    (tensors already looked up) into the kerasnp op's call. ConfigError for an op outside
    the allowlist."""
    from ..layers.op_layer import OpLayer
    cn, cfg = entry.get("class_name"), entry.get("config")
    op = _BY_CLASS.get(cn)
    if op is None or entry.get("module") not in _MODULES:
        raise ConfigError(f"{label}: the Keras op {cn!r} (module {entry.get('module')!r}) is "
                          "not supported by kerasnp. Supported ops: "
                          f"{', '.join(sorted(_BY_CLASS))}.")
    if not isinstance(cfg, dict):
        raise ConfigError(f"{label}: 'config' must be an object.")
    config_params = _SPECS[op][3]
    extra = sorted(set(cfg) - set(config_params) - {"name"})
    if extra:
        raise ConfigError(f"{label}: unknown arguments {extra} for the op {cn!r}. Valid: "
                          f"{', '.join(config_params) or 'none'}.")
    params = {p: _tuples(cfg[p]) for p in config_params if p in cfg}
    name = cfg.get("name")
    layer = OpLayer(op, name=name) if isinstance(name, str) else OpLayer(op)

    def adapt(args, kwargs):
        args = list(args)
        if op == "get_item" and len(args) == 2:
            args[1] = _read_key(args[1], label)
        return args, {**kwargs, **params}
    return layer, adapt


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _read_key(key, label):
    if isinstance(key, list):
        return tuple(_read_key(k, label) for k in key)
    if isinstance(key, slice) or (isinstance(key, int) and not isinstance(key, bool)) or \
            key is None:
        return key
    raise ConfigError(f"{label}: GetItem index {key!r} is not supported (ints, slices and "
                      "None only).")
