"""The Numba gather/scatter kernels of the 2-D convolution (im2col and its adjoint col2im).

Both work on a block of images `[i0, i0 + nb)` of the batch: `cols` (or `dcols`) holds that
block only, `(groups, nb, oh, ow, kh·kw·cg)`, while `x` (or `dx`) is the whole batch. The serial
path passes the whole batch as one block (`i0 = 0`); the threaded path (`conv_threads.py`) gives
each pool thread its own blocks, which never share an image, so threads never write the same
memory. Both kernels release the GIL (`_jit._FLAGS`), so pool threads run them side by side.
"""
import numpy as np

from ._jit import jit_inline, jit_parallel, prange


@jit_inline
def _span(size, out, stride, offset):
    """Output positions o in [lo, hi) whose input o·stride + offset lies in [0, size)."""
    lo = (-offset + stride - 1) // stride if offset < 0 else 0
    hi = (size - 1 - offset) // stride + 1 if offset < size else 0
    hi = min(hi, out)
    return min(lo, hi), hi


# Below this many channels per group, `_im2col` copies a tap channel by channel along the output
# row (a loop as long as the row) instead of pixel by pixel over the channels (a loop of one to
# three): the reference CNN's first layer (32, 28, 28, 1), 3x3, 567 -> 286 us; the CIFAR-shaped
# one's (64, 32, 32, 3), 'same', 2,575 -> 2,141 us (one thread).
SMALL_CG = 8


# Column and channel indices in the copy loops are unsigned (`np.uint64`): Numba tests a signed
# index for negative values on every element (to wrap it around), which keeps LLVM from
# vectorising the copy. The offsets are in bounds by construction (`_span`). One thread:
# (32, 28, 28, 1) 287 -> 176 us, (16, 32, 32, 3) 'same' 531 -> 241 us, (7, 32, 32, 32) 'same'
# 290 -> 237 us.
_U = np.uint64


@jit_parallel
def _im2col(x, i0, kh, kw, sh, sw, pt, pl, dh, dw, cols):
    """cols[g, i, oy, ox, (ky·kw + kx)·cg + c] = x_pad[i0 + i, oy·sh + ky·dh, ox·sw + kx·dw,
    g·cg + c].

    For each tap the in-bounds output columns form one range, so the copy loop has no branches
    and only the padded borders are zeroed.
    """
    _, h, wd, _ = x.shape
    groups, nb, oh, ow, _ = cols.shape
    cg = cols.shape[4] // (kh * kw)
    cgu = _U(cg)
    for i in prange(nb):                      # each thread owns whole images
        xi = i0 + i
        for g in range(groups):
            c0 = _U(g * cg)
            for oy in range(oh):
                for ky in range(kh):
                    iy = oy * sh - pt + ky * dh
                    for kx in range(kw):
                        k, off = _U((ky * kw + kx) * cg), kx * dw - pl
                        lo, hi = _span(wd, ow, sw, off) if 0 <= iy < h else (0, 0)
                        for ox in range(lo):                      # zero padding (left)
                            for c in range(cgu):
                                cols[g, i, oy, ox, k + c] = 0
                        if cg < SMALL_CG:                         # the long loop inside
                            for c in range(cgu):
                                for ox in range(lo, hi):
                                    cols[g, i, oy, _U(ox), k + c] = x[xi, iy, _U(ox * sw + off),
                                                                      c0 + c]
                        else:
                            for ox in range(lo, hi):
                                ix = _U(ox * sw + off)
                                for c in range(cgu):
                                    cols[g, i, oy, ox, k + c] = x[xi, iy, ix, c0 + c]
                        for ox in range(hi, ow):                  # zero padding (right)
                            for c in range(cgu):
                                cols[g, i, oy, ox, k + c] = 0


@jit_parallel
def _col2im(dcols, i0, kh, kw, sh, sw, pt, pl, dh, dw, dx):
    """Adjoint of `_im2col`: dx[i0 + i, iy, ix, g·cg + c] += dcols[g, i, oy, ox, k] (padding
    dropped); the block's images of dx are zeroed first."""
    _, h, wd, _ = dx.shape
    groups, nb, oh, ow, _ = dcols.shape
    cg = dcols.shape[4] // (kh * kw)
    cgu = _U(cg)
    for i in prange(nb):                      # images never share dx rows: no races
        xi = i0 + i
        dx[xi] = 0
        for g in range(groups):
            c0 = _U(g * cg)
            for oy in range(oh):
                for ky in range(kh):
                    iy = oy * sh - pt + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(kw):
                        k, off = _U((ky * kw + kx) * cg), kx * dw - pl
                        lo, hi = _span(wd, ow, sw, off)
                        for ox in range(lo, hi):
                            ix = _U(ox * sw + off)
                            for c in range(cgu):
                                dx[xi, iy, ix, c0 + c] += dcols[g, i, oy, ox, k + c]
