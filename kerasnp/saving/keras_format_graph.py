"""The graph part of a Keras functional config: the tensors of `inbound_nodes` and of
`input_layers` / `output_layers`, found through their `keras_history` `[layer name, node index,
tensor index]`.
"""
from .._serializable import ConfigError


def node_call(node, outputs, where):
    """`(args, kwargs)` of one inbound node, the tensors looked up in `outputs` (KeyError while
    one is not computed yet)."""
    if not isinstance(node, dict) or not isinstance(node.get("args", []), list) or \
            not isinstance(node.get("kwargs", {}), dict):
        raise ConfigError(f"{where}: an inbound node must be {{'args': [...], 'kwargs': {{}}}} "
                          f"(Keras 3). Received: {str(node)[:200]}")
    args = [_tensors(a, outputs, where) for a in node.get("args", [])]
    kwargs = {k: _tensors(v, outputs, where) for k, v in node.get("kwargs", {}).items()
              if v is not None}
    return args, kwargs


def _tensors(value, outputs, where):
    if isinstance(value, list):
        return [_tensors(v, outputs, where) for v in value]
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return _history(value.get("config", {}).get("keras_history"), outputs, where)
        if value.get("class_name") == "__slice__":
            return _slice(value.get("config"), where)
        if "class_name" in value:
            raise ConfigError(f"{where}: call argument {value.get('class_name')!r} is not "
                              "supported.")
        return {k: _tensors(v, outputs, where) for k, v in value.items()}
    return value


def _slice(cfg, where):
    parts = [cfg.get(k) for k in ("start", "stop", "step")] if isinstance(cfg, dict) else None
    if parts is None or not all(v is None or (isinstance(v, int) and not isinstance(v, bool))
                                for v in parts):
        raise ConfigError(f"{where}: a '__slice__' needs int or null start, stop and step. "
                          f"Received: {cfg!r}")
    return slice(*parts)


def _history(history, outputs, where):
    if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                    for i in history[1:])):
        raise ConfigError(f"{where}: bad keras_history {history!r}.")
    name, node, index = history
    out = outputs[(name, node)]                       # KeyError: not computed yet
    if isinstance(out, (list, tuple)):
        if index >= len(out):
            raise ConfigError(f"{where}: keras_history {history!r} names output {index} of a "
                              f"layer with {len(out)} outputs.")
        return out[index]
    if index != 0:
        raise ConfigError(f"{where}: keras_history {history!r} names output {index} of a "
                          "single-output layer.")
    return out


def endpoints(spec, outputs, shifted, where):
    """The tensors named by `input_layers` / `output_layers`, and whether they are a list."""
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
        return [_endpoint(spec, outputs, shifted, where)], False
    if isinstance(spec, list) and spec and all(isinstance(s, list) for s in spec):
        return [_endpoint(s, outputs, shifted, where) for s in spec], True
    raise ConfigError(f"{where} must be [name, node, index] or a list of them. Received: "
                      f"{spec!r}")


def _endpoint(spec, outputs, shifted, where):
    if spec[0] in shifted and isinstance(spec[1], int) and spec[1] >= 1:
        spec = [spec[0], spec[1] - 1, spec[2]]
    try:
        return _history(spec, outputs, where)
    except KeyError:
        raise ConfigError(f"{where}: {spec!r} names no computed tensor.") from None
