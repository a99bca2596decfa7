"""Slow, obviously-correct NumPy twins of every kernel: the test oracle and the no-Numba fallback.

Each function loops over output positions in Python and vectorises over batch and channels, so
the code reads like the definition. Layout and argument conventions match `conv.py`/`pool.py`:
NHWC inputs, kernels `(kh, kw, cin // groups, cout)`, `strides=(sh, sw)`,
`padding=(top, bottom, left, right)`, `dilation=(dh, dw)`, `pool=(ph, pw)`.
"""
import numpy as np


def output_size(size, window, stride, pad_before, pad_after, dilation=1):
    """Number of window positions along one axis (0 when the window does not fit).

    `out = (size + pad_before + pad_after - dilation * (window - 1) - 1) // stride + 1`.
    """
    span = dilation * (window - 1) + 1
    return max(0, (size + pad_before + pad_after - span) // stride + 1)


def _out_hw(x_shape, window, strides, padding, dilation=(1, 1)):
    oh = output_size(x_shape[1], window[0], strides[0], padding[0], padding[1], dilation[0])
    ow = output_size(x_shape[2], window[1], strides[1], padding[2], padding[3], dilation[1])
    return oh, ow


# ---------------------------------------------------------------------------------- convolution
def _conv_windows(x_shape, w_shape, strides, padding, dilation):
    """Yield (oy, ox, rows, cols): slices of the zero-padded input seen by output (oy, ox)."""
    kh, kw = w_shape[:2]
    oh, ow = _out_hw(x_shape, (kh, kw), strides, padding, dilation)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * strides[0], ox * strides[1]
            yield (oy, ox, slice(y0, y0 + dilation[0] * (kh - 1) + 1, dilation[0]),
                   slice(x0, x0 + dilation[1] * (kw - 1) + 1, dilation[1]))


def _pad(x, padding):
    pt, pb, pl, pr = padding
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))


def conv2d_forward(x, w, strides, padding, dilation, groups, keep_cols=False):
    """y[n, oy, ox, o] = Σ x_pad[n, oy·sh + ky·dh, ox·sw + kx·dw, g·cg + c] · w[ky, kx, c, o]."""
    n, (kh, kw, cg, cout) = x.shape[0], w.shape
    oh, ow = _out_hw(x.shape, (kh, kw), strides, padding, dilation)
    xp, og = _pad(x, padding), cout // groups
    y = np.zeros((n, oh, ow, cout), dtype=x.dtype)
    for oy, ox, rows, cols in _conv_windows(x.shape, w.shape, strides, padding, dilation):
        patch = xp[:, rows, cols, :]                                   # (n, kh, kw, cin)
        for g in range(groups):
            ci, co = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
            y[:, oy, ox, co] = np.tensordot(patch[..., ci], w[..., co], axes=3)
    return (y, None) if keep_cols else y     # no column matrix here: backward recomputes


def conv2d_backward(x, w, dy, strides, padding, dilation, groups, cols=None, need_dx=True,
                    relu_output=None, need_db=False):
    """Gradients of `conv2d_forward` w.r.t. x and w, given dL/dy. Returns (dx, dw), and db (the
    fused bias's gradient) as a third value with `need_db`; dx is None when `need_dx` is False.
    With `relu_output` (the forward's ReLU output) the mask `[y > 0]` is applied to `dy` first.
    `cols` is accepted for signature parity and ignored."""
    if relu_output is not None or need_db:
        dy = dy * (relu_output > 0) if relu_output is not None else dy
        dx, dw = conv2d_backward(x, w, dy, strides, padding, dilation, groups, need_dx=need_dx)
        return dx, dw, dy.sum(axis=(0, 1, 2))
    n, h, wd, cin = x.shape
    kh, kw, cg, cout = w.shape
    xp, og = _pad(x, padding), cout // groups
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for oy, ox, rows, cols in _conv_windows(x.shape, w.shape, strides, padding, dilation):
        patch = xp[:, rows, cols, :]
        for g in range(groups):
            ci, co = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
            d = dy[:, oy, ox, co]                                      # (n, og)
            dxp[:, rows, cols, ci] += np.tensordot(d, w[..., co], axes=([1], [3]))  # dx += dy·wᵀ
            dw[..., co] += np.tensordot(patch[..., ci], d, axes=([0], [0]))        # dw += xᵀ·dy
    pt, pl = padding[0], padding[2]
    dx = dxp[:, pt:pt + h, pl:pl + wd, :].copy() if need_dx else None
    return dx, dw


def conv2d_backward_input(dy, w, x_shape, strides, padding, dilation, groups):
    """dL/dx of `conv2d_forward` for inputs of shape `x_shape` (the transposed convolution)."""
    x = np.zeros(x_shape, dtype=dy.dtype)
    return conv2d_backward(x, w, dy, strides, padding, dilation, groups)[0]


# -------------------------------------------------------------------------------------- pooling
def _pool_windows(x_shape, pool, strides, padding):
    """Yield (oy, ox, iy, ix): in-bounds input rows/cols of each window, in scan order."""
    h, wd = x_shape[1:3]
    oh, ow = _out_hw(x_shape, pool, strides, padding)
    for oy in range(oh):
        for ox in range(ow):
            ys = [oy * strides[0] - padding[0] + ky for ky in range(pool[0])]
            xs = [ox * strides[1] - padding[2] + kx for kx in range(pool[1])]
            pos = [(r, c) for r in ys for c in xs if 0 <= r < h and 0 <= c < wd]
            iy = np.array([p[0] for p in pos], dtype=np.intp)
            ix = np.array([p[1] for p in pos], dtype=np.intp)
            yield oy, ox, iy, ix


_ARG = {"max": np.argmax, "min": np.argmin}


def pool2d_forward(x, pool, strides, padding, mode):
    """Max or min pooling. Returns (y, idx), idx = flat index into `x` of the chosen element.

    Padded positions never win; ties go to the first element in scan order (rows, then
    columns); NaN wins like in `np.argmax`. A window with no in-bounds element gives y = 0,
    idx = -1.
    """
    n, h, wd, c = x.shape
    oh, ow = _out_hw(x.shape, pool, strides, padding)
    y = np.zeros((n, oh, ow, c), dtype=x.dtype)
    idx = np.full((n, oh, ow, c), -1, dtype=np.int64)
    batch, chan = np.arange(n)[:, None], np.arange(c)[None, :]
    for oy, ox, iy, ix in _pool_windows(x.shape, pool, strides, padding):
        if iy.size == 0:
            continue
        vals = x[:, iy, ix, :]                                          # (n, k, c)
        k = _ARG[mode](vals, axis=1)                                    # (n, c)
        y[:, oy, ox, :] = np.take_along_axis(vals, k[:, None, :], axis=1)[:, 0, :]
        idx[:, oy, ox, :] = ((batch * h + iy[k]) * wd + ix[k]) * c + chan
    return y, idx


def pool2d_backward(dy, idx, x_shape):
    """Route each dy element to the single input element recorded in idx (summing overlaps)."""
    dx = np.zeros(int(np.prod(x_shape)), dtype=dy.dtype)
    keep = idx >= 0
    np.add.at(dx, idx[keep], dy[keep])
    return dx.reshape(x_shape)


def avgpool2d_forward(x, pool, strides, padding):
    """Average pooling; padded positions are not counted (Keras "same" semantics)."""
    n, h, wd, c = x.shape
    oh, ow = _out_hw(x.shape, pool, strides, padding)
    y = np.zeros((n, oh, ow, c), dtype=x.dtype)
    for oy, ox, iy, ix in _pool_windows(x.shape, pool, strides, padding):
        if iy.size:
            y[:, oy, ox, :] = x[:, iy, ix, :].sum(axis=1) / x.dtype.type(iy.size)
    return y


def avgpool2d_backward(dy, x_shape, pool, strides, padding):
    """Spread each dy element evenly over the in-bounds elements of its window."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for oy, ox, iy, ix in _pool_windows(x_shape, pool, strides, padding):
        if iy.size:
            dx[:, iy, ix, :] += dy[:, oy, ox, None, :] / dy.dtype.type(iy.size)
    return dx


# ----------------------------------------------------------------------------- fused activations
def relu_bias_backward(dy, y):
    """dz = dy·[y > 0] and db = Σ_rows dz, for 2-D (rows, channels) arrays."""
    dz = dy * (y > 0)
    return dz, dz.sum(axis=0)
