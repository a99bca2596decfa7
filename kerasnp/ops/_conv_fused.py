"""Fused convolution ops of the built-in layers: convolution + bias + ReLU as ONE tape node.

Each op's forward calls the Numba/BLAS kernels of `kerasnp.kernels` and its VJP, right under it,
is kerasnp's hand-written backward: the bias and ReLU gradients in one fused pass (inside the
convolution's backward, block by block, when the kernel is trained; `relu_bias_backward`
otherwise), the kernel gradient from the im2col patches kept by the forward (only
while a tape needs them: predict keeps nothing), and the input gradient (col2im) only when the
input carries a gradient (not for a model's first layer). Other activations are a separate
`apply_activation` node, as in `dense`, so softmax/sigmoid can fuse with the loss.

Geometry arrives resolved: `strides=(sh, sw)`, `pads=(top, bottom, left, right)`,
`dilation=(dh, dw)`. A 1-D input `(n, steps, c)` with a rank-3 kernel is run as a one-row image
`(n, 1, steps, c)` (views, no copies), so 1-D callers pass `(1, s)`, `(0, 0, left, right)`,
`(1, d)`.
"""
import numpy as np

from .. import kernels
from ..autodiff.tape import is_tracked, record
from ._blas import column_sums
from ._dispatch import value
from ._fused import _activation_object, apply_activation


def plain_relu(act):
    """True for the parameter-free ReLU, the activation fused into the convolution node."""
    return act.name == "relu" and not any(act.get_config().values())


def _image(a):
    """(n, steps, c) -> (n, 1, steps, c) view; 4-D arrays unchanged."""
    return a[:, None] if a.ndim == 3 else a


def _bias_relu(z, b, relu):
    """z + b, then ReLU, in place (z is a fresh kernel output)."""
    if b is not None:
        z += b                                           # Z += b
    if relu:
        np.maximum(z, 0, out=z)                          # Y = max(Z, 0); backward reads Y
    return z


def _bias_relu_backward(dy, y, relu, has_bias):
    """(dZ, db) for `y = relu?(z + b)`; dZ has y's shape."""
    c = y.shape[-1]
    if relu and has_bias:                                # one fused pass over dY and Y
        dz, db = kernels.relu_bias_backward(dy.reshape(-1, c), y.reshape(-1, c))
        return dz.reshape(y.shape), db                   # dZ = dY·[Y > 0], db = Σ dZ
    dz = dy * (y > 0) if relu else dy                    # dZ = dY·[Y > 0]
    db = column_sums(np.ascontiguousarray(dz).reshape(-1, c)) if has_bias else None   # db = Σ dZ
    return dz, db


def _finish(y, vjp, inputs, act, relu):
    """Record one node over the non-None inputs, then the separate activation node if any."""
    keep = [i for i, a in enumerate(inputs) if a is not None]
    if len(keep) == len(inputs):
        out = record(y, vjp, *inputs)
    else:
        out = record(y, lambda dy: tuple(vjp(dy)[i] for i in keep), *(inputs[i] for i in keep))
    if relu or act.name == "linear":
        return out
    return apply_activation(act, out)


def _conv_node(x, kernel, w4, bias, act, geometry, groups):
    """Shared body: `act(conv(x, w4) + bias)` with `w4` the 4-D (grouped) view of `kernel`."""
    relu = plain_relu(act)
    a = value(x)
    a4 = _image(a)
    b = None if bias is None else value(bias)
    need_dx, need_dw = is_tracked(x), is_tracked(kernel)
    if kernels.HAVE_NUMBA:                               # bias+ReLU fused into each block
        out = kernels.conv2d_forward(a4, w4, *geometry, groups, keep_cols=need_dw, bias=b,
                                     relu=relu)          # Y = relu?(X ⋆ W + b)
        y, cols = out if need_dw else (out, None)        # patches kept only for dW in a tape
    else:                                                # the reference twin has no epilogue
        out = kernels.conv2d_forward(a4, w4, *geometry, groups, keep_cols=need_dw)
        z, cols = out if need_dw else (out, None)
        y = _bias_relu(z, b, relu)
    kshape = value(kernel).shape

    def vjp(dy):
        dx = dw = db = None
        if need_dw:              # dZ = dY·[Y > 0], db = Σ dZ, dW = colsᵀ·dZ, dX = col2im(dZ·Wᵀ)
            grads = kernels.conv2d_backward(a4, w4, dy.reshape(y.shape), *geometry, groups,
                                            cols=cols, need_dx=need_dx,
                                            relu_output=y if relu else None,
                                            need_db=b is not None)
            dx, dw, db = grads if b is not None else (*grads, None)
            dw = dw.reshape(kshape)
        elif need_dx:                                    # frozen kernel: dX = col2im(dZ·Wᵀ)
            dz, db = _bias_relu_backward(dy.reshape(y.shape), y, relu, b is not None)
            dx = kernels.conv2d_backward_input(dz, w4, a4.shape, *geometry, groups)
        if dx is not None:
            dx = dx.reshape(a.shape).astype(a.dtype, copy=False)
        return dx, dw, db
    return _finish(y[:, 0] if a.ndim == 3 else y, vjp, (x, kernel, bias), act, relu)


def conv_bias_act(x, kernel, bias, activation, strides, pads, dilation, groups):
    """`activation(conv(x, kernel) + bias)` as one node (ReLU fused; others a second node).

    Args:
        x: `(n, h, w, cin)` or `(n, steps, cin)`.
        kernel: `(kh, kw, cin // groups, cout)` or `(k, cin // groups, cout)`.
        bias: `(cout,)` or None.
        activation: activation name/object (None: linear).
        strides, pads, dilation: resolved 2-D geometry (see the module docstring).
        groups: int dividing cin and cout.
    """
    w = value(kernel)
    w4 = w[None] if w.ndim == 3 else w
    return _conv_node(x, kernel, w4, bias, _activation_object(activation),
                      (strides, pads, dilation), groups)


def _grouped_depthwise(w):
    """Depthwise kernel `(..., cin, dm)` -> grouped 4-D kernel `(kh, kw, 1, cin·dm)` (a view)."""
    k = w.shape[:-2] if w.ndim == 4 else (1,) + w.shape[:-2]
    return w.reshape(*k, 1, w.shape[-2] * w.shape[-1]), w.shape[-2]


def depthwise_conv_bias_act(x, kernel, bias, activation, strides, pads, dilation):
    """Depthwise convolution (one group per input channel; output channel `c·dm + m` comes from
    input channel `c`, as in Keras) + bias + activation, as one node.

    Args:
        kernel: `(kh, kw, cin, dm)` or `(k, cin, dm)`; other arguments as `conv_bias_act`.
    """
    w4, cin = _grouped_depthwise(value(kernel))
    return _conv_node(x, kernel, w4, bias, _activation_object(activation),
                      (strides, pads, dilation), cin)


def separable_conv_bias_act(x, depthwise_kernel, pointwise_kernel, bias, activation, strides,
                            pads, dilation):
    """Depthwise convolution, 1x1 pointwise projection, bias and activation as one node.

    Args:
        depthwise_kernel: `(kh, kw, cin, dm)` or `(k, cin, dm)`.
        pointwise_kernel: `(1, 1, cin·dm, cout)` or `(1, cin·dm, cout)`.
        other arguments: as `conv_bias_act`.
    """
    act = _activation_object(activation)
    relu = plain_relu(act)
    a = value(x)
    a4 = _image(a)
    wd, pw = value(depthwise_kernel), value(pointwise_kernel)
    w4, cin = _grouped_depthwise(wd)
    pw2 = pw.reshape(pw.shape[-2], pw.shape[-1])
    b = None if bias is None else value(bias)
    need_dx, need_dwd = is_tracked(x), is_tracked(depthwise_kernel)
    geometry = (strides, pads, dilation)
    out = kernels.conv2d_forward(a4, w4, *geometry, cin, keep_cols=need_dwd)   # D = X ⋆ W_dw
    d, cols = out if need_dwd else (out, None)
    d2 = d.reshape(-1, d.shape[-1])
    z = (d2 @ pw2).reshape(d.shape[:-1] + (pw2.shape[1],))                      # Z = D·W_pw
    y = _bias_relu(z, b, relu)

    def vjp(dy):
        dz, db = _bias_relu_backward(dy.reshape(y.shape), y, relu, b is not None)
        dz2 = dz.reshape(-1, pw2.shape[1])
        dpw = (d2.T @ dz2).reshape(pw.shape)                                    # dW_pw = Dᵀ·dZ
        dx = dwd = None
        if need_dx or need_dwd:
            dd = (dz2 @ pw2.T).reshape(d.shape)                                 # dD = dZ·W_pwᵀ
            if need_dwd:
                dx, dwd = kernels.conv2d_backward(a4, w4, dd, *geometry, cin, cols=cols,
                                                  need_dx=need_dx)
                dwd = dwd.reshape(wd.shape)
            else:
                dx = kernels.conv2d_backward_input(dd, w4, a4.shape, *geometry, cin)
            if dx is not None:
                dx = dx.reshape(a.shape).astype(a.dtype, copy=False)
        return dx, dwd, dpw, db
    return _finish(y[:, 0] if a.ndim == 3 else y, vjp,
                   (x, depthwise_kernel, pointwise_kernel, bias), act, relu)


def conv_transpose_bias_act(x, kernel, bias, activation, out_hw, strides, pads, dilation):
    """Transposed convolution + bias + activation as one node.

    The transposed convolution is the adjoint of the convolution `C` (kernel `(kh, kw, cout,
    cin)`, geometry `strides/pads/dilation`) from the output space `out_hw` back to the input
    space: `Y = Cᵀ·X`, so `dX = C·dY` and `dW` is the kernel gradient of `C` at input `dY` with
    upstream gradient `X`.

    Args:
        x: `(n, h, w, cin)` or `(n, steps, cin)`.
        kernel: `(kh, kw, cout, cin)` or `(k, cout, cin)`.
        out_hw: `(oh, ow)` of the output (`(1, steps)` for 1-D).
        other arguments: as `conv_bias_act`.
    """
    act = _activation_object(activation)
    relu = plain_relu(act)
    a = value(x)
    a4 = _image(a)
    w = value(kernel)
    w4 = w[None] if w.ndim == 3 else w
    b = None if bias is None else value(bias)
    need_dx, need_dw = is_tracked(x), is_tracked(kernel)
    geometry = (strides, pads, dilation)
    out_shape = (a.shape[0], *out_hw, w4.shape[2])
    z = kernels.conv2d_backward_input(a4, w4, out_shape, *geometry, 1)          # Y = Cᵀ·X
    y = _bias_relu(z, b, relu)

    def vjp(dy):
        dz, db = _bias_relu_backward(dy.reshape(y.shape), y, relu, b is not None)
        dx = dw = cols = None
        if need_dx:
            out = kernels.conv2d_forward(dz, w4, *geometry, 1, keep_cols=need_dw)   # dX = C·dZ
            dx, cols = out if need_dw else (out, None)
            dx = dx.reshape(a.shape).astype(a.dtype, copy=False)
        if need_dw:                                      # dW from <C(dZ; W), X>
            _, dw = kernels.conv2d_backward(dz, w4, a4, *geometry, 1, cols=cols, need_dx=False)
            dw = dw.reshape(w.shape)
        return dx, dw, db
    return _finish(y[:, 0] if a.ndim == 3 else y, vjp, (x, kernel, bias), act, relu)
