"""Creation, copies and dtype ops (Keras 3 names): array, copy, empty, empty_like, geomspace,
logspace, dtype, view, saturate_cast. `copy` and float-to-float `saturate_cast` carry
gradients; the rest make constants or reinterpret bits."""
import numpy as np

from ._dispatch import OPS, op, value
from ._helpers import floatx, is_floating, record, record_float


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)


@op
def array(x, dtype=None):
    """`x` as a new array (a Python list of floats gives floatx, of ints int32, as in Keras).
    A float tensor keeps its gradient (cast between float dtypes passes it too)."""
    a = value(x)
    if dtype is None and isinstance(x, (list, tuple, int, float)):
        kind = np.asarray(a).dtype.kind if np.size(a) else "f"
        dtype = floatx() if kind == "f" else ("int32" if kind in "iu" else None)
    y = np.array(a, dtype=dtype)
    if not (is_floating(y) and is_floating(np.asarray(a))):
        return y
    src = np.asarray(a).dtype
    return record(y, lambda dy: np.asarray(dy).astype(src), x)


@op
def copy(x):
    """A copy of `x` (the gradient passes through)."""
    a = value(x)
    return record_float(np.array(a, copy=True), lambda dy: dy, x, a)


@op
def empty(shape, dtype=None):
    """An uninitialised array of `shape` (floatx unless `dtype`); its values are arbitrary."""
    return np.empty(_shape(shape), dtype=np.dtype(floatx() if dtype is None else dtype))


@op
def empty_like(x, dtype=None):
    """An uninitialised array with the shape (and, unless `dtype`, the dtype) of `x`."""
    return np.empty_like(value(x), dtype=dtype)


@op
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`num` numbers spaced evenly on a log scale from `start` to `stop` (floatx unless
    `dtype`)."""
    dt = np.dtype(floatx() if dtype is None else dtype)
    return np.geomspace(value(start), value(stop), int(num), endpoint=endpoint, axis=axis) \
        .astype(dt)


@op
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """`base ** linspace(start, stop, num)` (floatx unless `dtype`)."""
    dt = np.dtype(floatx() if dtype is None else dtype)
    return np.logspace(value(start), value(stop), int(num), endpoint=endpoint, base=base,
                       axis=axis).astype(dt)


def dtype(x):
    """The dtype of `x` as a string (`"float32"`), as Keras's `ops.dtype` answers; a query, so
    a symbolic tensor answers from its own dtype without a graph node."""
    d = getattr(x, "dtype", None)
    if d is None:
        d = np.asarray(value(x)).dtype
    return np.dtype(d).name if not isinstance(d, str) else d


dtype.raw = dtype
OPS["dtype"] = dtype


@op
def view(x, dtype=None):
    """The bytes of `x` reinterpreted as `dtype` (the last axis rescales when item sizes
    differ). No gradient."""
    a = np.ascontiguousarray(value(x))
    return a.copy() if dtype is None else a.view(np.dtype(dtype))


@op
def saturate_cast(x, dtype):
    """`x` cast to `dtype` after clipping to that dtype's range (no integer wrap-around).
    Float-to-float casts pass the gradient inside the range."""
    a = np.asarray(value(x))
    dt = np.dtype(dtype)
    info = np.iinfo(dt) if dt.kind in "iu" else np.finfo(dt) if dt.kind == "f" else None
    if info is None:
        return a.astype(dt)
    lo, hi = info.min, info.max
    if a.dtype.kind == "f" and dt.kind in "iu":
        # the top bound may round up past the range as a float (2**63 - 1 -> 2**63)
        top = np.asarray(hi, a.dtype)
        hi = np.nextafter(top, a.dtype.type(0)) if float(top) > hi else top
    y = np.clip(a, lo, hi).astype(dt) if a.dtype.kind in "fiu" else a.astype(dt)
    if not (is_floating(a) and dt.kind == "f"):
        return y
    inside = (a >= lo) & (a <= hi)
    return record(y, lambda dy: (dy * inside).astype(a.dtype), x)


__all__ = ["array", "copy", "dtype", "empty", "empty_like", "geomspace", "logspace",
           "saturate_cast", "view"]
