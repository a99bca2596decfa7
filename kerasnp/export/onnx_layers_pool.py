"""ONNX converters of pooling and spatial reshaping: Max/Min/Average pooling 1D/2D, global and
adaptive pooling, ZeroPadding1D/2D, Cropping1D/2D and UpSampling1D/2D (nearest).

Local pooling transposes to channels-first around ONNX's op, as the convolutions do; everything
else works on the channels-last tensor directly (a global pool is a Reduce over the spatial
axes, padding a Pad, cropping a Slice, upsampling a nearest-neighbour Resize).
"""
import numpy as np

from ..layers.global_pooling import GlobalAveragePooling1D, GlobalMaxPooling1D, _GlobalPooling
from ..layers.pooling import _Pooling
from ..layers.pooling_adaptive import (AdaptiveAveragePooling1D, AdaptiveMaxPooling1D,
                                       _bins)
from ..layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from ..layers.reshaping_1d import Cropping1D, UpSampling1D, ZeroPadding1D
from .onnx_layers_conv import padding_attrs, to_channels_first, to_channels_last
from .onnx_registry import converts, unsupported

_END = np.iinfo(np.int64).max          # a Slice end past any size


@converts(_Pooling)
def _pooling(b, layer, inputs):
    rank = layer._rank
    spatial = b.shape(inputs)[1:1 + rank]
    attrs = padding_attrs(spatial, layer.pool_size, layer.strides, layer.padding)
    x = to_channels_first(b, inputs, rank)
    kw = dict(kernel_shape=list(layer.pool_size), strides=list(layer.strides), **attrs)
    if layer._mode == "avg":            # padded positions are not counted, as in kerasnp
        y = b.op("AveragePool", [x], count_include_pad=0, **kw)
    elif layer._mode == "max":
        y = b.op("MaxPool", [x], **kw)
    else:                               # min = -max(-x); padded positions never win either
        y = b.op("Neg", [b.op("MaxPool", [b.op("Neg", [x])], **kw)])
    return to_channels_last(b, y, rank)


@converts(_GlobalPooling, GlobalAveragePooling1D, GlobalMaxPooling1D)
def _global_pooling(b, layer, inputs, mask=None):
    axes = list(range(1, 1 + layer._rank))
    if mask is not None:
        return _masked_global_pooling(b, layer, inputs, mask)
    op = "ReduceMean" if layer._mode == "avg" else "ReduceMax"
    return b.reduce(op, inputs, axes, keepdims=layer.keepdims)


def _masked_global_pooling(b, layer, x, mask):
    """Average or max over the real steps of `(batch, steps, channels)`; 0 without any."""
    m3 = b.unsqueeze(mask, [2])                                     # (n, t, 1)
    w = b.op("Cast", [m3], to=b.elem_type)
    count = b.reduce("ReduceSum", w, [1], keepdims=layer.keepdims)
    if layer._mode == "avg":                                        # Σ x·m / max(Σ m, 1)
        total = b.reduce("ReduceSum", b.mul(x, w), [1], keepdims=layer.keepdims)
        return b.op("Div", [total, b.op("Max", [count, b.scalar(1.0)])])
    low = b.scalar(-np.inf)
    top = b.reduce("ReduceMax", b.op("Where", [m3, x, low]), [1], keepdims=layer.keepdims)
    real = b.op("Greater", [count, b.scalar(0.0)])
    return b.op("Where", [real, top, b.scalar(0.0)])


@converts(AdaptiveAveragePooling1D, AdaptiveMaxPooling1D)
def _adaptive(b, layer, inputs):
    steps = b.shape(inputs)[1]
    if steps is None:
        unsupported(layer, "its input's number of steps is unknown; adaptive pooling exports "
                    "for a known length (give the Input its full shape).")
    starts, ends = _bins(steps, layer.output_size[0])
    if isinstance(layer, AdaptiveAveragePooling1D):     # y = W·x over the steps
        inside = (np.arange(steps) >= starts[:, None]) & (np.arange(steps) < ends[:, None])
        w = b.const(inside / (ends - starts)[:, None], "bins")
        return b.op("Einsum", [w, inputs], equation="ot,ntc->noc")
    parts = [b.reduce("ReduceMax", b.slice(inputs, [s], [e], [1]), [1])
             for s, e in zip(starts, ends)]
    return b.op("Concat", parts, axis=1) if len(parts) > 1 else parts[0]


@converts(ZeroPadding1D, ZeroPadding2D)
def _zero_padding(b, layer, inputs):
    pairs = [layer.padding] if isinstance(layer, ZeroPadding1D) else list(layer.padding)
    before = [0] + [p[0] for p in pairs] + [0]
    after = [0] + [p[1] for p in pairs] + [0]
    return b.op("Pad", [inputs, b.ints(before + after, "pads")], mode="constant")


@converts(Cropping1D, Cropping2D)
def _cropping(b, layer, inputs):
    pairs = [layer.cropping] if isinstance(layer, Cropping1D) else list(layer.cropping)
    starts = [p[0] for p in pairs]
    ends = [-p[1] if p[1] else _END for p in pairs]
    return b.slice(inputs, starts, ends, list(range(1, 1 + len(pairs))))


@converts(UpSampling1D, UpSampling2D)
def _upsampling(b, layer, inputs):
    sizes = [layer.size] if isinstance(layer, UpSampling1D) else list(layer.size)
    scales = b.const(np.array([1.0] + [float(s) for s in sizes] + [1.0], np.float32), "scales",
                     np.float32)
    # y[i·s + p] = x[i]: nearest with asymmetric coordinates and floor rounding
    return b.op("Resize", [inputs, None, scales], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")
