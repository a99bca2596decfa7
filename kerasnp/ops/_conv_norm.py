"""Fused per-channel ops of the built-in layers: batch normalization (training and inference)
and spatial dropout's per-channel mask.

Each records ONE tape node whose VJP is kerasnp's hand-written backward. Statistics are taken
over every axis but `axis`; with the feature axis last (the common case) the ops work on a free
`(m, c)` view, where a BLAS matrix-vector product and einsum are several times faster than
`sum(axis=0)` (and the product accumulates more accurately).
"""
import numpy as np

from ..autodiff.tape import is_tracked, record
from ._dispatch import value


class _Layout:
    """How per-feature vectors broadcast against an input with its feature axis at `axis`."""

    __slots__ = ("last", "axes", "bshape")

    def __init__(self, shape, axis):
        ndim = len(shape)
        ax = axis % ndim
        self.last = ax == ndim - 1
        self.axes = tuple(a for a in range(ndim) if a != ax)
        self.bshape = tuple(shape[ax] if a == ax else 1 for a in range(ndim))

    def b(self, v):                                   # a view, no copy
        return v if self.last else v.reshape(self.bshape)

    def view(self, a):
        return a.reshape(-1, a.shape[-1]) if self.last else a

    def sum(self, a):                                 # Σ a
        if self.last:
            return np.ones(a.shape[0], dtype=a.dtype) @ a
        return a.sum(axis=self.axes)

    def dot(self, a, b):                              # Σ a·b
        return np.einsum("ij,ij->j", a, b) if self.last else (a * b).sum(axis=self.axes)


def _record(y, vjp, x, gamma, beta):
    """One node over x and whichever of gamma/beta exist (vjp returns dx, dgamma, dbeta)."""
    if gamma is not None and beta is not None:
        return record(y, vjp, x, gamma, beta)
    if gamma is not None:
        return record(y, lambda dy: vjp(dy)[:2], x, gamma)
    if beta is not None:
        return record(y, lambda dy: (lambda g: (g[0], g[2]))(vjp(dy)), x, beta)
    return record(y, lambda dy: vjp(dy)[0], x)


def batch_norm_train(x, gamma, beta, moving_mean, moving_variance, axis, momentum, epsilon):
    """Training-mode batch normalization as one node; updates the moving statistics.

    `y = γ·(x - μ_B)/sqrt(σ²_B + ε) + β` with the batch mean and the BIASED batch variance, and
    `moving = momentum·moving + (1 - momentum)·batch_statistic` (Keras's rule, the biased
    variance too) written into the two variables with `assign`.

    Args:
        x: input array; statistics over every axis but `axis`.
        gamma, beta: `(c,)` scale and shift (variables or arrays), or None.
        moving_mean, moving_variance: the `(c,)` variables to update.
        axis: int, the feature axis.
        momentum, epsilon: floats.
    """
    a = value(x)
    lay = _Layout(a.shape, axis)
    dt = a.dtype.type
    x2 = lay.view(a)
    g = None if gamma is None else value(gamma)
    c = value(moving_mean).size
    m = dt(x2.size // c)
    mean = lay.sum(x2) / m                                              # μ_B
    xc = x2 - lay.b(mean)
    var = lay.dot(xc, xc) / m                                           # σ²_B (biased)
    inv = 1.0 / np.sqrt(var + dt(epsilon))
    xhat = np.multiply(xc, lay.b(inv), out=xc)                          # x̂ = (x - μ_B)/σ_B
    k = inv if g is None else g * inv                                   # γ/σ_B
    mo = dt(momentum)
    moving_mean.assign(value(moving_mean) * mo + mean * (1 - mo))
    moving_variance.assign(value(moving_variance) * mo + var * (1 - mo))
    y = xhat * lay.b(g) if g is not None else xhat.copy()               # y = γ·x̂ + β
    if beta is not None:
        y += lay.b(value(beta))
    need_dx = is_tracked(x)

    def vjp(dy):
        dy2 = lay.view(dy)
        s_dyx = lay.dot(dy2, xhat)                                      # dγ = Σ dy·x̂
        s_dy = lay.sum(dy2)                                             # dβ = Σ dy
        if not need_dx:
            return None, s_dyx, s_dy
        # dx = γ/σ · (dy - Σdy/m - x̂·Σ(dy·x̂)/m), in place on one new array
        dx = np.multiply(xhat, lay.b(-s_dyx / m))
        dx += dy2
        dx -= lay.b(s_dy / m)
        dx *= lay.b(k)
        return dx.reshape(a.shape), s_dyx, s_dy
    return _record(y.reshape(a.shape), vjp, x, gamma, beta)


def batch_norm_infer(x, gamma, beta, mean, variance, axis, epsilon):
    """Inference-mode batch normalization with fixed statistics, as one node:
    `y = x·γ/σ + (β - μ·γ/σ)`, `σ = sqrt(variance + ε)`.

    Args:
        mean, variance: `(c,)` statistics (the moving ones); read now, not at backward time.
        other arguments: as `batch_norm_train`.
    """
    a = value(x)
    lay = _Layout(a.shape, axis)
    dt = a.dtype.type
    x2 = lay.view(a)
    g = None if gamma is None else value(gamma)
    inv = 1.0 / np.sqrt(value(variance) + dt(epsilon))
    shift_hat = -value(mean) * inv                                      # x̂ = x·inv + shift_hat
    k = inv if g is None else g * inv                                   # γ/σ
    shift = shift_hat if g is None else shift_hat * g
    if beta is not None:
        shift = shift + value(beta)
    y = x2 * lay.b(k)                                                   # y = x·γ/σ + β - μ·γ/σ
    y += lay.b(shift)
    need_dx, need_dg = is_tracked(x), is_tracked(gamma)

    def vjp(dy):
        dy2 = lay.view(dy)
        dg = (lay.dot(dy2, x2 * lay.b(inv) + lay.b(shift_hat))          # dγ = Σ dy·x̂
              if need_dg else None)
        dx = (dy2 * lay.b(k)).reshape(a.shape) if need_dx else None     # dx = dy·γ/σ
        return dx, dg, lay.sum(dy2)                                     # dβ = Σ dy
    return _record(y.reshape(a.shape), vjp, x, gamma, beta)


def channel_mask(x, mask):
    """`x · mask` with a mask drawn by the caller (broadcast over positions), as one node whose
    VJP reuses the same mask: `dx = dy · mask`."""
    y = value(x) * mask                                                 # y = x·m
    return record(y, lambda dy: dy * mask, x)                           # dx = dy·m
