"""`ops.nn` normalisations and metrics (Keras 3 names and defaults): layer_normalization,
rms_normalization, psnr, multi_hot. One tape node each, with the VJP written out."""
import numpy as np

from .. import config
from ._dispatch import is_tracked, op, value
from ._helpers import axes as _axes, floating, need, record, ub
from ._nn_math import one_hot


def _param(p, a, ax):
    """A per-feature parameter (`gamma`, `scale`...) shaped to broadcast against `a` over the
    normalised axes `ax` (a 1-D or matching-shape parameter, as Keras accepts)."""
    v, _ = floating(p)
    v = np.asarray(v)
    want = tuple(a.shape[i] for i in ax)
    if v.ndim and v.shape == want and ax != tuple(range(a.ndim - len(ax), a.ndim)):
        shape = [1] * a.ndim
        for i in ax:
            shape[i] = a.shape[i]
        return v.reshape(shape)
    return v


@op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta`, the statistics over `axis`
    (default epsilon: `config.epsilon()`, 1e-7).

    Example:
        >>> ops.layer_normalization(np.array([1.0, 2.0, 3.0]))    # doctest: +ELLIPSIS
        array([-1.22..., 0. ..., 1.22...])
    """
    if kwargs.pop("rms_scaling", False):
        raise ValueError("layer_normalization: rms_scaling=True (deprecated in Keras, it scaled "
                         "by the variance) is not supported; use ops.rms_normalization.")
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected arguments {sorted(kwargs)}.")
    a, diff = floating(x)
    eps = config.epsilon() if epsilon is None else float(epsilon)
    ax = _axes(axis, a.ndim)
    mu = a.mean(axis=ax, keepdims=True)
    r = 1 / np.sqrt(a.var(axis=ax, keepdims=True) + eps)
    xhat = (a - mu) * r
    g = None if gamma is None else _param(gamma, a, ax)
    b = None if beta is None else _param(beta, a, ax)
    y = xhat if g is None else xhat * g
    y = y if b is None else y + b
    y = y.astype(a.dtype, copy=False)
    nx, ng = diff and is_tracked(x), gamma is not None and need(gamma, g)
    nb = beta is not None and need(beta, b)
    if not (nx or ng or nb):
        return y

    def vjp(dy):
        dxh = dy if g is None else dy * g
        dx = None
        if nx:
            dx = r * (dxh - dxh.mean(axis=ax, keepdims=True)
                      - xhat * (dxh * xhat).mean(axis=ax, keepdims=True))
        dg = ub(dy * xhat, g).reshape(np.shape(value(gamma))) if ng else None
        db = ub(dy, b).reshape(np.shape(value(beta))) if nb else None
        return dx, dg, db
    return record(y, vjp, x, gamma, beta)


@op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """`x / sqrt(mean(x²) + epsilon) * scale`, the mean over `axis` (default epsilon:
    `config.epsilon()`, 1e-7)."""
    a, diff = floating(x)
    eps = config.epsilon() if epsilon is None else float(epsilon)
    ax = _axes(axis, a.ndim)
    r = 1 / np.sqrt((a * a).mean(axis=ax, keepdims=True) + eps)
    s = None if scale is None else _param(scale, a, ax)
    xr = a * r
    y = (xr if s is None else xr * s).astype(a.dtype, copy=False)
    nx, ns = diff and is_tracked(x), scale is not None and need(scale, s)
    if not (nx or ns):
        return y

    def vjp(dy):
        d = dy if s is None else dy * s
        dx = r * (d - xr * (d * xr).mean(axis=ax, keepdims=True)) if nx else None
        ds = ub(dy * xr, s).reshape(np.shape(value(scale))) if ns else None
        return dx, ds
    return record(y, vjp, x, scale)


@op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: `20·log10(max_val) - 10·log10(mean((x1 - x2)²))`,
    the mean over all elements (a scalar)."""
    a, d1 = floating(x1)
    b, d2 = floating(x2)
    if np.shape(a) != np.shape(b):
        raise ValueError("psnr: x1 and x2 must have the same shape. Received: "
                         f"x1.shape={np.shape(a)}, x2.shape={np.shape(b)}")
    diff = a - b
    mse = np.mean(diff * diff)
    y = np.asarray(20 * np.log10(max_val) - 10 * np.log10(mse), dtype=np.result_type(a, b))
    n1, n2 = need(x1, a), need(x2, b)
    if not (n1 or n2):
        return y

    def vjp(dy):
        g = dy * (-10 / np.log(10)) * 2 * diff / (mse * diff.size)
        return (g if n1 else None), (-g if n2 else None)
    return record(y, vjp, x1, x2)


@op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: the one-hot vectors of each sample's integer labels, combined with
    `max` (a 1-D input is one sample; a 2-D `(batch, labels)` gives `(batch, num_classes)`)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required. Received: num_classes=None")
    if sparse:
        raise ValueError("multi_hot: sparse=True is not supported (kerasnp has no sparse "
                         "tensors). Received: sparse=True")
    x = np.asarray(value(inputs)).astype(np.int64)
    oh = np.asarray(one_hot(x, num_classes, axis=axis, dtype=dtype or config.floatx()))
    return oh.max(axis=1 if x.ndim > 1 else 0)


__all__ = ["layer_normalization", "multi_hot", "psnr", "rms_normalization"]
