"""Test helper: float64 central differences of a scalar function of one array."""
import numpy as np


def central_grad(f, x, h=1e-6):
    """d f(x) / dx by central differences, entry by entry (x is not modified)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g
