"""ONNX converter of MultiHeadAttention (inputs `(batch, steps, features)`, attention over the
steps): the four projections as MatMul + Add, the heads split by Reshape/Transpose, and
`softmax(Q·Kᵀ·scale + mask)·V` as MatMul, Mul, Add, Softmax, MatMul.

Masks as kerasnp combines them: the query's mask on rows, the value's and key's on columns
(from `Embedding(mask_zero=True)` upstream), `use_causal_mask` (position i attends to j <= i)
and an `attention_mask` tensor `(batch, T, S)` given to the call (nonzero = may attend), ANDed;
masked logits get -1e9 added, as kerasnp and Keras add it.
"""
import math

import numpy as np

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


def _causal(b, q, k, t, s):
    """Booleans `(T, S)`, True where j <= i (constant when both lengths are known)."""
    if t is not None and s is not None:
        return b.const(np.tril(np.ones((t, s), dtype=bool)), "causal", np.bool_)
    tq = b.slice(b.op("Shape", [q]), [2], [3], [0])             # q (B, H, T, K)
    sk = b.slice(b.op("Shape", [k]), [3], [4], [0])             # kᵀ (B, H, K, S)
    ones = b.op("ConstantOfShape", [b.op("Concat", [tq, sk], axis=0)],
                value=b.helper.make_tensor("one", b.onnx.TensorProto.BOOL, [1], [True]))
    ints = b.op("Cast", [ones], to=b.onnx.TensorProto.INT32)    # Trilu has no bool kernel
    return b.op("Cast", [b.op("Trilu", [ints], upper=0)], to=b.onnx.TensorProto.BOOL)


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
        tri = _causal(b, q, k, q_shape[1], v_shape[1])
        keep = tri if keep is None else b.op("And", [keep, tri])
    if keep is not None:                                        # + 0 or -1e9
        bias = b.op("Where", [keep, b.scalar(0.0), b.scalar(large_negative(b.dtype))])
        s = b.add(s, bias)
    p = b.op("Softmax", [s], axis=-1)
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
