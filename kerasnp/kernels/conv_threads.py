"""The 2-D convolution split over the batch on kerasnp's thread pool (see `threads.py`).

With a thread budget above one, `conv.py` hands the work to these drivers: the batch is cut into
one contiguous range of images per thread, and each range into blocks small enough that a
block's columns stay in L2 while the block's one BLAS product reads them (im2col -> GEMM ->
bias/ReLU epilogue, block after block). BLAS runs single-threaded inside the region: kerasnp's
threads have the cores, so OpenBLAS's spinning workers never fight them, which is what made
BLAS-threaded epochs several times slower on a loaded machine.

Training keeps no columns on this path: the forward pass gathers each block, multiplies and
drops it, and the backward pass gathers the block again. Kept whole-batch columns were slower:
writing them (151 MB for a 32x32x32 'same' convolution at batch 128) and faulting in the fresh
pages cost the CIFAR-shaped network's second layer 38 ms of forward where predict took 20 ms,
while gathering a block again costs less than a millisecond and leaves it in cache for both of
its backward products (forward + backward of that layer 91 -> 67 ms, 2 threads, min of 7).

Determinism: the blocks depend only on the batch size, the layer's sizes and the budget, never
on timing; each thread sums its blocks' kernel-gradient partials in block order and the threads'
partials are then summed in thread order. So results differ between budgets by float rounding
only.
"""
import numpy as np

from ._jit import PARALLEL
from .conv_im2col import _col2im, _im2col
from .epilogue import _bias_relu, _mask_and_sum, as_bias
from .threads import num_threads, run_parallel, single_threaded_blas

# Columns per block, so a block's columns are still in L2 when its products read them. Forward
# + backward with 2 threads on the 2-core machine (min of 9, machine shared, so +-5%): the
# CIFAR-shaped network's four convolutions (batch 128) took 156 / 152 / 153 / 148 ms with
# 256 KiB / 512 KiB / 1 MiB / 2 MiB blocks, the reference CNN's second layer (64, 13, 13, 32)
# -> 64 6.5 / 5.8 / 5.6 / 5.7 ms: flat from 512 KiB on. Blocks also bound the scratch memory to
# one block per thread. A block's bytes count its output rows (or their masked gradient) as well
# as its columns: with one input channel the first layer's 32 output channels are 3.5x its 9
# columns, and counting columns alone made 2.8 MB blocks (reference CNN's first layer, forward +
# backward, 40 alternations: median 2.67 -> 2.48 ms, min unchanged).
BLOCK_BYTES = 1 << 20
# Multiply-adds (n·oh·ow·kh·kw·cg·cout) below which the serial path is faster. Measured on the
# 2-core reference machine (forward + backward, 60 alternations, the machine shared): 0.6M
# multiply-adds 0.12 ms serial vs 0.19 ms threaded, 2.4M 0.39 vs 0.57 ms, 9.4M 1.50 vs 1.33 ms.
MIN_WORK = 1 << 23


# Splitting the batch pays where the activations outweigh the kernel: each thread's products
# read the whole kernel for its own rows. Below ACTIVATION_RATIO (the columns and outputs over
# the kernel's size) the convolution runs on the path that keeps whole-batch columns, its
# products split by output columns instead (`products`): each thread then reads its part of
# the kernel once. ResNet-50's later stages on 32x32 images (2x2 and 1x1 maps, 256-512
# channels, batch 32) took 2x as long split by batch as BLAS's own threads did (training step
# 0.36 vs 0.20 s); their columns and outputs are 0.07-0.6x their kernels.
ACTIVATION_RATIO = 4


def plan(n, rows_per_image, k, groups, cout, itemsize):
    """Per thread, its list of `(b0, b1)` image blocks; None for the path that keeps whole-batch
    columns (a budget of one thread, Numba's own pool in use, a single image, too little work,
    or a kernel that outweighs the activations: see ACTIVATION_RATIO). `k` is the columns per
    group (kh·kw·cg)."""
    t = 1 if PARALLEL else min(num_threads(), n)   # PARALLEL: Numba's threads already split n
    if t == 1 or n * rows_per_image * k * cout < MIN_WORK:
        return None
    if n * rows_per_image * (groups * k + cout) < ACTIVATION_RATIO * k * cout:
        return None
    return image_blocks(n, t, BLOCK_BYTES // (rows_per_image * (groups * k + cout) * itemsize))


def image_blocks(n, t, nb):
    """`n` images cut into `t` contiguous ranges, one per thread, each range into blocks of at
    most `nb` (at least 1) images: per thread, its list of `(b0, b1)`."""
    nb = max(1, nb)
    bounds = [n * j // t for j in range(t + 1)]
    return [[(b0, min(b0 + nb, hi)) for b0 in range(lo, hi, nb)]
            for lo, hi in zip(bounds, bounds[1:])]


def products(a, b, out=None):
    """`out = a·b` (2-D), its columns split over the thread budget when the product is large
    (MIN_WORK multiply-adds): each thread multiplies `a` by its own columns of `b`, so the
    threads share out `b` (a kernel, on the path that keeps whole-batch columns) instead of each
    reading all of it. Plain `a @ b` (BLAS's own threads, if any) otherwise."""
    m, kk = a.shape
    n = b.shape[1]
    t = 1 if PARALLEL else min(num_threads(), n)
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a, b))
    if t == 1 or m * kk * n < MIN_WORK:
        np.matmul(a, b, out=out)
        return out
    bounds = [n * j // t for j in range(t + 1)]
    parallel([(lambda j0=j0, j1=j1: np.matmul(a, b[:, j0:j1], out=out[:, j0:j1]))
               for j0, j1 in zip(bounds, bounds[1:])])
    return out


def parallel(calls):
    """`run_parallel(calls)` with BLAS single-threaded inside (one call: just run it)."""
    if len(calls) == 1:
        return [calls[0]()]
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


def forward(x, w2, groups, geometry, blocks, bias, relu):
    """`y` (n·oh·ow, cout) = im2col(x)·W (+ bias, ReLU), block after block; no columns are kept
    (`backward` gathers them again, block by block, while they are in cache)."""
    oh, ow, args = geometry
    ohw, k, cout = oh * ow, w2.shape[0], w2.shape[1]
    y = np.empty((x.shape[0] * ohw, cout), dtype=x.dtype)
    has_bias = bias is not None
    bias_vector = as_bias(bias, cout, x.dtype)

    def run(my_blocks):
        scratch = np.empty(groups * largest(my_blocks) * ohw * k, dtype=x.dtype)
        for b0, b1 in my_blocks:
            c = _columns(x, b0, b1, groups, geometry, k, scratch)
            yb = y[b0 * ohw:b1 * ohw]
            _products(c, w2, groups, yb)                  # Y = cols·W
            if has_bias or relu:                          # Y = max(Y + b, 0)
                _bias_relu(yb, bias_vector, has_bias, relu)
    parallel([(lambda mine=mine: run(mine)) for mine in blocks])
    return y


def largest(my_blocks):
    """Images in the largest of a thread's blocks (0 for none)."""
    return max((b1 - b0 for b0, b1 in my_blocks), default=0)


def _columns(x, b0, b1, groups, geometry, k, scratch):
    """The block's im2col matrix `(groups, (b1 - b0)·oh·ow, k)`, gathered into `scratch`."""
    oh, ow, args = geometry
    c = scratch[:groups * (b1 - b0) * oh * ow * k].reshape(groups, b1 - b0, oh, ow, k)
    _im2col(x, b0, *args, c)
    return c.reshape(groups, (b1 - b0) * oh * ow, k)


def backward(x, dy2, w2, groups, geometry, blocks, need_dw, dx, y2=None, need_db=False):
    """`(dW or None, db or None)`: dW `(k, cout)` when `need_dw`, db (float64 `(cout,)`) when
    `need_db`; dX is written into `dx` when it is not None.

    Block by block, each thread gathers the block's columns again (forward kept none: writing
    and re-reading whole-batch columns cost more than the second gather, whose block is still
    in cache when its two products read it), adds the block's colsᵀ·dZ to its kernel-gradient
    partial and scatters dZ·Wᵀ back into dx (col2im). `dZ` is `dy2` itself, or, with the ReLU's
    output `y2` or `need_db`, the block's masked rows (and their column sums), computed into
    the thread's scratch right before the products read them.
    """
    oh, ow, args = geometry
    ohw, k, cout = oh * ow, w2.shape[0], w2.shape[1]
    og = cout // groups
    epilogue = y2 is not None or need_db

    def run(my_blocks):
        most = largest(my_blocks) * ohw
        cscratch = np.empty(groups * most * k, dtype=dy2.dtype) if need_dw else None
        dscratch = np.empty(groups * most * k, dtype=dy2.dtype) if dx is not None else None
        zscratch = np.empty(most * cout, dtype=dy2.dtype) if epilogue else None
        acc = np.zeros(cout, np.float64) if epilogue else None
        dwp = np.empty((k, cout), dy2.dtype) if need_dw else None
        part = np.empty_like(dwp) if need_dw else None
        for bi, (b0, b1) in enumerate(my_blocks):
            rows = slice(b0 * ohw, b1 * ohw)
            dyb = dy2[rows]
            if epilogue:                                  # dZ = dY·[Y > 0], db += Σ dZ
                dzb = zscratch[:dyb.size].reshape(dyb.shape)
                _mask_and_sum(dyb, dyb if y2 is None else y2[rows], y2 is not None, dzb, acc)
                dyb = dzb
            if need_dw:
                c = _columns(x, b0, b1, groups, geometry, k, cscratch)
                _products(c.transpose(0, 2, 1), dyb, groups, dwp if bi == 0 else part)
                if bi:                                    # dW = Σ_blocks colsᵀ·dZ, in order
                    dwp += part
            if dx is not None:
                dc = dscratch[:groups * dyb.shape[0] * k].reshape(groups, dyb.shape[0], k)
                for g in range(groups):                   # dcols = dZ·Wᵀ
                    co = slice(g * og, (g + 1) * og)
                    np.matmul(dyb[:, co], w2[:, co].T, out=dc[g])
                _col2im(dc.reshape(groups, b1 - b0, oh, ow, k), b0, *args, dx)
        return dwp, acc
    parts = parallel([(lambda b=b: run(b)) for b in blocks])
    return sum_in_order([p[0] for p in parts]), sum_in_order([p[1] for p in parts])


def sum_in_order(parts):
    """The threads' partials summed in thread order (None when there are none)."""
    if parts[0] is None:
        return None
    total = parts[0]
    for p in parts[1:]:
        total += p
    return total


# Pooling is memory-bound and has no BLAS inside: the batch is simply cut into one contiguous
# range per thread. Two threads share one memory bus, so the split pays only on large inputs:
# 2x2 max pooling on the 2-core machine (min of 60; forward / backward): 1.4M elements 0.47 /
# 0.28 ms serial vs 0.27 / 0.16 ms threaded, 0.5M elements 0.10 / 0.07 vs 0.08 / 0.13 ms.
MIN_POOL_ELEMENTS = 1 << 20


def run_batch(n, elements, kernel):
    """`kernel(i0, i1)` over `0:n`: one contiguous range of images per thread of the budget, or
    the whole batch on this thread (budget one, Numba's pool in use, or a small input)."""
    t = 1 if PARALLEL else min(num_threads(), n)
    if t == 1 or elements < MIN_POOL_ELEMENTS:
        kernel(0, n)
        return
    bounds = [n * j // t for j in range(t + 1)]
    run_parallel([(lambda a=a, b=b: kernel(a, b)) for a, b in zip(bounds, bounds[1:])])
