"""Masks in the exported graph, as kerasnp's model run carries them (`graph.run_node_masked`).

`Embedding(mask_zero=True)` and `Masking` make a boolean mask `(batch, steps)`, True for a real
step; it travels beside the values, through the layers that pass it on (`supports_masking`
without a `compute_mask` of their own), into the calls that take `mask=` (recurrent layers,
1-D global pooling, nested models) or `<arg>_mask=` (MultiHeadAttention's `query_mask`, ...),
and each layer's output mask follows the layer's `compute_mask`, written here as ONNX ops.
"""
from ..layers.base import Layer
from ..models.graph import mask_arguments
from ..layers.bidirectional import Bidirectional
from ..layers.attention import Attention
from ..layers.attention_mha import MultiHeadAttention
from ..layers.embedding import Embedding
from ..layers.global_pooling import _Masked1D
from ..layers.masking import Masking
from ..layers.merging import Concatenate, _Merge
from ..layers.rnn import RNN
from .onnx_registry import converts, unsupported

MASK_RULES = {}


def rule(*classes):
    """Register the decorated `fn(b, layer, x, mask) -> mask` as the classes' compute_mask."""
    def decorate(fn):
        for cls in classes:
            MASK_RULES[cls] = fn
        return fn
    return decorate


def _any(m):
    if isinstance(m, (list, tuple)):
        return any(_any(v) for v in m)
    return m is not None


def call_masks(node, args, arg_masks):
    """`(extra call kwargs, first mask)`: the masks a layer call receives (None: none), by the
    same rules as the model run (`models.graph.mask_arguments`)."""
    _, _, _, first, extra = mask_arguments(node, args, arg_masks)
    return extra, first


def output_mask(b, layer, x, first):
    """The mask of `layer`'s output (None: none), by the layer's compute_mask."""
    if not getattr(layer, "supports_masking", False):
        return None
    own = type(layer).compute_mask
    if own is Layer.compute_mask:
        return first                                   # passed on unchanged
    for cls in type(layer).__mro__:
        if cls in MASK_RULES and cls.compute_mask is own:
            return MASK_RULES[cls](b, layer, x, first)
    if not _any(first):
        return None
    unsupported(layer, "it receives a mask and its compute_mask has no ONNX form.")


@rule(Embedding)
def _embedding(b, layer, x, mask):
    if not layer.mask_zero:
        return None
    return b.op("Not", [b.op("Equal", [x, b.scalar(0.0)])])          # inputs != 0


@rule(Masking)
def _masking(b, layer, x, mask):
    return b.squeeze(masking_keep(b, layer, x), [-1])


def masking_keep(b, layer, x):
    """`(..., 1)` booleans: some feature of the step differs from `mask_value`."""
    differs = b.op("Cast", [b.op("Not", [b.op("Equal", [x, b.scalar(layer.mask_value)])])],
                   to=b.onnx.TensorProto.INT32)
    return b.op("Cast", [b.reduce("ReduceMax", differs, [-1])], to=b.onnx.TensorProto.BOOL)


@rule(_Merge)
def _merge(b, layer, x, masks):
    if not isinstance(masks, (list, tuple)) or any(m is None for m in masks):
        return None                                    # OR of the masks, None if one has none
    out = masks[0]
    for m in masks[1:]:
        out = b.op("Or", [out, m])
    return out


@rule(Concatenate)
def _concatenate(b, layer, xs, masks):
    if not isinstance(masks, (list, tuple)) or all(m is None for m in masks):
        return None
    full = []                                          # each mask spread over its input
    for x, m in zip(xs, masks):
        shape = b.op("Shape", [x])
        rank, mrank = b.rank(x), (b.rank(m) if m is not None and b.shape(m) else 2)
        if m is None:
            one = b.helper.make_tensor("one", b.onnx.TensorProto.INT32, [1], [1])
            full.append(b.op("ConstantOfShape", [shape], value=one))
            continue
        mi = b.op("Cast", [m], to=b.onnx.TensorProto.INT32)
        if rank > mrank:
            mi = b.unsqueeze(mi, list(range(mrank, rank)))
        full.append(b.op("Expand", [mi, shape]))
    axis = layer.axis % b.rank(xs[0])
    joined = b.op("Concat", full, axis=axis)
    return b.op("Cast", [b.reduce("ReduceMax", joined, [-1], keepdims=False)],
                to=b.onnx.TensorProto.BOOL)


@rule(RNN, Bidirectional)
def _recurrent(b, layer, x, mask):
    mask = mask[0] if isinstance(mask, (list, tuple)) else mask
    out = mask if layer.return_sequences else None
    outs = [out, out] if isinstance(layer, Bidirectional) and layer.merge_mode is None \
        else [out]
    if layer.return_state:
        n = len(layer.forward_layer.state_size if isinstance(layer, Bidirectional)
                else layer.state_size)
        return outs + [None] * (n * (2 if isinstance(layer, Bidirectional) else 1))
    return outs if len(outs) > 1 else outs[0]


@rule(_Masked1D)
def _consumed(b, layer, x, mask):
    return None                                        # 1-D global pooling ends the mask


@rule(MultiHeadAttention)
def _query_mask(b, layer, x, mask):
    return mask[0] if isinstance(mask, (list, tuple)) else mask


@rule(Attention)
def _attention_query_mask(b, layer, x, mask):
    return mask[0] if isinstance(mask, (list, tuple)) and mask else None


@converts(Masking)
def _masking_layer(b, layer, inputs):
    keep = b.op("Cast", [masking_keep(b, layer, inputs)], to=b.elem_type)
    return b.mul(inputs, keep)                         # padded steps set to 0
