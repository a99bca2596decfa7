"""MultiHeadAttention (Keras 3): project, attend per head over `attention_axes`, project back."""
import math

import numpy as np

from .. import _validate, regularizers
from ..ops._attention import attention_core
from ..ops._dispatch import value
from . import attention_masks
from .attention_projection import _Projection
from .base import Layer, _serialize, _serialize_attrs, register
from .core import KERNEL_BIAS_ARGS, set_kernel_bias_args


@register
class MultiHeadAttention(Layer):
    """Multi-head attention ("Attention is all you need", Vaswani et al., 2017).

    `query`, `key` and `value` are projected to `num_heads` heads (`key_dim` channels for query
    and key, `value_dim` for value); each head computes `softmax(q·kᵀ/√key_dim + mask)·v`; the
    heads are projected back to the query's last dimension (or `output_shape`). With
    `query is value` it is self-attention. The attention itself is one fused tape node.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key (required).
        value_dim: size of each head for value; default `key_dim`.
        dropout: dropout rate on the attention probabilities (in training).
        use_bias: whether the four projections have biases.
        output_shape: last dimension(s) of the output; default the query's last dimension.
        attention_axes: axes of the input attention runs over; default all but the batch and
            feature axes (e.g. `(1,)` for `(batch, steps, features)` inputs).
        kernel_initializer, bias_initializer: for the projections (as are kernel_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint and bias_constraint).
        seed: optional int seed of the dropout.

    Call arguments:
        query: `(B, T, dim)`.  value: `(B, S, dim)`.  key: optional `(B, S, dim)` (default value).
        query_mask, value_mask, key_mask: optional booleans `(B, T)` / `(B, S)` (True = real
            step; a model passes the inputs' masks here by itself).
        attention_mask: optional booleans `(B, T, S)` (or broadcastable): True = may attend.
        return_attention_scores: also return the probabilities `(B, num_heads, T, S)`.
        training: apply dropout.  use_causal_mask: position i attends to j <= i only.

    Output shape: `(B, T, dim)` (or `(B, T, *output_shape)`).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=16)
        >>> x = np.ones((4, 10, 32), "float32")
        >>> y, scores = mha(x, x, return_attention_scores=True)
        >>> y.shape, scores.shape, mha.count_params()
        ((4, 10, 32), (4, 2, 10, 10), 4224)
    """

    def __init__(self, num_heads, key_dim=None, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        kwargs.pop("flash_attention", None)      # Keras's switch; there is no flash kernel here
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads = _validate.positive_int(num_heads, "num_heads", self)
        if key_dim is None:
            raise ValueError(f"{_validate.describe(self)}: argument `key_dim` (the size of each "
                             "attention head for query and key) is required, a positive "
                             "integer such as key_dim=64. Received: key_dim=None")
        self.key_dim = _validate.positive_int(key_dim, "key_dim", self)
        self.value_dim = (self.key_dim if not value_dim else
                          _validate.positive_int(value_dim, "value_dim", self))
        self.dropout = _validate.rate(dropout, "dropout", self)
        self.use_bias = _validate.boolean(use_bias, "use_bias", self)
        self._output_shape = self._check_output_shape(output_shape)
        self.attention_axes = self._check_axes(attention_axes)
        set_kernel_bias_args(self, self.use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint)
        # As in Keras, the activity regularizer applies to each projection's output.
        self.sub_activity_regularizer = regularizers.get(activity_regularizer)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))
        self._query_dense = self._key_dense = self._value_dense = self._output_dense = None

    def _check_output_shape(self, output_shape):
        if output_shape is None or output_shape == () or output_shape == []:
            return None
        shape = (output_shape,) if isinstance(output_shape, int) else output_shape
        try:
            return tuple(_validate.positive_int(d, "output_shape", self) for d in shape)
        except TypeError:
            _validate._fail(self, "output_shape", "a positive int or a tuple of them",
                            output_shape)

    def _check_axes(self, axes):
        if axes is None:
            return None
        axes = (axes,) if isinstance(axes, int) else axes
        if not isinstance(axes, (list, tuple)) or not axes or \
                not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            _validate._fail(self, "attention_axes", "an int, or a list or tuple of ints", axes)
        return tuple(axes)

    # -- build ------------------------------------------------------------------------------
    def build(self, query_shape, value_shape=None, key_shape=None):
        """Make the four projections. `Layer.__call__` gives only the query's shape on an eager
        first call: the layer then builds in `call`, where the value's shape is known."""
        if value_shape is None and query_shape and isinstance(query_shape[0], (list, tuple)):
            parts = list(query_shape) + [None, None]      # [query, value(, key)] shapes
            query_shape, value_shape = parts[0], parts[1]
            key_shape = parts[2] if key_shape is None else key_shape
        if value_shape is None:
            return
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1] or len(value_shape) != len(query_shape):
            raise ValueError(f"{_validate.describe(self)}: `value` and `key` must have the "
                             "query's rank and the same shape except the last axis. Received: "
                             f"query_shape={query_shape}, value_shape={value_shape}, "
                             f"key_shape={key_shape}")
        rank = len(query_shape)
        if rank < 3:
            raise ValueError(f"{_validate.describe(self)} expected inputs of rank >= 3 (batch, "
                             f"steps, features). Received: query_shape={query_shape}")
        self._axes = self._normalized_axes(rank)
        heads = (self.num_heads,)
        self._query_dense = self._projection(1, heads + (self.key_dim,), "query")
        self._query_dense._build_once(query_shape)
        self._key_dense = self._projection(1, heads + (self.key_dim,), "key")
        self._key_dense._build_once(key_shape)
        self._value_dense = self._projection(1, heads + (self.value_dim,), "value")
        self._value_dense._build_once(value_shape)
        out = self._output_shape or (query_shape[-1],)
        self._output_dense = self._projection(2, out, "attention_output")
        self._output_dense._build_once(query_shape[:-1] + heads + (self.value_dim,))
        self.built = True

    def _normalized_axes(self, rank):
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(sorted(a if a >= 0 else rank + a for a in self.attention_axes))
        if any(a < 1 or a > rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"{_validate.describe(self)}: `attention_axes` must name distinct "
                             f"axes of the input other than the batch and feature axes (1 to "
                             f"{rank - 2} for rank-{rank} inputs). Received: "
                             f"attention_axes={self.attention_axes}")
        return axes

    def _projection(self, in_rank, out_dims, name):
        return _Projection(in_rank, out_dims, self.use_bias, self.kernel_initializer,
                           self.bias_initializer, self.kernel_regularizer, self.bias_regularizer,
                           self.kernel_constraint, self.bias_constraint,
                           activity_regularizer=self.sub_activity_regularizer, name=name,
                           dtype=self.dtype)

    @property
    def query_dense(self):
        return self._query_dense

    @property
    def key_dense(self):
        return self._key_dense

    @property
    def value_dense(self):
        return self._value_dense

    @property
    def output_dense(self):
        return self._output_dense

    # -- call -------------------------------------------------------------------------------
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        key = value if key is None else key
        q_shape, v_shape = np.shape(_arr(query)), np.shape(_arr(value))
        if self._query_dense is None:
            self.build(q_shape, v_shape, np.shape(_arr(key)))
        mask = attention_masks.combine(self, q_shape, v_shape, query_mask, value_mask, key_mask,
                                       attention_mask, use_causal_mask)
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        axes, n_axes = self._axes, len(self._axes)
        lead = [d for i, d in enumerate(np.shape(_arr(q))[:-1]) if i not in axes]
        scores_shape = tuple(lead) + tuple(q_shape[a] for a in axes) + \
            tuple(v_shape[a] for a in axes)
        if mask is not None:
            expected = scores_shape[:len(lead) - 1] + scores_shape[len(lead):]
            mask = attention_masks.expand(self, mask, scores_shape, n_axes, expected)
        keep = attention_masks.dropout_keep(self, q, scores_shape, training)
        out, scores = attention_core(q, k, v, axes, 1.0 / math.sqrt(self.key_dim), mask=mask,
                                     keep=keep, return_scores=return_attention_scores)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def compute_mask(self, inputs, previous_mask=None):
        """The output's mask is the query's (Keras)."""
        return attention_masks.query_mask(previous_mask)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if query_shape and isinstance(query_shape[0], (list, tuple)):
            query_shape = query_shape[0]
        query_shape = tuple(query_shape)
        if self._output_shape:
            return query_shape[:-1] + self._output_shape
        return query_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
                   dropout=self.dropout, use_bias=self.use_bias,
                   output_shape=list(self._output_shape) if self._output_shape else None,
                   attention_axes=(list(self.attention_axes) if self.attention_axes is not None
                                   else None),
                   activity_regularizer=_serialize(self.sub_activity_regularizer),
                   seed=self.seed, **_serialize_attrs(self, *KERNEL_BIAS_ARGS))
        return cfg


def _arr(x):
    return value(x)
