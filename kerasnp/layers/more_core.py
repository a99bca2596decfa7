"""Keras 3 layers of the wider core family (normalizations, dropouts, adaptive pools, 1-D
depthwise/separable convolutions, EinsumDense, hashing/encoding preprocessing, attention and
wrappers): re-exported by kerasnp.layers."""
from .attention_gqa import GroupQueryAttention
from .category_encoding import CategoryEncoding
from .conv_depthwise_1d import DepthwiseConv1D, SeparableConv1D, SeparableConvolution1D
from .discretization import Discretization
from .einsum_dense import EinsumDense
from .hashing import HashedCrossing, Hashing
from .input_spec import InputSpec
from .noise_more import ActivityRegularization, AlphaDropout, GaussianDropout
from .normalization_more import GroupNormalization, RMSNormalization, UnitNormalization
from .pipeline import Pipeline
from .pooling_adaptive_2d import AdaptiveAveragePooling2D, AdaptiveMaxPooling2D
from .reversible_embedding import ReversibleEmbedding
from .spectral_norm import SpectralNormalization

__all__ = ["ActivityRegularization", "AdaptiveAveragePooling2D", "AdaptiveMaxPooling2D",
           "AlphaDropout", "CategoryEncoding", "DepthwiseConv1D", "Discretization",
           "EinsumDense", "GaussianDropout", "GroupNormalization", "GroupQueryAttention",
           "HashedCrossing", "Hashing", "InputSpec", "Pipeline", "RMSNormalization",
           "ReversibleEmbedding", "SeparableConv1D", "SeparableConvolution1D",
           "SpectralNormalization", "UnitNormalization"]
