"""NaN-ignoring reductions and scans (Keras 3 names), and ptp, with their VJPs: NaN entries get
a zero gradient. As in Keras, an all-NaN slice gives NaN (max, min, mean, var, std) or -1
(argmax, argmin) without a warning; integer inputs keep integer sums, extremes and products."""
import warnings

import numpy as np

from ._dispatch import op, value
from ._helpers import axes, expand_back, floating, is_floating, np_axis, record, spread


def _quiet(fn, *args, **kwargs):
    """NumPy's nan-functions warn on all-NaN slices; Keras returns NaN silently."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _int_kept(y, a, dtype=None):
    """Keras keeps int32 sums and products int32 (NumPy widens them to int64)."""
    if dtype is None and a.dtype.kind in "iu":
        return np.asarray(y).astype(a.dtype, copy=False)
    return y


def _check(name, a, axis):
    try:
        axes(axis, a.ndim)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


@op
def nansum(x, axis=None, keepdims=False):
    """Sum over `axis`, NaN counted as 0."""
    a = np.asarray(value(x))
    _check("nansum", a, axis)
    y = np.nansum(a, axis=np_axis(axis), keepdims=keepdims)
    if not is_floating(a):
        return _int_kept(y, a)
    ok = ~np.isnan(a)
    return record(y, lambda dy: spread(dy, a.shape, axis, keepdims) * ok, x)


@op
def nanmean(x, axis=None, keepdims=False):
    """Mean over `axis` of the non-NaN entries (integers give floatx)."""
    a, diff = floating(x)
    a = np.asarray(a)
    _check("nanmean", a, axis)
    y = _quiet(np.nanmean, a, axis=np_axis(axis), keepdims=keepdims)
    if not diff:
        return y
    ok = ~np.isnan(a)
    n = np.sum(ok, axis=np_axis(axis), keepdims=True)
    return record(y, lambda dy: expand_back(dy, a.ndim, axis, keepdims) * ok / n, x)


def _nanvar(a, axis):
    ok = ~np.isnan(a)
    n = np.sum(ok, axis=np_axis(axis), keepdims=True)
    with np.errstate(all="ignore"):
        m = np.nansum(a, axis=np_axis(axis), keepdims=True) / n
    c = np.where(ok, a - m, 0)
    return c, n


@op
def nanvar(x, axis=None, keepdims=False):
    """Population variance over `axis` of the non-NaN entries."""
    a, diff = floating(x)
    a = np.asarray(a)
    _check("nanvar", a, axis)
    y = _quiet(np.nanvar, a, axis=np_axis(axis), keepdims=keepdims)
    if not diff:
        return y
    c, n = _nanvar(a, axis)                                   # d var = 2(a - m)/n
    return record(y, lambda dy: expand_back(dy, a.ndim, axis, keepdims) * 2 * c / n, x)


@op
def nanstd(x, axis=None, keepdims=False):
    """Population standard deviation over `axis` of the non-NaN entries (0 gradient where it
    is 0)."""
    a, diff = floating(x)
    a = np.asarray(a)
    _check("nanstd", a, axis)
    y = _quiet(np.nanstd, a, axis=np_axis(axis), keepdims=keepdims)
    if not diff:
        return y
    c, n = _nanvar(a, axis)

    def vjp(dy):                                              # dσ = (a - m)/(n·σ)
        s = expand_back(y, a.ndim, axis, keepdims)
        inv = np.divide(1.0, n * s, out=np.zeros(np.broadcast(n, s).shape), where=s > 0)
        return expand_back(dy, a.ndim, axis, keepdims) * inv * c
    return record(y, vjp, x)


def _extreme(name, fn, x, axis, keepdims):
    a = np.asarray(value(x))
    _check(name, a, axis)
    y = _quiet(fn, a, axis=np_axis(axis), keepdims=keepdims)
    if not is_floating(a):
        return y

    def vjp(dy):                      # to the entries equal to the extreme, shared at ties
        mask = a == expand_back(y, a.ndim, axis, keepdims)
        cnt = np.maximum(mask.sum(axis=axes(axis, a.ndim), keepdims=True), 1)
        return mask / cnt * expand_back(dy, a.ndim, axis, keepdims)
    return record(y, vjp, x)


@op
def nanmax(x, axis=None, keepdims=False):
    """Maximum over `axis` ignoring NaN; tied maxima share the gradient."""
    return _extreme("nanmax", np.nanmax, x, axis, keepdims)


@op
def nanmin(x, axis=None, keepdims=False):
    """Minimum over `axis` ignoring NaN; tied minima share the gradient."""
    return _extreme("nanmin", np.nanmin, x, axis, keepdims)


@op
def ptp(x, axis=None, keepdims=False):
    """Range `max - min` over `axis`; the gradient goes +dy to the maxima, -dy to the minima."""
    a = np.asarray(value(x))
    _check("ptp", a, axis)
    hi = np.max(a, axis=np_axis(axis), keepdims=True)
    lo = np.min(a, axis=np_axis(axis), keepdims=True)
    y = np.ptp(a, axis=np_axis(axis), keepdims=keepdims)
    if not is_floating(a):
        return y
    red = axes(axis, a.ndim)

    def vjp(dy):
        up, down = a == hi, a == lo
        g = up / np.maximum(up.sum(red, keepdims=True), 1) - down / np.maximum(
            down.sum(red, keepdims=True), 1)
        return g * expand_back(dy, a.ndim, axis, keepdims)
    return record(y, vjp, x)


def _others(m):
    """∏_{j≠i} m_j along the last axis (exclusive cumulative products, exact with zeros)."""
    ones = np.ones(m.shape[:-1] + (1,), m.dtype)
    left = np.cumprod(np.concatenate([ones, m[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, m[..., :0:-1]], -1), -1)[..., ::-1]
    return left * right


@op
def nanprod(x, axis=None, keepdims=False):
    """Product over `axis`, NaN counted as 1."""
    a = np.asarray(value(x))
    _check("nanprod", a, axis)
    y = np.nanprod(a, axis=np_axis(axis), keepdims=keepdims)
    if not is_floating(a):
        return _int_kept(y, a)
    red = axes(axis, a.ndim)
    rest = [i for i in range(a.ndim) if i not in red]

    def vjp(dy):
        m = np.transpose(np.where(np.isnan(a), 1, a), rest + list(red))
        flat = m.reshape(m.shape[:len(rest)] + (-1,))
        g = np.transpose(_others(flat).reshape(m.shape), np.argsort(rest + list(red)))
        return np.where(np.isnan(a), 0, g * expand_back(dy, a.ndim, axis, keepdims))
    return record(y, vjp, x)


def _arg(fn, x, axis, keepdims):
    a = np.asarray(value(x))
    if not is_floating(a):
        return fn(a, axis=axis, keepdims=keepdims).astype("int32")
    empty = np.all(np.isnan(a), axis=axis, keepdims=keepdims)
    y = fn(np.where(np.isnan(a), -np.inf if fn is np.argmax else np.inf, a), axis=axis,
           keepdims=keepdims)
    return np.where(empty, -1, y).astype("int32")


@op
def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum along `axis` ignoring NaN (int32; -1 for an all-NaN slice)."""
    _check("nanargmax", np.asarray(value(x)), axis)
    return _arg(np.argmax, x, axis, keepdims)


@op
def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum along `axis` ignoring NaN (int32; -1 for an all-NaN slice)."""
    _check("nanargmin", np.asarray(value(x)), axis)
    return _arg(np.argmin, x, axis, keepdims)


@op
def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (None: flattened), NaN counted as 0."""
    a = np.asarray(value(x))
    y = np.nancumsum(a, axis=axis, dtype=dtype)
    if not (is_floating(a) and is_floating(y)):
        return _int_kept(y, a, dtype)
    ax = 0 if axis is None else axis
    ok = ~np.isnan(a)

    def vjp(dy):                                          # reversed cumulative sum of dy
        g = np.flip(np.cumsum(np.flip(dy, ax), axis=ax), ax)
        return g.reshape(a.shape) * ok
    return record(y, vjp, x)


@op
def nancumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (None: flattened), NaN counted as 1."""
    a = np.asarray(value(x))
    y = np.nancumprod(a, axis=axis, dtype=dtype)
    if not (is_floating(a) and is_floating(y)):
        return _int_kept(y, a, dtype)
    ax = 0 if axis is None else axis
    af = a.reshape(-1) if axis is None else a
    m = np.moveaxis(np.where(np.isnan(af), 1, af), ax, -1)

    def vjp(dy):                      # dx_k = Σ_{j≥k} dy_j ∏_{i≤j, i≠k} a_i (one pass per k)
        dm = np.moveaxis(np.asarray(dy), ax, -1)
        g = np.empty_like(m)
        for k in range(m.shape[-1]):
            others = m.copy()
            others[..., k] = 1
            g[..., k] = np.sum(np.cumprod(others, axis=-1)[..., k:] * dm[..., k:], axis=-1)
        g = np.moveaxis(g, -1, ax).reshape(a.shape)
        return np.where(np.isnan(a), 0, g)
    return record(y, vjp, x)


__all__ = ["nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin",
           "nanprod", "nanstd", "nansum", "nanvar", "ptp"]
