"""Reductions and scans (Keras 3 names and signatures) with their VJPs.

A reduction's gradient is the upstream gradient broadcast back over the reduced axes (`spread`),
times the local derivative: 1 for sum, 1/n for mean, the (tie-shared) argmax mask for max, the
product of the other factors for prod, softmax for logsumexp.
"""
import numpy as np

from ._dispatch import op, value
from ._helpers import axes, expand_back, floating, is_floating, np_axis, record, spread


def _count(shape, axis):
    n = 1
    for ax in axes(axis, len(shape)):
        n *= shape[ax]
    return n


@op
def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (None: all axes; an int or a tuple)."""
    a = np.asarray(value(x))
    y = np.sum(a, axis=np_axis(axis), keepdims=keepdims)
    if not is_floating(a):
        return y
    return record(y, lambda dy: spread(dy, a.shape, axis, keepdims), x)


@op
def mean(x, axis=None, keepdims=False):
    """Mean over `axis`; integer inputs give floatx."""
    a, diff = floating(x)
    a = np.asarray(a)
    y = np.mean(a, axis=np_axis(axis), keepdims=keepdims)
    if not diff:
        return y
    n = _count(a.shape, axis)
    return record(y, lambda dy: spread(dy / n, a.shape, axis, keepdims), x)


def _extreme(x, axis, keepdims, initial, fn):
    a = np.asarray(value(x))
    kw = {} if initial is None else {"initial": initial}
    y = fn(a, axis=np_axis(axis), keepdims=keepdims, **kw)
    if not is_floating(a):
        return y

    def vjp(dy):                      # dy to the positions that hold the extreme, shared at ties
        ye = expand_back(y, a.ndim, axis, keepdims)
        mask = a == ye
        share = mask / mask.sum(axis=axes(axis, a.ndim), keepdims=True)
        return share * expand_back(dy, a.ndim, axis, keepdims)
    return record(y, vjp, x)


@op
def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over `axis`; tied maxima share the gradient equally."""
    return _extreme(x, axis, keepdims, initial, np.max)


@op
def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over `axis`; tied minima share the gradient equally."""
    return _extreme(x, axis, keepdims, initial, np.min)


amax = op(max.raw, name="amax")
amin = op(min.raw, name="amin")


@op
def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over `axis`. The gradient is the product of the other factors, computed with
    exclusive cumulative products, so it stays exact when some factors are zero."""
    a = np.asarray(value(x))
    y = np.prod(a, axis=np_axis(axis), keepdims=keepdims, dtype=dtype)
    if not (is_floating(a) and is_floating(y)):
        return y
    red = axes(axis, a.ndim)

    def vjp(dy):
        rest = [i for i in range(a.ndim) if i not in red]
        t = np.transpose(a, rest + list(red))
        flat = t.reshape(t.shape[:len(rest)] + (-1,))
        ones = np.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(t.shape)          # ∏_{j≠i} a_j
        g = np.transpose(others, np.argsort(rest + list(red)))
        return g * expand_back(dy, a.ndim, axis, keepdims)
    return record(y, vjp, x)


@op
def var(x, axis=None, keepdims=False):
    """Population variance (divides by n) over `axis`."""
    a, diff = floating(x)
    a = np.asarray(a)
    m = np.mean(a, axis=np_axis(axis), keepdims=True)
    c = a - m
    n = _count(a.shape, axis)
    y = np.mean(c * c, axis=np_axis(axis), keepdims=keepdims)
    if not diff:
        return y
    # dvar/da = 2(a - m)/n
    return record(y, lambda dy: expand_back(dy, a.ndim, axis, keepdims) * (2.0 / n) * c, x)


@op
def std(x, axis=None, keepdims=False):
    """Population standard deviation over `axis`. Where it is 0 the gradient is taken as 0
    (instead of 0/0), so a constant slice does not poison training with NaN."""
    a, diff = floating(x)
    a = np.asarray(a)
    m = np.mean(a, axis=np_axis(axis), keepdims=True)
    c = a - m
    n = _count(a.shape, axis)
    y = np.sqrt(np.mean(c * c, axis=np_axis(axis), keepdims=keepdims))
    if not diff:
        return y

    def vjp(dy):                                          # dσ/da = (a - m) / (n·σ)
        s = expand_back(y, a.ndim, axis, keepdims)
        inv = np.divide(1.0, n * s, out=np.zeros_like(s), where=s > 0)
        return expand_back(dy, a.ndim, axis, keepdims) * inv * c
    return record(y, vjp, x)


@op
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, computed stably (the max is taken out first)."""
    a, diff = floating(x)
    a = np.asarray(a)
    m = np.max(a, axis=np_axis(axis), keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(a - m)
    s = np.sum(e, axis=np_axis(axis), keepdims=True)
    y = np.log(s) + m
    if not keepdims:
        y = np.squeeze(y, axis=axes(axis, a.ndim))
    y = y.astype(a.dtype, copy=False)
    if not diff:
        return y
    return record(y, lambda dy: expand_back(dy, a.ndim, axis, keepdims) * (e / s), x)  # softmax


@op
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (None: over the flattened input)."""
    a = np.asarray(value(x))
    y = np.cumsum(a, axis=axis, dtype=dtype)
    if not (is_floating(a) and is_floating(y)):
        return y
    ax = 0 if axis is None else axis

    def vjp(dy):                                          # reversed cumulative sum of dy
        g = np.flip(np.cumsum(np.flip(dy, ax), axis=ax), ax)
        return g.reshape(a.shape)
    return record(y, vjp, x)


@op
def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (None: over the flattened input)."""
    a = np.asarray(value(x))
    y = np.cumprod(a, axis=axis, dtype=dtype)
    if not (is_floating(a) and is_floating(y)):
        return y
    ax = 0 if axis is None else axis
    af = a.reshape(-1) if axis is None else a

    def vjp(dy):
        if np.all(af != 0):                               # dx_k = Σ_{j≥k} dy_j·y_j / a_k
            g = np.flip(np.cumsum(np.flip(dy * y, ax), axis=ax), ax) / af
            return g.reshape(a.shape)
        # With zeros: one pass per position k along the axis (vectorised over the rest).
        am, dm = np.moveaxis(af, ax, -1), np.moveaxis(dy, ax, -1)
        g = np.empty_like(am)
        for k in range(am.shape[-1]):
            others = am.copy()
            others[..., k] = 1
            part = np.cumprod(others, axis=-1)[..., k:]   # ∏_{i≤j, i≠k} a_i for j ≥ k
            g[..., k] = np.sum(part * dm[..., k:], axis=-1)
        return np.moveaxis(g, -1, ax).reshape(a.shape)
    return record(y, vjp, x)


@op
def average(x, axis=None, weights=None):
    """Weighted mean over `axis`: `Σ x·w / Σ w`; 1-D `weights` lie along `axis` (NumPy's rule).
    Differentiable in `x` and `weights`."""
    if weights is None:
        return mean.raw(x, axis=axis)
    from ._arith import divide, multiply
    from ._shape import reshape
    a, w = np.asarray(value(x)), np.asarray(value(weights))
    if w.shape != a.shape:
        if axis is None or w.ndim != 1 or np.ndim(axis) != 0:
            raise ValueError("average: weights must have x's shape, or be 1-D along a single "
                             f"axis. Received: x.shape={a.shape}, weights.shape={w.shape}, "
                             f"axis={axis!r}")
        shape = [1] * a.ndim
        shape[int(axis) % a.ndim] = w.size
        weights = reshape.raw(weights, shape)
    return divide.raw(sum.raw(multiply.raw(x, weights), axis=axis),
                      sum.raw(multiply.raw(np.ones(a.shape, dtype=a.dtype), weights), axis=axis))


# -- values only --------------------------------------------------------------------------------
@op
def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along `axis` (None: in the flattened input)."""
    return np.argmax(value(x), axis=axis, keepdims=keepdims)


@op
def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along `axis` (None: in the flattened input)."""
    return np.argmin(value(x), axis=axis, keepdims=keepdims)


@op
def all(x, axis=None, keepdims=False):
    """Whether all elements along `axis` are true."""
    return np.all(value(x), axis=np_axis(axis), keepdims=keepdims)


@op
def any(x, axis=None, keepdims=False):
    """Whether any element along `axis` is true."""
    return np.any(value(x), axis=np_axis(axis), keepdims=keepdims)


@op
def count_nonzero(x, axis=None):
    """Number of non-zero elements along `axis`."""
    return np.count_nonzero(value(x), axis=np_axis(axis))


__all__ = ["all", "amax", "amin", "any", "average", "argmax", "argmin", "count_nonzero", "cumprod",
           "cumsum", "logsumexp", "max", "mean", "min", "prod", "std", "sum", "var"]
