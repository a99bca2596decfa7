"""Callback state in a backup: `get_state()` dicts to JSON plus arrays, and back.

A callback with state of its own (counters, a best value, a copy of the best weights) defines
`get_state()`, returning a dict of JSON values (None, bool, int, float, str, lists, dicts with
string keys) and NumPy arrays, and `set_state(state)`, taking that dict back. BackupAndRestore
stores each state in its backup's metadata, the arrays as array members, and hands them back to
the callback of the same class and position when the run resumes.
"""
import numbers

import numpy as np

from ..saving.checks import fail

_ARRAY = "__ndarray__"        # {"__ndarray__": k} stands for the k-th saved array


def stateful(callbacks, exclude):
    """`[(key, callback)]` for callbacks that define `get_state` and `set_state`.

    The key is the class name and the position among callbacks of that class (`"EarlyStopping:0"`),
    so a resumed run may add or drop callbacks of other classes.
    """
    out, seen = [], {}
    for cb in callbacks:
        if cb is exclude or not (callable(getattr(cb, "get_state", None))
                                 and callable(getattr(cb, "set_state", None))):
            continue
        name = type(cb).__name__
        out.append((f"{name}:{seen.get(name, 0)}", cb))
        seen[name] = seen.get(name, 0) + 1
    return out


def pack(state, arrays, owner):
    """`state` as JSON values, each NumPy array replaced by a reference into `arrays`."""
    if not isinstance(state, dict):
        raise TypeError(f"{owner}.get_state() must return a dict. Received: "
                        f"{type(state).__name__}")
    return _pack(state, arrays, owner, "state")


def _pack(value, arrays, owner, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{owner}.get_state(): {where} is an array of dtype {value.dtype}; "
                            "only bool, int and float arrays can be saved.")
        arrays.append(value.copy())
        return {_ARRAY: len(arrays) - 1}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_pack(v, arrays, owner, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or k == _ARRAY:
                raise TypeError(f"{owner}.get_state(): the keys of {where} must be strings "
                                f"other than {_ARRAY!r}. Received: {k!r}")
            out[k] = _pack(v, arrays, owner, f"{where}[{k!r}]")
        return out
    raise TypeError(f"{owner}.get_state(): {where} has type {type(value).__name__}; a state "
                    "holds None, bool, int, float, str, lists, dicts and NumPy arrays.")


def unpack(value, arrays, source):
    """The state `pack` made, with the saved arrays back in place."""
    if isinstance(value, list):
        return [unpack(v, arrays, source) for v in value]
    if isinstance(value, dict):
        if _ARRAY in value:
            k = value[_ARRAY]
            if len(value) != 1 or isinstance(k, bool) or not isinstance(k, int) \
                    or not 0 <= k < len(arrays):
                fail(source, f"a callback state refers to array {value!r}, but the backup "
                             f"holds {len(arrays)} arrays.", "metadata.json")
            return arrays[k]
        return {key: unpack(v, arrays, source) for key, v in value.items()}
    return value


# ----------------------------------------------------------------------------- set_state checks
def count(state, key, owner):
    """`state[key]` as an int >= 0 (a counter)."""
    value = _get(state, key, owner)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{owner}.set_state: '{key}' must be an int >= 0. "
                         f"Received: {key}={value!r}")
    return value


def number(state, key, owner, allow_none=False):
    """`state[key]` as a float (inf and NaN included: a best value may be either)."""
    value = _get(state, key, owner)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}.set_state: '{key}' must be a number"
                         + (" or None" if allow_none else "") + f". Received: {key}={value!r}")
    return float(value)


def arrays_or_none(state, key, owner):
    value = _get(state, key, owner)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(a, np.ndarray) for a in value):
        raise ValueError(f"{owner}.set_state: '{key}' must be a list of NumPy arrays or None. "
                         f"Received: {type(value).__name__}")
    return value


def _get(state, key, owner):
    if not isinstance(state, dict) or key not in state:
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{owner}.set_state: the state must be a dict with '{key}'. "
                         f"Received: {keys}")
    return state[key]


# ----------------------------------------------------------------------------- discovery
