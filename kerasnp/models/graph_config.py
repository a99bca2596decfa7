"""A graph node's call as JSON: `node_config` writes it, `call_from_config` replays it.

Only references to the inbound tensors, numbers, strings, slices, tuples, dicts and small
numeric arrays are written, and only those forms are read back: no code, no names to import.
"""
from .graph import _Ref, fill


def node_config(node):
    """The JSON entries that describe how a node calls its layer (beyond `inbound`)."""
    out = {"inbound": list(node.inputs)}
    if any(k is not None for k in node.indices):
        out["indices"] = list(node.indices)
    if node.args is not None:
        out["call"] = {"args": _encode(list(node.args)), "kwargs": _encode(dict(node.kwargs))}
    elif node.list_input and len(node.inputs) == 1:
        out["list_input"] = True
    return out


def call_from_config(layer, entry, values):
    """Call `layer` on `values` (the inbound tensors) the way `node_config` recorded it."""
    call = entry.get("call")
    if call is None:
        x = values if (entry.get("list_input") or len(values) > 1) else values[0]
        return layer(x)
    if not isinstance(call, dict):
        raise ValueError("'call' must be an object with 'args' and 'kwargs'.")
    args = _decode(call.get("args", []), len(values))
    kwargs = _decode(call.get("kwargs", {}), len(values))
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError("'call' must hold an 'args' list and a 'kwargs' object.")
    return layer(*fill(args, values), **fill(kwargs, values))


def _encode(x):
    if isinstance(x, _Ref):
        return {"__ref__": x.k}
    if isinstance(x, slice):
        return {"__slice__": [_encode(x.start), _encode(x.stop), _encode(x.step)]}
    if x is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(x, tuple):
        return {"__tuple__": [_encode(v) for v in x]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if isinstance(x, dict):
        if not all(isinstance(k, str) for k in x):
            raise TypeError(f"cannot save a call argument dict with non-string keys: {x!r}")
        return {"__dict__": {k: _encode(v) for k, v in x.items()}}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    import numpy as np
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray) and x.size <= 4096 and x.dtype.kind in "biuf":
        return {"__array__": x.tolist(), "dtype": x.dtype.name}
    raise TypeError(f"cannot save a call argument of type {type(x).__name__} in a model "
                    f"config (numbers, strings, slices, small arrays and lists are saved). "
                    f"Received: {x!r}")


def _decode(x, n_refs):
    if isinstance(x, list):
        return [_decode(v, n_refs) for v in x]
    if isinstance(x, dict):
        if len(x) == 1 and "__ref__" in x:
            k = x["__ref__"]
            if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < n_refs:
                raise ValueError(f"call reference {k!r} is out of range [0, {n_refs}).")
            return _Ref(k)
        if len(x) == 1 and "__slice__" in x and isinstance(x["__slice__"], list) \
                and len(x["__slice__"]) == 3:
            parts = [_decode(v, n_refs) for v in x["__slice__"]]
            if not all(p is None or (isinstance(p, int) and not isinstance(p, bool))
                       for p in parts):
                raise ValueError(f"slice bounds must be ints or null. Received: {parts!r}")
            return slice(*parts)
        if x == {"__ellipsis__": True}:
            return Ellipsis
        if len(x) == 1 and "__tuple__" in x and isinstance(x["__tuple__"], list):
            return tuple(_decode(v, n_refs) for v in x["__tuple__"])
        if len(x) == 1 and "__dict__" in x and isinstance(x["__dict__"], dict):
            return {str(k): _decode(v, n_refs) for k, v in x["__dict__"].items()}
        if set(x) == {"__array__", "dtype"} and x["dtype"] in (
                "bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32",
                "float64"):
            import numpy as np
            a = np.asarray(x["__array__"], dtype=x["dtype"])
            if a.size > 4096:
                raise ValueError("a saved call argument array is larger than 4096 entries.")
            return a
        raise ValueError(f"unknown call argument form {sorted(x)!r}.")
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise ValueError(f"unknown call argument of type {type(x).__name__}.")
