"""Sorting ops (Keras 3 names): sort, argsort, top_k, in_top_k.

A sort is a gather at the sorting indices, so its gradient is `take_along_axis`'s scatter.
"""
import numpy as np

from ._dispatch import op, value
from ._indexing import take_along_axis


@op
def argsort(x, axis=-1):
    """Indices that sort `x` along `axis` (ascending, stable; None: flattened)."""
    return np.argsort(value(x), axis=axis, kind="stable")


@op
def sort(x, axis=-1):
    """`x` sorted along `axis` (ascending; None: flattened); the gradient follows the values."""
    a = np.asarray(value(x))
    idx = np.argsort(a, axis=axis, kind="stable")
    return take_along_axis.raw(x, idx, axis=axis)


@op
def top_k(x, k, sorted=True):
    """`(values, indices)` of the `k` largest entries along the last axis, largest first."""
    a = np.asarray(value(x))
    k = int(k)
    if not 0 < k <= a.shape[-1]:
        raise ValueError(f"top_k: k must be in [1, {a.shape[-1]}] for a last axis of size "
                         f"{a.shape[-1]}. Received: k={k}")
    idx = np.argsort(-a, axis=-1, kind="stable")[..., :k]   # ties: the lower index first
    return take_along_axis.raw(x, idx, axis=-1), idx


@op
def in_top_k(targets, predictions, k):
    """Per row, whether `predictions[row, targets[row]]` is among the `k` largest (ties count)."""
    p = np.asarray(value(predictions))
    t = np.asarray(value(targets)).astype(np.int64)
    kth = -np.partition(-p, int(k) - 1, axis=-1)[..., int(k) - 1]
    return np.take_along_axis(p, t[..., None], axis=-1)[..., 0] >= kth


__all__ = ["argsort", "in_top_k", "sort", "top_k"]
