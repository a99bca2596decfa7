"""One-node ops shared by the weightless built-in layers: reshape and multiply by a constant.

Each computes with NumPy and records one tape node (nothing outside a tape); the constant of
`scale` (a dropout mask, a rescaling factor, 1/σ) lives in the VJP's closure, not on the layer.
"""
import numpy as np

from ..autodiff.tape import record
from ..ops._dispatch import unbroadcast, value


def reshape(x, shape):
    """`x` reshaped to `shape` (a view when NumPy can make one)."""
    a = value(x)
    y = a.reshape(shape)
    return record(y, lambda dy: np.reshape(dy, a.shape), x)          # dx = reshape(dy)


def scale(x, s, shift=None):
    """`x·s (+ shift)` for a constant array or number `s` broadcast against `x`."""
    a = value(x)
    y = a * s
    if shift is not None:
        y += shift
    return record(y, lambda dy: unbroadcast(dy * s, a.shape), x)     # dx = dy·s


def shift(x, c):
    """`x + c` for a constant `c` of x's shape (additive noise)."""
    return record(value(x) + c, lambda dy: dy, x)                     # dx = dy
