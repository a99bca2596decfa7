"""ONNX converters of the core layers: Dense, the layers that are identities at inference
(dropout, noise, random augmentation), reshaping (Flatten, Reshape, Permute, RepeatVector),
merges and Embedding.

Tensors are channels-last here as in kerasnp, so Flatten is ONNX's row-major Flatten of the same
array: its order matches `predict`'s without any transpose.
"""
from ..layers.core import Dense, Dropout, Flatten, InputLayer, Reshape
from ..layers.embedding import Embedding
from .. import config
from ..layers.merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from ..layers.merging_dot import Dot
from ..layers.noise import GaussianNoise
from ..layers.preprocessing_image import RandomFlip, RandomRotation, RandomTranslation
from ..layers.shape_utils import Identity, Permute, RepeatVector
from ..layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D
from .onnx_activations import activation
from .onnx_registry import converts


@converts(Dense)
def _dense(b, layer, inputs):
    y = b.op("MatMul", [inputs, b.weight(layer.kernel, "kernel")])   # (..., in)·(in, units)
    if layer.bias is not None:
        y = b.add(y, b.weight(layer.bias, "bias"))
    return activation(b, layer.activation, y, layer)


@converts(Dropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, Identity, InputLayer,
          RandomFlip, RandomRotation, RandomTranslation)
def _identity(b, layer, inputs):
    # Inference mode: these layers return their input unchanged.
    return inputs


@converts(Flatten)
def _flatten(b, layer, inputs):
    return b.op("Flatten", [inputs], axis=1)


@converts(Reshape)
def _reshape(b, layer, inputs):
    return b.reshape(inputs, (0,) + tuple(layer.target_shape))      # 0: keep the batch size


@converts(Permute)
def _permute(b, layer, inputs):
    return b.transpose(inputs, (0,) + tuple(layer.dims))


@converts(RepeatVector)
def _repeat_vector(b, layer, inputs):
    x = b.unsqueeze(inputs, [1])                                      # (n, 1, f)
    return b.op("Tile", [x, b.ints([1, layer.n, 1], "repeats")])


@converts(Add)
def _add(b, layer, inputs):
    return b.op("Sum", list(inputs))


@converts(Subtract)
def _subtract(b, layer, inputs):
    return b.op("Sub", list(inputs))


@converts(Multiply)
def _multiply(b, layer, inputs):
    y = inputs[0]
    for x in inputs[1:]:
        y = b.mul(y, x)
    return y


@converts(Average)
def _average(b, layer, inputs):
    return b.mul(b.op("Sum", list(inputs)), b.scalar(1.0 / len(inputs)))


@converts(Maximum)
def _maximum(b, layer, inputs):
    return b.op("Max", list(inputs))


@converts(Minimum)
def _minimum(b, layer, inputs):
    return b.op("Min", list(inputs))


@converts(Concatenate)
def _concatenate(b, layer, inputs):
    return b.op("Concat", list(inputs), axis=int(layer.axis))


@converts(Dot)
def _dot(b, layer, inputs):
    xa, xb = inputs
    ia, ib = layer._resolve([b.shape(xa), b.shape(xb)])
    if layer.normalize:                     # x / max(‖x‖, ε) along the dot axis
        eps = b.scalar(config.epsilon())
        xa, xb = (b.op("Div", [x, b.op("Max", [b.op("Sqrt", [b.reduce("ReduceSum", b.mul(x, x),
                                                                        [axis])]), eps])])
                  for x, axis in ((xa, ia), (xb, ib)))
    letters = iter("abcdefghijklmopqrstuvwxyz")              # n: batch, k: the dot axis
    sa = ["n"] + [next(letters) for _ in range(b.rank(inputs[0]) - 1)]
    sb = ["n"] + [next(letters) for _ in range(b.rank(inputs[1]) - 1)]
    sa[ia] = sb[ib] = "k"
    rest = [c for c in sa[1:] + sb[1:] if c != "k"]
    y = b.op("Einsum", [xa, xb], equation=f"{''.join(sa)},{''.join(sb)}->n{''.join(rest)}")
    return y if rest else b.unsqueeze(y, [1])                 # (batch, 1) when nothing remains


@converts(Embedding)
def _embedding(b, layer, inputs):
    # The model's inputs arrive as floats (predict casts them); kerasnp truncates them to
    # integer indices, as Cast does.
    idx = b.op("Cast", [inputs], to=b.onnx.TensorProto.INT64)
    return b.op("Gather", [b.weight(layer.embeddings, "embeddings"), idx], axis=0)

