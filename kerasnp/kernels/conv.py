"""2-D convolution, NHWC, as im2col (Numba gather) + BLAS GEMM; backward via col2im (scatter).

Conventions (shared with `reference.py`): `x` is `(n, h, w, cin)`, `w` is Keras's
`(kh, kw, cin // groups, cout)`, `strides=(sh, sw)`, `padding=(top, bottom, left, right)`
already resolved by the caller, `dilation=(dh, dw)`. Group `g` reads input channels
`[g·cg, (g+1)·cg)` and writes output channels `[g·og, (g+1)·og)`.

The column matrix has shape `(groups, n·oh·ow, kh·kw·cg)`, its rows ordered like the output
pixels and its columns like `w.reshape(kh·kw·cg, cout)`, so for one group the forward pass is a
single `cols @ w2` whose result already is `y` in NHWC order: no transposes anywhere.

With a thread budget above one (`threads.num_threads()`) and enough work, the batch is split
over kerasnp's pool instead, BLAS single-threaded, by `conv_threads.py`; a budget of one runs the
serial code below, BLAS keeping its own threads.
"""
import numpy as np

from . import conv_threads, conv_winograd
from .conv_im2col import _col2im, _im2col
from .epilogue import bias_relu, mask_and_sum
from .reference import output_size

# ------------------------------------------------------------------------------------- helpers
_COMPUTE = {np.dtype(np.float32): np.float32, np.dtype(np.float64): np.float64,
            np.dtype(np.float16): np.float32}   # float16 is computed in float32, returned as float16


def compute_dtype(dtype):
    """The dtype a kernel computes in for inputs of `dtype` (float32 or float64)."""
    try:
        return _COMPUTE[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"kerasnp kernels expect floating arrays. Valid dtypes: "
                        f"{', '.join(str(d) for d in _COMPUTE)}. Received: dtype={np.dtype(dtype)}")


def as_kernel_array(a, dtype):
    """C-contiguous, writable `a` of `dtype`; copies only when needed (one Numba type per dtype)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _ints(*values):
    return tuple(int(v) for v in values)     # numpy ints would compile new specialisations


def _geometry(x_shape, w_shape, strides, padding, dilation):
    kh, kw = w_shape[:2]
    sh, sw = _ints(*strides)
    pt, pb, pl, pr = _ints(*padding)
    dh, dw = _ints(*dilation)
    oh = output_size(x_shape[1], kh, sh, pt, pb, dh)
    ow = output_size(x_shape[2], kw, sw, pl, pr, dw)
    return oh, ow, (int(kh), int(kw), sh, sw, pt, pl, dh, dw)


def _im2col_matrix(x, w_shape, groups, geometry):
    oh, ow, args = geometry
    kh, kw, cg = w_shape[:3]
    cols = np.empty((groups, x.shape[0], oh, ow, kh * kw * cg), dtype=x.dtype)
    _im2col(x, 0, *args, cols)
    return cols.reshape(groups, x.shape[0] * oh * ow, kh * kw * cg)


# ------------------------------------------------------------------------------------- public


def _plan(x_shape, w, groups, geometry, dtype):
    oh, ow = geometry[:2]
    kh, kw, cg, cout = w.shape
    return conv_threads.plan(int(x_shape[0]), oh * ow, kh * kw * cg, groups, cout,
                             np.dtype(dtype).itemsize)


def conv2d_forward(x, w, strides, padding, dilation, groups, keep_cols=False, bias=None,
                   relu=False):
    """2-D convolution (cross-correlation, as in Keras) of an NHWC batch.

    Args:
        x: array `(n, h, w, cin)`.
        w: kernel `(kh, kw, cin // groups, cout)`.
        strides: `(sh, sw)` ints.
        padding: `(top, bottom, left, right)` non-negative ints (zeros are padded).
        dilation: `(dh, dw)` ints.
        groups: int dividing `cin` and `cout`.
        keep_cols: also return the im2col matrix, so `conv2d_backward(..., cols=cols)` need not
            gather the patches a second time (None on the threaded path, which gathers them
            again block by block, in cache, faster than keeping them).
        bias: optional `(cout,)` added to the output (fused into each block's epilogue).
        relu: apply ReLU after the bias.

    Returns:
        `y` of shape `(n, oh, ow, cout)`, dtype of `x` (float16 is computed in float32); with
        `keep_cols`, the pair `(y, cols)`.

    Example:
        >>> y = conv2d_forward(np.ones((2, 5, 5, 1), "float32"), np.ones((3, 3, 1, 4), "float32"),
        ...                    (1, 1), (0, 0, 0, 0), (1, 1), 1)
        >>> y.shape, float(y[0, 0, 0, 0])
        ((2, 3, 3, 4), 9.0)
    """
    in_dtype = x.dtype
    dtype = compute_dtype(in_dtype)
    x, w, groups = as_kernel_array(x, dtype), as_kernel_array(w, dtype), int(groups)
    kh, kw, cg, cout = w.shape
    geometry = _geometry(x.shape, w.shape, strides, padding, dilation)
    oh, ow = geometry[:2]
    if conv_winograd.applies(x.shape[0], oh, ow, w.shape, strides, dilation, groups):
        fused = in_dtype == dtype                    # float16: epilogue after the cast, as below
        y = conv_winograd.forward(x, w, geometry[2][4:6], oh, ow, bias if fused else None,
                                  relu and fused).astype(in_dtype, copy=False)
        if not fused:
            bias_relu(y, bias, relu)
        return (y, None) if keep_cols else y          # backward transforms x again
    w2, og = w.reshape(kh * kw * cg, cout), cout // groups
    blocks = _plan(x.shape, w, groups, geometry, dtype)
    if blocks is not None:
        fused = in_dtype == dtype                    # float16: epilogue after the cast, as below
        y = conv_threads.forward(x, w2, groups, geometry, blocks, bias if fused else None,
                                 relu and fused)
        y = y.reshape(x.shape[0], oh, ow, cout).astype(in_dtype, copy=False)
        if not fused:
            bias_relu(y, bias, relu)
        return (y, None) if keep_cols else y          # backward gathers block by block again
    cols = _im2col_matrix(x, w.shape, groups, geometry)          # (groups, m, k)
    if groups == 1:
        y = conv_threads.products(cols[0], w2)                    # y = cols·W
    else:
        y = np.empty((cols.shape[1], cout), dtype=dtype)
        for g in range(groups):
            co = slice(g * og, (g + 1) * og)
            np.matmul(cols[g], w2[:, co], out=y[:, co])
    y = bias_relu(y.reshape(x.shape[0], oh, ow, cout).astype(in_dtype, copy=False), bias, relu)
    return (y, cols) if keep_cols else y


def conv2d_backward(x, w, dy, strides, padding, dilation, groups, cols=None, need_dx=True,
                    relu_output=None, need_db=False):
    """Gradients of `conv2d_forward` with respect to `x` and `w` (and its fused bias), given
    `dy = dL/dy`.

    Args:
        x, w, strides, padding, dilation, groups: as given to `conv2d_forward`.
        dy: array `(n, oh, ow, cout)`.
        cols: the im2col matrix `conv2d_forward(..., keep_cols=True)` returned for this `x`
            (optional: saves gathering the patches again).
        need_dx: False skips the input gradient (first layer of a model); `dx` is then None.
        relu_output: the forward's output `y` when it fused a ReLU: `dy` is then the gradient
            of `y` and the ReLU's mask `[y > 0]` is applied first.
        need_db: also return the gradient of the fused bias (`Σ` of the masked `dy`).

    Returns:
        `(dx, dw)` shaped like `x` and `w`; `(dx, dw, db)` with `need_db`.
    """
    in_dtype = x.dtype
    dtype = compute_dtype(in_dtype)
    w, groups = as_kernel_array(w, dtype), int(groups)
    kh, kw, cg, cout = w.shape
    geometry = _geometry(x.shape, w.shape, strides, padding, dilation)
    dy2 = as_kernel_array(dy, dtype).reshape(-1, cout)
    y2 = None if relu_output is None else as_kernel_array(relu_output, dtype).reshape(-1, cout)
    if cols is None and conv_winograd.applies(dy.shape[0], dy.shape[1], dy.shape[2], w.shape,
                                              strides, dilation, groups):
        dx, dw, acc = conv_winograd.backward(as_kernel_array(x, dtype), w,
                                             dy2.reshape(dy.shape), geometry[2][4:6],
                                             None if y2 is None else y2.reshape(dy.shape),
                                             need_db, need_dx)
        dx = dx.astype(in_dtype, copy=False) if need_dx else None
        dw = dw.astype(in_dtype, copy=False)
        return (dx, dw, acc.astype(in_dtype)) if need_db else (dx, dw)
    blocks = _plan(x.shape, w, groups, geometry, dtype) if cols is None else None
    if blocks is not None:                               # threaded, the columns gathered again
        dx = np.empty(x.shape, dtype=dtype) if need_dx else None
        dw2, acc = conv_threads.backward(as_kernel_array(x, dtype), dy2, w.reshape(-1, cout),
                                         groups, geometry, blocks, True, dx, y2, need_db)
        dx = dx.astype(in_dtype, copy=False) if need_dx else None
        dw = dw2.reshape(w.shape).astype(in_dtype, copy=False)
        return (dx, dw, acc.astype(in_dtype)) if need_db else (dx, dw)
    acc = None
    if y2 is not None or need_db:                        # dZ = dY·[Y > 0], db = Σ dZ
        dy2, acc = mask_and_sum(dy2, y2)
    if cols is None:
        cols = _im2col_matrix(as_kernel_array(x, dtype), w.shape, groups, geometry)
    w2, og = w.reshape(kh * kw * cg, cout), cout // groups
    dw2 = np.empty_like(w2)
    if groups == 1:
        conv_threads.products(cols[0].T, dy2, dw2)                # dW = colsᵀ·dY
    for g in range(groups if groups > 1 else 0):
        co = slice(g * og, (g + 1) * og)
        np.matmul(cols[g].T, dy2[:, co], out=dw2[:, co])
    dw = dw2.reshape(w.shape).astype(in_dtype, copy=False)
    dx = None
    if need_dx:
        dx = _input_gradient(dy2, w2, x.shape, groups, geometry, dtype).astype(in_dtype,
                                                                              copy=False)
    return (dx, dw, acc.astype(in_dtype)) if need_db else (dx, dw)


def _input_gradient(dy2, w2, x_shape, groups, geometry, dtype):
    """dX = col2im(dY·Wᵀ) for `dy2` of shape (n·oh·ow, cout) and `w2` (kh·kw·cg, cout)."""
    cout = w2.shape[1]
    og = cout // groups
    dcols = np.empty((groups, dy2.shape[0], w2.shape[0]), dtype=dtype)
    if groups == 1:
        conv_threads.products(dy2, w2.T, dcols[0])                # dcols = dY·Wᵀ
    for g in range(groups if groups > 1 else 0):
        co = slice(g * og, (g + 1) * og)
        np.matmul(dy2[:, co], w2[:, co].T, out=dcols[g])
    dx = np.empty(x_shape, dtype=dtype)
    oh, ow, args = geometry
    _col2im(dcols.reshape(groups, x_shape[0], oh, ow, -1), 0, *args, dx)
    return dx


def conv2d_backward_input(dy, w, x_shape, strides, padding, dilation, groups):
    """Only the input gradient of `conv2d_forward` for inputs of shape `x_shape`.

    This is also the forward pass of a transposed convolution (`Conv2DTranspose`).

    Args:
        dy: array `(n, oh, ow, cout)`.
        w, strides, padding, dilation, groups: as for `conv2d_forward`.
        x_shape: `(n, h, w, cin)` of the convolution's input.

    Returns:
        `dx` of shape `x_shape`, dtype of `dy`.
    """
    in_dtype = dy.dtype
    dtype = compute_dtype(in_dtype)
    w, groups = as_kernel_array(w, dtype), int(groups)
    kh, kw, cg, cout = w.shape
    x_shape = tuple(int(d) for d in x_shape)
    geometry = _geometry(x_shape, w.shape, strides, padding, dilation)
    if geometry[:2] != tuple(dy.shape[1:3]):
        raise ValueError(f"conv2d_backward_input: dy of shape {dy.shape} does not match the "
                         f"output {geometry[:2]} of a convolution over inputs {x_shape}.")
    dy2 = as_kernel_array(dy, dtype).reshape(-1, cout)
    blocks = _plan(x_shape, w, groups, geometry, dtype)
    if blocks is not None:
        dx = np.empty(x_shape, dtype=dtype)
        conv_threads.backward(None, dy2, w.reshape(-1, cout), groups, geometry, blocks, False,
                              dx)
        return dx.astype(in_dtype, copy=False)
    dx = _input_gradient(dy2, w.reshape(kh * kw * cg, cout), x_shape, groups, geometry, dtype)
    return dx.astype(in_dtype, copy=False)
