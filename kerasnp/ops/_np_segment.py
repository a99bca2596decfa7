"""Segment reductions and scatters (Keras 3 names) with their VJPs: segment_sum, segment_max,
segment_min, segment_prod reduce the rows of `data` that share a segment id; scatter builds a
tensor from `values` at `indices`; scatter_update writes `updates` into `inputs`. Empty
segments give 0, -inf, +inf and 1 as in Keras."""
import numpy as np

from ..autodiff.tape import recording
from ._dispatch import op, value
from ._helpers import is_floating, need, record


def _segments(name, data, segment_ids, num_segments):
    a = np.asarray(value(data))
    ids = np.asarray(value(segment_ids))
    if ids.dtype.kind not in "iu" or ids.ndim != 1 or a.ndim < 1 or ids.shape[0] != a.shape[0]:
        raise ValueError(f"{name}: segment_ids must be 1-D integers, one per row of data. "
                         f"Received: segment_ids shape {ids.shape} dtype {ids.dtype}, data "
                         f"shape {a.shape}")
    n = int(num_segments) if num_segments is not None else (int(ids.max()) + 1 if ids.size
                                                            else 0)
    keep = (ids >= 0) & (ids < n)       # ids outside [0, n) are dropped, as in Keras
    return a, ids, n, keep


@op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sum of the rows of `data` in each segment: `out[s] = Σ data[i] for segment_ids[i] == s`.

    Example:
        >>> ops.segment_sum(np.array([1.0, 5.0, 2.0]), np.array([0, 0, 2]))
        array([6., 0., 2.])
    """
    a, ids, n, keep = _segments("segment_sum", data, segment_ids, num_segments)
    out = np.zeros((n,) + a.shape[1:], dtype=a.dtype)
    np.add.at(out, ids[keep], a[keep])
    if not is_floating(a):
        return out

    def vjp(dy):
        g = np.zeros_like(a)
        g[keep] = np.asarray(dy)[ids[keep]]
        return g
    return record(out, vjp, data)


def _extreme(name, ufunc, empty, data, segment_ids, num_segments):
    a, ids, n, keep = _segments(name, data, segment_ids, num_segments)
    fill = empty if is_floating(a) else (np.iinfo(a.dtype).min if ufunc is np.maximum
                                         else np.iinfo(a.dtype).max)
    out = np.full((n,) + a.shape[1:], fill, dtype=a.dtype)
    ufunc.at(out, ids[keep], a[keep])
    if not is_floating(a):
        return out

    def vjp(dy):                        # to the rows holding the extreme, shared at ties
        hit = np.zeros(a.shape, bool)
        hit[keep] = a[keep] == out[ids[keep]]
        cnt = np.zeros(out.shape)
        np.add.at(cnt, ids[keep], hit[keep])
        g = np.zeros_like(a)
        g[keep] = hit[keep] * np.asarray(dy)[ids[keep]] / np.maximum(cnt[ids[keep]], 1)
        return g
    return record(out, vjp, data)


@op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maximum of the rows of `data` in each segment (-inf for an empty one)."""
    return _extreme("segment_max", np.maximum, -np.inf, data, segment_ids, num_segments)


@op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minimum of the rows of `data` in each segment (+inf for an empty one)."""
    return _extreme("segment_min", np.minimum, np.inf, data, segment_ids, num_segments)


@op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Product of the rows of `data` in each segment (1 for an empty one)."""
    a, ids, n, keep = _segments("segment_prod", data, segment_ids, num_segments)
    out = np.ones((n,) + a.shape[1:], dtype=a.dtype)
    np.multiply.at(out, ids[keep], a[keep])
    if not is_floating(a):
        return out

    def vjp(dy):                        # ∏ of the segment's other rows, exact with zeros
        dy = np.asarray(dy)
        g = np.zeros_like(a)
        for s in np.unique(ids[keep]):
            rows = np.flatnonzero(keep & (ids == s))
            part = a[rows]
            ones = np.ones((1,) + part.shape[1:], a.dtype)
            left = np.cumprod(np.concatenate([ones, part[:-1]]), axis=0)
            right = np.cumprod(np.concatenate([ones, part[:0:-1]]), axis=0)[::-1]
            g[rows] = left * right * dy[s]
        return g
    return record(out, vjp, data)


def _index_rows(name, indices, shape):
    idx = np.asarray(value(indices))
    if idx.dtype.kind not in "iu" or idx.ndim < 1 or idx.shape[-1] > len(shape):
        raise ValueError(f"{name}: indices must be integers of shape (..., k) with k <= "
                         f"{len(shape)} (the rank). Received: shape {idx.shape}, dtype "
                         f"{idx.dtype}")
    return tuple(np.moveaxis(idx, -1, 0))


@op
def scatter(indices, values, shape):
    """A zero tensor of `shape` with `values` added at `indices` (`(..., k)` index rows into
    the first k axes; repeated indices add up). Differentiable in `values`."""
    shape = tuple(int(s) for s in shape)
    where = _index_rows("scatter", indices, shape)
    v = np.asarray(value(values))
    out = np.zeros(shape, dtype=v.dtype)
    np.add.at(out, where, v)
    if not (recording() and need(values, v)):
        return out
    return record(out, lambda dy: np.asarray(dy)[where].reshape(v.shape), values)


_REDUCTIONS = {None: None, "add": np.add, "max": np.maximum, "min": np.minimum,
               "mul": np.multiply}


@op
def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written at `indices` (`(n, k)` index rows); `reduction` None
    (replace, the last write wins), "add", "max", "min" or "mul" combines them with what is
    there. Differentiable in `inputs` and `updates` for None and "add"."""
    if reduction not in _REDUCTIONS:
        raise ValueError("scatter_update: reduction must be one of None, 'add', 'max', 'min', "
                         f"'mul'. Received: reduction={reduction!r}")
    a = np.asarray(value(inputs))
    where = _index_rows("scatter_update", indices, a.shape)
    u = np.asarray(value(updates))
    out = a.copy()
    if reduction is None:
        out[where] = u
    else:
        _REDUCTIONS[reduction].at(out, where, u.astype(a.dtype, copy=False))
    n1, n2 = need(inputs, a), need(updates, u)
    if not (recording() and (n1 or n2)) or reduction not in (None, "add"):
        return out
    if reduction is None:               # which update each written slot finally holds
        written = np.zeros(a.shape, bool)
        written[where] = True
        last = np.full(a.shape[:len(where)], -1)
        last[where] = np.arange(len(where[0]))
        won = last[where] == np.arange(len(where[0]))

    def vjp(dy):
        dy = np.asarray(dy)
        if reduction == "add":
            return (dy if n1 else None, dy[where].reshape(u.shape) if n2 else None)
        gu = (dy[where] * won.reshape((-1,) + (1,) * (dy[where].ndim - 1))).reshape(u.shape)
        return (np.where(written, 0, dy) if n1 else None, gu if n2 else None)
    return record(out, vjp, inputs, updates)


__all__ = ["scatter", "scatter_update", "segment_max", "segment_min", "segment_prod",
           "segment_sum"]
