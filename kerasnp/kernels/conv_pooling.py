"""Max/min pooling with compact winner indices, split over the batch on kerasnp's threads.

`pool.py`'s `pool2d_forward` records each winner as an int64 flat index into `x` (8 bytes per
output, and tied to the whole batch). The layers use this variant instead: `arg` holds the
winner's offset inside its window, `ky·pw + kx`, as one uint8 (`NONE` = 255 when the window has
no in-bounds element), so a tape keeps 1/8 of the memory and any block of images can be pooled
(forward and backward) on its own: one contiguous range of images per thread
(`conv_threads.run_batch`). Windows of 255 elements or more fall back to `pool.py`'s int64 path.
Same semantics as `pool.py`: padded positions never win, the first element in scan order wins
ties, a NaN wins.
"""
import numpy as np

from ._jit import jit_parallel, prange
from .conv import as_kernel_array, compute_dtype
from .conv_threads import run_batch
from .pool import _IS_MAX, _geometry, pool2d_backward, pool2d_forward

NONE = 255


@jit_parallel
def _extremum_pool_arg(x, ph, pw, sh, sw, pt, pl, is_max, y, arg):
    """y = max (or min) of each window's in-bounds elements; arg = the winner's ky·pw + kx."""
    n, h, wd, c = x.shape
    _, oh, ow, _ = y.shape
    for i in prange(n):
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
                        a = ky * pw + kx
                        if not found:
                            for ch in range(c):
                                y[i, oy, ox, ch] = x[i, iy, ix, ch]
                                arg[i, oy, ox, ch] = a
                            found = True
                            continue
                        for ch in range(c):
                            v, best = x[i, iy, ix, ch], y[i, oy, ox, ch]
                            wins = v > best if is_max else v < best
                            if best == best and (wins or v != v):   # a NaN, once in, stays
                                y[i, oy, ox, ch] = v
                                arg[i, oy, ox, ch] = a
                if not found:
                    for ch in range(c):
                        y[i, oy, ox, ch] = 0
                        arg[i, oy, ox, ch] = NONE


@jit_parallel
def _scatter_by_arg(dy, arg, pw, sh, sw, pt, pl, dx):
    """dx[i, oy·sh - pt + ky, ox·sw - pl + kx, ch] += dy[i, oy, ox, ch] with ky, kx from arg."""
    n, oh, ow, c = dy.shape
    for i in prange(n):                      # images never share dx: no races
        dx[i] = 0
        for oy in range(oh):
            for ox in range(ow):
                for ch in range(c):
                    a = arg[i, oy, ox, ch]
                    if a != NONE:
                        dx[i, oy * sh - pt + a // pw, ox * sw - pl + a % pw, ch] += dy[i, oy, ox,
                                                                                         ch]


@jit_parallel
def _spread_by_arg(dy, arg, ph, pw, pt, pl, dx):
    """`_scatter_by_arg` for windows that tile the input (strides equal to the pool size): each
    dx element lies in at most one window, so it is written once (dy where it won, else 0), with
    no zeroing pass and no read-modify-write; rows and columns no window covers are zeroed."""
    n, oh, ow, c = dy.shape
    _, h, wd, _ = dx.shape
    for i in prange(n):
        for oy in range(oh):
            for ky in range(ph):
                iy = oy * ph - pt + ky
                if iy < 0 or iy >= h:
                    continue
                for ox in range(ow):
                    for kx in range(pw):
                        ix = ox * pw - pl + kx
                        if ix < 0 or ix >= wd:
                            continue
                        a = ky * pw + kx
                        for ch in range(c):
                            dx[i, iy, ix, ch] = dy[i, oy, ox, ch] if arg[i, oy, ox, ch] == a else 0
                for ix in range(max(0, ow * pw - pl), wd):          # right of the last window
                    for ch in range(c):
                        dx[i, iy, ix, ch] = 0
        for iy in range(max(0, oh * ph - pt), h):                   # below the last window
            for ix in range(wd):
                for ch in range(c):
                    dx[i, iy, ix, ch] = 0


def compact(pool):
    """True when a window's offsets fit in a uint8 (fewer than 255 elements)."""
    return int(pool[0]) * int(pool[1]) < NONE


def pool2d_forward_arg(x, pool, strides, padding, mode):
    """Like `pool.pool2d_forward`, but the winners as uint8 window offsets (see the module
    docstring); for windows too large for that, `pool2d_forward`'s int64 flat indices.

    Returns:
        `(y, arg)`; pass `arg` back to `pool2d_backward_arg` with the same geometry.
    """
    if not compact(pool):
        return pool2d_forward(x, pool, strides, padding, mode)
    if mode not in _IS_MAX:
        raise ValueError(f"Unknown pooling mode {mode!r}. Valid: max, min. Received: mode={mode!r}")
    in_dtype = x.dtype
    x = as_kernel_array(x, compute_dtype(in_dtype))
    shape, args = _geometry(x.shape, pool, strides, padding)
    y, arg = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.uint8)
    is_max = _IS_MAX[mode]
    run_batch(x.shape[0], x.size,
              lambda a, b: _extremum_pool_arg(x[a:b], *args, is_max, y[a:b], arg[a:b]))
    return y.astype(in_dtype, copy=False), arg


def pool2d_backward_arg(dy, arg, x_shape, pool, strides, padding):
    """Gradient of `pool2d_forward_arg`: each `dy` element goes to its window's winner.

    Returns:
        `dx` of shape `x_shape`, dtype of `dy` (overlapping windows sum).
    """
    if not compact(pool):
        return pool2d_backward(dy, arg, x_shape)
    in_dtype = dy.dtype
    dy = as_kernel_array(dy, compute_dtype(in_dtype))
    x_shape = tuple(int(s) for s in x_shape)
    _, (_, pw, sh, sw, pt, pl) = _geometry(x_shape, pool, strides, padding)
    dx = np.empty(x_shape, dtype=dy.dtype)
    ph = int(pool[0])
    if (sh, sw) == (ph, pw):                         # windows tile x: one write per element
        run_batch(x_shape[0], dx.size,
                  lambda a, b: _spread_by_arg(dy[a:b], arg[a:b], ph, pw, pt, pl, dx[a:b]))
    else:
        run_batch(x_shape[0], dx.size,
                  lambda a, b: _scatter_by_arg(dy[a:b], arg[a:b], pw, sh, sw, pt, pl, dx[a:b]))
    return dx.astype(in_dtype, copy=False)
