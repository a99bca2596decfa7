"""ONNX converters of the normalization layers: BatchNormalization (inference: the moving
statistics), LayerNormalization, Rescaling and Normalization.

BatchNormalization, Rescaling and Normalization are affine maps at inference; their constants are
computed here with the same NumPy arithmetic kerasnp's forward uses, so the exported graph
multiplies and adds the very numbers `predict` does.
"""
import numpy as np

from ..layers.batch_norm import BatchNormalization
from ..layers.normalization import LayerNormalization
from ..layers.preprocessing import Normalization, Rescaling
from .onnx_registry import converts


@converts(BatchNormalization)
def _batch_norm(b, layer, inputs):
    ndim = b.rank(inputs)
    axis = layer.axis % ndim
    mean = np.asarray(layer.moving_mean.value, dtype=b.dtype)
    var = np.asarray(layer.moving_variance.value, dtype=b.dtype)
    inv = 1.0 / np.sqrt(var + b.dtype.type(layer.epsilon))      # 1/σ
    shift = -mean * inv                                          # y = x·γ/σ + β - μ·γ/σ
    k = inv
    if layer.gamma is not None:
        g = np.asarray(layer.gamma.value, dtype=b.dtype)
        k, shift = g * inv, shift * g
    if layer.beta is not None:
        shift = shift + np.asarray(layer.beta.value, dtype=b.dtype)
    bshape = (-1,) + (1,) * (ndim - 1 - axis)                          # broadcast along `axis`
    y = b.mul(inputs, b.const(k.reshape(bshape), "scale"))
    return b.add(y, b.const(shift.reshape(bshape), "shift"))


@converts(LayerNormalization)
def _layer_norm(b, layer, inputs):
    ndim = b.rank(inputs)
    axes = tuple(layer._axes)
    gamma = None if layer.gamma is None else np.asarray(layer.gamma.value)
    beta = None if layer.beta is None else np.asarray(layer.beta.value)
    if axes == tuple(range(ndim - len(axes), ndim)):     # trailing axes: ONNX's own op
        shape = tuple(b.shape(inputs)[a] for a in axes)
        scale = b.const(gamma if gamma is not None else np.ones(shape), "gamma")
        bias = None if beta is None else b.const(beta, "beta")
        return b.op("LayerNormalization", [inputs, scale, bias], axis=axes[0],
                    epsilon=float(layer.epsilon))
    mu = b.reduce("ReduceMean", inputs, axes)            # other axes: the formula
    xc = b.op("Sub", [inputs, mu])
    var = b.reduce("ReduceMean", b.mul(xc, xc), axes)
    y = b.op("Div", [xc, b.op("Sqrt", [b.add(var, b.scalar(layer.epsilon))])])
    if gamma is not None:
        y = b.mul(y, b.const(gamma.reshape(layer._bshape), "gamma"))
    if beta is not None:
        y = b.add(y, b.const(beta.reshape(layer._bshape), "beta"))
    return y


@converts(Rescaling)
def _rescaling(b, layer, inputs):
    y = b.mul(inputs, b.const(np.asarray(layer.scale, dtype=b.dtype), "scale"))
    return b.add(y, b.const(np.asarray(layer.offset, dtype=b.dtype), "offset"))


@converts(Normalization)
def _normalization(b, layer, inputs):
    mean, std = layer._stats(b.dtype)                    # shaped to broadcast, batch axis 1
    if layer.invert:
        return b.add(b.mul(inputs, b.const(std, "std")), b.const(mean, "mean"))
    inv = 1.0 / std
    return b.mul(b.op("Sub", [inputs, b.const(mean, "mean")]), b.const(inv, "inv_std"))
