"""Keras 3 layers of the wider core family (normalizations, dropouts, hashing/encoding preprocessing, EinsumDense, ...): re-exported by kerasnp.layers."""

__all__ = []
