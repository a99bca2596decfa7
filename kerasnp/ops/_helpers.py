"""Small helpers the numpy-like ops share: float promotion, "does this input need a gradient",
axis normalisation and the reduction/broadcast rules of gradients."""
import numpy as np

from .. import config
from ._dispatch import is_tracked, record as _record, unbroadcast, value


def kind(a):
    """The dtype kind of an array or Python scalar (`a.dtype` is the fast path)."""
    return a.dtype.kind if type(a) is np.ndarray else np.result_type(a).kind


def floating(x):
    """`(a, differentiable)`: `value(x)`, with integers and booleans cast to floatx (as Keras
    does for `exp`, `sqrt`, `sin`...), and whether it can carry a gradient (it was floating)."""
    a = value(x)
    if kind(a) in "fc":
        return a, True
    return np.asarray(a, dtype=config.floatx()), False


def is_floating(a):
    return kind(a) in "fc"


def need(x, a):
    """Whether input `x` (value `a`) needs a gradient: tracked on a recording tape and floating.

    Call it in an op's forward: the VJP then skips the gradients nobody asked for (the input
    data of a model, a constant operand)."""
    return is_tracked(x) and kind(a) in "fc"


def record(y, vjp, *inputs):
    """`_dispatch.record`, keeping a recorded Tensor's value an ndarray when NumPy returned a
    scalar (a full reduction), so `np.asarray(tensor)` and shape-based code keep working."""
    out = _record(y, vjp, *inputs)
    if out is not y and type(y) is not np.ndarray:
        out.value = np.asarray(y)
    return out


def record_float(y, vjp, x, a):
    """`record(y, vjp, x)` for a one-input op when `a` (x's value) is floating, else `y`:
    integer and boolean inputs get no gradient."""
    if kind(a) in "fc":
        return record(y, vjp, x)
    return y


def ub(g, a):
    """`g` summed back to the shape of `a` (NumPy broadcasting's gradient rule)."""
    return unbroadcast(g, np.shape(a))


def axes(axis, ndim):
    """`axis` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for ax in items:
        ax = int(ax)
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"axis {ax} is out of bounds for an array of rank {ndim}. "
                             f"Valid: -{ndim} to {ndim - 1}. Received: axis={axis!r}")
        out.append(ax % ndim if ndim else 0)
    return tuple(sorted(out))


def np_axis(axis):
    """A NumPy-friendly axis argument (lists become tuples)."""
    return tuple(axis) if isinstance(axis, list) else axis


def expand_back(g, ndim, axis, keepdims):
    """Re-insert the reduced axes into `g` so that it broadcasts against the input."""
    g = np.asarray(g)
    if keepdims or ndim == 0:
        return g
    return np.expand_dims(g, axes(axis, ndim))


def spread(g, shape, axis, keepdims):
    """A reduction's upstream gradient `g`, broadcast back to the input `shape` (a new array)."""
    g = expand_back(g, len(shape), axis, keepdims)
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def floatx():
    return config.floatx()
