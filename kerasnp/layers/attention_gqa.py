"""GroupQueryAttention: attention where groups of query heads share one key/value head."""
import math

import numpy as np

from .. import _validate, regularizers
from ..ops import multiply, repeat
from ..ops._attention import attention_core
from ..ops._dispatch import value
from . import attention_masks
from .base import Layer, _serialize, _serialize_attrs, register, unique_name
from .core import KERNEL_BIAS_ARGS, set_kernel_bias_args
from .einsum_dense import EinsumDense


@register
class GroupQueryAttention(Layer):
    """Grouped-query attention (GQA): `num_query_heads` query heads, `num_key_value_heads`
    key/value heads, each shared by `num_query_heads // num_key_value_heads` query heads.

    The projections are EinsumDense layers named as in Keras: `query` (`bqm,muh->bquh`), `key`
    and `value` (`bkm,mvh->bkvh`), optionally `gate` (sigmoid, multiplies the heads' output),
    and `attention_output` (`bquh,uhm->bqm`) back to the query's feature size.

    Args:
        head_dim: size of each head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads; must divide `num_query_heads`.
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the projections have biases.
        sliding_window: optional int `w`: query step `i` only attends to key steps `j` with
            `|i - j| < w` (combined with `use_causal_mask`: the `w` most recent steps).
        flash_attention: accepted for Keras compatibility; must be None or False.
        kernel_*, bias_*, activity_regularizer: as for Dense.
        use_gate: whether a sigmoid gate of the query scales the heads' output.
        seed: optional int seed for the dropout.

    Call arguments:
        query `(B, T, dim)`, value `(B, S, dim_v)`, key (default value), query_mask /
        value_mask / key_mask `(B, T)` / `(B, S)`, attention_mask `(B, T, S)`,
        return_attention_scores (scores `(B, num_query_heads, T, S)`), training,
        use_causal_mask.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.GroupQueryAttention(head_dim=4, num_query_heads=4,
        ...                                          num_key_value_heads=2)
        >>> layer(np.ones((2, 5, 8)), np.ones((2, 7, 8))).shape
        (2, 5, 8)
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        if kwargs.get("name") is None:      # Keras's class is GroupedQueryAttention
            kwargs["name"] = unique_name("grouped_query_attention")
        super().__init__(**kwargs)
        self.head_dim = _validate.positive_int(head_dim, "head_dim", self)
        self.num_query_heads = _validate.positive_int(num_query_heads, "num_query_heads", self)
        self.num_key_value_heads = _validate.positive_int(num_key_value_heads,
                                                          "num_key_value_heads", self)
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(f"{_validate.describe(self)}: num_query_heads must be divisible by "
                             f"num_key_value_heads. Received: num_query_heads={num_query_heads}"
                             f", num_key_value_heads={num_key_value_heads}")
        self.num_repeats = self.num_query_heads // self.num_key_value_heads
        self.dropout = _validate.rate(dropout, "dropout", self)
        self.use_bias = _validate.boolean(use_bias, "use_bias", self)
        self.use_gate = _validate.boolean(use_gate, "use_gate", self)
        self.sliding_window = (None if sliding_window is None else
                               _validate.positive_int(sliding_window, "sliding_window", self))
        if flash_attention:
            raise ValueError(f"{_validate.describe(self)}: flash attention is not available in "
                             f"kerasnp. Received: flash_attention={flash_attention!r}")
        set_kernel_bias_args(self, self.use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint)
        self.sub_activity_regularizer = regularizers.get(activity_regularizer)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))
        self._query_dense = None

    def _dense(self, equation, heads, bias_axes, name, activation=None):
        return EinsumDense(equation, output_shape=heads, activation=activation,
                           bias_axes=bias_axes if self.use_bias else None,
                           activity_regularizer=self.sub_activity_regularizer, name=name,
                           dtype=self.dtype, **_serialize_attrs(self, *KERNEL_BIAS_ARGS))

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Make the projections (in Keras's order). An eager first call gives only the query's
        shape: the layer then builds in `call`, where the value's shape is known."""
        if value_shape is None and query_shape and isinstance(query_shape[0], (list, tuple)):
            parts = list(query_shape) + [None, None]
            query_shape, value_shape, key_shape = parts[0], parts[1], key_shape or parts[2]
        if value_shape is None:
            return
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if len(query_shape) != 3 or len(value_shape) != 3 or key_shape[:-1] != value_shape[:-1]:
            raise ValueError(f"{_validate.describe(self)} expects query, value and key of rank 3 "
                             "(batch, steps, features), key and value with the same steps. "
                             f"Received: query_shape={query_shape}, value_shape={value_shape}, "
                             f"key_shape={key_shape}")
        q_heads = (None, self.num_query_heads, self.head_dim)
        kv_heads = (None, self.num_key_value_heads, self.head_dim)
        self._query_dense = self._dense("bqm,muh->bquh", q_heads, "uh", "query")
        self._query_dense._build_once(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", kv_heads, "vh", "key")
        self._key_dense._build_once(key_shape)
        self._gate_dense = None
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", q_heads, "uh", "gate", "sigmoid")
            self._gate_dense._build_once(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", kv_heads, "vh", "value")
        self._value_dense._build_once(value_shape)
        self._output_dense = self._dense("bquh,uhm->bqm", (None, query_shape[-1]), "m",
                                         "attention_output")
        self._output_dense._build_once(query_shape[:2] + q_heads[1:])
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        key = value if key is None else key
        q_shape, v_shape = np.shape(_arr(query)), np.shape(_arr(value))
        if self._query_dense is None:
            self.build(q_shape, v_shape, np.shape(_arr(key)))
        mask = attention_masks.combine(self, q_shape, v_shape, query_mask, value_mask, key_mask,
                                       attention_mask, use_causal_mask)
        if self.sliding_window is not None:
            rows, cols = np.arange(q_shape[1])[:, None], np.arange(v_shape[1])[None, :]
            band = (np.abs(rows - cols) < self.sliding_window)[None]   # |i - j| < w
            mask = band if mask is None else mask & band
        gate = self._gate_dense(query) if self._gate_dense is not None else None
        q = self._query_dense(query)
        k = repeat(self._key_dense(key), self.num_repeats, axis=2)     # share each kv head
        v = repeat(self._value_dense(value), self.num_repeats, axis=2)
        scores_shape = (q_shape[0], self.num_query_heads, q_shape[1], v_shape[1])
        if mask is not None:
            mask = attention_masks.expand(self, mask, scores_shape, 1,
                                          (q_shape[0], q_shape[1], v_shape[1]))
        keep = attention_masks.dropout_keep(self, q, scores_shape, training)
        out, scores = attention_core(q, k, v, (1,), 1.0 / math.sqrt(self.head_dim), mask=mask,
                                     keep=keep, return_scores=return_attention_scores)
        if gate is not None:
            out = multiply(out, gate)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def compute_mask(self, inputs, previous_mask=None):
        """The output's mask is the query's (Keras)."""
        return attention_masks.query_mask(previous_mask)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if query_shape and isinstance(query_shape[0], (list, tuple)):
            query_shape = query_shape[0]
        return tuple(query_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(head_dim=self.head_dim, num_query_heads=self.num_query_heads,
                   num_key_value_heads=self.num_key_value_heads, use_bias=self.use_bias,
                   use_gate=self.use_gate, sliding_window=self.sliding_window,
                   dropout=self.dropout, activity_regularizer=_serialize(
                       self.sub_activity_regularizer),
                   seed=self.seed, **_serialize_attrs(self, *KERNEL_BIAS_ARGS))
        return cfg


def _arr(x):
    return value(x)
