"""ONNX converters of the attention layers. MultiHeadAttention (inputs `(batch, steps,
features)`, attention over the steps): the four projections as MatMul + Add, the heads split by
Reshape/Transpose, and `softmax(Q·Kᵀ·scale + mask)·V` as MatMul, Mul, Add, Softmax, MatMul.
Attention (dot or concat scores) and AdditiveAttention: their scores, the masked softmax over
the value steps, the weighted sum of the values, zeros at masked query steps.

Masks as kerasnp combines them: the query's mask on rows, the value's and key's on columns
(from `Embedding(mask_zero=True)` upstream), `use_causal_mask` (position i attends to j <= i)
and an `attention_mask` tensor `(batch, T, S)` given to the call (nonzero = may attend), ANDed;
masked logits get -1e9 added, as kerasnp and Keras add it.
"""
import math

import numpy as np

from ..layers.attention import AdditiveAttention, Attention
from ..layers.attention_mha import MultiHeadAttention
from ..ops._attention import large_negative
from .onnx_registry import converts, unsupported


def _project(b, dense, x, heads, size):
    """`x·W + b` of a (features -> heads·size) projection, as `(batch, steps, heads, size)`."""
    y = b.op("MatMul", [x, b.weight(dense.kernel, "kernel",
                                    lambda k: k.reshape(k.shape[0], -1))])
    if dense.bias is not None:
        y = b.add(y, b.weight(dense.bias, "bias", lambda v: v.reshape(-1)))
    return b.reshape(y, [0, 0, heads, size])


def _causal(b, t, s, q, q_axis, k, k_axis):
    """Booleans `(T, S)`, True where j <= i: constant when both lengths are known, else built
    from the run-time lengths of axis `q_axis` of `q` and `k_axis` of `k`."""
    if t is not None and s is not None:
        return b.const(np.tril(np.ones((t, s), dtype=bool)), "causal", np.bool_)
    tq = b.slice(b.op("Shape", [q]), [q_axis], [q_axis + 1], [0])
    sk = b.slice(b.op("Shape", [k]), [k_axis], [k_axis + 1], [0])
    ones = b.op("ConstantOfShape", [b.op("Concat", [tq, sk], axis=0)],
                value=b.helper.make_tensor("one", b.onnx.TensorProto.INT32, [1], [1]))
    return b.op("Cast", [b.op("Trilu", [ones], upper=0)], to=b.onnx.TensorProto.BOOL)


@converts(MultiHeadAttention)
def _mha(b, layer, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
         attention_mask=None, return_attention_scores=False, use_causal_mask=False):
    key = value if key is None else key
    q_shape, v_shape = b.shape(query), b.shape(value)
    if len(q_shape) != 3 or tuple(layer._axes) != (1,):
        unsupported(layer, f"ONNX export covers inputs (batch, steps, features) with attention "
                    f"over the steps. Received: query shape {q_shape}, attention axes "
                    f"{layer._axes}")
    h, kd, vd = layer.num_heads, layer.key_dim, layer.value_dim
    q = b.transpose(_project(b, layer.query_dense, query, h, kd), [0, 2, 1, 3])    # (B,H,T,K)
    k = b.transpose(_project(b, layer.key_dense, key, h, kd), [0, 2, 3, 1])        # (B,H,K,S)
    v = b.transpose(_project(b, layer.value_dense, value, h, vd), [0, 2, 1, 3])    # (B,H,S,V)
    s = b.mul(b.op("MatMul", [q, k]), b.scalar(1.0 / math.sqrt(kd)))              # Q·Kᵀ·scale
    keep = None
    for m, at in ((query_mask, 2), (value_mask, 1), (key_mask, 1)):   # rows (B, T, 1), columns
        if m is not None:                                            # (B, 1, S), heads axis 1
            m = b.unsqueeze(m, [1, at + 1])
            keep = m if keep is None else b.op("And", [keep, m])
    if attention_mask is not None:
        given = b.op("Cast", [attention_mask], to=b.onnx.TensorProto.BOOL)
        if len(b.shape(attention_mask)) == 3:                   # (B, T, S) -> (B, 1, T, S)
            given = b.unsqueeze(given, [1])
        keep = given if keep is None else b.op("And", [keep, given])
    if use_causal_mask:
        tri = _causal(b, q_shape[1], v_shape[1], query, 1, value, 1)
        keep = tri if keep is None else b.op("And", [keep, tri])
    p = _masked_softmax(b, s, keep)
    o = b.transpose(b.op("MatMul", [p, v]), [0, 2, 1, 3])                          # (B,T,H,V)
    o = b.reshape(o, [0, 0, h * vd])
    dense = layer.output_dense
    out_dims = tuple(dense.kernel.value.shape[2:])
    y = b.op("MatMul", [o, b.weight(dense.kernel, "kernel",
                                    lambda w: w.reshape(h * vd, -1))])
    if dense.bias is not None:
        y = b.add(y, b.weight(dense.bias, "bias", lambda v_: v_.reshape(-1)))
    if len(out_dims) > 1:
        y = b.reshape(y, [0, 0] + list(out_dims))
    return [y, p] if return_attention_scores else y


def _masked_softmax(b, scores, keep):
    if keep is not None:                                        # + 0 or -1e9
        bias = b.op("Where", [keep, b.scalar(0.0), b.scalar(large_negative(b.dtype))])
        scores = b.add(scores, bias)
    return b.op("Softmax", [scores], axis=-1)


def _scores(b, layer, q, k):
    """`(batch, Tq, Tv)` scores of the query against the key."""
    if isinstance(layer, AdditiveAttention):                    # Σ scale·tanh(q + k)
        t = b.op("Tanh", [b.add(b.unsqueeze(q, [-2]), b.unsqueeze(k, [-3]))])
        if layer.scale is not None:
            t = b.mul(t, b.weight(layer.scale, "scale"))
        return b.reduce("ReduceSum", t, [-1], keepdims=False)
    if layer.score_mode == "dot":                               # q·kᵀ (·scale)
        s = b.op("MatMul", [q, b.transpose(k, [0, 2, 1])])
        return s if layer.scale is None else b.mul(s, b.weight(layer.scale, "scale"))
    t = b.add(b.unsqueeze(q, [-2]), b.unsqueeze(k, [-3]))      # concat: w·Σ tanh(scale·(q + k))
    if layer.scale is not None:
        t = b.mul(b.weight(layer.scale, "scale"), t)
    s = b.reduce("ReduceSum", b.op("Tanh", [t]), [-1], keepdims=False)
    return b.mul(b.weight(layer.concat_score_weight, "concat_score_weight"), s)


@converts(Attention)
def _attention(b, layer, inputs, mask=None, return_attention_scores=False,
               use_causal_mask=False):
    q, v = inputs[0], inputs[1]
    k = inputs[2] if len(inputs) > 2 else v
    q_mask, v_mask = (mask[0], mask[1]) if mask else (None, None)
    keep = None if v_mask is None else b.unsqueeze(v_mask, [1])    # (B, 1, Tv)
    if use_causal_mask:
        tri = _causal(b, b.shape(q)[1], b.shape(v)[1], q, 1, v, 1)
        keep = tri if keep is None else b.op("And", [keep, tri])
    weights = _masked_softmax(b, _scores(b, layer, q, k), keep)
    result = b.op("MatMul", [weights, v])
    if q_mask is not None:                                      # zeros at masked query steps
        result = b.mul(result, b.op("Cast", [b.unsqueeze(q_mask, [-1])], to=b.elem_type))
    return [result, weights] if return_attention_scores else result
