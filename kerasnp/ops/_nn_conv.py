"""Keras 3's convolution and pooling ops (`keras.ops.conv`, `max_pool`, ...), channels-last.

The public ops validate Keras arguments, resolve padding to explicit pixel counts (TensorFlow's
placement: the extra row/column of "same" goes to the bottom/right) and call the same fused ops
as the built-in layers, so each is one tape node whose VJP is kerasnp's hand-written backward.
Inputs are `(batch, steps, channels)` (1-D), `(batch, rows, cols, channels)` (2-D) or, for
`conv`, `conv_transpose` and the pools, `(batch, depth, rows, cols, channels)` (3-D, computed by
`_conv3d`: im2col over volumes and one GEMM).
"""
from .. import _validate
from ._conv3d import conv3d_bias_act, conv3d_transpose_bias_act, pads_3d, pool3d
from ._conv_fused import (conv_bias_act, conv_transpose_bias_act, depthwise_conv_bias_act,
                          separable_conv_bias_act)
from ._conv_padding import PADDINGS, output_length, pads_2d, transpose_length
from ._conv_pool import pool
from ._dispatch import op, value

__all__ = ["average_pool", "conv", "conv_transpose", "depthwise_conv", "max_pool",
           "separable_conv"]


def _rank(name, a, volumes=False):
    """Number of spatial axes of `a` (1 or 2; 3 where `volumes`)."""
    if a.ndim in (3, 4) or (volumes and a.ndim == 5):
        return a.ndim - 2
    also = " or 5 (batch, depth, rows, cols, channels)" if volumes else \
        "; 3-D inputs are not supported by this op"
    raise ValueError(f"ops.{name}: inputs must have rank 3 (batch, steps, channels) or 4 "
                     f"(batch, rows, cols, channels){also}. Received: inputs.shape={a.shape}")


def _kernel(name, w, rank, what="kernel"):
    if w.ndim != rank + 2:
        raise ValueError(f"ops.{name}: {what} must have rank {rank + 2} for inputs with {rank} "
                         f"spatial axis(es). Received: {what}.shape={w.shape}")


def _args(name, rank, strides, padding, data_format, dilation_rate=1):
    owner = f"ops.{name}"
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{owner}: only data_format='channels_last' is supported. Valid: None, "
                         f"'channels_last'. Received: data_format={data_format!r}")
    padding = _validate.choice(padding.lower() if isinstance(padding, str) else padding,
                               "padding", PADDINGS, owner)
    strides = _validate.int_tuple(strides, rank, "strides", owner)
    dilation = _validate.int_tuple(dilation_rate, rank, "dilation_rate", owner)
    return strides, padding, dilation


def _as_2d(rank, values):
    """A 1-D geometry tuple as the 2-D kernels' `(1, value)`."""
    return values if rank == 2 else (1,) + tuple(values)


def _fits(name, shape, window, strides, padding, dilation):
    """Refuses windows larger than the input."""
    spatial = shape[1:-1]
    for size, k, s, d in zip(spatial, window, strides, dilation):
        if output_length(size, k, s, padding, d) <= 0:
            raise ValueError(f"ops.{name}: window {tuple(window)} (dilation {tuple(dilation)}) "
                             f"does not fit inputs of spatial shape {tuple(spatial)} with "
                             f"padding='valid'. Received: inputs.shape={shape}")


def _geometry(name, shape, window, strides, padding, dilation):
    """(strides, pads, dilation) of the 2-D kernels; refuses windows larger than the input."""
    rank = len(window)
    spatial = shape[1:-1]
    _fits(name, shape, window, strides, padding, dilation)
    if rank == 3:                                    # the volumetric ops' geometry
        return strides, pads_3d(spatial, window, strides, padding, dilation), dilation
    hw = _as_2d(rank, spatial)
    s2, k2, d2 = _as_2d(rank, strides), _as_2d(rank, window), _as_2d(rank, dilation)
    return s2, pads_2d(*hw, k2, s2, padding, d2), d2


@op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D, 2-D or 3-D convolution (cross-correlation, as in Keras), channels-last.

    Args:
        inputs: `(batch, steps, in)`, `(batch, rows, cols, in)` or
            `(batch, depth, rows, cols, in)`.
        kernel: `(k, in // groups, out)`, `(kh, kw, in // groups, out)` or
            `(kd, kh, kw, in // groups, out)`; `groups` is
            `in // kernel.shape[-2]`, as in Keras.
        strides, dilation_rate: int or one int per spatial axis.
        padding: `"valid"` or `"same"` (output `ceil(in / stride)`).
        data_format: None or `"channels_last"`.

    Returns:
        `(batch, out_steps, out)` or `(batch, out_rows, out_cols, out)`.

    Example:
        >>> import numpy as np
        >>> from kerasnp import ops
        >>> ops.nn.conv(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4)), padding="same").shape
        (1, 5, 5, 4)
    """
    a, w = value(inputs), value(kernel)
    rank = _rank("conv", a, volumes=True)
    _kernel("conv", w, rank)
    cin, cg, cout = a.shape[-1], w.shape[-2], w.shape[-1]
    if cin % cg or cout % (cin // cg):
        raise ValueError(f"ops.conv: the input channels ({cin}) must be a multiple of "
                         f"kernel.shape[-2] ({cg}), and the groups ({cin // cg or 0}) must divide "
                         f"the output channels ({cout}). Received: inputs.shape={a.shape}, "
                         f"kernel.shape={w.shape}")
    strides, padding, dilation = _args("conv", rank, strides, padding, data_format,
                                       dilation_rate)
    geometry = _geometry("conv", a.shape, w.shape[:-2], strides, padding, dilation)
    if rank == 3:
        return conv3d_bias_act(inputs, kernel, None, None, *geometry, cin // cg)
    return conv_bias_act(inputs, kernel, None, None, *geometry, cin // cg)


@op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution: each input channel convolved with its own `dm` filters.

    Args:
        inputs: as for `conv`.
        kernel: `(k, in, dm)` or `(kh, kw, in, dm)`; output channel `c·dm + m` comes from input
            channel `c`, as in Keras.
        strides, padding, data_format, dilation_rate: as for `conv`.

    Returns:
        The convolution with `in·dm` channels.
    """
    a, w = value(inputs), value(kernel)
    rank = _rank("depthwise_conv", a)
    _kernel("depthwise_conv", w, rank)
    if w.shape[-2] != a.shape[-1]:
        raise ValueError(f"ops.depthwise_conv: kernel.shape[-2] must equal the input channels "
                         f"({a.shape[-1]}). Received: kernel.shape={w.shape}")
    strides, padding, dilation = _args("depthwise_conv", rank, strides, padding, data_format,
                                       dilation_rate)
    geometry = _geometry("depthwise_conv", a.shape, w.shape[:-2], strides, padding, dilation)
    return depthwise_conv_bias_act(inputs, kernel, None, None, *geometry)


@op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Depthwise convolution followed by a 1x1 (pointwise) convolution, as one node.

    Args:
        inputs: as for `conv`.
        depthwise_kernel: `(k, in, dm)` or `(kh, kw, in, dm)`.
        pointwise_kernel: `(1, in·dm, out)` or `(1, 1, in·dm, out)`.
        strides, padding, data_format, dilation_rate: as for `conv` (the depthwise step).
    """
    a, wd, pw = value(inputs), value(depthwise_kernel), value(pointwise_kernel)
    rank = _rank("separable_conv", a)
    _kernel("separable_conv", wd, rank, "depthwise_kernel")
    _kernel("separable_conv", pw, rank, "pointwise_kernel")
    if wd.shape[-2] != a.shape[-1] or pw.shape[:-2] != (1,) * rank or \
            pw.shape[-2] != wd.shape[-2] * wd.shape[-1]:
        raise ValueError(f"ops.separable_conv: expected depthwise_kernel (..., "
                         f"{a.shape[-1]}, dm) and pointwise_kernel ({'1, ' * rank}"
                         f"{a.shape[-1]}·dm, out). Received: depthwise_kernel.shape={wd.shape}, "
                         f"pointwise_kernel.shape={pw.shape}")
    strides, padding, dilation = _args("separable_conv", rank, strides, padding, data_format,
                                       dilation_rate)
    geometry = _geometry("separable_conv", a.shape, wd.shape[:-2], strides, padding, dilation)
    return separable_conv_bias_act(inputs, depthwise_kernel, pointwise_kernel, None, None,
                                   *geometry)


@op
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution (the adjoint of `conv`), Keras's output sizes.

    Args:
        inputs: as for `conv` (1-D, 2-D or 3-D).
        kernel: `(k, out, in)`, `(kh, kw, out, in)` or `(kd, kh, kw, out, in)`, as in Keras.
        strides, dilation_rate: int or one int per spatial axis.
        padding: `"valid"` (output `in·stride + max(k - stride, 0)`) or `"same"` (`in·stride`).
        output_padding: None, or an int or one int per axis (< stride): the output is then
            `(in - 1)·stride + k - 2·pad + output_padding`, `pad = k // 2` for "same".
        data_format: None or `"channels_last"`.
    """
    a, w = value(inputs), value(kernel)
    rank = _rank("conv_transpose", a, volumes=True)
    _kernel("conv_transpose", w, rank)
    if w.shape[-1] != a.shape[-1]:
        raise ValueError(f"ops.conv_transpose: kernel.shape[-1] must equal the input channels "
                         f"({a.shape[-1]}). Received: kernel.shape={w.shape}")
    strides, padding, dilation = _args("conv_transpose", rank, strides, padding, data_format,
                                       dilation_rate)
    window = w.shape[:-2]
    if output_padding is not None:
        output_padding = _validate.int_tuple(output_padding, rank, "output_padding",
                                             "ops.conv_transpose", allow_zero=True)
        if any(p >= s for p, s in zip(output_padding, strides)):
            raise ValueError(f"ops.conv_transpose: output_padding must be smaller than strides "
                             f"{strides}. Received: output_padding={output_padding}")
    out = tuple(transpose_length(n, k, s, padding, None if output_padding is None else p, d)
                for n, k, s, d, p in zip(a.shape[1:-1], window, strides, dilation,
                                         output_padding or (0,) * rank))
    back = tuple(output_length(n, k, s, padding, d)
                 for n, k, s, d in zip(out, window, strides, dilation))
    if back != a.shape[1:-1]:
        raise ValueError(f"ops.conv_transpose: output size {out} is not mapped back onto the "
                         f"input size {a.shape[1:-1]} by a '{padding}' convolution with kernel "
                         f"{tuple(window)} and strides {strides}; choose another output_padding. "
                         f"Received: output_padding={output_padding}")
    if rank == 3:
        return conv3d_transpose_bias_act(inputs, kernel, None, None, out, strides,
                                         pads_3d(out, window, strides, padding, dilation),
                                         dilation)
    s2, k2, d2 = _as_2d(rank, strides), _as_2d(rank, window), _as_2d(rank, dilation)
    out_hw = _as_2d(rank, out)
    pads = pads_2d(*out_hw, k2, s2, padding, d2)
    return conv_transpose_bias_act(inputs, kernel, None, None, out_hw, s2, pads, d2)


def _pool(name, mode, inputs, pool_size, strides, padding, data_format):
    a = value(inputs)
    rank = _rank(name, a, volumes=True)
    window = _validate.int_tuple(pool_size, rank, "pool_size", f"ops.{name}")
    strides, padding, _ = _args(name, rank, window if strides is None else strides, padding,
                                data_format)
    s2, pads, _ = _geometry(name, a.shape, window, strides, padding, (1,) * rank)
    if rank == 3:
        return pool3d(inputs, mode, window, s2, pads)
    return pool(inputs, mode, _as_2d(rank, window), s2, pads)


@op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling, channels-last (padded positions never win).

    Args:
        inputs: `(batch, steps, c)`, `(batch, rows, cols, c)` or `(batch, depth, rows, cols, c)`.
        pool_size: int or one int per spatial axis.
        strides: int, one int per axis, or None (= pool_size).
        padding: `"valid"` or `"same"`.
        data_format: None or `"channels_last"`.

    Example:
        >>> import numpy as np
        >>> from kerasnp import ops
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> ops.nn.max_pool(x, 2)[0, :, :, 0].tolist()
        [[5.0, 7.0], [13.0, 15.0]]
    """
    return _pool("max_pool", "max", inputs, pool_size, strides, padding, data_format)


@op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling, channels-last (padded positions are not counted).

    Args: as for `max_pool`.
    """
    return _pool("average_pool", "avg", inputs, pool_size, strides, padding, data_format)
