"""NumPy-like ops with their VJPs (Keras 3's `keras.ops` names and signatures).

Pattern: compute with NumPy on `value(x)`, then `record(y, vjp, *inputs)`; `vjp(dy)` returns one
gradient per input, reduced to the input's shape with `unbroadcast`. Outside a tape `record`
returns `y` as it is, so these are plain NumPy calls.
"""
import numpy as np

from ._dispatch import op, record, unbroadcast, value
from ..autodiff.tape import Tensor, stop_recording


# -- conversion ------------------------------------------------------------------------------
@op
def convert_to_tensor(x, dtype=None, sparse=None):
    """`x` as an array (a Tensor stays a Tensor, a Variable gives its value)."""
    if type(x) is Tensor:
        return x if dtype is None or x.dtype == dtype else cast(x, dtype)
    a = value(x)
    return a if dtype is None else a.astype(dtype, copy=False)


def convert_to_numpy(x):
    """The NumPy array behind `x` (a tensor, variable, list or array)."""
    return np.asarray(value(x))


def is_tensor(x):
    return isinstance(x, (np.ndarray, Tensor))


@op
def cast(x, dtype):
    """`x` converted to `dtype` (gradient flows between float types)."""
    a = value(x)
    dtype = np.dtype(dtype)
    y = a.astype(dtype)
    if dtype.kind not in "fc" or a.dtype.kind not in "fc":
        return y
    return record(y, lambda dy: dy.astype(a.dtype), x)


@op
def stop_gradient(variable):
    """The same values, with no gradient flowing back."""
    return value(variable)


# -- arithmetic ------------------------------------------------------------------------------
@op
def add(x1, x2):
    a, b = value(x1), value(x2)
    y = a + b
    return record(y, lambda dy: (unbroadcast(dy, np.shape(a)), unbroadcast(dy, np.shape(b))), x1, x2)


@op
def subtract(x1, x2):
    a, b = value(x1), value(x2)
    y = a - b
    return record(y, lambda dy: (unbroadcast(dy, np.shape(a)), unbroadcast(-dy, np.shape(b))), x1, x2)


@op
def multiply(x1, x2):
    a, b = value(x1), value(x2)
    y = a * b
    return record(y, lambda dy: (unbroadcast(dy * b, np.shape(a)),   # d(ab)/da = b
                                 unbroadcast(dy * a, np.shape(b))), x1, x2)


@op
def matmul(x1, x2):
    """Matrix product with NumPy's `@` rules (1-D and batched operands included)."""
    a, b = value(x1), value(x2)
    y = a @ b

    def vjp(dy):
        if a.ndim == 1 and b.ndim == 1:                 # dot product: dy is a scalar
            return dy * b, dy * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        d = dy
        if a.ndim == 1:
            d = np.expand_dims(d, -2)
        if b.ndim == 1:
            d = np.expand_dims(d, -1)
        da = d @ np.swapaxes(b2, -1, -2)               # dA = dY·Bᵀ
        db = np.swapaxes(a2, -1, -2) @ d               # dB = Aᵀ·dY
        if a.ndim == 1:
            da = da[..., 0, :]
        if b.ndim == 1:
            db = db[..., :, 0]
        return unbroadcast(da, a.shape), unbroadcast(db, b.shape)
    return record(y, vjp, x1, x2)


# -- reductions ------------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(int(a) % ndim for a in axes)) if ndim else ()


def _expand_back(g, shape, axis, keepdims):
    """Re-insert reduced axes into `g` so that it broadcasts against the input shape."""
    if not keepdims:
        g = np.expand_dims(g, _axes(axis, len(shape)))
    return g


@op
def sum(x, axis=None, keepdims=False):
    a = value(x)
    y = np.sum(a, axis=_tuple(axis), keepdims=keepdims)
    return record(y, lambda dy: np.broadcast_to(_expand_back(dy, a.shape, axis, keepdims),
                                                a.shape).copy(), x)


def _tuple(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# -- elementwise math ------------------------------------------------------------------------
@op
def exp(x):
    a = value(x)
    y = np.exp(a)
    return record(y, lambda dy: dy * y, x)            # d eˣ = eˣ


# -- indexing --------------------------------------------------------------------------------
def _key(key):
    """An index with Tensors/Variables replaced by their arrays."""
    if isinstance(key, tuple):
        return tuple(_key(k) for k in key)
    if type(key) is Tensor or hasattr(key, "_tape_trainable"):
        return value(key)
    return key


@op
def get_item(x, key):
    """`x[key]` (basic and advanced indexing); the gradient scatters back with `np.add.at`."""
    a = value(x)
    k = _key(key)
    y = a[k]

    def vjp(dy):
        g = np.zeros_like(a)
        np.add.at(g, k, dy)
        return g
    return record(np.asarray(y), vjp, x)


__all__ = ['add', 'cast', 'convert_to_numpy', 'convert_to_tensor', 'exp', 'get_item', 'is_tensor', 'matmul', 'multiply', 'stop_gradient', 'subtract', 'sum']
