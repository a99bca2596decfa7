"""Helpers shared by the `_np_*` op modules: Keras's dtype rules for binary float ops, a binary
recorder, and `remap`, the one-node VJP of every op that only moves, copies or zero-fills
elements (flips, rotations, stacks, splits, diagflat, kron's tiling...)."""
import numpy as np

from .. import config
from ..autodiff.tape import recording
from ._arith import _record2 as record2  # noqa: F401  (one binary recorder for all ops)
from ._dispatch import value
from ._helpers import kind, need, record


def fpair(x1, x2):
    """`(a, b)` as floats by Keras's rule: ints to floatx when both are ints, else to the other
    operand's float dtype (float32 with int32 stays float32, where NumPy would say float64)."""
    a, b = value(x1), value(x2)
    ka, kb = kind(a), kind(b)
    if ka not in "fc" and kb not in "fc":
        dt = config.floatx()
        return np.asarray(a, dtype=dt), np.asarray(b, dtype=dt)
    if ka not in "fc":
        a = np.asarray(a, dtype=_float_of(b))
    elif kb not in "fc":
        b = np.asarray(b, dtype=_float_of(a))
    return a, b


def _float_of(v):
    """The float dtype an operand imposes: its own, or floatx for a (weak) Python float."""
    return config.floatx() if isinstance(v, (float, complex)) and not isinstance(v, np.generic) \
        else np.result_type(v)


def _sources(arrays):
    """Per input, an int array of the same shape numbering its elements from 1 (0: no source)."""
    out, start = [], 1
    for a in arrays:
        out.append(np.arange(start, start + a.size).reshape(a.shape))
        start += a.size
    return out, start


def _back(idx, arrays, needs, total):
    def vjp(dy):
        g = np.bincount(idx.ravel(), weights=np.asarray(dy, dtype=np.float64).ravel(),
                        minlength=total)
        parts, start = [], 1
        for a, n in zip(arrays, needs):
            parts.append(g[start:start + a.size].reshape(a.shape).astype(a.dtype) if n else None)
            start += a.size
        return parts[0] if len(parts) == 1 else tuple(parts)
    return vjp


def remap(f, *xs):
    """`f(*values)` for an `f` that only moves, copies or zero-fills elements, recorded with its
    exact VJP: `f` run once more on element numbers tells where each output came from, and the
    gradient is `dy` summed back onto those sources (copies add up, fills get nothing)."""
    arrays = [np.asarray(value(x)) for x in xs]
    y = f(*arrays)
    if not recording():
        return y
    needs = [need(x, a) for x, a in zip(xs, arrays)]
    if not any(needs):
        return y
    ids, total = _sources(arrays)
    return record(y, _back(np.asarray(f(*ids)), arrays, needs, total), *xs)


def remap_list(f, x):
    """`remap` for an `f` that returns a list of arrays (the splits): one node per piece."""
    a = np.asarray(value(x))
    ys = f(a)
    if not (recording() and need(x, a)):
        return list(ys)
    ids, total = _sources([a])
    return [record(y, _back(np.asarray(i), [a], [True], total), x) for y, i in zip(ys, f(ids[0]))]


def int_only(name, *arrays):
    """Raise a TypeError naming op `name` unless every array is integer or boolean."""
    for a in arrays:
        if kind(a) not in "iub":
            raise TypeError(f"{name} expects integer or boolean inputs. Received: dtype="
                            f"{np.result_type(a)}")
