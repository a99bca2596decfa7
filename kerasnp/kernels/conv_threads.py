"""The 2-D convolution split over the batch on kerasnp's thread pool (see `threads.py`).

With a thread budget above one, `conv.py` hands the work to these drivers: the batch is cut into
one contiguous range of images per thread, and each range into blocks small enough that a
block's columns stay in L2 while the block's one BLAS product reads them (im2col -> GEMM ->
bias/ReLU epilogue, block after block). BLAS runs single-threaded inside the region: kerasnp's
threads have the cores, so OpenBLAS's spinning workers never fight them, which is what made
BLAS-threaded epochs several times slower on a loaded machine.

Determinism: the blocks depend only on the batch size, the layer's sizes and the budget, never
on timing; each thread computes its kernel-gradient partial (one product over its columns, or
with groups one per block, summed in block order) and the threads' partials are then summed in
thread order. So results differ between budgets by float rounding
only, and kept-columns and fresh backward passes agree bit for bit.
"""
import numpy as np

from ._jit import PARALLEL
from .conv_im2col import _col2im, _im2col
from .threads import num_threads, run_parallel, single_threaded_blas

# Columns per block, so a block's columns are still in L2 (2 MiB per core on the reference
# machine) when its product reads them. Forward + backward on the 2-core machine (min of 25,
# shared machine): (64, 14, 14, 32) -> 64 3x3 'same': 22 / 21 / 21 ms with 256 KiB / 1 MiB /
# 4 MiB blocks (forward alone 6.9 / 5.4 / 6.9 ms), serial path with two BLAS threads 32 ms; the
# reference CNN's second layer (64, 13, 13, 32) -> 64: 13.2 / 12.3 / 13.0 ms vs 18 ms. Blocks
# also bound predict's scratch (no columns kept) to one block per thread.
BLOCK_BYTES = 1 << 20
# Multiply-adds (n·oh·ow·kh·kw·cg·cout) below which the serial path is faster. Measured on the
# 2-core reference machine (forward + backward, 60 alternations, the machine shared): 0.6M
# multiply-adds 0.12 ms serial vs 0.19 ms threaded, 2.4M 0.39 vs 0.57 ms, 9.4M 1.50 vs 1.33 ms.
MIN_WORK = 1 << 23


def plan(n, rows_per_image, k, groups, cout, itemsize):
    """Per thread, its list of `(b0, b1)` image blocks; None for the serial path (a budget of
    one thread, Numba's own pool in use, a single image, or too little work). `k` is the
    columns per group (kh·kw·cg)."""
    t = 1 if PARALLEL else min(num_threads(), n)   # PARALLEL: Numba's threads already split n
    if t == 1 or n * rows_per_image * k * cout < MIN_WORK:
        return None
    nb = max(1, BLOCK_BYTES // (rows_per_image * groups * k * itemsize))
    bounds = [n * j // t for j in range(t + 1)]
    return [[(b0, min(b0 + nb, hi)) for b0 in range(lo, hi, nb)]
            for lo, hi in zip(bounds, bounds[1:])]


def _parallel(calls):
    with single_threaded_blas():
        return run_parallel(calls)


def _products(a, b, groups, out):
    """out[:, group g] = a[g]·b[:, group g] (a is `(groups, m, k)`, b `(k, cout)`)."""
    if groups == 1:
        np.matmul(a[0], b, out=out)
        return
    og = b.shape[1] // groups
    for g in range(groups):
        co = slice(g * og, (g + 1) * og)
        np.matmul(a[g], b[:, co], out=out[:, co])


def _span_of(my_blocks):
    return my_blocks[0][0], my_blocks[-1][1]


def forward(x, w2, groups, geometry, blocks, keep_cols, bias, relu):
    """`y` (n·oh·ow, cout) = im2col(x)·W (+ bias, ReLU), and the kept columns or None.

    Kept columns, per thread: `(block columns, whole)`, `whole` being the thread's columns as
    one `(1, rows, k)` matrix when `groups == 1` (its blocks are views of it), else None.
    """
    oh, ow, args = geometry
    ohw, k, cout = oh * ow, w2.shape[0], w2.shape[1]
    y = np.empty((x.shape[0] * ohw, cout), dtype=x.dtype)

    def run(my_blocks):
        lo, hi = _span_of(my_blocks)
        whole = scratch = None
        if keep_cols and groups == 1:
            whole = np.empty((1, hi - lo, oh, ow, k), dtype=x.dtype)
        elif not keep_cols:                               # one buffer per thread, reused
            scratch = np.empty(groups * (my_blocks[0][1] - my_blocks[0][0]) * ohw * k,
                               dtype=x.dtype)
        kept = []
        for b0, b1 in my_blocks:
            shape = (groups, b1 - b0, oh, ow, k)
            if whole is not None:
                c = whole[:, b0 - lo:b1 - lo]             # contiguous: one group
            elif keep_cols:
                c = np.empty(shape, dtype=x.dtype)
            else:
                c = scratch[:int(np.prod(shape))].reshape(shape)
            _im2col(x, b0, *args, c)
            c = c.reshape(groups, (b1 - b0) * ohw, k)
            yb = y[b0 * ohw:b1 * ohw]
            _products(c, w2, groups, yb)                  # Y = cols·W
            if bias is not None:
                yb += bias                                # Y += b
            if relu:
                np.maximum(yb, 0, out=yb)                 # Y = max(Y, 0)
            kept.append((b0, b1, c))
        if whole is not None:
            whole = whole.reshape(1, (hi - lo) * ohw, k)
        return kept, whole
    kept = _parallel([(lambda b=b: run(b)) for b in blocks])
    return y, (kept if keep_cols else None)


def backward(x, dy2, w2, groups, geometry, blocks, kept, need_dw, dx):
    """dW (k, cout) when `need_dw` (else None); dX written into `dx` when it is not None.

    `blocks` is `plan(...)`'s answer, or None with `kept` (forward's columns) giving the blocks.
    With one group, dW is one product per thread over all its columns (`k` by thousands of rows:
    a block's few hundred rows made the product 2x slower); with groups, one per block.
    """
    oh, ow, args = geometry
    ohw, k, cout = oh * ow, w2.shape[0], w2.shape[1]
    og = cout // groups
    if kept is not None:
        blocks = [[(b0, b1) for b0, b1, _ in part] for part, _ in kept]

    def weight_gradient(j):
        my_blocks = blocks[j]
        lo, hi = _span_of(my_blocks)
        dwp = np.empty((k, cout), dy2.dtype)
        if groups == 1:                                   # dW = colsᵀ·dY, the thread's rows
            whole = kept[j][1] if kept is not None else None
            if whole is None:
                whole = np.empty((1, hi - lo, oh, ow, k), dtype=dy2.dtype)
                _im2col(x, lo, *args, whole)
                whole = whole.reshape(1, (hi - lo) * ohw, k)
            np.matmul(whole[0].T, dy2[lo * ohw:hi * ohw], out=dwp)
            return dwp
        part = np.empty_like(dwp)
        scratch = None
        for bi, (b0, b1) in enumerate(my_blocks):
            nb = b1 - b0
            if kept is not None:
                c = kept[j][0][bi][2]
            else:
                if scratch is None:
                    scratch = np.empty(groups * nb * ohw * k, dtype=dy2.dtype)
                c = scratch[:groups * nb * ohw * k].reshape(groups, nb, oh, ow, k)
                _im2col(x, b0, *args, c)
                c = c.reshape(groups, nb * ohw, k)
            out = dwp if bi == 0 else part
            _products(c.transpose(0, 2, 1), dy2[b0 * ohw:b1 * ohw], groups, out)  # dW = colsᵀ·dY
            if bi:
                dwp += part                               # blocks summed in order
        return dwp

    def input_gradient(j):
        my_blocks = blocks[j]
        dscratch = np.empty(max(b1 - b0 for b0, b1 in my_blocks) * ohw * groups * k,
                            dtype=dy2.dtype)
        for b0, b1 in my_blocks:
            nb = b1 - b0
            dyb = dy2[b0 * ohw:b1 * ohw]
            dc = dscratch[:groups * nb * ohw * k].reshape(groups, nb * ohw, k)
            for g in range(groups):                       # dcols = dY·Wᵀ
                co = slice(g * og, (g + 1) * og)
                np.matmul(dyb[:, co], w2[:, co].T, out=dc[g])
            _col2im(dc.reshape(groups, nb, oh, ow, k), b0, *args, dx)

    def run(j):
        dwp = weight_gradient(j) if need_dw else None
        if dx is not None:
            input_gradient(j)
        return dwp
    parts = _parallel([(lambda j=j: run(j)) for j in range(len(blocks))])
    if not need_dw:
        return None
    dw2 = parts[0]
    for p in parts[1:]:                                   # threads summed in order
        dw2 += p
    return dw2


# Pooling is memory-bound and has no BLAS inside: the batch is simply cut into one contiguous
# range per thread. Two threads share one memory bus, so the split pays only on large inputs:
# 2x2 max pooling forward + backward on the 2-core machine (min of 40) took 5.7 ms serial vs
# 3.0 ms threaded on 4.2M elements, 2.4 vs 2.4 ms on 2.1M, 1.6 vs 1.6 ms on 1.4M and was slower
# threaded below that (0.42 vs 0.48 ms on 0.5M); average pooling likewise (3.3 vs 1.9 ms on 4.2M).
MIN_POOL_ELEMENTS = 1 << 21


def run_batch(n, elements, kernel):
    """`kernel(i0, i1)` over `0:n`: one contiguous range of images per thread of the budget, or
    the whole batch on this thread (budget one, Numba's pool in use, or a small input)."""
    t = 1 if PARALLEL else min(num_threads(), n)
    if t == 1 or elements < MIN_POOL_ELEMENTS:
        kernel(0, n)
        return
    bounds = [n * j // t for j in range(t + 1)]
    run_parallel([(lambda a=a, b=b: kernel(a, b)) for a, b in zip(bounds, bounds[1:])])
