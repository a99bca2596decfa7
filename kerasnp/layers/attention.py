"""Attention (Luong, dot or concat scores) and AdditiveAttention (Bahdanau), as in Keras 3.

Both take `[query, value]` or `[query, value, key]`, score every query step against every key
step, softmax the scores over the key steps (masked steps get Keras's large negative number),
and return the scores' weighted sum of the values. The scores are written with `kerasnp.ops`;
the masked softmax is one fused node (`ops._attention.masked_softmax`).
"""
import numpy as np

from .. import _validate, ops
from ..ops._attention import masked_softmax
from ..ops._dispatch import value
from .attention_masks import causal_mask
from .base import Layer, register


@register
class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    `scores = query·keyᵀ` (`"dot"`, times `scale` if `use_scale`) or
    `scores = concat_score_weight · Σ tanh(scale·(query + key))` (`"concat"`);
    `output = softmax(scores)·value`.

    Args:
        use_scale: learn a scalar `scale` (initialized to 1) multiplying the scores.
        score_mode: `"dot"` or `"concat"`.
        dropout: dropout rate on the attention weights (in training).
        seed: optional int seed of the dropout.

    Call arguments:
        inputs: `[query (B, Tq, dim), value (B, Tv, dim)]` or `[query, value, key (B, Tv, dim)]`.
        mask: optional `[query_mask (B, Tq), value_mask (B, Tv)]`: the output is zero at masked
            query steps; masked value steps get no weight.
        training: apply dropout.  return_attention_scores: also return the weights
            `(B, Tq, Tv)`.  use_causal_mask: query step i attends to value steps j <= i only.

    Output shape: `(B, Tq, value_dim)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
        >>> keras.layers.Attention()([q, v]).shape
        (2, 3, 4)
    """

    _SCORE_MODES = ("dot", "concat")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.use_scale = _validate.boolean(use_scale, "use_scale", self)
        self.score_mode = _validate.choice(score_mode, "score_mode", self._SCORE_MODES, self)
        self.dropout = _validate.rate(dropout, "dropout", self)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))
        self.scale = self.concat_score_weight = None

    def build(self, input_shape):
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(shape=(), initializer="ones",
                                                       name="concat_score_weight")

    def _scores(self, q, k):
        """`(B, Tq, Tv)` scores of `q (B, Tq, dim)` against `k (B, Tv, dim)`."""
        if self.score_mode == "dot":
            s = ops.matmul(q, ops.swapaxes(k, -1, -2))
            return s if self.scale is None else s * self.scale
        t = ops.expand_dims(q, -2) + ops.expand_dims(k, -3)        # (B, Tq, Tv, dim)
        if self.scale is not None:
            t = self.scale * t
        return self.concat_score_weight * ops.sum(ops.tanh(t), axis=-1)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._check_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        qs, vs = np.shape(value(q)), np.shape(value(v))
        scores = self._scores(q, k)
        keep = None
        if v_mask is not None:
            keep = self._mask(v_mask, "value_mask", (vs[0], vs[1]))[:, None, :]
        if use_causal_mask:
            c = causal_mask(qs[1], vs[1])
            keep = c if keep is None else keep & c
        weights = masked_softmax(scores, keep)
        used = weights
        if training and self.dropout > 0.0:
            w = value(weights)
            drop = (self._rng.random(w.shape, dtype=np.float32) >= self.dropout).astype(w.dtype)
            used = weights * (drop * w.dtype.type(1.0 / (1.0 - self.dropout)))
        result = ops.matmul(used, v)
        if q_mask is not None:
            m = self._mask(q_mask, "query_mask", qs[:2])[..., None]
            result = result * m.astype(value(result).dtype)
        return (result, weights) if return_attention_scores else result

    def _mask(self, m, name, expected):
        m = np.asarray(value(m))
        if m.shape != tuple(expected):
            raise ValueError(f"{_validate.describe(self)} expected `{name}` of shape "
                             f"{tuple(expected)} (batch, steps). Received: {name}.shape={m.shape}")
        return m.astype(bool, copy=False)

    def _check_inputs(self, inputs, mask=None):
        who = _validate.describe(self)
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3 or \
                any(isinstance(a, (int, type(None))) for a in inputs):
            raise ValueError(f"{who} must be called on a list [query, value] or [query, value, "
                             f"key]. Received: inputs={_describe(inputs)}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or
                                 not 2 <= len(mask) <= 3):
            raise ValueError(f"{who}: mask must be a list [query_mask, value_mask]. Received: "
                             f"mask={_describe(mask)}")

    def compute_mask(self, inputs, previous_mask=None):
        """The output's mask is the query's (Keras)."""
        if not previous_mask or not isinstance(previous_mask, (list, tuple)):
            return None
        return previous_mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(use_scale=self.use_scale, score_mode=self.score_mode, dropout=self.dropout,
                   seed=self.seed)
        return cfg


@register
class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    `scores = Σ_dim scale · tanh(query + key)` (a learned `scale` of shape `(dim,)` when
    `use_scale`), `output = softmax(scores)·value`. Inputs, masks and outputs as `Attention`.

    Args:
        use_scale: learn the per-feature `scale` (glorot-uniform initialized).
        dropout: dropout rate on the attention weights (in training).
        seed: optional int seed of the dropout.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
        >>> keras.layers.AdditiveAttention()([q, v]).shape
        (2, 3, 4)
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        kwargs.pop("score_mode", None)          # Keras's base argument; always additive here
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(input_shape[0][-1],),
                                         initializer="glorot_uniform", name="scale")

    def _scores(self, q, k):
        t = ops.tanh(ops.expand_dims(q, -2) + ops.expand_dims(k, -3))   # (B, Tq, Tv, dim)
        return ops.sum(t if self.scale is None else self.scale * t, axis=-1)

    def get_config(self):
        cfg = super().get_config()
        del cfg["score_mode"]
        return cfg


def _describe(x):
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of {len(x)}"
    return f"{type(x).__name__} of shape {np.shape(value(x))}" if x is not None else "None"
