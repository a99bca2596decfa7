"""Keras 3 layers of the wider core family (normalizations, dropouts, hashing/encoding preprocessing, EinsumDense, ...): re-exported by kerasnp.layers."""

__all__ = []
from .noise_more import ActivityRegularization, AlphaDropout, GaussianDropout
from .normalization_more import GroupNormalization, RMSNormalization, UnitNormalization

__all__ += ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GroupNormalization",
            "RMSNormalization", "UnitNormalization"]
from .conv_depthwise_1d import DepthwiseConv1D, SeparableConv1D, SeparableConvolution1D
from .pooling_adaptive_2d import AdaptiveAveragePooling2D, AdaptiveMaxPooling2D

__all__ += ["AdaptiveAveragePooling2D", "AdaptiveMaxPooling2D", "DepthwiseConv1D",
            "SeparableConv1D", "SeparableConvolution1D"]
from .einsum_dense import EinsumDense

__all__ += ["EinsumDense"]
from .category_encoding import CategoryEncoding
from .discretization import Discretization
from .hashing import HashedCrossing, Hashing

__all__ += ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing"]
from .reversible_embedding import ReversibleEmbedding
from .spectral_norm import SpectralNormalization

__all__ += ["ReversibleEmbedding", "SpectralNormalization"]
from .attention_gqa import GroupQueryAttention

__all__ += ["GroupQueryAttention"]
from .input_spec import InputSpec
from .pipeline import Pipeline

__all__ += ["InputSpec", "Pipeline"]
