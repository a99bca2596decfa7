"""Keras 3 layers of the wider core family (normalizations, dropouts, hashing/encoding preprocessing, EinsumDense, ...): re-exported by kerasnp.layers."""

__all__ = []
from .noise_more import ActivityRegularization, AlphaDropout, GaussianDropout
from .normalization_more import GroupNormalization, RMSNormalization, UnitNormalization

__all__ += ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GroupNormalization",
            "RMSNormalization", "UnitNormalization"]
