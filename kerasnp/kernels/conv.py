"""2-D convolution, NHWC, as im2col (Numba gather) + BLAS GEMM; backward via col2im (scatter).

Conventions (shared with `reference.py`): `x` is `(n, h, w, cin)`, `w` is Keras's
`(kh, kw, cin // groups, cout)`, `strides=(sh, sw)`, `padding=(top, bottom, left, right)`
already resolved by the caller, `dilation=(dh, dw)`. Group `g` reads input channels
`[g·cg, (g+1)·cg)` and writes output channels `[g·og, (g+1)·og)`.

The column matrix has shape `(groups, n·oh·ow, kh·kw·cg)`, its rows ordered like the output
pixels and its columns like `w.reshape(kh·kw·cg, cout)`, so for one group the forward pass is a
single `cols @ w2` whose result already is `y` in NHWC order: no transposes anywhere.
"""
import numpy as np

from ._jit import jit, jit_parallel, prange
from .reference import output_size

# ------------------------------------------------------------------------------------- kernels


@jit
def _span(size, out, stride, offset):
    """Output positions o in [lo, hi) whose input o·stride + offset lies in [0, size)."""
    lo = (-offset + stride - 1) // stride if offset < 0 else 0
    hi = (size - 1 - offset) // stride + 1 if offset < size else 0
    hi = min(hi, out)
    return min(lo, hi), hi


@jit_parallel
def _im2col(x, kh, kw, sh, sw, pt, pl, dh, dw, cols):
    """cols[g, i, oy, ox, (ky·kw + kx)·cg + c] = x_pad[i, oy·sh + ky·dh, ox·sw + kx·dw, g·cg + c].

    For each tap the in-bounds output columns form one range, so the copy loop has no branches
    and only the padded borders are zeroed.
    """
    n, h, wd, _ = x.shape
    groups, _, oh, ow, _ = cols.shape
    cg = cols.shape[4] // (kh * kw)
    for i in prange(n):                       # each thread owns whole images
        for g in range(groups):
            c0 = g * cg
            for oy in range(oh):
                for ky in range(kh):
                    iy = oy * sh - pt + ky * dh
                    for kx in range(kw):
                        k, off = (ky * kw + kx) * cg, kx * dw - pl
                        lo, hi = _span(wd, ow, sw, off) if 0 <= iy < h else (0, 0)
                        for ox in range(lo):                      # zero padding (left)
                            for c in range(cg):
                                cols[g, i, oy, ox, k + c] = 0
                        for ox in range(lo, hi):
                            for c in range(cg):
                                cols[g, i, oy, ox, k + c] = x[i, iy, ox * sw + off, c0 + c]
                        for ox in range(hi, ow):                  # zero padding (right)
                            for c in range(cg):
                                cols[g, i, oy, ox, k + c] = 0


@jit_parallel
def _col2im(dcols, kh, kw, sh, sw, pt, pl, dh, dw, dx):
    """Adjoint of `_im2col`: dx[i, iy, ix, g·cg + c] += dcols[g, i, oy, ox, k] (padding dropped)."""
    n, h, wd, _ = dx.shape
    groups, _, oh, ow, _ = dcols.shape
    cg = dcols.shape[4] // (kh * kw)
    for i in prange(n):                       # images never share dx rows: no races
        dx[i] = 0
        for g in range(groups):
            c0 = g * cg
            for oy in range(oh):
                for ky in range(kh):
                    iy = oy * sh - pt + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(kw):
                        k, off = (ky * kw + kx) * cg, kx * dw - pl
                        lo, hi = _span(wd, ow, sw, off)
                        for ox in range(lo, hi):
                            for c in range(cg):
                                dx[i, iy, ox * sw + off, c0 + c] += dcols[g, i, oy, ox, k + c]


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
    _im2col(x, *args, cols)
    return cols.reshape(groups, x.shape[0] * oh * ow, kh * kw * cg)


# ------------------------------------------------------------------------------------- public


def conv2d_forward(x, w, strides, padding, dilation, groups, keep_cols=False):
    """2-D convolution (cross-correlation, as in Keras) of an NHWC batch.

    Args:
        x: array `(n, h, w, cin)`.
        w: kernel `(kh, kw, cin // groups, cout)`.
        strides: `(sh, sw)` ints.
        padding: `(top, bottom, left, right)` non-negative ints (zeros are padded).
        dilation: `(dh, dw)` ints.
        groups: int dividing `cin` and `cout`.
        keep_cols: also return the im2col matrix, so `conv2d_backward(..., cols=cols)` need not
            gather the patches a second time.

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
    cols = _im2col_matrix(x, w.shape, groups, geometry)          # (groups, m, k)
    w2, og = w.reshape(kh * kw * cg, cout), cout // groups
    if groups == 1:
        y = cols[0] @ w2                                          # y = cols·W
    else:
        y = np.empty((cols.shape[1], cout), dtype=dtype)
        for g in range(groups):
            co = slice(g * og, (g + 1) * og)
            np.matmul(cols[g], w2[:, co], out=y[:, co])
    y = y.reshape(x.shape[0], oh, ow, cout).astype(in_dtype, copy=False)
    return (y, cols) if keep_cols else y


def conv2d_backward(x, w, dy, strides, padding, dilation, groups, cols=None, need_dx=True):
    """Gradients of `conv2d_forward` with respect to `x` and `w`, given `dy = dL/dy`.

    Args:
        x, w, strides, padding, dilation, groups: as given to `conv2d_forward`.
        dy: array `(n, oh, ow, cout)`.
        cols: the im2col matrix `conv2d_forward(..., keep_cols=True)` returned for this `x`
            (optional: saves gathering the patches again).
        need_dx: False skips the input gradient (first layer of a model); `dx` is then None.

    Returns:
        `(dx, dw)` shaped like `x` and `w`.
    """
    in_dtype = x.dtype
    dtype = compute_dtype(in_dtype)
    w, groups = as_kernel_array(w, dtype), int(groups)
    kh, kw, cg, cout = w.shape
    geometry = _geometry(x.shape, w.shape, strides, padding, dilation)
    if cols is None:
        cols = _im2col_matrix(as_kernel_array(x, dtype), w.shape, groups, geometry)
    dy2 = as_kernel_array(dy, dtype).reshape(cols.shape[1], cout)
    w2, og = w.reshape(kh * kw * cg, cout), cout // groups
    dw2 = np.empty_like(w2)
    for g in range(groups):
        co = slice(g * og, (g + 1) * og)
        np.matmul(cols[g].T, dy2[:, co], out=dw2[:, co])         # dW = colsᵀ·dY
    dw = dw2.reshape(w.shape).astype(in_dtype, copy=False)
    if not need_dx:
        return None, dw
    dx = _input_gradient(dy2, w2, x.shape, groups, geometry, dtype)
    return dx.astype(in_dtype, copy=False), dw


def _input_gradient(dy2, w2, x_shape, groups, geometry, dtype):
    """dX = col2im(dY·Wᵀ) for `dy2` of shape (n·oh·ow, cout) and `w2` (kh·kw·cg, cout)."""
    cout = w2.shape[1]
    og = cout // groups
    dcols = np.empty((groups, dy2.shape[0], w2.shape[0]), dtype=dtype)
    for g in range(groups):
        co = slice(g * og, (g + 1) * og)
        np.matmul(dy2[:, co], w2[:, co].T, out=dcols[g])          # dcols = dY·Wᵀ
    dx = np.empty(x_shape, dtype=dtype)
    oh, ow, args = geometry
    _col2im(dcols.reshape(groups, x_shape[0], oh, ow, -1), *args, dx)
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
    dx = _input_gradient(dy2, w.reshape(kh * kw * cg, cout), x_shape, groups, geometry, dtype)
    return dx.astype(in_dtype, copy=False)
