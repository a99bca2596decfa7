"""2-D pooling, NHWC: max/min with recorded argmax/argmin, and average pooling.

Conventions (shared with `reference.py`): `x` is `(n, h, w, c)`, `pool=(ph, pw)`,
`strides=(sh, sw)`, `padding=(top, bottom, left, right)` resolved by the caller. Padded positions
never take part: max/min pooling ignores them and average pooling divides by the number of
in-bounds elements only (Keras "same" semantics). A window with no in-bounds element (possible
only with padding larger than the pool) gives 0 and receives no gradient.

`idx` holds, for every output element, the flat index into `x` (C order, so
`np.unravel_index(idx, x.shape)` recovers it) of the element that won: the first one in scan
order (rows, then columns) on ties; NaN wins, like `np.argmax`. The layers use the compact
variant of `conv_pooling.py` instead (one byte per output, split over the batch on threads).
Average pooling splits the batch over kerasnp's threads (`conv_threads.run_batch`): images are
independent, so results do not depend on the thread count.
"""
import numpy as np

from ._jit import jit_parallel, prange
from .conv import _ints, as_kernel_array, compute_dtype
from .conv_threads import run_batch
from .reference import output_size

# ------------------------------------------------------------------------------------- kernels


@jit_parallel
def _extremum_pool(x, ph, pw, sh, sw, pt, pl, is_max, y, idx):
    """y = max (or min) of each window's in-bounds elements; idx = flat index of the winner."""
    n, h, wd, c = x.shape
    _, oh, ow, _ = y.shape
    for i in prange(n):                      # each thread owns whole images
        for oy in range(oh):
            for ox in range(ow):
                found = False
                for ky in range(ph):
                    iy = oy * sh - pt + ky
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(pw):
                        ix = ox * sw - pl + kx
                        if ix < 0 or ix >= wd:
                            continue
                        base = ((i * h + iy) * wd + ix) * c
                        if not found:
                            for ch in range(c):
                                y[i, oy, ox, ch] = x[i, iy, ix, ch]
                                idx[i, oy, ox, ch] = base + ch
                            found = True
                            continue
                        for ch in range(c):
                            v, best = x[i, iy, ix, ch], y[i, oy, ox, ch]
                            wins = v > best if is_max else v < best
                            if best == best and (wins or v != v):   # a NaN, once in, stays
                                y[i, oy, ox, ch] = v
                                idx[i, oy, ox, ch] = base + ch
                if not found:
                    for ch in range(c):
                        y[i, oy, ox, ch] = 0
                        idx[i, oy, ox, ch] = -1


@jit_parallel
def _scatter_by_index(dy, idx, per_image, dx):
    """dx.flat[idx] += dy for each image's rows of dy/idx (n, m); image i owns dx[i·per_image:]."""
    n, m = dy.shape
    for i in prange(n):
        start = i * per_image
        for j in range(start, start + per_image):
            dx[j] = 0
        for j in range(m):
            k = idx[i, j]
            if k >= 0:
                dx[k] += dy[i, j]


@jit_parallel
def _avg_pool(x, ph, pw, sh, sw, pt, pl, y):
    """y = mean of each window's in-bounds elements (padding not counted)."""
    n, h, wd, c = x.shape
    _, oh, ow, _ = y.shape
    for i in prange(n):
        for oy in range(oh):
            y0, y1 = max(oy * sh - pt, 0), min(oy * sh - pt + ph, h)
            for ox in range(ow):
                x0, x1 = max(ox * sw - pl, 0), min(ox * sw - pl + pw, wd)
                for ch in range(c):
                    y[i, oy, ox, ch] = 0
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        for ch in range(c):
                            y[i, oy, ox, ch] += x[i, iy, ix, ch]
                count = max(y1 - y0, 0) * max(x1 - x0, 0)
                if count > 0:
                    for ch in range(c):
                        y[i, oy, ox, ch] /= count


@jit_parallel
def _avg_pool_backward(dy, ph, pw, sh, sw, pt, pl, dx):
    """Mirror of `_avg_pool`: dx[window] += dy / count."""
    n, h, wd, c = dx.shape
    _, oh, ow, _ = dy.shape
    for i in prange(n):
        dx[i] = 0
        for oy in range(oh):
            y0, y1 = max(oy * sh - pt, 0), min(oy * sh - pt + ph, h)
            for ox in range(ow):
                x0, x1 = max(ox * sw - pl, 0), min(ox * sw - pl + pw, wd)
                count = max(y1 - y0, 0) * max(x1 - x0, 0)
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        for ch in range(c):
                            dx[i, iy, ix, ch] += dy[i, oy, ox, ch] / count


# ------------------------------------------------------------------------------------- public
_IS_MAX = {"max": True, "min": False}


def _geometry(x_shape, pool, strides, padding):
    ph, pw = _ints(*pool)
    sh, sw = _ints(*strides)
    pt, pb, pl, pr = _ints(*padding)
    oh, ow = output_size(x_shape[1], ph, sh, pt, pb), output_size(x_shape[2], pw, sw, pl, pr)
    return (x_shape[0], oh, ow, x_shape[3]), (ph, pw, sh, sw, pt, pl)


def pool2d_forward(x, pool, strides, padding, mode):
    """Max or min pooling that also returns where each output came from.

    Args:
        x: array `(n, h, w, c)`.
        pool: `(ph, pw)` window size.
        strides: `(sh, sw)`.
        padding: `(top, bottom, left, right)`; padded positions never win.
        mode: `"max"` or `"min"`.

    Returns:
        `(y, idx)`: `y` of shape `(n, oh, ow, c)` and dtype of `x`; `idx` int64 of the same shape,
        flat indices into `x` (-1 for a window with no in-bounds element).

    Example:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> y, idx = pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), "max")
        >>> y[0, :, :, 0].tolist(), idx[0, :, :, 0].tolist()
        ([[5.0, 7.0], [13.0, 15.0]], [[5, 7], [13, 15]])
    """
    if mode not in _IS_MAX:
        raise ValueError(f"Unknown pooling mode {mode!r}. Valid: max, min. Received: mode={mode!r}")
    in_dtype = x.dtype
    x = as_kernel_array(x, compute_dtype(in_dtype))
    shape, args = _geometry(x.shape, pool, strides, padding)
    y, idx = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.int64)
    _extremum_pool(x, *args, _IS_MAX[mode], y, idx)
    return y.astype(in_dtype, copy=False), idx


def pool2d_backward(dy, idx, x_shape):
    """Gradient of `pool2d_forward`: each `dy` element goes to the one input element in `idx`.

    Args:
        dy: array shaped like the pooled output.
        idx: the `idx` returned by `pool2d_forward`.
        x_shape: shape of the pooled input.

    Returns:
        `dx` of shape `x_shape`, dtype of `dy` (overlapping windows sum).
    """
    in_dtype = dy.dtype
    n = int(x_shape[0])
    dy2 = as_kernel_array(dy, compute_dtype(in_dtype)).reshape(n, -1)
    idx2 = as_kernel_array(idx, np.int64).reshape(n, -1)
    per_image = int(np.prod(x_shape[1:], dtype=np.int64))
    dx = np.empty(n * per_image, dtype=dy2.dtype)
    _scatter_by_index(dy2, idx2, per_image, dx)
    return dx.reshape(tuple(x_shape)).astype(in_dtype, copy=False)


def avgpool2d_forward(x, pool, strides, padding):
    """Average pooling; only in-bounds elements are averaged (Keras "same" semantics).

    Args:
        x: array `(n, h, w, c)`.
        pool, strides, padding: as in `pool2d_forward`.

    Returns:
        `y` of shape `(n, oh, ow, c)`, dtype of `x`.
    """
    in_dtype = x.dtype
    x = as_kernel_array(x, compute_dtype(in_dtype))
    shape, args = _geometry(x.shape, pool, strides, padding)
    y = np.empty(shape, dtype=x.dtype)
    run_batch(x.shape[0], x.size, lambda a, b: _avg_pool(x[a:b], *args, y[a:b]))
    return y.astype(in_dtype, copy=False)


def avgpool2d_backward(dy, x_shape, pool, strides, padding):
    """Gradient of `avgpool2d_forward`: dy spread evenly over each window's in-bounds elements.

    Returns:
        `dx` of shape `x_shape`, dtype of `dy`.
    """
    in_dtype = dy.dtype
    dy = as_kernel_array(dy, compute_dtype(in_dtype))
    _, args = _geometry(tuple(x_shape), pool, strides, padding)
    dx = np.empty(tuple(int(s) for s in x_shape), dtype=dy.dtype)
    run_batch(dx.shape[0], dx.size, lambda a, b: _avg_pool_backward(dy[a:b], *args, dx[a:b]))
    return dx.astype(in_dtype, copy=False)
