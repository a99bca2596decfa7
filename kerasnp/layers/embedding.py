"""Embedding: integer indices -> dense vectors."""
import numpy as np

from .. import _validate, constraints, initializers, regularizers
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, _serialize, register


@register
class Embedding(Layer):
    """Maps integer indices in `[0, input_dim)` to learned vectors of size `output_dim`.

    Args:
        input_dim: vocabulary size.
        output_dim: size of each vector.
        embeddings_initializer: default `"uniform"` (uniform in [-0.05, 0.05]).
        embeddings_regularizer, embeddings_constraint: optional.
        mask_zero: whether index 0 is padding. If True, the layer makes a mask (`inputs != 0`)
            that the layers after it receive (RNNs skip the padded steps, pooling ignores them);
            index 0 stays a row of the table, so `input_dim` counts it.

    Input shape: `(batch, ...)` integers.  Output shape: `(batch, ..., output_dim)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.Embedding(10, 4, mask_zero=True)
        >>> x = np.array([[3, 1, 0, 0]])
        >>> layer(x).shape, layer.compute_mask(x).tolist()
        ((1, 4, 4), [[True, True, False, False]])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 **kwargs):
        kwargs.pop("input_length", None)   # accepted for Keras 2 scripts; shapes come from data
        super().__init__(**kwargs)
        self.input_dim = _validate.positive_int(input_dim, "input_dim", self)
        self.output_dim = _validate.positive_int(output_dim, "output_dim", self)
        self.embeddings_initializer = initializers.get(
            "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = _validate.boolean(mask_zero, "mask_zero", self)
        self.supports_masking = self.mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint,
                                          name="embeddings")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def call(self, inputs):
        idx = np.asarray(value(inputs)).astype(np.intp, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= self.input_dim):
            raise ValueError(f"Layer '{self.name}' (Embedding) expected indices in "
                             f"[0, {self.input_dim}), received values from {idx.min()} to "
                             f"{idx.max()}.")
        return _gather_rows(self.embeddings, idx)              # indices have no gradient

    def compute_mask(self, inputs, previous_mask=None):
        """`inputs != 0` (True = a real step) when `mask_zero`, else None."""
        if not self.mask_zero:
            return None
        return np.asarray(value(inputs)) != 0

    def get_config(self):
        cfg = super().get_config()
        cfg.update(input_dim=self.input_dim, output_dim=self.output_dim, mask_zero=self.mask_zero,
                   embeddings_initializer=_serialize(self.embeddings_initializer),
                   embeddings_regularizer=_serialize(self.embeddings_regularizer),
                   embeddings_constraint=_serialize(self.embeddings_constraint))
        return cfg


def _gather_rows(table, idx):
    """`table[idx]` (a row per index) as one node; its VJP scatter-adds `dy` into the rows."""
    w = value(table)
    y = w[idx]                                                  # y = W[idx]

    def vjp(dy):
        dw = np.zeros_like(w)
        np.add.at(dw, idx.ravel(), dy.reshape(-1, w.shape[1]))  # dW[i] = Σ dy over reads of i
        return dw
    return record(y, vjp, table)
