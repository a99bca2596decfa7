"""Attention as fused tape nodes: `softmax(Q·Kᵀ·scale + mask)·V` with a hand-written VJP.

- `attention_core`: the multi-head attention of `MultiHeadAttention` on projected tensors in
  Keras's layout `(batch, <attention dims>, heads, channels)`, over any `attention_axes`. The
  axes are folded into a stack of `(G, T, H)` matrices, so the whole attention is two batched
  BLAS products and one softmax, recorded as ONE node (a second one when the scores are asked
  for, so that they carry their own gradient).
- `dot_product_attention`: Keras 3's `ops.dot_product_attention` (layout `(B, T, N, H)`); not
  exported yet (it would need `@op` and a row in docs/src/ops.md).
- `masked_softmax`: `softmax(x + bias(mask))` over the last axis as one node (Attention layers).
- `project`: the EinsumDense-style projections of MultiHeadAttention (`x·W + b` contracting the
  last `in_rank` axes of `x` with the first of `W`), one node.

Masked logits get Keras's large negative number (-1e9, -3e4 in float16) added before the
softmax, as `keras.layers.Softmax(mask=)` does, so a row with every position masked is the
softmax of its raw logits (uniform in float32), not NaN.
"""
import math

import numpy as np

from ._blas import column_sums
from ._dispatch import is_tracked, op, record, unbroadcast, value


def large_negative(dtype):
    """The number Keras adds to masked logits: -1e9, or -3e4 where float16 would overflow."""
    return np.dtype(dtype).type(-3e4 if np.dtype(dtype) == np.float16 else -1e9)


def mask_bias(mask, dtype):
    """Additive bias of a boolean mask (True = attend): 0 where True, the large negative else."""
    return np.where(np.asarray(mask, dtype=bool), np.dtype(dtype).type(0), large_negative(dtype))


def _softmax_rows(s):
    """Softmax over the last axis, in place (`s` is a fresh array owned by the caller)."""
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


def _softmax_grad(p, dp):
    """dS = P ⊙ (dP − Σⱼ dP·P), the softmax VJP along the last axis (overwrites dp)."""
    dp -= np.einsum("...j,...j->...", dp, p)[..., None]
    dp *= p
    return dp


def project(x, kernel, bias, in_rank):
    """`x·W + b` contracting the last `in_rank` axes of `x` with the first ones of `kernel`.

    Output shape: `x.shape[:-in_rank] + kernel.shape[in_rank:]`; `bias` has the trailing shape.
    """
    a, w = value(x), value(kernel)
    b = None if bias is None else value(bias)
    lead, k_in = a.shape[:a.ndim - in_rank], w.shape[:in_rank]
    k = math.prod(k_in)
    a2 = a.reshape(-1, k)
    w2 = w.reshape(k, -1)
    y = a2 @ w2                                              # Y = X·W + b
    if b is not None:
        y += b.reshape(-1)
    need_dx = is_tracked(x)

    def vjp(dy):
        dy2 = np.ascontiguousarray(dy).reshape(-1, w2.shape[1])
        dw = (a2.T @ dy2).reshape(w.shape)                   # dW = Xᵀ·dY
        dx = (dy2 @ w2.T).reshape(a.shape) if need_dx else None   # dX = dY·Wᵀ
        if b is None:
            return dx, dw
        return dx, dw, column_sums(dy2).reshape(b.shape)     # db = Σₙ dY
    out = y.reshape(lead + w.shape[in_rank:])
    return record(out, vjp, x, kernel, bias) if b is not None else record(out, vjp, x, kernel)


class _Folding:
    """How `(B, <dims>, N, H)` folds into `(G, T, H)` for attention over `axes`: the other axes
    (the heads among them) lead, in order, then the attention axes, then the channels; the
    scores' shape is Keras's `(<batch dims>, <query attention dims>, <key attention dims>)`."""

    def __init__(self, q_shape, k_shape, axes):
        r = len(q_shape)
        batch = [i for i in range(r - 1) if i not in axes]
        self.perm = tuple(batch) + tuple(axes) + (r - 1,)
        self.inv = tuple(np.argsort(self.perm))
        self.lead = tuple(q_shape[i] for i in batch)
        self.tq = tuple(q_shape[i] for i in axes)
        self.tk = tuple(k_shape[i] for i in axes)
        self.g, self.t, self.s = math.prod(self.lead), math.prod(self.tq), math.prod(self.tk)
        self.scores_shape = self.lead + self.tq + self.tk

    def fold(self, a, steps):
        """`(B, <dims>, N, C)` -> `(G, steps, C)` (a contiguous copy)."""
        return np.ascontiguousarray(a.transpose(self.perm)).reshape(self.g, steps, a.shape[-1])

    def unfold(self, a3, tdims):
        """`(G, steps, C)` -> `(B, <dims>, N, C)` (the inverse of `fold`)."""
        return a3.reshape(self.lead + tdims + (a3.shape[-1],)).transpose(self.inv)


def attention_core(query, key, value_, axes, scale, mask=None, bias=None, keep=None,
                   return_scores=False):
    """Multi-head attention of projected `query (B, <dims>, N, H)`, `key (B, <dims'>, N, H)` and
    `value_ (B, <dims'>, N, Hv)` over the attention `axes`.

    Args:
        axes: tuple of attention axes (each in `1 .. rank - 3`), increasing.
        scale: the logits' factor (`1/√H` in MultiHeadAttention).
        mask: optional booleans broadcastable to the scores' shape (True = attend).
        bias: optional float logits offset broadcastable to the scores' shape (differentiable).
        keep: optional dropout multipliers of the scores' shape (`keep / (1 - rate)`).
        return_scores: also return the attention probabilities (before dropout), in the shape
            `(<batch dims incl. heads>, <query attention dims>, <key attention dims>)`.

    Returns:
        `(output (B, <dims>, N, Hv), scores or None)`.
    """
    q, k, v = value(query), value(key), value(value_)
    b = None if bias is None else value(bias)
    f = _Folding(q.shape, k.shape, axes)
    q3, k3, v3 = f.fold(q, f.t), f.fold(k, f.s), f.fold(v, f.s)
    s = q3 @ k3.transpose(0, 2, 1)                           # S = Q·Kᵀ·scale + mask
    s *= s.dtype.type(scale)
    sv = s.reshape(f.scores_shape)
    if mask is not None:
        sv += mask_bias(mask, s.dtype)
    if b is not None:
        sv += b
    p = _softmax_rows(s)                                     # P = softmax(S)
    k3d = None if keep is None else np.asarray(keep, p.dtype).reshape(p.shape)
    pd = p if k3d is None else p * k3d                       # dropout on the probabilities
    out = f.unfold(pd @ v3, f.tq)                            # O = P·V
    need = (is_tracked(query), is_tracked(key), is_tracked(value_),
            b is not None and is_tracked(bias))

    def from_logits(ds):
        """(dQ, dK, dbias) from dS, the gradient of the logits (overwritten)."""
        dbias = unbroadcast(ds.reshape(f.scores_shape), b.shape) if need[3] else None
        ds *= s.dtype.type(scale)
        dq = f.unfold(ds @ k3, f.tq) if need[0] else None                 # dQ = scale·dS·K
        dk = f.unfold(ds.transpose(0, 2, 1) @ q3, f.tk) if need[1] else None  # dK = scale·dSᵀ·Q
        return dq, dk, dbias

    def vjp(dout):
        do3 = f.fold(np.asarray(dout), f.t)
        dv = f.unfold(pd.transpose(0, 2, 1) @ do3, f.tk) if need[2] else None   # dV = Pᵀ·dO
        if not (need[0] or need[1] or need[3]):
            return None, None, dv, None
        dp = do3 @ v3.transpose(0, 2, 1)                                     # dP = dO·Vᵀ
        if k3d is not None:
            dp *= k3d
        dq, dk, dbias = from_logits(_softmax_grad(p, dp))
        return dq, dk, dv, dbias

    y = record(out, vjp, query, key, value_, bias)
    if not return_scores:
        return y, None

    def vjp_scores(dscores):
        dp = np.array(dscores, dtype=p.dtype).reshape(p.shape)
        return from_logits(_softmax_grad(p, dp))
    return y, record(p.reshape(f.scores_shape), vjp_scores, query, key, bias)


@op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None):
    """Scaled dot-product attention, Keras 3's `ops.dot_product_attention`.

    `softmax(Q·Kᵀ·scale + bias, masked)·V` per head, one tape node.

    Args:
        query: `(B, T, N, H)`.  key: `(B, S, N, H)`.  value: `(B, S, N, Hv)`.
        bias: optional logits offset broadcastable to `(B, N, T, S)`.
        mask: optional booleans broadcastable to `(B, N, T, S)` (True = attend).
        scale: the logits' factor; default `1/√H`.
        is_causal: also mask the positions `j > i` (a decoder's causal mask).
        flash_attention: accepted for Keras compatibility; only None/False (no flash kernel).

    Returns:
        `(B, T, N, Hv)`.
    """
    shapes = [np.shape(value_of(a)) for a in (query, key, value)]
    if any(len(s) != 4 for s in shapes) or shapes[1][:3] != shapes[2][:3] or \
            shapes[0][::2] != shapes[1][::2]:
        raise ValueError("dot_product_attention expects query (B, T, N, H), key (B, S, N, H) "
                         "and value (B, S, N, Hv). Received shapes: query="
                         f"{shapes[0]}, key={shapes[1]}, value={shapes[2]}")
    if flash_attention:
        raise ValueError("dot_product_attention: kerasnp has no flash attention kernel. "
                         f"Received: flash_attention={flash_attention!r}")
    if scale is None:
        scale = 1.0 / math.sqrt(shapes[0][-1])
    if is_causal:
        t, s = shapes[0][1], shapes[1][1]
        causal = np.tril(np.ones((t, s), dtype=bool))
        mask = causal if mask is None else np.asarray(value_of(mask), dtype=bool) & causal
    elif mask is not None:
        mask = np.asarray(value_of(mask), dtype=bool)
    return attention_core(query, key, value, (1,), scale, mask=mask, bias=bias)[0]


value_of = value     # `dot_product_attention` shadows `value` with Keras's argument name


def masked_softmax(x, mask=None):
    """`softmax(x + bias)` over the last axis, `bias` Keras's large negative where `mask` is
    False (`mask` broadcastable to `x`), as one node."""
    a = value(x)
    s = np.array(a, dtype=a.dtype if a.dtype.kind == "f" else np.float32)
    if mask is not None:
        s += mask_bias(value(mask), s.dtype)
    p = _softmax_rows(s)
    return record(p, lambda dy: _softmax_grad(p, np.array(dy, dtype=p.dtype)), x)


__all__ = ["dot_product_attention"]
