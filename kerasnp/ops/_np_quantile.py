"""Quantiles (Keras 3 names): quantile, percentile, median and their NaN-ignoring twins, with
their VJPs. Each slice is sorted; a quantile is `(1 - w)·s[lo] + w·s[hi]` of two sorted values
(the weights set by `method`), so its gradient goes to the two entries those were, through
the sort's permutation. Integer inputs give floatx, as in Keras."""
import numpy as np

from ._dispatch import op, value
from ._helpers import axes, floating, record

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _weights(pos, method):
    lo = np.floor(pos)
    w = pos - lo
    if method == "lower":
        w = np.zeros_like(w)
    elif method == "higher":
        w = (w > 0).astype(w.dtype)
    elif method == "midpoint":
        w = np.where(w > 0, 0.5, 0.0)
    elif method == "nearest":          # NumPy rounds half to even
        w = (np.around(pos) > lo).astype(w.dtype)
    return lo, w


def _quantile(name, x, q, axis, method, keepdims, skip_nan, scale=1.0):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {', '.join(_METHODS)}. Received: "
                         f"method={method!r}")
    qs = np.asarray(value(q), dtype=np.float64) / scale
    if qs.ndim > 1 or np.any((qs < 0) | (qs > 1)) or np.any(np.isnan(qs)):
        raise ValueError(f"{name}: q must be a scalar or 1-D, within [0, {scale:g}]. "
                         f"Received: q={value(q)!r}")
    a, diff = floating(x)
    a = np.asarray(a)
    try:
        red = axes(axis, a.ndim)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    rest = [i for i in range(a.ndim) if i not in red]
    t = np.transpose(a, rest + list(red))
    flat = t.reshape(t.shape[:len(rest)] + (-1,))               # (..., n)
    order = np.argsort(flat, axis=-1, kind="stable")             # NaN sort last
    s = np.take_along_axis(flat, order, -1)
    nan = np.isnan(flat)
    n = (flat.shape[-1] - nan.sum(-1)) if skip_nan else np.full(flat.shape[:-1], flat.shape[-1])
    qv = qs.reshape(-1)
    pos = qv[:, None] * np.maximum(n.reshape(-1) - 1, 0)        # (nq, rows)
    lo, w = _weights(pos, method)
    lo = lo.astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n.reshape(-1) - 1, 0))
    s2 = s.reshape(-1, s.shape[-1])
    rows = np.arange(s2.shape[0])
    vals = (1 - w) * s2[rows, lo] + w * s2[rows, hi]
    bad = (n.reshape(-1) == 0) if skip_nan else nan.reshape(-1, flat.shape[-1]).any(-1)
    vals = np.where(bad, np.nan, vals).astype(a.dtype)
    out_shape = [a.shape[i] for i in rest]
    if keepdims:
        out_shape = [1 if i in red else a.shape[i] for i in range(a.ndim)]
    y = vals.reshape(qs.shape + tuple(out_shape))
    if not diff:
        return y

    def vjp(dy):
        d = np.asarray(dy).reshape(len(qv), -1)
        g = np.zeros(s2.shape, dtype=a.dtype)
        o2 = order.reshape(s2.shape)
        keep = ~bad
        for k in range(len(qv)):       # sorted positions lo, hi back to the input's entries
            np.add.at(g, (rows[keep], o2[rows, lo[k]][keep]), ((1 - w[k]) * d[k])[keep])
            np.add.at(g, (rows[keep], o2[rows, hi[k]][keep]), (w[k] * d[k])[keep])
        g = g.reshape(t.shape)
        return np.transpose(g, np.argsort(rest + list(red)))
    return record(y, vjp, x)


@op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantiles (`q` in [0, 1], a scalar or 1-D: then a leading axis) over `axis`.

    Args:
        x: input tensor.
        q: quantile(s) in [0, 1].
        axis: None (all), an int or a tuple.
        method: "linear", "lower", "higher", "midpoint" or "nearest" (NumPy's meanings).
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> ops.quantile(np.array([1.0, 2.0, 3.0, 4.0]), 0.5)
        array(2.5)
    """
    return _quantile("quantile", x, q, axis, method, keepdims, False)


@op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th percentiles (`q` in [0, 100]) over `axis`; see `quantile`."""
    return _quantile("percentile", x, q, axis, method, keepdims, False, 100.0)


@op
def median(x, axis=None, keepdims=False):
    """Median over `axis` (the mean of the two middle values for an even count)."""
    return _quantile("median", x, 0.5, axis, "linear", keepdims, False)


@op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """`quantile` of the non-NaN entries (NaN for an all-NaN slice)."""
    return _quantile("nanquantile", x, q, axis, method, keepdims, True)


@op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """`percentile` of the non-NaN entries (NaN for an all-NaN slice)."""
    return _quantile("nanpercentile", x, q, axis, method, keepdims, True, 100.0)


@op
def nanmedian(x, axis=None, keepdims=False):
    """`median` of the non-NaN entries (NaN for an all-NaN slice)."""
    return _quantile("nanmedian", x, 0.5, axis, "linear", keepdims, True)


__all__ = ["median", "nanmedian", "nanpercentile", "nanquantile", "percentile", "quantile"]
