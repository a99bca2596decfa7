"""Indexing ops: `x[key]` (get_item), slice, slice_update, take, take_along_axis.

The gradient of a gather is a scatter: into zeros of the input's shape, plain assignment where
no element can be picked twice (basic slices, boolean masks), `np.add.at` where repeated
indices must accumulate.
"""
import builtins

import numpy as np

from ._dispatch import Tensor, op, value
from ._helpers import is_floating, need, record, record_float
from ..variables import Variable


def _key(key):
    """An index with Tensors/Variables (also inside tuples and lists) replaced by arrays."""
    if isinstance(key, tuple):
        return tuple(_key(k) for k in key)
    if type(key) is Tensor or isinstance(key, Variable):
        return key.value
    if isinstance(key, list) and builtins.any(type(k) is Tensor or isinstance(k, Variable)
                                              for k in key):
        return np.asarray([value(k) for k in key])
    return key


def _assignable(key):
    """True when `g[key] = dy` is the exact scatter: no element is selected twice."""
    for k in key if isinstance(key, tuple) else (key,):
        if k is None or k is Ellipsis or isinstance(k, builtins.slice):
            continue
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            continue
        if isinstance(k, np.ndarray) and k.dtype == bool:
            continue
        return False
    return True


def gather(x, a, key):
    """`a[key]` recorded with its scatter VJP (used by get_item, slice, split, unstack)."""
    y = np.asarray(a[key])
    if _assignable(key):
        def vjp(dy):
            g = np.zeros(a.shape, dtype=np.result_type(dy))
            g[key] = dy
            return g
    else:
        def vjp(dy):
            g = np.zeros(a.shape, dtype=np.result_type(dy))
            np.add.at(g, key, dy)
            return g
    return record_float(y, vjp, x, a)


@op
def get_item(x, key):
    """`x[key]`, NumPy's basic and advanced indexing (what `tensor[...]` calls)."""
    return gather(x, np.asarray(value(x)), _key(key))


def _ints(v):
    return [int(value(i)) for i in (v if isinstance(v, (list, tuple)) else np.asarray(value(v)))]


@op
def slice(inputs, start_indices, shape):
    """The block of `inputs` that starts at `start_indices` and has `shape` (-1: to the end)."""
    a = np.asarray(value(inputs))
    starts, sizes = _ints(start_indices), _ints(shape)
    if len(starts) != a.ndim or len(sizes) != a.ndim:
        raise ValueError(f"slice: start_indices and shape need one entry per axis of the input "
                         f"(rank {a.ndim}). Received: start_indices={starts}, shape={sizes}")
    key = tuple(builtins.slice(s, None if n == -1 else s + n) for s, n in zip(starts, sizes))
    return gather(inputs, a, key)


@op
def slice_update(inputs, start_indices, updates):
    """A copy of `inputs` with the block at `start_indices` replaced by `updates`."""
    a, u = np.asarray(value(inputs)), np.asarray(value(updates))
    starts = _ints(start_indices)
    if len(starts) != a.ndim or u.ndim != a.ndim:
        raise ValueError(f"slice_update: start_indices and updates need the input's rank "
                         f"{a.ndim}. Received: start_indices={starts}, updates shape {u.shape}")
    key = tuple(builtins.slice(s, s + n) for s, n in zip(starts, u.shape))
    y = a.copy()
    y[key] = u
    n1, n2 = need(inputs, a), need(updates, u)
    if not (n1 or n2):
        return y

    def vjp(dy):
        da = None
        if n1:                                       # the overwritten block gets nothing
            da = np.array(dy, copy=True)
            da[key] = 0
        return da, (np.array(dy[key]) if n2 else None)
    return record(y, vjp, inputs, updates)


def _indices(indices):
    idx = np.asarray(value(indices))
    if idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and idx.size and np.all(idx == np.round(idx)):
            return idx.astype(np.int64)
        if idx.size:
            raise TypeError(f"Indices must be integers. Received: dtype={idx.dtype}")
        idx = idx.astype(np.int64)
    return idx


@op
def take(x, indices, axis=None):
    """Elements of `x` at `indices` along `axis` (None: in the flattened input)."""
    a, idx = np.asarray(value(x)), _indices(indices)
    y = np.take(a, idx, axis=axis)
    if not is_floating(a):
        return y

    def vjp(dy):
        dy = np.asarray(dy)
        if axis is None:
            g = np.zeros(a.size, dtype=dy.dtype)
            np.add.at(g, idx.ravel(), dy.ravel())
            return g.reshape(a.shape)
        ax, k = axis % a.ndim, idx.ndim
        g = np.zeros(a.shape, dtype=dy.dtype)
        np.add.at(np.moveaxis(g, ax, 0), idx,        # scatter-add along the taken axis
                  np.moveaxis(dy, list(range(ax, ax + k)), list(range(k))))
        return g
    return record(y, vjp, x)


@op
def take_along_axis(x, indices, axis=None):
    """`x` picked at `indices` along `axis`, indices shaped like `x` (NumPy's rule)."""
    a, idx = np.asarray(value(x)), _indices(indices)
    y = np.take_along_axis(a, idx, axis=axis)
    if not is_floating(a):
        return y

    def vjp(dy):
        dy = np.asarray(dy)
        if axis is None:
            g = np.zeros(a.size, dtype=dy.dtype)
            np.add.at(g, idx, dy)
            return g.reshape(a.shape)
        ax, nd = axis % a.ndim, a.ndim
        full = []
        for d in range(nd):
            if d == ax:
                full.append(np.broadcast_to(idx, dy.shape))
                continue
            ar = np.arange(dy.shape[d]) if a.shape[d] == dy.shape[d] else \
                np.zeros(dy.shape[d], dtype=np.intp)        # a broadcast axis of size 1
            full.append(ar.reshape([-1 if i == d else 1 for i in range(nd)]))
        g = np.zeros(a.shape, dtype=dy.dtype)
        np.add.at(g, tuple(full), dy)
        return g
    return record(y, vjp, x)


__all__ = ["get_item", "slice", "slice_update", "take", "take_along_axis"]
