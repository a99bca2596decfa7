"""ReversibleEmbedding: an Embedding that can also project vectors back to vocabulary logits."""
from .. import _validate
from ..ops._arith import multiply
from ..ops._linalg import matmul
from ..ops import cast, tanh, transpose
from .base import _serialize, register
from .embedding import Embedding


@register
class ReversibleEmbedding(Embedding):
    """An Embedding whose `call(x, reverse=True)` maps vectors of size `output_dim` to
    `input_dim` logits: `x · embeddingsᵀ` (tied weights) or `x · reverse_embeddings`.

    Language models use it to share the token table between the input embedding and the
    output projection.

    Args:
        input_dim, output_dim, mask_zero: as for Embedding.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint: as for
            Embedding.
        tie_weights: whether the reverse projection uses the transposed `embeddings` (default);
            if False a separate `reverse_embeddings` weight `(output_dim, input_dim)` is learned.
        reverse_dtype: optional dtype the reverse product is computed in (e.g. "float32").
        logit_soft_cap: optional float `c`: reverse logits become `c·tanh(logits / c)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.ReversibleEmbedding(10, 4)
        >>> h = layer(np.array([[1, 2, 3]]))
        >>> h.shape, layer(h, reverse=True).shape
        ((1, 3, 4), (1, 3, 10))
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 reverse_dtype=None, logit_soft_cap=None, **kwargs):
        quantization = kwargs.pop("quantization_config", None)
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        if quantization is not None:
            raise ValueError(f"{_validate.describe(self)}: `quantization_config` is not "
                             f"supported by kerasnp. Received: {quantization!r}")
        self.tie_weights = _validate.boolean(tie_weights, "tie_weights", self)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = (None if logit_soft_cap is None else
                               _validate.number(logit_soft_cap, "logit_soft_cap", self,
                                                low=0.0, low_open=True))

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim), initializer=self.embeddings_initializer,
                regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint,
                name="reverse_embeddings")
        self.built = True

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        x = inputs
        if self.reverse_dtype is not None:
            x, kernel = cast(x, self.reverse_dtype), cast(kernel, self.reverse_dtype)
        logits = matmul(x, kernel)                                 # z = x·Wᵀ
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = multiply(tanh(multiply(logits, 1.0 / cap)), cap)   # c·tanh(z/c)
        return logits

    def get_config(self):
        cfg = super().get_config()
        cfg.update(tie_weights=self.tie_weights, reverse_dtype=self.reverse_dtype,
                   logit_soft_cap=self.logit_soft_cap,
                   embeddings_initializer=_serialize(self.embeddings_initializer))
        return cfg
