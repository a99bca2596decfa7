"""Searching, counting and selecting (Keras 3 names): nonzero, unravel_index, argpartition,
searchsorted, digitize, histogram, bincount, unique, isin, select. Indices come back int32
as in Keras; `bincount` is differentiable in its `weights`, `select` in its choices."""
import numpy as np

from ._dispatch import op, value
from ._helpers import floating, floatx, is_floating, need, record, ub
from ..autodiff.tape import recording


@op
def nonzero(x):
    """The indices of the non-zero entries of `x`: a tuple of int32 arrays, one per axis."""
    return tuple(i.astype("int32") for i in np.nonzero(value(x)))


@op
def unravel_index(indices, shape):
    """Flat `indices` as a tuple of coordinate arrays into `shape` (int32)."""
    idx = np.asarray(value(indices))
    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape))
    if np.any(idx < 0) or np.any(idx >= size):
        raise ValueError(f"unravel_index: indices must lie in [0, {size}) for shape {shape}. "
                         f"Received: indices={idx.tolist()!r}")
    return tuple(i.astype("int32") for i in np.unravel_index(idx, shape))


@op
def argpartition(x, kth, axis=-1):
    """Indices that partition `x` along `axis` around its `kth` smallest entry (int32)."""
    return np.argpartition(value(x), kth, axis=axis).astype("int32")


_SIDES = ("left", "right")


@op
def searchsorted(sorted_sequence, values, side="left"):
    """Where `values` would be inserted in the 1-D `sorted_sequence` to keep it sorted (int32)."""
    if side not in _SIDES:
        raise ValueError(f"searchsorted: side must be 'left' or 'right'. Received: side={side!r}")
    seq = np.asarray(value(sorted_sequence))
    if seq.ndim != 1:
        raise ValueError("searchsorted: sorted_sequence must be 1-D. Received: shape "
                         f"{seq.shape}")
    return np.searchsorted(seq, value(values), side=side).astype("int32")


@op
def digitize(x, bins):
    """The index of the bin of `bins` (increasing) that each entry of `x` falls in (int32)."""
    return np.digitize(value(x), np.asarray(value(bins))).astype("int32")


@op
def histogram(x, bins=10, range=None):
    """`(counts, bin_edges)` of the 1-D `x` over `bins` equal bins spanning `range` (default:
    the data's min and max); both in `x`'s float dtype."""
    a, _ = floating(x)
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"histogram expects a 1-D tensor. Received: shape {a.shape}")
    if np.ndim(bins) != 0 or int(bins) <= 0:
        raise ValueError(f"histogram: bins must be a positive int. Received: bins={bins!r}")
    counts, edges = np.histogram(a, bins=int(bins), range=range)
    return counts.astype(a.dtype), edges.astype(a.dtype)


@op
def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts (int32) or summed `weights` of each value of the non-negative integer `x`
    (length `max(x) + 1`, at least `minlength`); a 2-D `x` counts each row. Differentiable in
    `weights`: entry i receives `dy[x[i]]`."""
    if sparse:
        raise ValueError("bincount: sparse=True is not supported (kerasnp has no sparse "
                         "tensors). Received: sparse=True")
    a = np.asarray(value(x))
    if a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        raise ValueError("bincount expects non-negative integers. Received: dtype "
                         f"{a.dtype}" + (f", min {a.min()}" if a.size else ""))
    if a.ndim not in (1, 2):
        raise ValueError(f"bincount expects a 1-D or 2-D tensor. Received: shape {a.shape}")
    n = max(int(a.max()) + 1 if a.size else 0, int(minlength))
    rows = a.reshape(-1, a.shape[-1]) if a.size else a.reshape(-1, max(a.shape[-1], 0))
    offs = np.arange(rows.shape[0])[:, None] * n
    flat = (rows + offs).ravel()
    if weights is None:
        out = np.bincount(flat, minlength=rows.shape[0] * n).astype("int32")
        return out.reshape(a.shape[:-1] + (n,))
    w = np.asarray(value(weights))
    dt = w.dtype if is_floating(w) else np.dtype(floatx())
    out = np.bincount(flat, weights=w.ravel(), minlength=rows.shape[0] * n).astype(dt)
    out = out.reshape(a.shape[:-1] + (n,))
    if not (recording() and need(weights, w)):
        return out
    return record(out, lambda dy: np.asarray(dy).reshape(-1)[flat].reshape(w.shape), weights)


@op
def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,
           axis=None, size=None, fill_value=None):
    """The unique values of `x` (flattened unless `axis`), optionally with the first indices,
    the inverse map and the counts, as NumPy's; `size` pads (with `fill_value`, default the
    smallest value) or truncates the results to a static length.

    Example:
        >>> ops.unique(np.array([3, 1, 3, 2]))
        array([1, 2, 3])
    """
    a = np.asarray(value(x))
    res = np.unique(a, return_index=True, return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis)
    vals, first = res[0], res[1]
    rest = list(res[2:])
    if not sorted:                      # order of first appearance
        order = np.argsort(first, kind="stable")
        vals = np.take(vals, order, axis=0 if axis is None else axis)
        first = first[order]
        rank = np.argsort(order)
        if return_inverse:
            rest[0] = rank[rest[0]]
        if return_counts:
            rest[-1] = rest[-1][order]
    outs = [vals] + ([first] if return_index else []) + rest
    if size is not None:
        outs = [_fit(o, int(size), fill_value if k == 0 else 0, k == 0 and axis is not None, axis)
                if not (return_inverse and k == 1 + int(return_index)) else o
                for k, o in enumerate(outs)]
    return outs[0] if len(outs) == 1 else tuple(outs)


def _fit(v, size, fill, along_axis, axis):
    ax = axis if along_axis else 0
    n = v.shape[ax]
    if n >= size:
        return np.take(v, np.arange(size), axis=ax)
    pad = [(0, 0)] * v.ndim
    pad[ax] = (0, size - n)
    fill = (v.min() if v.size else 0) if fill is None else fill
    return np.pad(v, pad, constant_values=fill)


@op
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each entry of `x1` is in `x2` (booleans; negated with `invert`)."""
    return np.isin(value(x1), value(x2), assume_unique=assume_unique, invert=invert)


@op
def select(condlist, choicelist, default=0):
    """Entry-wise, the choice of the first true condition (`default` where none is).
    Differentiable in the choices and in `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: condlist and choicelist must have the same length. Received: "
                         f"{len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    conds = [np.asarray(value(c)).astype(bool) for c in condlist]
    choices = [value(c) for c in choicelist]
    d = value(default)
    y = np.select(conds, choices, default=d)
    items = list(choicelist) + [default]
    vals = choices + [d]
    needs = [need(t, v) for t, v in zip(items, vals)]
    if not (recording() and any(needs)):
        return y
    taken, masks = np.zeros(y.shape, bool), []
    for c in conds:                     # the first true condition wins
        c = np.broadcast_to(c, y.shape)
        masks.append(c & ~taken)
        taken = taken | c
    masks.append(~taken)

    def vjp(dy):
        return tuple(ub(dy * m, v) if n else None for m, v, n in zip(masks, vals, needs))
    return record(y, vjp, *items)


__all__ = ["argpartition", "bincount", "digitize", "histogram", "isin", "nonzero", "searchsorted",
           "select", "unique", "unravel_index"]
