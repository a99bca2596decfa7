"""`ops.nn` math (Keras 3 names and defaults): activations, the softmax family, one_hot,
moments, batch_normalization, normalize, and (from `_nn_losses`) the cross-entropies.

Each activation is one tape node whose VJP reads the saved output where the derivative is a
function of it (relu, sigmoid, softmax, elu). Integer inputs are computed in floatx and get no
gradient.
"""
import math

import numpy as np

from ._fused import mark_logits
from ._dispatch import is_tracked, op, value
from ._erf import erf_values
from ._helpers import axes as _axes, floating, need, np_axis, record
from ._nn_losses import *  # noqa: F401,F403
from ._nn_losses import __all__ as _losses_all
from ._reduce import mean, var, sum as _sum
from ._arith import divide, maximum, power
from ._elementwise import abs as _abs, sqrt, square

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _act(x, f, vjp_of):
    """`f(a)` recorded with `vjp_of(a, y)(dy)` (integers to floatx, without gradient)."""
    a, diff = floating(x)
    y = f(a)
    return record(y, vjp_of(a, y), x) if diff and is_tracked(x) else y   # no closure outside


def _sigmoid(a):
    e = np.exp(-np.abs(a))                      # never overflows
    return np.where(a >= 0, 1, e) / (1 + e)


@op
def relu(x):
    """`max(x, 0)`."""
    return _act(x, lambda a: np.maximum(a, 0), lambda a, y: lambda dy: dy * (y > 0))


@op
def relu6(x):
    """`min(max(x, 0), 6)`."""
    return _act(x, lambda a: np.clip(a, 0, 6),
                lambda a, y: lambda dy: dy * ((a > 0) & (a < 6)))


@op
def elu(x, alpha=1.0):
    """`x` if `x > 0`, else `alpha·(exp(x) - 1)`."""
    return _act(x, lambda a: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))),
                lambda a, y: lambda dy: np.where(a > 0, dy, dy * (y + alpha)))   # α·eˣ = y + α


@op
def selu(x):
    """`scale·elu(x, alpha)` with the self-normalising constants."""
    def f(a):
        return _SELU_SCALE * np.where(a > 0, a, _SELU_ALPHA * np.expm1(np.minimum(a, 0)))
    return _act(x, f, lambda a, y: lambda dy: np.where(a > 0, _SELU_SCALE * dy,
                                                       dy * (y + _SELU_SCALE * _SELU_ALPHA)))


@op
def gelu(x, approximate=True):
    """Gaussian error linear unit: `x·Φ(x)`; `approximate=True` (Keras's default) uses
    `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`."""
    a, diff = floating(x)
    if approximate:
        inner = _SQRT_2_OVER_PI * (a + 0.044715 * a ** 3)
        th = np.tanh(inner)
        y = 0.5 * a * (1 + th)

        def vjp(dy):        # ½(1 + t) + ½x(1 - t²)·√(2/π)(1 + 3·0.044715x²)
            return dy * (0.5 * (1 + th) + 0.5 * a * (1 - th * th) * _SQRT_2_OVER_PI
                         * (1 + 3 * 0.044715 * a * a))
    else:
        cdf = 0.5 * (1 + erf_values(a / math.sqrt(2.0)))
        y = a * cdf

        def vjp(dy):        # Φ(x) + x·φ(x)
            return dy * (cdf + a * _INV_SQRT_2PI * np.exp(-0.5 * a * a))
    return record(y, vjp, x) if diff else y


def _with_logits(out, name, z, axis=-1):
    """Let a cross-entropy find the logits behind a probability output (see `_fused`)."""
    return mark_logits(out, name, z, axis)


@op
def sigmoid(x):
    """`1 / (1 + exp(-x))`, computed without overflow."""
    out = _act(x, _sigmoid, lambda a, y: lambda dy: dy * y * (1 - y))     # σ' = σ(1 - σ)
    return _with_logits(out, "sigmoid", x)


@op
def hard_sigmoid(x):
    """`relu6(x + 3) / 6`: 0 below -3, 1 above 3, linear between."""
    return _act(x, lambda a: np.clip(a / 6 + 0.5, 0, 1),
                lambda a, y: lambda dy: dy * ((a > -3) & (a < 3)) / 6)


@op
def hard_silu(x):
    """`x · hard_sigmoid(x)`."""
    def vjp(a, y):
        return lambda dy: dy * (np.clip(a / 6 + 0.5, 0, 1) + a * ((a > -3) & (a < 3)) / 6)
    return _act(x, lambda a: a * np.clip(a / 6 + 0.5, 0, 1), vjp)


hard_swish = op(hard_silu.raw, name="hard_swish")


@op
def softplus(x):
    """`log(1 + exp(x))`, computed stably."""
    return _act(x, lambda a: np.logaddexp(a, 0), lambda a, y: lambda dy: dy * _sigmoid(a))


@op
def softsign(x):
    """`x / (1 + |x|)`."""
    return _act(x, lambda a: a / (1 + np.abs(a)),
                lambda a, y: lambda dy: dy / np.square(1 + np.abs(a)))


@op
def silu(x):
    """`x · sigmoid(x)` (also called swish)."""
    a, diff = floating(x)
    s = _sigmoid(a)
    y = a * s
    return record(y, lambda dy: dy * s * (1 + a * (1 - s)), x) if diff else y


swish = op(silu.raw, name="swish")


@op
def leaky_relu(x, negative_slope=0.2):
    """`x` if `x >= 0`, else `negative_slope · x`."""
    return _act(x, lambda a: np.where(a >= 0, a, negative_slope * a),
                lambda a, y: lambda dy: np.where(a > 0, dy, negative_slope * dy))


@op
def log_sigmoid(x):
    """`log(sigmoid(x)) = -softplus(-x)`, computed stably."""
    return _act(x, lambda a: -np.logaddexp(-a, 0), lambda a, y: lambda dy: dy * _sigmoid(-a))


@op
def softmax(x, axis=-1):
    """`exp(x) / Σ exp(x)` along `axis` (an int or a tuple), computed stably."""
    a, diff = floating(x)
    ax = np_axis(axis)
    e = np.exp(a - np.max(a, axis=ax, keepdims=True))
    y = e / np.sum(e, axis=ax, keepdims=True)
    if not diff:
        return y
    # dx = y·(dy - Σ dy·y)
    out = record(y, lambda dy: y * (dy - np.sum(dy * y, axis=ax, keepdims=True)), x)
    last = np.ndim(a) - 1
    if np.ndim(axis) == 0 and last >= 0 and _axes(axis, last + 1)[0] == last:
        out = _with_logits(out, "softmax", x, last)   # losses fuse over the last axis only
    return out


@op
def log_softmax(x, axis=-1):
    """`x - log Σ exp(x)` along `axis`, computed stably."""
    a, diff = floating(x)
    ax = np_axis(axis)
    z = a - np.max(a, axis=ax, keepdims=True)
    y = z - np.log(np.sum(np.exp(z), axis=ax, keepdims=True))
    if not diff:
        return y
    return record(y, lambda dy: dy - np.exp(y) * np.sum(dy, axis=ax, keepdims=True), x)


@op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels `x` as one-hot vectors along a new `axis` (out-of-range labels give
    all-zero vectors, as in Keras)."""
    if sparse:
        raise ValueError("one_hot: sparse tensors are not supported. Received: sparse=True")
    from .. import config
    idx = np.asarray(value(x))
    n = int(num_classes)
    y = (np.expand_dims(idx, -1) == np.arange(n)).astype(dtype or config.floatx())
    return y if axis == -1 else np.moveaxis(y, -1, axis)


@op
def moments(x, axes, keepdims=False, synchronized=False):
    """`(mean, variance)` of `x` over `axes` (population variance); both differentiable."""
    return mean.raw(x, axis=axes, keepdims=keepdims), var.raw(x, axis=axes, keepdims=keepdims)


@op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) · scale + offset`, the 1-D statistics and
    parameters laid along `axis` of `x`. One node; every tensor argument gets its gradient."""
    a = np.asarray(value(x))
    ax = _axes(axis, a.ndim)[0]
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    args = (x, mean, variance, offset, scale)
    vals = [None if v is None else np.asarray(value(v)) for v in args]
    m, v, o, s = (None if u is None else u.reshape(shape) for u in vals[1:])
    r = 1.0 / np.sqrt(v + epsilon)
    xhat = (a - m) * r
    y = xhat * s if s is not None else xhat
    if o is not None:
        y = y + o
    needs = [u is not None and need(t, u) for t, u in zip(args, vals)]
    if not any(needs):
        return y
    red = tuple(i for i in range(a.ndim) if i != ax)

    def vjp(dy):
        dys = dy * s if s is not None else dy                        # d xhat
        col = lambda g, k: np.sum(g, axis=red).reshape(vals[k].shape)   # noqa: E731
        return (dys * r if needs[0] else None,                      # dx = dy·s·r
                col(-dys * r, 1) if needs[1] else None,             # dm = -Σ dy·s·r
                col(-0.5 * dys * (a - m) * r ** 3, 2) if needs[2] else None,   # -½Σ dy·s·(x-m)·r³
                col(dy, 3) if needs[3] else None,                   # d offset = Σ dy
                col(dy * xhat, 4) if needs[4] else None)            # d scale = Σ dy·xhat
    return record(y, vjp, *args)


@op
def normalize(x, axis=-1, order=2, epsilon=None):
    """`x / max(‖x‖_order, epsilon)` along `axis` (epsilon defaults to `config.epsilon()`)."""
    from .. import config
    eps = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        norm = sqrt.raw(_sum.raw(square.raw(x), axis=axis, keepdims=True))
    elif order == 1:
        norm = _sum.raw(_abs.raw(x), axis=axis, keepdims=True)
    elif isinstance(order, (int, float)) and order > 0:
        norm = power.raw(_sum.raw(power.raw(_abs.raw(x), order), axis=axis, keepdims=True),
                         1.0 / order)
    else:
        raise ValueError(f"normalize: order must be a positive number. Received: order={order!r}")
    return divide.raw(x, maximum.raw(norm, eps))


__all__ = ["batch_normalization", "elu", "gelu", "hard_sigmoid", "hard_silu", "hard_swish",
           "leaky_relu", "log_sigmoid", "log_softmax", "moments", "normalize", "one_hot", "relu",
           "relu6", "selu", "sigmoid", "silu", "softmax", "softplus", "softsign",
           "swish"] + list(_losses_all)
