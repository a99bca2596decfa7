"""Resampling images at computed coordinates, and the exact adjoint of that resampling.

Each output pixel of an `(n, h, w, c)` image reads the input at a real-valued (row, col): the
`interpolation` rule turns it into integer taps with weights, and the `fill_mode` rule folds taps
outside the image back inside (or marks them as reading the constant fill). The result is a sparse
linear map `y = S·x (+ fill)`, stored as a plan of flat indices and weights, so `resample` is a
weighted gather and `resample_adjoint` (`dx = Sᵀ·dy`) a weighted scatter-add.
"""
import math

import numpy as np


# -- fill modes: integer index -> (index inside [0, size), valid mask or None) ------------------
def _reflect(i, size):                                 # (d c b a | a b c d | d c b a)
    m = np.mod(i, 2 * size)
    return np.where(m >= size, 2 * size - 1 - m, m), None


def _wrap(i, size):                                    # (a b c d | a b c d | a b c d)
    return np.mod(i, size), None


def _nearest(i, size):                                 # (a a a a | a b c d | d d d d)
    return np.clip(i, 0, size - 1), None


def _constant(i, size):                                # (k k k k | a b c d | k k k k)
    return np.clip(i, 0, size - 1), (i >= 0) & (i < size)


FILL_MODES = {"reflect": _reflect, "wrap": _wrap, "constant": _constant, "nearest": _nearest}


# -- interpolation: coordinate -> taps [(integer index, weight)] ---------------------------------
def _bilinear_taps(coord):
    i0 = np.floor(coord)
    frac = coord - i0
    i0 = i0.astype(np.int64)
    return [(i0, 1.0 - frac), (i0 + 1, frac)]


def _nearest_taps(coord):
    return [(np.floor(coord + 0.5).astype(np.int64), 1.0)]


INTERPOLATIONS = {"bilinear": _bilinear_taps, "nearest": _nearest_taps}


def _fold(fill_mode, i, size):
    """The fill rule on integer indices `i`, through a lookup table over their range."""
    lo, hi = int(i.min()), int(i.max())
    if lo >= 0 and hi < size:                          # all inside: nothing to fold
        return i, None
    table, valid = FILL_MODES[fill_mode](np.arange(lo, hi + 1), size)
    return table[i - lo], None if valid is None else valid[i - lo]


def sampling_plan(rows, cols, image_shape, fill_mode, interpolation, dtype):
    """Flat source indices and weights of every output pixel.

    Args:
        rows, cols: input coordinates (float64) of each output pixel, broadcastable to
            `(n, h, w)` (translations pass `(n, h, 1)` and `(n, 1, w)`: the work is separable).
        image_shape: `(n, h, w, c)` of the input.
    Returns:
        `(idx, wts, fill)`: `idx` (taps, n*h*w) flat pixel indices, `wts` the matching weights
        (dtype), `fill` the weight of the constant fill per pixel (None unless "constant").
    """
    n, h, w, _ = image_shape
    taps = INTERPOLATIONS[interpolation]
    base = (np.arange(n, dtype=np.int64) * (h * w)).reshape(n, 1, 1)
    row_taps = [(_fold(fill_mode, i, h), np.asarray(wi, dtype)) for i, wi in taps(rows)]
    col_taps = [(_fold(fill_mode, j, w), np.asarray(wj, dtype)) for j, wj in taps(cols)]
    k = len(row_taps) * len(col_taps)
    idx = np.empty((k, n, h, w), dtype=np.int64)
    wts = np.empty((k, n, h, w), dtype=dtype)
    fill = np.zeros((n, h, w), dtype=dtype) if fill_mode == "constant" else None
    for t, (((ri, rv), wr), ((cj, cv), wc)) in enumerate(
            (r, c) for r in row_taps for c in col_taps):
        np.add(base + ri * w, cj, out=idx[t])
        np.multiply(wr, wc, out=wts[t])
        if fill is not None and (rv is not None or cv is not None):
            inside = (True if rv is None else rv) & (True if cv is None else cv)
            fill += np.where(inside, 0, wts[t])        # taps outside read the constant k
            wts[t] *= inside
    return (idx.reshape(k, -1), wts.reshape(k, -1),
            None if fill is None or not fill.any() else fill.ravel())


def resample(x, plan, fill_value):
    """`y[p] = Σₖ wts[k, p] · x[idx[k, p]] (+ fill_value · fill[p])` for each output pixel p."""
    idx, wts, fill = plan
    xf = x.reshape(-1, x.shape[-1])
    y = np.take(xf, idx[0], axis=0)
    y *= wts[0][:, None]
    for k in range(1, len(idx)):
        y += np.take(xf, idx[k], axis=0) * wts[k][:, None]
    if fill is not None and fill_value != 0.0:
        y += x.dtype.type(fill_value) * fill[:, None]
    return y.reshape(x.shape)


def resample_adjoint(dy, plan, x_shape):
    """The transpose of `resample`: `dx[idx[k, p]] += wts[k, p] · dy[p]` (a scatter-add)."""
    idx, wts, _ = plan
    c = x_shape[-1]
    dyf = dy.reshape(-1, c)
    flat = idx.ravel()
    dx = np.empty((math.prod(x_shape[:-1]), c), dtype=dy.dtype)
    for ch in range(c):                          # one bincount per channel: the fastest scatter
        dx[:, ch] = np.bincount(flat, (wts * dyf[:, ch]).ravel(), minlength=len(dx))
    return dx.reshape(x_shape)
