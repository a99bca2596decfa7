"""The configs of functional and Sequential models: `get_config` and `from_config` bodies.

A functional config lists one entry per node (the layer's `{"class_name", "config"}`, its
`inbound` node ids and how it was called, see `graph_config.node_config`), plus `input_ids` and
`output_ids`; a layer called at several nodes (shared) is listed at each and rebuilt once, by
name. A Sequential config lists its layers. Rebuilding validates every index and name, since a
config may come from an untrusted file, and raises `ConfigError` naming the entry.
"""
from .._serializable import ConfigError, check_custom_objects
from ..layers.core import InputLayer
from ..layers.serialization import deserialize_layer, serialize_layer
from . import graph, graph_config


def functional_config(model):
    """The graph of a functional `model`: one entry per layer call, inputs and outputs."""
    refs = model._output_refs
    return {"name": model.name, "trainable": model.trainable, "layers": [
        {**serialize_layer(n.layer), **graph_config.node_config(n)} for n in model._nodes],
        "input_ids": list(model._input_ids), "output_ids": list(model._output_ids),
        **({"output_indices": [k for _, k in refs]} if any(k is not None for _, k in refs)
           else {}),
        "multi_input": model._multi_input, "multi_output": model._multi_output}


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild a functional model of class `cls` from `functional_config` output (shared layers
    are reused by name)."""
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
            tensors.append(graph.KerasTensor((layer.batch_size,) + layer.shape, layer, [],
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
            tensors.append(graph_config.call_from_config(layer, entry, args))
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


def sequential_config(model):
    """The layers of a Sequential `model` (its Input first, when it has one)."""
    layers = [serialize_layer(l) for l in model._stack]
    if model._input_layer is not None:
        layers.insert(0, serialize_layer(model._input_layer))
    return {"name": model.name, "trainable": model.trainable, "layers": layers}


def sequential_from_config(cls, config, custom_objects=None):
    """Rebuild a Sequential model of class `cls` from `sequential_config` output."""
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


def _int_list(value, what, upper):
    if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < upper for i in value):
        raise ConfigError(f"{what} must be a list of node indices in [0, {upper}). "
                          f"Received: {value!r}")
    return value
