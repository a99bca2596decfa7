"""More `ops.nn` activations (Keras 3 names and defaults): celu, glu, hard_tanh, hard_shrink,
soft_shrink, tanh_shrink, squareplus, sparse_plus, sparse_sigmoid, sparsemax, threshold.

Each is one tape node; integer inputs are computed in floatx and get no gradient.
"""
import numpy as np

from ._dispatch import is_tracked, op
from ._helpers import axes as _axes, floating, record


def _act(x, f, vjp_of):
    """`f(a)` recorded with `vjp_of(a, y)(dy)` (integers to floatx, without gradient)."""
    a, diff = floating(x)
    y = f(a)
    return record(y, vjp_of(a, y), x) if diff and is_tracked(x) else y


def _sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1, e) / (1 + e)


@op
def celu(x, alpha=1.0):
    """`max(x, 0) + alpha·(exp(min(x, 0)/alpha) - 1)`."""
    if alpha == 0:
        raise ValueError(f"celu: alpha must be non-zero. Received: alpha={alpha!r}")
    return _act(x, lambda a: np.maximum(a, 0) + alpha * np.expm1(np.minimum(a, 0) / alpha),
                lambda a, y: lambda dy: np.where(a > 0, dy, dy * np.exp(np.minimum(a, 0) / alpha)))


@op
def glu(x, axis=-1):
    """Gated linear unit: `x` split in halves `a, b` along `axis`, `a·sigmoid(b)`.

    Example:
        >>> ops.glu(np.array([1.0, 2.0, 0.0, 0.0]))
        array([0.5, 1. ])
    """
    a, diff = floating(x)
    ax = _axes(axis, a.ndim)[0]
    if a.shape[ax] % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even (it is split in two "
                         f"halves). Received: x.shape={a.shape}, axis={axis}")
    lo, hi = np.split(a, 2, axis=ax)
    s = _sigmoid(hi)
    y = lo * s
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: np.concatenate([dy * s, dy * lo * s * (1 - s)], axis=ax), x)


@op
def hard_tanh(x):
    """`x` clipped to `[-1, 1]`."""
    return _act(x, lambda a: np.clip(a, -1, 1),
                lambda a, y: lambda dy: dy * ((a > -1) & (a < 1)))


@op
def hard_shrink(x, threshold=0.5):
    """`x` where `|x| > threshold`, else 0."""
    return _act(x, lambda a: np.where(np.abs(a) > threshold, a, 0).astype(a.dtype),
                lambda a, y: lambda dy: dy * (np.abs(a) > threshold))


@op
def soft_shrink(x, threshold=0.5):
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    def f(a):
        return np.where(a > threshold, a - threshold,
                        np.where(a < -threshold, a + threshold, 0)).astype(a.dtype)
    return _act(x, f, lambda a, y: lambda dy: dy * (np.abs(a) > threshold))


@op
def tanh_shrink(x):
    """`x - tanh(x)`."""
    def vjp(a, y):
        t = np.tanh(a)
        return lambda dy: dy * t * t                                  # 1 - (1 - tanh²)
    return _act(x, lambda a: a - np.tanh(a), vjp)


@op
def squareplus(x, b=4):
    """`(x + sqrt(x² + b)) / 2`, a smooth ReLU."""
    if b < 0:
        raise ValueError(f"squareplus: b must be >= 0. Received: b={b!r}")

    def vjp(a, y):
        return lambda dy: dy * 0.5 * (1 + a / np.sqrt(a * a + b))
    return _act(x, lambda a: ((a + np.sqrt(a * a + b)) / 2).astype(a.dtype), vjp)


@op
def sparse_plus(x):
    """0 for `x <= -1`, `(x + 1)²/4` for `-1 < x < 1`, `x` for `x >= 1`."""
    def f(a):
        return np.where(a <= -1, 0, np.where(a < 1, 0.25 * (a + 1) ** 2, a)).astype(a.dtype)
    return _act(x, f, lambda a, y: lambda dy: dy * np.clip(0.5 * (a + 1), 0, 1))


@op
def sparse_sigmoid(x):
    """0 for `x <= -1`, `(x + 1)/2` for `-1 < x < 1`, 1 for `x >= 1`."""
    return _act(x, lambda a: np.clip(0.5 * (a + 1), 0, 1).astype(a.dtype),
                lambda a, y: lambda dy: dy * 0.5 * ((a > -1) & (a < 1)))


@op
def sparsemax(x, axis=-1):
    """The Euclidean projection of `x` onto the probability simplex along `axis`: like
    softmax, but exactly zero outside a support (Martins & Astudillo, 2016).

    Example:
        >>> ops.sparsemax(np.array([1.0, 2.0, 3.5]))
        array([0., 0., 1.])
    """
    a, diff = floating(x)
    ax = _axes(axis, a.ndim)[0]
    z = np.moveaxis(a, ax, -1)
    zs = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=a.dtype)
    cums = np.cumsum(zs, axis=-1)
    support = 1 + k * zs > cums
    n = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cums, n - 1, axis=-1) - 1) / n
    y = np.moveaxis(np.maximum(z - tau, 0), -1, ax).astype(a.dtype)
    if not (diff and is_tracked(x)):
        return y

    def vjp(dy):
        s = y > 0                                    # dx = s·(dy - mean of dy over s)
        m = (dy * s).sum(axis=ax, keepdims=True) / s.sum(axis=ax, keepdims=True)
        return s * (dy - m)
    return record(y, vjp, x)


@op
def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    return _act(x, lambda a: np.where(a > threshold, a, default_value).astype(a.dtype),
                lambda a, y: lambda dy: dy * (a > threshold))


__all__ = ["celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus",
           "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold"]
