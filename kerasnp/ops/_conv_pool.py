"""Fused pooling ops of the built-in layers: each records ONE tape node.

Local pooling runs the Numba kernels of `kerasnp.kernels` on NHWC images; a 1-D input
`(n, steps, c)` is viewed as a one-row image `(n, 1, steps, c)`. Geometry arrives resolved:
`pool=(ph, pw)`, `strides=(sh, sw)`, `pads=(top, bottom, left, right)`. Max/min pooling keeps
the winners' indices in its VJP's closure; padded positions never win and are not counted by
an average (Keras "same" semantics).

Global pooling views the input as `(n, positions, c)` (free for a contiguous NHWC or NSC array)
and reduces the middle axis.
"""
import numpy as np

from .. import kernels
from ..kernels import HAVE_NUMBA
from ..autodiff.tape import is_tracked, record
from ._dispatch import value


if HAVE_NUMBA:
    from ..kernels.conv_pooling import pool2d_backward_arg, pool2d_forward_arg


def _image(a):
    return a[:, None] if a.ndim == 3 else a


def pool(x, mode, pool_size, strides, pads):
    """Max (`"max"`), min (`"min"`) or average (`"avg"`) pooling of a 3-D or 4-D `x`.

    Returns:
        `(n, oh, ow, c)` (or `(n, ow, c)` for a 3-D input), dtype of `x`.
    """
    a = value(x)
    a4 = _image(a)
    if mode == "avg":
        y = kernels.avgpool2d_forward(a4, pool_size, strides, pads)   # y = Σ_window x / count

        def vjp(dy):                                 # dx[window] += dy / count(in-bounds)
            dx = kernels.avgpool2d_backward(dy.reshape(y.shape), a4.shape, pool_size, strides,
                                            pads)
            return dx.reshape(a.shape).astype(a.dtype, copy=False)
    elif HAVE_NUMBA:                                 # winners kept as 1-byte window offsets
        y, arg = pool2d_forward_arg(a4, pool_size, strides, pads, mode)   # y = max/min window

        def vjp(dy):                                 # dx[argmax] += dy: only the winner gets it
            dx = pool2d_backward_arg(dy.reshape(y.shape), arg, a4.shape, pool_size, strides,
                                     pads)
            return dx.reshape(a.shape).astype(a.dtype, copy=False)
    else:                                            # the reference twins: int64 flat indices
        y, idx = kernels.pool2d_forward(a4, pool_size, strides, pads, mode)

        def vjp(dy):
            dx = kernels.pool2d_backward(dy.reshape(y.shape), idx, a4.shape)
            return dx.reshape(a.shape).astype(a.dtype, copy=False)
    return record(y[:, 0] if a.ndim == 3 else y, vjp, x)


def global_pool(x, mode, keepdims=False):
    """Average (`"avg"`) or max (`"max"`) over every axis but the batch and the last one.

    The max's gradient goes to one maximum per channel (the first one on ties).
    """
    a = value(x)
    n, c = a.shape[0], a.shape[-1]
    x3 = a.reshape(n, -1, c)
    count = x3.shape[1]
    out_shape = (n,) + (1,) * (a.ndim - 2) + (c,) if keepdims else (n, c)
    if mode == "avg":
        # y = Σ_p x / P (einsum is several times faster than mean(axis=1) on this layout)
        y = np.einsum("npc->nc", x3) / x3.dtype.type(count)

        def vjp(dy):
            dx = np.empty((n, count, c), dtype=dy.dtype)
            dx[...] = (dy.reshape(n, c) / dy.dtype.type(count))[:, None, :]   # dx = dy / P
            return dx.reshape(a.shape)
        return record(y.reshape(out_shape), vjp, x)
    if not is_tracked(x):                            # no tape: no argmax to keep
        return x3.max(axis=1).reshape(out_shape)
    arg = x3.argmax(axis=1)[:, None, :]                                  # first maximum (n, 1, c)
    y = np.take_along_axis(x3, arg, axis=1)[:, 0, :]                     # y = max_p x

    def vjp(dy):
        dx = np.zeros((n, count, c), dtype=dy.dtype)
        np.put_along_axis(dx, arg, dy.reshape(n, 1, c), axis=1)         # dx[argmax] = dy
        return dx.reshape(a.shape)
    return record(y.reshape(out_shape), vjp, x)
