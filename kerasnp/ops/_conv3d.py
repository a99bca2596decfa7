"""Volumetric (3-D) convolution and pooling, channels-last `(n, d, h, w, c)`, in NumPy + BLAS.

The convolution is im2col over volumes: a strided view of the padded input holds every window
`(n, od, oh, ow, kd, kh, kw, c)`; one copy of it times the kernel `(kd·kh·kw·c, cout)` is the
output, one GEMM. Its adjoint col2im adds the window gradients back, one strided slice per
kernel offset (kd·kh·kw NumPy adds, each over the whole batch, reading a contiguous block: the
window gradients are computed taps first, one batched product `dZ·W_tapᵀ`). The transposed convolution is the
adjoint of the convolution from its output space, as in `_conv_fused`.

Geometry arrives resolved: `strides`, `dilation` as 3-tuples, `pads` as three `(before, after)`
pairs. Each op is one tape node; bias and ReLU fuse as in `_conv_fused`.
"""
import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autodiff.tape import is_tracked, record
from ._conv_fused import _bias_relu, _bias_relu_backward, _finish, plain_relu
from ._conv_padding import pad_amounts
from ._dispatch import value
from ._fused import _activation_object


def pads_3d(spatial, window, strides, padding, dilation=(1, 1, 1)):
    """`((before, after),) * 3` of a channels-last volume with spatial size `spatial`."""
    return tuple(pad_amounts(n, k, s, padding, d)
                 for n, k, s, d in zip(spatial, window, strides, dilation))


def _pad(a, pads, fill=0):
    """`a` with `pads` added around its three spatial axes (`a` itself when there are none)."""
    if not any(b or e for b, e in pads):
        return a
    shape = (a.shape[0],) + tuple(n + b + e for n, (b, e) in zip(a.shape[1:4], pads)) \
        + (a.shape[-1],)
    out = np.full(shape, fill, dtype=a.dtype)
    out[_inner(a.shape, pads)] = a
    return out


def _inner(shape, pads):
    """The slices of a padded array that hold the unpadded one of `shape`."""
    return (slice(None),) + tuple(slice(b, b + n) for n, (b, _) in zip(shape[1:4], pads))


def _out_size(padded, window, strides, dilation):
    return tuple((p - (k - 1) * d - 1) // s + 1
                 for p, k, s, d in zip(padded, window, strides, dilation))


def _windows(xp, out, window, strides, dilation):
    """Read-only view `(n, od, oh, ow, kd, kh, kw, c)` of every window of the padded `xp`."""
    sn, s1, s2, s3, sc = xp.strides
    spatial = (s1, s2, s3)
    return as_strided(xp, shape=(xp.shape[0], *out, *window, xp.shape[-1]),
                      strides=(sn, *(a * s for a, s in zip(spatial, strides)),
                               *(a * d for a, d in zip(spatial, dilation)), sc),
                      writeable=False)


def _offset_slices(out, window, strides, dilation):
    """For each kernel offset: (its index triple, the padded-input slices its taps read)."""
    for idx in itertools.product(*(range(k) for k in window)):
        yield idx, (slice(None),) + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                                          for i, d, s, o in zip(idx, dilation, strides, out))


def _col2im(dcols, padded_shape, pads, out, window, strides, dilation):
    """Adjoint of `_windows`: adds `dcols (kd, kh, kw, n, od, oh, ow, c)` (taps first, so each
    tap's block is contiguous) back onto the padded input, then crops the padding."""
    dxp = np.zeros(padded_shape, dtype=dcols.dtype)
    for idx, where in _offset_slices(out, window, strides, dilation):
        dxp[where] += dcols[idx]                                  # dX[tap] += dcols[tap]
    shape = (padded_shape[0],) + tuple(p - b - e for p, (b, e) in zip(padded_shape[1:4], pads)) \
        + (padded_shape[-1],)
    return np.ascontiguousarray(dxp[_inner(shape, pads)])


def _conv_forward(a, w, strides, pads, dilation, groups, keep_cols):
    """`(z (n, od, oh, ow, cout), cols or None, out, padded shape)`; `z = im2col(a)·W`."""
    xp = _pad(a, pads)
    window = w.shape[:3]
    out = _out_size(xp.shape[1:4], window, strides, dilation)
    cols = np.ascontiguousarray(_windows(xp, out, window, strides, dilation))
    positions, taps, c = int(np.prod((a.shape[0],) + out)), int(np.prod(window)), a.shape[-1]
    cg, cout = w.shape[3], w.shape[4]
    if groups == 1:
        z = cols.reshape(positions, taps * c) @ w.reshape(taps * cg, cout)   # Z = cols·W
    else:
        z = np.empty((positions, cout), dtype=np.result_type(a, w))
        og, c3 = cout // groups, cols.reshape(positions, taps, c)
        for g in range(groups):
            z[:, g * og:(g + 1) * og] = (c3[:, :, g * cg:(g + 1) * cg].reshape(positions, -1)
                                         @ w[..., g * og:(g + 1) * og].reshape(-1, og))
    return z.reshape(a.shape[0], *out, cout), (cols if keep_cols else None), out, xp.shape


def _conv_backward(dz, w, cols, a_shape, padded, pads, out, strides, dilation, groups,
                   need_dx):
    """`(dx, dw)` of `z = conv(a, w)`; dw only when `cols` is given."""
    window, (cg, cout) = w.shape[:3], w.shape[3:]
    taps, c = int(np.prod(window)), a_shape[-1]
    dz2 = dz.reshape(-1, cout)
    og = cout // groups
    dw = dx = None
    if cols is not None:
        c3 = cols.reshape(dz2.shape[0], taps, c)
        dw = np.empty(w.shape, dtype=dz.dtype)
        for g in range(groups):                                   # dW_g = cols_gᵀ·dZ_g
            dw[..., g * og:(g + 1) * og] = (c3[:, :, g * cg:(g + 1) * cg]
                                            .reshape(dz2.shape[0], -1).T
                                            @ dz2[:, g * og:(g + 1) * og]).reshape(
                                                *window, cg, og)
    if need_dx:
        # per tap Wᵀ (cout, cg), contiguous: the batched product is slow on a transposed view
        wt = np.ascontiguousarray(w.reshape(taps, cg, cout).transpose(0, 2, 1))
        if groups == 1:
            dcols = np.matmul(dz2, wt)                            # dcols = dZ·Wᵀ, per tap
        else:
            dcols = np.empty((taps, dz2.shape[0], c), dtype=np.result_type(dz, w))
            for g in range(groups):                               # dcols_g = dZ_g·W_gᵀ
                dcols[:, :, g * cg:(g + 1) * cg] = np.matmul(
                    dz2[:, g * og:(g + 1) * og],
                    np.ascontiguousarray(wt[:, g * og:(g + 1) * og]))
        dx = _col2im(dcols.reshape(*window, a_shape[0], *out, c), padded, pads, out, window,
                     strides, dilation)
    return dx, dw


def conv3d_bias_act(x, kernel, bias, activation, strides, pads, dilation, groups):
    """`activation(conv3d(x, kernel) + bias)` as one node (ReLU fused; others a second node).

    Args:
        x: `(n, d, h, w, cin)`.
        kernel: `(kd, kh, kw, cin // groups, cout)`.
        bias: `(cout,)` or None.
        activation: activation name/object (None: linear).
        strides, dilation: 3-tuples; pads: three `(before, after)` pairs.
        groups: int dividing cin and cout.
    """
    act = _activation_object(activation)
    relu = plain_relu(act)
    a, w = value(x), value(kernel)
    b = None if bias is None else value(bias)
    need_dx, need_dw = is_tracked(x), is_tracked(kernel)
    z, cols, out, padded = _conv_forward(a, w, strides, pads, dilation, groups, need_dw)
    y = _bias_relu(z, b, relu)

    def vjp(dy):
        dz, db = _bias_relu_backward(dy.reshape(y.shape), y, relu, b is not None)
        dx, dw = _conv_backward(dz, w, cols, a.shape, padded, pads, out, strides, dilation,
                                groups, need_dx)
        if dx is not None:
            dx = dx.astype(a.dtype, copy=False)
        return dx, dw, db
    return _finish(y, vjp, (x, kernel, bias), act, relu)


def conv3d_transpose_bias_act(x, kernel, bias, activation, out_size, strides, pads, dilation):
    """Transposed 3-D convolution + bias + activation as one node.

    `Y = Cᵀ·X` with `C` the convolution (kernel `(kd, kh, kw, cout, cin)`, geometry
    `strides/pads/dilation`) from the output space `out_size` to the input space, so `dX = C·dY`
    and `dW` is `C`'s kernel gradient at input `dY` with upstream gradient `X`.

    Args:
        x: `(n, d, h, w, cin)`.
        kernel: `(kd, kh, kw, cout, cin)`.
        out_size: `(od, oh, ow)` of the output.
        other arguments: as `conv3d_bias_act`.
    """
    act = _activation_object(activation)
    relu = plain_relu(act)
    a, w = value(x), value(kernel)
    b = None if bias is None else value(bias)
    need_dx, need_dw = is_tracked(x), is_tracked(kernel)
    cout = w.shape[3]
    out_shape = (a.shape[0], *out_size, cout)
    padded = (a.shape[0],) + tuple(o + p + q for o, (p, q) in zip(out_size, pads)) + (cout,)
    window, inner = w.shape[:3], a.shape[1:4]
    wt = np.ascontiguousarray(w.reshape(-1, cout, w.shape[-1]).transpose(0, 2, 1))
    dcols = np.matmul(a.reshape(-1, a.shape[-1]), wt)             # X·Wᵀ per tap, then col2im
    z = _col2im(dcols.reshape(*window, a.shape[0], *inner, cout), padded, pads, inner, window,
                strides, dilation)
    y = _bias_relu(z, b, relu)

    def vjp(dy):
        dz, db = _bias_relu_backward(dy.reshape(y.shape), y, relu, b is not None)
        dx = dw = None
        if need_dx or need_dw:                                    # dX = C·dZ
            dxz, cols, _, _ = _conv_forward(dz, w, strides, pads, dilation, 1, need_dw)
            if need_dx:
                dx = dxz.astype(a.dtype, copy=False)
            if need_dw:                                           # dW = cols(dZ)ᵀ·X
                dw = (cols.reshape(a[..., 0].size, -1).T @ a.reshape(-1, a.shape[-1])
                      ).reshape(w.shape)
        return dx, dw, db
    return _finish(y.reshape(out_shape), vjp, (x, kernel, bias), act, relu)


def pool3d(x, mode, pool_size, strides, pads):
    """Max (`"max"`) or average (`"avg"`) pooling of `(n, d, h, w, c)`; padded positions never
    win a max and are not counted by an average (Keras's "same")."""
    a = value(x)
    ones = (1, 1, 1)
    if mode == "max":
        fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
        xp = _pad(a, pads, fill)
        out = _out_size(xp.shape[1:4], pool_size, strides, ones)
        win = np.ascontiguousarray(_windows(xp, out, pool_size, strides, ones))
        win = win.reshape(a.shape[0], *out, -1, a.shape[-1])
        arg = win.argmax(axis=4)                                  # first maximum per window
        y = np.take_along_axis(win, arg[:, :, :, :, None], axis=4)[:, :, :, :, 0]

        def vjp(dy):                                              # dX[argmax] += dY
            dcols = np.zeros(win.shape, dtype=dy.dtype)
            np.put_along_axis(dcols, arg[:, :, :, :, None], dy.reshape(y.shape)[:, :, :, :, None],
                              axis=4)
            taps_first = np.moveaxis(dcols.reshape(a.shape[0], *out, *pool_size, a.shape[-1]),
                                     (4, 5, 6), (0, 1, 2))
            return _col2im(taps_first, xp.shape, pads, out, pool_size, strides,
                           ones).astype(a.dtype, copy=False)
        return record(y, vjp, x)
    xp = _pad(a, pads)
    out = _out_size(xp.shape[1:4], pool_size, strides, ones)
    inside = _pad(np.ones((1, *a.shape[1:4], 1), dtype=a.dtype), pads)
    count = _windows(inside, out, pool_size, strides, ones).sum(axis=(4, 5, 6))
    y = _windows(xp, out, pool_size, strides, ones).sum(axis=(4, 5, 6)) / count   # Σ x / count

    def vjp(dy):                                                  # dX[window] += dY / count
        g = dy.reshape(y.shape) / count
        dcols = np.broadcast_to(g, (*pool_size, *g.shape))        # every tap gets dY / count
        return _col2im(dcols, xp.shape, pads, out, pool_size, strides,
                       ones).astype(a.dtype, copy=False)
    return record(y.astype(a.dtype, copy=False), vjp, x)
