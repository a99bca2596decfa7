"""Diagonals and norms (Keras 3 names): diagonal, diag, trace, norm.

The diagonal's gradient scatters back onto the diagonal of zeros; the Euclidean norm is one node
whose gradient `x / ‖x‖` is taken as 0 at `x = 0` (not NaN); other norms are compositions of
ops, differentiated op by op.
"""
import numpy as np

from ._arith import power
from ._dispatch import op, value
from ._elementwise import abs as _abs
from ._helpers import expand_back, record_float
from ._reduce import max as _max, min as _min, sum as _sum


def _diag_index(n, offset):
    i = np.arange(n)
    return i + max(-offset, 0), i + max(offset, 0)         # rows, columns of the diagonal


@op
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The `offset` diagonal of `x` over `axis1`, `axis2` (appended as the last axis)."""
    a = np.asarray(value(x))
    y = np.diagonal(a, offset, axis1, axis2).copy()

    def vjp(dy):            # scatter dy back onto the diagonal of zeros
        g = np.zeros(a.shape, dtype=dy.dtype)
        rows, cols = _diag_index(dy.shape[-1], offset)
        np.moveaxis(g, (axis1, axis2), (-2, -1))[..., rows, cols] = dy
        return g
    return record_float(y, vjp, x, a)


@op
def diag(x, k=0):
    """The `k`-th diagonal of a matrix, or a matrix with the vector `x` on its `k`-th diagonal."""
    a = np.asarray(value(x))
    if a.ndim == 2:
        return diagonal.raw(x, k)
    if a.ndim != 1:
        raise ValueError(f"diag: x must be 1-D or 2-D. Received: x.shape={a.shape}")
    return record_float(np.diag(a, k), lambda dy: np.diagonal(dy, k).copy(), x, a)


@op
def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the `offset` diagonal of `x` over `axis1`, `axis2`."""
    return _sum.raw(diagonal.raw(x, offset, axis1, axis2), axis=-1)


def _two_norm(x, a, axis, keepdims):
    y = np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))

    def vjp(dy):            # d‖a‖ = a / ‖a‖, taken as 0 at a = 0 (not NaN)
        ye = expand_back(y, a.ndim, axis, keepdims)
        inv = np.divide(1.0, ye, out=np.zeros(ye.shape, dtype=ye.dtype), where=ye > 0)
        return expand_back(dy, a.ndim, axis, keepdims) * inv * a
    return record_float(y, vjp, x, a)


@op
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norm along `axis` (an int; None: the flattened input for ord None), or the
    Frobenius norm over two axes: `ord` None/2 (Euclidean), 1, inf, -inf, any p > 0, 'fro'."""
    a = np.asarray(value(x))
    ax = tuple(int(i) % a.ndim for i in axis) if isinstance(axis, (tuple, list)) else axis
    if isinstance(ax, tuple) and len(ax) == 2:
        if ord not in (None, "fro"):
            raise NotImplementedError(f"norm: matrix norm ord={ord!r} is not supported; use "
                                      f"None or 'fro'. Received: ord={ord!r}")
        return _two_norm(x, a, ax, keepdims)
    if ord in (None, 2, "fro"):
        return _two_norm(x, a, ax, keepdims)
    if ax is None and a.ndim != 1:
        raise ValueError(f"norm: ord={ord!r} needs axis for an input of rank {a.ndim}. "
                         f"Received: axis=None")
    if ord == np.inf:
        return _max.raw(_abs.raw(x), axis=ax, keepdims=keepdims)
    if ord == -np.inf:
        return _min.raw(_abs.raw(x), axis=ax, keepdims=keepdims)
    if ord == 1:
        return _sum.raw(_abs.raw(x), axis=ax, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        return power.raw(_sum.raw(power.raw(_abs.raw(x), ord), axis=ax, keepdims=keepdims),
                         1.0 / ord)
    raise ValueError(f"norm: ord must be None, 'fro', inf, -inf or a positive number. "
                     f"Received: ord={ord!r}")


__all__ = ["diag", "diagonal", "norm", "trace"]
